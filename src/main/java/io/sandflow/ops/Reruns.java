package io.sandflow.ops;

import io.sandflow.job.JobKey;
import io.sandflow.store.JobStore;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code sandflow rerun}: runs named inputs once more, even when their content did not change. Each name is looked
 * for in the inbox, then in archive/ (the latest copy of that name: the archive numbers repeated names a-1.json,
 * a-2.json, …), then in failed/. The store marks the job of that content to run again first; then the file goes back
 * into the inbox under its own name, in one rename. In that order, a daemon that takes the file at once finds the
 * mark, runs it, and replaces the result in the outbox, keeping the old one in outbox/.previous/.
 */
public final class Reruns {

    private final JobStore store;
    private final Path inbox;
    private final Path archive;
    private final Path failed;

    public Reruns(JobStore store, Path inbox, Path archive, Path failed) {
        this.store = store;
        this.inbox = inbox;
        this.archive = archive;
        this.failed = failed;
    }

    /** One input queued to run again, and the folder it came from ("inbox", "archive" or "failed"). */
    public record Queued(String name, String from) {
    }

    /**
     * What a rerun did: inputs queued, names found nowhere, and names left where they were because a different
     * file of that name already waits in the inbox.
     */
    public record Outcome(List<Queued> queued, List<String> notFound, List<String> inboxTaken) {
    }

    public Outcome rerun(Collection<String> names) throws IOException {
        List<Queued> queued = new ArrayList<>();
        List<String> notFound = new ArrayList<>();
        List<String> taken = new ArrayList<>();
        for (String given : new LinkedHashSet<>(names)) {
            String name = nameOf(given);
            if (name == null) {
                notFound.add(given);
                continue;
            }
            Path waiting = inbox.resolve(name);
            if (Files.isRegularFile(waiting)) {
                store.requestRerun(new JobKey(name, JobKey.sha256(waiting)));
                queued.add(new Queued(name, "inbox"));
                continue;
            }
            Path found = latestArchived(name);
            String from = "archive";
            if (found == null && Files.isRegularFile(failed.resolve(name), LinkOption.NOFOLLOW_LINKS)) {
                found = failed.resolve(name);
                from = "failed";
            }
            if (found == null) {
                notFound.add(given);
                continue;
            }
            if (Files.exists(waiting, LinkOption.NOFOLLOW_LINKS)) {
                taken.add(name);
                continue;
            }
            store.requestRerun(new JobKey(name, JobKey.sha256(found)));
            Files.move(found, waiting, StandardCopyOption.ATOMIC_MOVE);
            if (from.equals("failed")) {
                putReportAside(name);
            }
            queued.add(new Queued(name, from));
        }
        return new Outcome(queued, notFound, taken);
    }

    /**
     * The newest copy of {@code name} in the archive: the one with the highest number the archive gave it when the
     * name was taken ({@code a.json}, {@code a-1.json}, {@code a-2.json}), else the name itself; null when none.
     */
    private Path latestArchived(String name) throws IOException {
        if (!Files.isDirectory(archive)) {
            return null;
        }
        int dot = name.lastIndexOf('.');
        String stem = dot <= 0 ? name : name.substring(0, dot);
        String ext = dot <= 0 ? "" : name.substring(dot);
        Pattern numbered = Pattern.compile(Pattern.quote(stem) + "-(\\d{1,9})" + Pattern.quote(ext));
        Path best = Files.isRegularFile(archive.resolve(name), LinkOption.NOFOLLOW_LINKS) ? archive.resolve(name)
                : null;
        long bestNumber = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(archive)) {
            for (Path p : files) {
                Matcher m = numbered.matcher(p.getFileName().toString());
                if (m.matches() && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    long n = Long.parseLong(m.group(1));
                    if (n > bestNumber) {
                        bestNumber = n;
                        best = p;
                    }
                }
            }
        }
        return best;
    }

    private void putReportAside(String name) throws IOException {
        FailedInputs.putReportAside(failed, name);
    }

    /** The input's name: a path is taken for its last part (archive/a.json names a.json); null when there is none. */
    private static String nameOf(String given) {
        if (given == null || given.isBlank() || given.indexOf('\0') >= 0) {
            return null;
        }
        Path last = Path.of(given).getFileName();
        if (last == null) {
            return null;
        }
        String name = last.toString();
        return name.equals(".") || name.equals("..") ? null : name;
    }
}
