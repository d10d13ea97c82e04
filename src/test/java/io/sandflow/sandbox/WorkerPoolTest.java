package io.sandflow.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class WorkerPoolTest {

    @TempDir
    Path dir;

    private WorkerPool pool(int size, int maxFailures) throws Exception {
        return new WorkerPool(dir, WorkerPool.sandboxNames(size, List.of(), "sandflow-"), maxFailures);
    }

    @Test
    void aSandboxIsRetiredOnlyAfterMaxFailuresInARow() throws Exception {
        WorkerPool pool = pool(2, 3);
        Workspace ws = pool.lease();

        assertThat(pool.recordSandboxFailure(ws, "boom 1")).isFalse();
        assertThat(pool.recordSandboxFailure(ws, "boom 2")).isFalse();
        pool.recordSuccess(ws);
        assertThat(pool.recordSandboxFailure(ws, "boom 3")).isFalse();
        assertThat(pool.recordSandboxFailure(ws, "boom 4")).isFalse();
        assertThat(pool.isRetired(ws)).isFalse();
        assertThat(pool.recordSandboxFailure(ws, "boom 5")).isTrue();

        assertThat(pool.retired()).containsOnlyKeys(ws.sandboxName());
        assertThat(pool.retired().get(ws.sandboxName()))
                .isEqualTo("failed 3 times in a row (sandflow.sandbox.max-failures=3), the last: boom 5");
        assertThat(pool.active()).isEqualTo(1);
    }

    @Test
    void aRetiredSandboxGivenBackIsNeverLeasedAgain() throws Exception {
        WorkerPool pool = pool(2, 1);
        Workspace bad = pool.lease();
        pool.recordSandboxFailure(bad, "cannot start");
        pool.release(bad);

        for (int i = 0; i < 5; i++) {
            Workspace ws = pool.lease();
            assertThat(ws).isNotEqualTo(bad);
            pool.release(ws);
        }
        assertThat(pool.busy()).isZero();
    }

    @Test
    void leaseGivesUpAtOnceWhenEverySandboxIsRetired() throws Exception {
        WorkerPool pool = pool(2, 1);
        for (Workspace ws : pool.all()) {
            pool.retire(ws, "gone");
        }

        assertThatThrownBy(pool::lease).isInstanceOf(NoSandboxLeftException.class)
                .isInstanceOf(io.sandflow.job.JobParkedException.class)
                .hasMessageContaining("every sandbox has been retired");
    }

    @Test
    void aWorkerWaitingForASandboxIsWokenWhenTheLastOneIsRetired() throws Exception {
        WorkerPool pool = pool(1, 1);
        Workspace only = pool.lease();
        AtomicReference<Thread> waiter = new AtomicReference<>();
        CompletableFuture<Workspace> second = CompletableFuture.supplyAsync(() -> {
            waiter.set(Thread.currentThread());
            try {
                return pool.lease();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> waiter.get() != null
                && waiter.get().getState() == Thread.State.WAITING);

        pool.recordSandboxFailure(only, "crashed");
        pool.release(only);

        assertThatThrownBy(() -> second.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(NoSandboxLeftException.class);
    }

    @Test
    void namesComeFromTheListCappedByWorkersElseFromThePrefix() {
        assertThat(WorkerPool.sandboxNames(3, List.of(), "sandflow-")).containsExactly("sandflow-1", "sandflow-2",
                "sandflow-3");
        assertThat(WorkerPool.sandboxNames(2, List.of("a", "b", "c"), "x")).containsExactly("a", "b");
        assertThat(WorkerPool.sandboxNames(4, List.of("a", "b"), "x")).containsExactly("a", "b");
        assertThatThrownBy(() -> WorkerPool.sandboxNames(2, List.of("a", "a"), "x"))
                .hasMessageContaining("sandflow.sandbox.names lists 'a' twice");
        assertThatThrownBy(() -> WorkerPool.sandboxNames(1, List.of("--rm"), "x"))
                .hasMessageContaining("sandflow.sandbox.names gives the sandbox name '--rm'");
    }
}
