/**
 * Outbound HTTP to upstream registries: {@link dev.regmirror.core.client.RegistryClient} and its
 * decorators, in the shape of distribution's wrappers. {@code HttpRegistryClient} speaks to one
 * endpoint; {@code FailoverRegistryClient} asks an upstream's endpoints in order;
 * {@code MeteredRegistryClient} measures it; {@code LimitedRegistryClient} keeps it within its limits;
 * {@code WholeBodyClient} sends the small GETs of one node of a cluster to another.
 * Every request, tokens included, goes over Netty's HTTP/1.1 client in pooled buffers ({@code
 * NettyWire}), with the authentication and redirect rules of {@code Exchange}.
 */
package dev.regmirror.core.client;
