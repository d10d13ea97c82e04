package io.sandflow.console;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The console's token against cross-site requests: one random value per daemon start, handed to the page with the
 * live state (which another site's page cannot read) and required on every POST, compared in constant time.
 */
public final class Csrf {

    private final String token;

    public Csrf() {
        byte[] bytes = new byte[32];
        new SecureRandom().nextBytes(bytes);
        this.token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    public String token() {
        return token;
    }

    /** Whether {@code presented} is this token; false for null or anything else. */
    public boolean matches(String presented) {
        return presented != null && MessageDigest.isEqual(token.getBytes(StandardCharsets.UTF_8),
                presented.getBytes(StandardCharsets.UTF_8));
    }
}
