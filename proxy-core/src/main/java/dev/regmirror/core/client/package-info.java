/**
 * Outbound HTTP to upstream registries: {@link dev.regmirror.core.client.RegistryClient} and its
 * decorators, in the shape of distribution's wrappers. {@code HttpRegistryClient} speaks to one
 * endpoint; {@code FailoverRegistryClient} asks an upstream's endpoints in order;
 * {@code MeteredRegistryClient} measures it; {@code LimitedRegistryClient} keeps it within its limits.
 * Blob bodies come over Netty's HTTP client in pooled buffers ({@code NettyWire}), everything else
 * over the JDK's; {@code Exchange} applies the same authentication and redirect rules to both.
 */
package dev.regmirror.core.client;
