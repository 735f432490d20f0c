/**
 * A cluster of regmirror nodes on one bucket: who the nodes are ({@link dev.regmirror.core.cluster.ClusterSettings},
 * {@link dev.regmirror.core.cluster.Membership}), which of the live ones owns a blob
 * ({@link dev.regmirror.core.cluster.Rendezvous}), and asking that owner for a blob another node misses
 * ({@link dev.regmirror.core.cluster.ClusterBlobs}), so that each blob is fetched from the upstream once per
 * cluster, and asking a tag's owner for its manifest ({@link dev.regmirror.core.cluster.ClusterManifests}), so
 * that a tag is revalidated once per cluster per TTL. The node-to-node HTTP endpoint and client live in the server module.
 */
package dev.regmirror.core.cluster;
