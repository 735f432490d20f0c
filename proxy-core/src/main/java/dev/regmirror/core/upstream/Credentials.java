package dev.regmirror.core.upstream;

import java.util.Objects;

/** A user name and password (or token) for an upstream; never printed. */
public record Credentials(String username, String password) {

    public Credentials {
        Objects.requireNonNull(username, "username");
        Objects.requireNonNull(password, "password");
    }

    @Override
    public String toString() {
        return "Credentials[username=" + username + ", password=<redacted>]";
    }
}
