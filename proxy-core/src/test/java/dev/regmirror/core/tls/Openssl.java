package dev.regmirror.core.tls;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The {@code openssl} command, run in a directory as a user would run it, for tests that want its keys and its verdicts. */
final class Openssl {

    private Openssl() {
    }

    static boolean available() {
        try {
            Process process = new ProcessBuilder("openssl", "version").redirectErrorStream(true).start();
            process.getInputStream().readAllBytes();
            return process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Runs {@code openssl <arguments>} in {@code directory}; its output, or an exception if it fails. */
    static String run(Path directory, String... arguments) throws IOException, InterruptedException {
        Result result = attempt(directory, arguments);
        if (result.exitCode() != 0) {
            throw new IOException("openssl " + String.join(" ", arguments) + " exited with " + result.exitCode() + ": "
                    + result.output());
        }
        return result.output();
    }

    /** Runs {@code openssl <arguments>} in {@code directory}, whatever its exit code. */
    static Result attempt(Path directory, String... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add("openssl");
        command.addAll(List.of(arguments));
        Process process = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException("openssl " + String.join(" ", arguments) + " did not exit within 60 s");
        }
        return new Result(process.exitValue(), output);
    }

    /** How a run ended. */
    record Result(int exitCode, String output) {
    }
}
