package dev.regmirror.core.error;

/** Makes request or upstream input safe to echo in a message, header or log line: short and printable. */
public final class Printable {

    private static final int MAX = 300;

    private Printable() {
    }

    /** The value cut to 300 characters, with every control or non-ASCII character as {@code ?}. */
    public static String of(String value) {
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
