package dev.regmirror.core.testing;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;

/** The stacks of every thread of this JVM, for a test that gave up waiting to say what was stuck. */
public final class ThreadDump {

    private ThreadDump() {
    }

    /** Every thread's name, state, lock and full stack (not cut at 8 frames as ThreadInfo's toString is). */
    public static String ofThisJvm() {
        StringBuilder dump = new StringBuilder();
        for (ThreadInfo thread : ManagementFactory.getThreadMXBean().dumpAllThreads(true, true)) {
            dump.append('"').append(thread.getThreadName()).append("\" ").append(thread.getThreadState());
            if (thread.getLockName() != null) {
                dump.append(" on ").append(thread.getLockName());
            }
            dump.append('\n');
            for (StackTraceElement frame : thread.getStackTrace()) {
                dump.append("\tat ").append(frame).append('\n');
            }
            dump.append('\n');
        }
        return dump.toString();
    }
}
