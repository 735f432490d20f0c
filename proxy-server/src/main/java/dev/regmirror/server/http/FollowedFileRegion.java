package dev.regmirror.server.http;

import io.netty.channel.DefaultFileRegion;
import java.nio.channels.FileChannel;

/**
 * A zero-copy region of a blob that is still filling, read through the follower's own file
 * channel, which stays open when Netty releases the region: the follower sends many regions
 * through it and closes it when its response ends.
 */
final class FollowedFileRegion extends DefaultFileRegion {

    FollowedFileRegion(FileChannel reader, long position, long count) {
        super(reader, position, count);
    }

    @Override
    protected void deallocate() {
        // the follower owns the channel and closes it
    }
}
