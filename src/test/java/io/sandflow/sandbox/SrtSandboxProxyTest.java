package io.sandflow.sandbox;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** When srt's NO_PROXY must be cleared inside the sandbox, and that the wrapped argv then does it. */
class SrtSandboxProxyTest {

    private final Workspace ws = new Workspace(1, "sandflow-1", Path.of("/w/worker-1"));

    @Test
    void aDeploymentAllowlistLeavesTheAgentArgvAlone() {
        SrtSandbox srt = new SrtSandbox("srt", List.of("api.anthropic.com", "*.huggingface.co"), List.of());

        assertThat(srt.wrap(List.of("claude", "-p"), ws, Map.of()))
                .containsExactly("srt", "-s", "/w/worker-1.srt.json", "--", "claude", "-p");
    }

    @Test
    void anAllowlistedLoopbackAddressIsReachedThroughTheProxy() {
        SrtSandbox srt = new SrtSandbox("srt", List.of("api.anthropic.com", "127.0.0.1:8089"), List.of());

        assertThat(srt.wrap(List.of("claude", "-p"), ws, Map.of())).containsExactly("srt", "-s",
                "/w/worker-1.srt.json", "--", "env", "-u", "NO_PROXY", "-u", "no_proxy", "claude", "-p");
    }

    @Test
    void hostLocalMeansTheAddressesSrtExemptsFromItsProxy() {
        assertThat(List.of("127.0.0.1:8089", "localhost", "[::1]:80", "10.1.2.3", "172.20.0.5:443", "192.168.1.9",
                "169.254.169.254")).allMatch(SrtSandbox::isHostLocal);
        assertThat(List.of("api.anthropic.com", "*.anthropic.com", "172.32.0.1", "11.0.0.1", "192.0.2.2",
                "127.example.com", "localhost.example.com")).noneMatch(SrtSandbox::isHostLocal);
    }
}
