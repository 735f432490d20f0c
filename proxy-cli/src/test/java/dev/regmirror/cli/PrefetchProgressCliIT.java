package dev.regmirror.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.testing.Closing;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The progress {@code regmirror prefetch --wait} shows while the job runs, the built jar against
 * {@code regmirror serve} whose docker.io sends blobs slowly (three layers of 0.5, 1 and 1.5 MB at
 * 250 kB/s each, so the job runs about 6 s: long enough for several polls even when the command's JVM
 * starts slowly on a loaded machine): plain lines when standard output is a file, a line
 * redrawn in place on a terminal.
 */
class PrefetchProgressCliIT {

    private static final long RATE = 250_000;
    private static final String SIZE = "(\\d+(?:\\.\\d+)? (?:B|kB|MB))";

    @TempDir
    static Path work;

    private static TricklingRegistry upstream;
    private static RegmirrorProcess mirror;
    private static String server;

    @BeforeAll
    static void start() throws Exception {
        upstream = new TricklingRegistry(RATE, 500_000, 1_000_000, 1_500_000);
        int port = RegmirrorProcess.freePort();
        int adminPort = RegmirrorProcess.freePort();
        server = "http://127.0.0.1:" + adminPort;
        mirror = RegmirrorProcess.serve(work, RegmirrorProcess.config(work, "application", port, adminPort, "cache",
                upstream.uri().toString()), port, List.of());
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(mirror, upstream);
    }

    @Test
    void withoutATerminalItPrintsAPlainLineAsEachBlobIsDone() throws Exception {
        TricklingRegistry.Image image = upstream.image("library/plain");
        RegmirrorProcess.Finished waited = RegmirrorProcess.run(work, List.of(), "prefetch", "plain:1.0", "--wait",
                "--server", server);

        assertEquals(0, waited.exitCode(), waited.output());
        assertFalse(waited.output().contains("\r") || waited.output().contains("\033"), waited.output());
        List<String> lines = waited.output().lines().toList();
        assertDone(lines.get(lines.size() - 1), "plain", image, waited.output());
        List<Progress> progress = new ArrayList<>();
        for (String line : lines.subList(0, lines.size() - 1)) {
            progress.add(Progress.parse(line, "plain", image).orElseThrow(() -> new AssertionError(
                    "not a progress line: " + line + "\n" + waited.output())));
        }
        assertTrue(progress.size() >= 2, "more than one progress line before done:\n" + waited.output());
        assertIncreasing(progress, waited.output());
        assertTrue(progress.size() <= 6, "a line when a blob is done or every 5 s, not at every poll:\n"
                + waited.output());
    }

    @Test
    void onATerminalItRedrawsOneLineWithBytesAndRate() throws Exception {
        Assumptions.assumeTrue(RegmirrorProcess.scriptAvailable(),
                "util-linux script is not on the PATH: no pseudo-terminal to run regmirror on");
        TricklingRegistry.Image image = upstream.image("library/tty");
        RegmirrorProcess.Finished waited = RegmirrorProcess.runOnTerminal(work, "prefetch", "tty:1.0", "--wait",
                "--server", server);

        assertEquals(0, waited.exitCode(), waited.output());
        String output = waited.output();
        assertTrue(output.endsWith("\r\n") && output.indexOf('\n') == output.length() - 1,
                "one line on the terminal, redrawn, then replaced by done: " + output);
        List<String> drawings = List.of(output.substring(0, output.length() - 2).split("\r"));
        assertEquals("", drawings.get(0), output);
        String last = drawings.get(drawings.size() - 1);
        assertTrue(last.startsWith("\033[K"), "the progress line is cleared before done: " + output);
        assertDone(last.substring("\033[K".length()), "tty", image, output);
        List<Progress> redrawn = new ArrayList<>();
        for (String drawn : drawings.subList(1, drawings.size() - 1)) {
            assertTrue(drawn.endsWith("\033[K"), "each drawing clears the rest of the line: " + output);
            String line = drawn.substring(0, drawn.length() - "\033[K".length());
            redrawn.add(Progress.parse(line, "tty", image).orElseThrow(() -> new AssertionError(
                    "not a progress line: " + line + "\n" + output)));
        }
        assertTrue(redrawn.size() >= 4, "redrawn every poll while the job runs (about 6 s): " + output);
        assertIncreasing(redrawn, output);
    }

    private static void assertDone(String line, String name, TricklingRegistry.Image image, String output) {
        assertTrue(line.startsWith("done: docker.io/library/" + name + ":1.0 " + image.digest() + ", "
                + Sizes.human(image.blobBytes()) + " in 4 blobs (0 already cached), "), output);
        assertTrue(line.matches(".* \\d+\\.\\d s"), output);
    }

    /**
     * Bytes never go back and end higher than they started; the rate is above 0 and of the order the
     * upstream sends at (three blobs at a time, with slack: it is measured from when the command
     * started following, which is a little after the job started).
     */
    private static void assertIncreasing(List<Progress> progress, String output) {
        for (int i = 1; i < progress.size(); i++) {
            assertTrue(progress.get(i).bytes() >= progress.get(i - 1).bytes(), output);
        }
        assertTrue(progress.get(progress.size() - 1).bytes() > progress.get(0).bytes(), output);
        Progress last = progress.get(progress.size() - 1);
        assertTrue(last.rate() > 0 && last.rate() <= 2 * 3 * RATE, "rate " + last.rate() + ": " + output);
    }

    /** One progress line as JobWatcher draws it, read back: bytes done, blobs done and the rate, in bytes. */
    private record Progress(double bytes, int blobsDone, double rate) {

        static Optional<Progress> parse(String line, String name, TricklingRegistry.Image image) {
            Matcher matcher = Pattern.compile(Pattern.quote("docker.io/library/" + name + ":1.0 [") + "[#.]{30}\\] "
                    + SIZE + Pattern.quote(" / " + Sizes.human(image.blobBytes()) + "  ") + "([0-4])/4 blobs  "
                    + SIZE + "/s").matcher(line);
            if (!matcher.matches()) {
                return Optional.empty();
            }
            return Optional.of(new Progress(bytes(matcher.group(1)), Integer.parseInt(matcher.group(2)),
                    bytes(matcher.group(3))));
        }

        private static double bytes(String human) {
            String[] parts = human.split(" ");
            int power = List.of("B", "kB", "MB").indexOf(parts[1]);
            return Double.parseDouble(parts[0]) * Math.pow(1000, power);
        }
    }
}
