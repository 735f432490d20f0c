package dev.regmirror.core.auth;

import java.util.Objects;

/**
 * The user name and password a client presents (RFC 7617 Basic credentials, or the OAuth2 password
 * grant of the token endpoint); the password is never printed.
 */
public record BasicCredentials(String username, String password) {

    public BasicCredentials {
        Objects.requireNonNull(username, "username");
        Objects.requireNonNull(password, "password");
    }

    @Override
    public String toString() {
        return "BasicCredentials[username=" + username + ", password=<redacted>]";
    }
}
