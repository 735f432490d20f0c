/**
 * The names of content, parsed once at the edge into validated records: {@link
 * dev.regmirror.core.reference.Digest}, {@link dev.regmirror.core.reference.Tag}, {@link
 * dev.regmirror.core.reference.RepositoryName}, what follows {@code /manifests/} ({@link
 * dev.regmirror.core.reference.Reference}), and an image as people write it ({@link
 * dev.regmirror.core.reference.ImageReference}, the one parser of {@code [registry/]repository[:tag][@digest]}).
 * A valid value is safe in a path and in a message.
 */
package dev.regmirror.core.reference;
