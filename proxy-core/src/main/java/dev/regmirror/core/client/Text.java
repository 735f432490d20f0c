package dev.regmirror.core.client;

/** Makes upstream-supplied text safe to put in a message or a header: short and printable. */
final class Text {

    private static final int MAX = 300;

    private Text() {
    }

    static String printable(String value) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < value.length() && out.length() < MAX; i++) {
            char c = value.charAt(i);
            out.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return value.length() > MAX ? out + "..." : out.toString();
    }
}
