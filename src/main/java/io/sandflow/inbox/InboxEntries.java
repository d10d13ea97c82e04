package io.sandflow.inbox;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * What each inbox entry is to Sandflow, told from its name and its file type alone: nothing is opened to find out,
 * since opening a FIFO blocks. An entry is an input (a regular file, or a symbolic link that
 * {@code sandflow.intake.follow-links} lets through to one), a link that setting refuses (failed with a reason), an
 * entry whose name Java or Camel cannot address (not valid UTF-8, or with a backslash: renamed so that it can be
 * processed), or an entry that is never processed (a
 * directory, FIFO, socket or device): those stay where they are, are not counted as waiting, and are warned about
 * once each. Used by the intake filter, the claim, the inbox survey, the drain watch and the counts behind the
 * progress line and {@code status}, so that all of them agree.
 */
public final class InboxEntries {

    private static final Logger LOG = LoggerFactory.getLogger("sandflow.intake");
    private static final char REPLACEMENT = '\uFFFD';

    public enum Kind {
        /** Read and processed: a regular file, or a followed link to one ({@link Entry#source()} is what to read). */
        INPUT,
        /** A symbolic link the setting does not follow, or cannot be followed: failed with {@link Entry#why()}. */
        REFUSED,
        /**
         * A name Java or Camel cannot address as it is (not valid UTF-8, or with a backslash): renamed, then
         * processed.
         */
        MISNAMED,
        /** A directory, FIFO, socket or device, or a followed link to one: never opened nor processed. */
        NEVER,
        /** Not an input: its name does not match {@code sandflow.include}. */
        IGNORED,
        /** No longer there. */
        GONE
    }

    /** One entry: where it is, its name, what it is, what to read for an input, and, for the others, why. */
    public record Entry(Path path, String name, Kind kind, Path source, String why) {
    }

    private final Path inbox;
    private final Pattern include;
    private final FollowLinks follow;
    /** Entries never processed, by name, with what they are: each is warned about when it first shows up. */
    private final Map<String, String> never = new ConcurrentHashMap<>();
    private volatile Path inboxReal;
    /** When the last survey began and what it cost: a survey lists the whole inbox, so its cost sets its pace. */
    private long lastSurvey;
    private long lastSurveyCost;

    /**
     * @param includeRegex {@code sandflow.include}, matched against the whole name ignoring case, with {@code .}
     *                     matching line breaks too (a name may hold one)
     */
    public InboxEntries(Path inbox, String includeRegex, FollowLinks follow) {
        this.inbox = inbox;
        this.include = includePattern(includeRegex);
        this.follow = follow;
    }

    /** The include pattern as every part of Sandflow applies it: the whole name, any case, any character. */
    static Pattern includePattern(String includeRegex) {
        return Pattern.compile(includeRegex, Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE | Pattern.DOTALL);
    }

    public boolean included(String name) {
        return include.matcher(name).matches();
    }

    /** What the entry at {@code path} (in the inbox) is; never opens it. */
    public Entry classify(Path path) {
        String name = path.getFileName().toString();
        if (!included(name)) {
            return new Entry(path, name, Kind.IGNORED, null, null);
        }
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            return new Entry(path, name, Kind.GONE, null, null);
        }
        if (name.indexOf(REPLACEMENT) >= 0 && !path.equals(path.resolveSibling(name))) {
            // Java showed undecodable bytes as U+FFFD: the name it shows is other bytes, so it leads nowhere
            return new Entry(path, name, Kind.MISNAMED, null, "its name is not valid UTF-8 (bytes "
                    + InboxNames.hex(InboxNames.rawName(path)) + ")");
        }
        if (name.indexOf('\\') >= 0) {
            return new Entry(path, name, Kind.MISNAMED, null, "its name has a backslash, which Camel's file "
                    + "consumer takes for a folder separator");
        }
        if (attrs.isRegularFile()) {
            return new Entry(path, name, Kind.INPUT, path, null);
        }
        if (attrs.isSymbolicLink()) {
            return link(path, name);
        }
        return new Entry(path, name, Kind.NEVER, null, what(path, attrs));
    }

    private Entry link(Path path, String name) {
        String target;
        try {
            target = Files.readSymbolicLink(path).toString();
        } catch (IOException e) {
            return new Entry(path, name, Kind.GONE, null, null);
        }
        if (follow == FollowLinks.NEVER) {
            return refused(path, name, "is a symbolic link (to " + target + "), and " + follow.setting()
                    + " follows none; its target was not read");
        }
        Path real;
        try {
            real = path.toRealPath();
        } catch (NoSuchFileException e) {
            return refused(path, name, "is a symbolic link to " + target + ", which does not exist ("
                    + follow.setting() + ")");
        } catch (IOException e) {
            return refused(path, name, "is a symbolic link to " + target + ", which cannot be followed ("
                    + e.getMessage() + "; " + follow.setting() + ")");
        }
        if (follow == FollowLinks.INSIDE && !real.startsWith(inboxReal())) {
            return refused(path, name, "is a symbolic link to " + real + ", outside the inbox; " + follow.setting()
                    + " follows links only to files inside it, so its target was not read");
        }
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(real, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            return new Entry(path, name, Kind.GONE, null, null);
        }
        if (attrs.isRegularFile()) {
            return new Entry(path, name, Kind.INPUT, real, null);
        }
        return new Entry(path, name, Kind.NEVER, null, "a symbolic link to " + what(real, attrs) + " (" + real
                + ")");
    }

    private static Entry refused(Path path, String name, String why) {
        return new Entry(path, name, Kind.REFUSED, null, InboxNames.display(name) + " " + why);
    }

    private Path inboxReal() {
        Path real = inboxReal;
        if (real == null) {
            try {
                real = inbox.toRealPath();
            } catch (IOException e) {
                real = inbox.toAbsolutePath().normalize();
            }
            inboxReal = real;
        }
        return real;
    }

    private static String what(Path path, BasicFileAttributes attrs) {
        if (attrs.isDirectory()) {
            return "a directory";
        }
        try {
            // The file type bits of st_mode, where the platform shows them
            int type = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 0170000;
            switch (type) {
                case 0010000:
                    return "a FIFO (named pipe)";
                case 0140000:
                    return "a socket";
                case 0020000:
                    return "a character device";
                case 0060000:
                    return "a block device";
                default:
                    break;
            }
        } catch (IOException | RuntimeException e) {
            // no unix view here: the general word will do
        }
        return "not a regular file (a FIFO, socket or device)";
    }

    /**
     * Notes an entry that is never processed, and warns about it the first time it is seen (not at every poll): it
     * stays in the inbox, and no count takes it for a waiting input.
     */
    public void noteNever(Entry entry) {
        if (never.putIfAbsent(entry.name(), entry.why()) == null) {
            LOG.warn("inbox entry {} is {}: it is never opened nor processed, and not counted as waiting; it stays "
                    + "in the inbox until removed", InboxNames.display(entry.name()), entry.why());
        }
    }

    /**
     * Looks at every entry of the inbox (the intake's {@code inbox-survey} route): notes the entries never
     * processed, forgets those gone, renames those whose name is not valid UTF-8, and returns the paths of the
     * links to fail, which the file consumer never hands over (a dangling link or one to a directory is not a file
     * to it).
     */
    public synchronized List<String> survey() {
        long started = System.nanoTime();
        if (lastSurvey != 0 && started - lastSurvey < 20 * lastSurveyCost) {
            // At most 5% of a core, however large the inbox: a survey of 100,000 entries takes a sizeable fraction
            // of a second
            return List.of();
        }
        lastSurvey = started;
        List<String> refused = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(inbox)) {
            for (Path path : entries) {
                Entry e = classify(path);
                switch (e.kind()) {
                    case NEVER -> noteNever(e);
                    case MISNAMED -> InboxNames.rename(inbox, e);
                    case REFUSED -> refused.add(path.toString());
                    default -> {
                        // inputs are the file consumer's; the rest is not Sandflow's
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("cannot survey the inbox: {}", e.toString());
            return refused;
        }
        // Forget what is gone or changed, so that a new entry of the same name is warned about again
        never.keySet().removeIf(name -> classify(inbox.resolve(name)).kind() != Kind.NEVER);
        lastSurveyCost = System.nanoTime() - started;
        return refused;
    }

    /**
     * Whether the inbox holds an entry still to process or fail (the drain watch of {@code run --once}). Each one is
     * looked at afresh, as a FIFO noted earlier may have been replaced by a file of the same name; the first one
     * found ends the look.
     */
    public boolean anyWaiting() {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(inbox)) {
            for (Path path : entries) {
                if (!included(path.getFileName().toString())) {
                    continue;
                }
                Entry e = classify(path);
                if (e.kind() == Kind.NEVER) {
                    noteNever(e);
                } else if (e.kind() != Kind.GONE && e.kind() != Kind.IGNORED) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            // An inbox that cannot be read is not drained
            return true;
        }
    }

    /**
     * The inbox entries that wait to be processed or failed, by name: those never processed that the survey or the
     * intake noted are left out. Names only: no file is looked at, however large the inbox.
     */
    public long countWaiting() {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(inbox)) {
            long n = 0;
            for (Path path : entries) {
                String name = path.getFileName().toString();
                if (included(name) && !never.containsKey(name)) {
                    n++;
                }
            }
            return n;
        } catch (IOException e) {
            return 0;
        }
    }

    /** As {@link #countWaiting}, looking at each entry's type: for {@code status}, run once in its own process. */
    public long countWaitingExactly() {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(inbox)) {
            long n = 0;
            for (Path path : entries) {
                Kind kind = classify(path).kind();
                if (kind != Kind.NEVER && kind != Kind.IGNORED && kind != Kind.GONE) {
                    n++;
                }
            }
            return n;
        } catch (IOException e) {
            return 0;
        }
    }

}
