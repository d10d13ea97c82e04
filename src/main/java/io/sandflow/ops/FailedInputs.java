package io.sandflow.ops;

import io.sandflow.result.OutputNames;
import io.sandflow.store.JobStore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code sandflow retry-failed}: makes failed inputs run again. The store forgets their failed jobs first, then
 * each input moves back from failed/ to the inbox in one rename; its report moves to {@code failed/.retried/},
 * kept for reference but out of the way of the next failure's report. In that order, a daemon that picks the file
 * up at once finds no failed job to send it back to failed/.
 */
public final class FailedInputs {

    /** Where the reports of retried inputs go, inside the failed folder. */
    public static final String RETRIED = ".retried";

    private final JobStore store;
    private final Path failed;
    private final Path inbox;

    public FailedInputs(JobStore store, Path failed, Path inbox) {
        this.store = store;
        this.failed = failed;
        this.inbox = inbox;
    }

    /**
     * What a retry did: inputs moved back, names not found among the failed jobs nor in failed/, inputs left in
     * failed/ because a file of that name already waits in the inbox, and forgotten jobs whose input is not in
     * failed/ (drop it into the inbox again to run it).
     */
    public record Outcome(List<String> requeued, List<String> notFound, List<String> alreadyInInbox,
                          List<String> noInput) {
    }

    /**
     * Retries the named inputs (all failed ones when none are named) whose failure reason contains
     * {@code reasonContains}, ignoring case (any reason when null or blank).
     */
    public Outcome retry(Collection<String> names, String reasonContains) throws IOException {
        List<String> requeued = new ArrayList<>();
        List<String> notFound = new ArrayList<>();
        List<String> busy = new ArrayList<>();
        List<String> noInput = new ArrayList<>();
        Set<String> wanted = new LinkedHashSet<>();
        for (String name : names) {
            if (isPlainName(name)) {
                wanted.add(name);
            } else {
                notFound.add(name);
            }
        }
        if (!names.isEmpty() && wanted.isEmpty()) {
            return new Outcome(requeued, notFound, busy, noInput);
        }
        Set<String> forgotten = new LinkedHashSet<>(store.forgetFailed(wanted, reasonContains));
        Set<String> toMove = new LinkedHashSet<>(forgotten);
        boolean anyReason = reasonContains == null || reasonContains.isBlank();
        for (String name : wanted) {
            // A named input still in failed/ goes back even when the store no longer holds its job (an earlier
            // retry stopped between forgetting and moving): the claim decides whether it runs
            if (!forgotten.contains(name) && anyReason && Files.isRegularFile(failed.resolve(name))) {
                toMove.add(name);
            }
        }
        for (String name : wanted) {
            if (!toMove.contains(name)) {
                notFound.add(name);
            }
        }
        for (String name : toMove) {
            Path input = failed.resolve(name);
            Path target = inbox.resolve(name);
            if (!Files.isRegularFile(input)) {
                noInput.add(name);
            } else if (Files.exists(target)) {
                busy.add(name);
            } else {
                Files.move(input, target, StandardCopyOption.ATOMIC_MOVE);
                putReportAside(name);
                requeued.add(name);
            }
        }
        return new Outcome(requeued, notFound, busy, noInput);
    }

    private void putReportAside(String name) throws IOException {
        putReportAside(failed, name);
    }

    /** Moves the report of a failed input to failed/.retried/, where a rerun or a retry leaves it. */
    static void putReportAside(Path failed, String name) throws IOException {
        Path report = failed.resolve(OutputNames.reportName(name));
        if (Files.exists(report)) {
            Path aside = Files.createDirectories(failed.resolve(RETRIED));
            Files.move(report, aside.resolve(report.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static boolean isPlainName(String name) {
        return !name.isBlank() && !name.equals(".") && !name.equals("..") && !name.contains("/")
                && !name.contains("\0");
    }
}
