package io.sandflow.flow;

import io.sandflow.config.SandflowConfig;
import io.sandflow.job.JobKey;
import io.sandflow.job.JobState;
import io.sandflow.result.OutputNames;
import io.sandflow.store.JobRecord;
import io.sandflow.store.JobStore;
import org.apache.camel.spi.IdempotentRepository;
import org.apache.camel.support.service.ServiceSupport;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.util.Comparator;
import java.util.List;
import java.util.function.Supplier;

/**
 * The job store as the dispatch route's idempotent repository (bean {@code finishedJobs}): a content is a duplicate
 * once its job has ended for good, done or failed, and its outcome still stands (a done content whose result in the
 * outbox is a later content's runs again).
 *
 * <p>It only answers: the route uses it with {@code eager: false}, so nothing is added before a job runs, and a job
 * in flight at a kill -9 runs again at the next start (at least once, its output written once). The job's ending
 * itself is written by the publish and fail steps under the claim's fence token, in one step with the move of its
 * input; adding, confirming or removing a key here therefore changes nothing.
 */
public final class FinishedJobs extends ServiceSupport implements IdempotentRepository {

    private final Supplier<JobStore> store;
    private final SandflowConfig config;

    FinishedJobs(Supplier<JobStore> store, SandflowConfig config) {
        this.store = store;
        this.config = config;
    }

    /** The repository's key for a job: its content's SHA-256, then its name (which may hold any character). */
    static String key(JobKey key) {
        return key.sha256() + ":" + key.name();
    }

    private static JobKey jobKey(String key) {
        int colon = key.indexOf(':');
        return new JobKey(key.substring(colon + 1), key.substring(0, colon));
    }

    @Override
    public boolean contains(String key) {
        JobKey job = jobKey(key);
        List<JobRecord> ofName = store.get().findByName(job.name());
        JobRecord mine = ofName.stream().filter(r -> r.sha256().equals(job.sha256())).findFirst().orElse(null);
        if (mine == null) {
            return false;
        }
        if (mine.state() == JobState.FAILED) {
            return true;
        }
        if (mine.state() != JobState.DONE) {
            return false;
        }
        String output = OutputNames.resolve(config.results().namePattern(), job.name());
        boolean resultThere = Files.exists(config.folders().outbox().resolve(output), LinkOption.NOFOLLOW_LINKS);
        return !(resultThere && latestDoneIsAnother(ofName, job.sha256()));
    }

    /** Whether the latest done content of a name is another one than {@code sha256}. */
    static boolean latestDoneIsAnother(List<JobRecord> ofName, String sha256) {
        return ofName.stream()
                .filter(r -> r.state() == JobState.DONE)
                .max(Comparator.comparing((JobRecord r) -> r.finishedAt() != null ? r.finishedAt() : r.createdAt())
                        .thenComparingLong(JobRecord::id))
                .map(latest -> !latest.sha256().equals(sha256))
                .orElse(false);
    }

    /** Called when a job's exchange completes: its ending is in the store already. */
    @Override
    public boolean add(String key) {
        return false;
    }

    @Override
    public boolean remove(String key) {
        return false;
    }

    @Override
    public boolean confirm(String key) {
        return true;
    }

    /** The ledger is not the route's to clear. */
    @Override
    public void clear() {
        // nothing: endings are forgotten only by retry-failed and rerun
    }
}
