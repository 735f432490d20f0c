/**
 * The one owner of the cache directory: {@link dev.regmirror.core.storage.CacheLayout} names every
 * path under it, and {@link dev.regmirror.core.storage.CacheStorage} opens it once and hands out its
 * stores. A second kind of storage starts here, behind the same facade.
 */
package dev.regmirror.core.storage;
