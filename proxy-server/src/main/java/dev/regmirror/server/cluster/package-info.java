/**
 * The HTTP side of a cluster of nodes: the node-to-node endpoint every registry listener answers
 * under {@code /_regmirror/cluster/} ({@link dev.regmirror.server.cluster.NodeHandler}), and the
 * client one node asks another with ({@link dev.regmirror.server.cluster.NodeClient}). Who is live and
 * who owns a blob is decided in {@code dev.regmirror.core.cluster}.
 */
package dev.regmirror.server.cluster;
