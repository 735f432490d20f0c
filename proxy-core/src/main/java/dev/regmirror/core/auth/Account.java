package dev.regmirror.core.auth;

import dev.regmirror.core.error.Printable;

/**
 * A signed-in account: its name from the htpasswd file, and whether {@code regmirror.auth.admins}
 * makes it an administrator.
 */
public record Account(String name, boolean admin) implements Caller {

    private static final int MAX_NAME = 255;

    public Account {
        if (!isValidName(name)) {
            throw new IllegalArgumentException("invalid account name \"" + Printable.of(name) + "\"");
        }
    }

    /**
     * Whether a name can be an account's: 1 to 255 characters, no colon (Basic credentials split
     * there), no control character, no leading or trailing space.
     */
    public static boolean isValidName(String name) {
        return name != null && !name.isEmpty() && name.length() <= MAX_NAME && name.strip().equals(name)
                && name.chars().noneMatch(c -> c == ':' || c < 0x20 || c == 0x7f);
    }

    @Override
    public String subject() {
        return name;
    }

    @Override
    public String describe() {
        return "account " + Printable.of(name);
    }
}
