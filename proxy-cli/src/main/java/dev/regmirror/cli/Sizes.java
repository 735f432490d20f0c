package dev.regmirror.cli;

import java.util.Locale;

/** Byte counts for people: {@code 0 B}, {@code 512 B}, {@code 1.5 MB} (powers of 1000, as docker prints them). */
final class Sizes {

    private static final String[] UNITS = {"B", "kB", "MB", "GB", "TB", "PB"};

    private Sizes() {
    }

    static String human(long bytes) {
        if (bytes < 1000) {
            return bytes + " B";
        }
        double value = bytes;
        int unit = 0;
        while (value >= 1000 && unit < UNITS.length - 1) {
            value /= 1000;
            unit++;
        }
        return String.format(Locale.ROOT, value < 10 ? "%.2f %s" : value < 100 ? "%.1f %s" : "%.0f %s", value,
                UNITS[unit]);
    }
}
