package io.sandflow.flow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nothing an agent starts outlives its job, even without a sandbox: an agent that detaches a child into a session
 * of its own and exits at once leaves nothing running once its job is done.
 */
@Tag("process")
class AgentLeftoversTest {

    @TempDir
    Path dir;

    private final List<Long> pids = new ArrayList<>();

    @AfterEach
    void killWhatSurvived() {
        pids.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
    }

    @Test
    void aDetachedChildOfAnUnsandboxedAgentDiesWithItsJob() throws IOException {
        Workdir work = new Workdir(dir);
        List<String> names = List.of("a.json", "b.json", "c.json", "d.json", "e.json");
        for (String name : names) {
            work.ask(name, "detach-child");
        }

        assertThat(work.runOnce()).isZero();

        for (String name : names) {
            pids.addAll(work.recordedPids(name));
        }
        assertThat(pids).hasSize(names.size());
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(pids.stream().filter(Workdir::running).toList()).as("detached children still running")
                        .isEmpty());
    }
}
