package dev.regmirror.core.testing;

/**
 * What a test class's {@code @AfterAll} closes: each resource that was started (null ones were not),
 * in order, every one even after another failed, so that a failure in one (a mirror's check for
 * blocking calls on its event loops) does not leave a registry or an S3 server running; the first
 * failure is then thrown, the others added to it.
 */
public final class Closing {

    private Closing() {
    }

    public static void all(AutoCloseable... resources) throws Exception {
        Throwable first = null;
        for (AutoCloseable resource : resources) {
            if (resource == null) {
                continue;
            }
            try {
                resource.close();
            } catch (Exception | AssertionError e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first instanceof Exception exception) {
            throw exception;
        }
        if (first instanceof AssertionError error) {
            throw error;
        }
    }
}
