package io.sandflow.console;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** What the console refuses before it reads anything. */
class ConsoleApiTest {

    private static ConsoleApi api(boolean actions, String host) {
        return new ConsoleApi(new ConsoleApi.Source(() -> {
            throw new AssertionError("the status must not be read");
        }, List::of, () -> {
            throw new AssertionError("the store must not be opened");
        }, Path.of("outbox"), Path.of("failed"), Path.of("inbox"), List.of(), actions, "node", host));
    }

    @Test
    void onALoopbackAddressOnlyLoopbackNamesAreAnswered() {
        ConsoleApi loopback = api(false, "127.0.0.1");
        assertThat(loopback.hostAllowed("127.0.0.1")).isTrue();
        assertThat(loopback.hostAllowed("localhost")).isTrue();
        assertThat(loopback.hostAllowed("[::1]")).isTrue();
        assertThat(loopback.hostAllowed("rebound.example.com")).isFalse();
        assertThat(loopback.hostAllowed(null)).isFalse();
        assertThat(api(false, "0.0.0.0").hostAllowed("batch.internal")).isTrue();
    }

    @Test
    void aRetryIsRefusedWhenReadOnlyWithoutTheTokenOrFromAnotherSite() {
        assertThat(api(false, "127.0.0.1").retry("1", null, null, "http://127.0.0.1:8080").status()).isEqualTo(403);
        ConsoleApi on = api(true, "127.0.0.1");
        Reply noToken = on.retry("1", null, null, "http://127.0.0.1:8080");
        assertThat(noToken.status()).isEqualTo(403);
        assertThat(noToken.text()).contains("token");
        assertThat(on.retry("1", "guess", null, "http://127.0.0.1:8080").status()).isEqualTo(403);
        Reply crossSite = on.retry("1", on.csrf().token(), "https://evil.example", "http://127.0.0.1:8080");
        assertThat(crossSite.status()).isEqualTo(403);
        assertThat(crossSite.text()).contains("another site");
    }
}
