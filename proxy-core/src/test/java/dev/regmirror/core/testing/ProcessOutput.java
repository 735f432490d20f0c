package dev.regmirror.core.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * Drains a child process's stdout and stderr on two daemon threads into a log file and memory,
 * handing each line to that stream's listener as it arrives.
 */
final class ProcessOutput {

    private final Path file;
    private final Writer writer;
    private final StringBuffer text = new StringBuffer();
    private final List<Thread> pumps;

    ProcessOutput(Process process, Path file, String name, Consumer<String> stdoutListener) throws IOException {
        this(process, file, name, stdoutListener, line -> { });
    }

    ProcessOutput(Process process, Path file, String name, Consumer<String> stdoutListener,
                  Consumer<String> stderrListener) throws IOException {
        this.file = file;
        this.writer = Files.newBufferedWriter(file);
        this.pumps = List.of(
                pump(process.getInputStream(), name + "-stdout", stdoutListener),
                pump(process.getErrorStream(), name + "-stderr", stderrListener));
    }

    Path file() {
        return file;
    }

    String text() {
        return text.toString();
    }

    /** Waits (bounded) until both streams reached end of file, as they do once the process exited. */
    String drain() {
        for (Thread pump : pumps) {
            try {
                pump.join(2_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return text();
    }

    /** Drains and closes the log file. */
    void close() {
        drain();
        synchronized (writer) {
            try {
                writer.close();
            } catch (IOException e) {
                // nothing left to do
            }
        }
    }

    private Thread pump(InputStream stream, String name, Consumer<String> listener) {
        Thread thread = new Thread(() -> {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                    text.append(line).append('\n');
                    write(line);
                    listener.accept(line);
                }
            } catch (IOException e) {
                text.append("[harness] reading ").append(name).append(" failed: ").append(e).append('\n');
            }
        }, name);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    private void write(String line) {
        synchronized (writer) {
            try {
                writer.write(line);
                writer.write('\n');
                writer.flush();
            } catch (IOException e) {
                // the file is a convenience (or already closed); text() still has the line
            }
        }
    }
}
