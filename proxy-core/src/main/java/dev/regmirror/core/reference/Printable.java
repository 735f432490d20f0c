package dev.regmirror.core.reference;

/** Makes request input safe to echo in a message or a log line: short and printable. */
final class Printable {

    private static final int MAX = 300;

    private Printable() {
    }

    static String of(String value) {
        if (value == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(Math.min(value.length(), MAX));
        for (int i = 0; i < value.length() && out.length() < MAX; i++) {
            char c = value.charAt(i);
            out.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        if (value.length() > MAX) {
            out.append("...");
        }
        return out.toString();
    }
}
