package io.sandflow.inbox;

import io.sandflow.config.Settings;
import io.sandflow.result.OutputNames;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
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

    static final String FOLLOW_LINKS = "sandflow.intake.follow-links";

    private static final Logger LOG = LoggerFactory.getLogger("sandflow.intake");
    private static final char REPLACEMENT = '\uFFFD';

    /** Which symbolic links in the inbox are followed to their target. */
    public enum FollowLinks {
        /** Links whose target's real path lies inside the inbox. */
        INSIDE,
        /** Every link. */
        ANY,
        /** None: every link is failed with a reason. */
        NEVER;

        public static FollowLinks of(Settings settings) {
            String v = settings.get(FOLLOW_LINKS).trim().toLowerCase(Locale.ROOT);
            return switch (v) {
                case "inside" -> INSIDE;
                case "any" -> ANY;
                case "never" -> NEVER;
                default -> throw settings.invalid(FOLLOW_LINKS, "must be inside, any or never");
            };
        }

        String setting() {
            return FOLLOW_LINKS + "=" + name().toLowerCase(Locale.ROOT);
        }
    }

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
                    + hex(rawName(path)) + ")");
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
        return new Entry(path, name, Kind.REFUSED, null, display(name) + " " + why);
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
                    + "in the inbox until removed", display(entry.name()), entry.why());
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
                    case MISNAMED -> rename(e);
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
     * Gives an entry whose name cannot be addressed a name that can: each undecodable byte, and each backslash,
     * becomes %XX ("caf%E9.json" for Latin-1 "café.json", "a%5Cb.json" for "a\b.json"). The new name is a hard link
     * made next to it that never replaces a file; the old one is removed after. Another node renaming the same entry
     * at the same moment finds the link made and leaves it.
     */
    private void rename(Entry e) {
        byte[] raw = rawName(e.path());
        String escaped = OutputNames.fit(escape(raw), extensionOf(escape(raw)));
        for (int n = 0; n < 1000; n++) {
            Path target = inbox.resolve(n == 0 ? escaped : numbered(escaped, n));
            try {
                Files.createLink(target, e.path());
            } catch (FileAlreadyExistsException taken) {
                if (sameFile(target, e.path())) {
                    return;
                }
                continue;
            } catch (NoSuchFileException gone) {
                return;
            } catch (UnsupportedOperationException | IOException cannot) {
                try {
                    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                        continue;
                    }
                    Files.move(e.path(), target);
                    warnRenamed(e, target);
                } catch (IOException failed) {
                    LOG.warn("inbox entry {}: {}, and it cannot be renamed to {}: {}", display(e.name()), e.why(),
                            target.getFileName(), failed.getMessage());
                }
                return;
            }
            try {
                Files.deleteIfExists(e.path());
            } catch (IOException failed) {
                LOG.warn("inbox entry {}: linked as {} but the old name stays: {}", display(e.name()),
                        target.getFileName(), failed.getMessage());
            }
            warnRenamed(e, target);
            return;
        }
    }

    private static void warnRenamed(Entry e, Path target) {
        LOG.warn("inbox entry {}: {}; renamed to {} so that it can be processed", display(e.name()), e.why(),
                display(target.getFileName().toString()));
    }

    private static boolean sameFile(Path a, Path b) {
        try {
            Object ka = Files.readAttributes(a, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            Object kb = Files.readAttributes(b, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            return ka != null && ka.equals(kb);
        } catch (IOException e) {
            return false;
        }
    }

    private static String numbered(String name, int n) {
        String ext = extensionOf(name);
        String stem = name.substring(0, name.length() - ext.length());
        String insert = "-" + n;
        return OutputNames.truncate(stem, OutputNames.MAX_NAME_BYTES - OutputNames.utf8Length(insert + ext))
                + insert + ext;
    }

    private static String extensionOf(String name) {
        int dot = name.lastIndexOf('.');
        return dot <= 0 ? "" : name.substring(dot);
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

    /** A name fit for one log line: line breaks and other control characters shown as escapes. */
    public static String display(String name) {
        StringBuilder out = new StringBuilder(name.length());
        name.codePoints().forEach(cp -> {
            switch (cp) {
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (Character.isISOControl(cp)) {
                        out.append(String.format(Locale.ROOT, "\\u%04x", cp));
                    } else {
                        out.appendCodePoint(cp);
                    }
                }
            }
        });
        return out.toString();
    }

    /**
     * The bytes of an entry's name as the file system has them. Java keeps them in the path but shows only a
     * decoded name; its URI form percent-encodes the bytes themselves.
     */
    static byte[] rawName(Path path) {
        String uri = path.toAbsolutePath().toUri().getRawPath();
        if (uri.endsWith("/")) {
            uri = uri.substring(0, uri.length() - 1);
        }
        String last = uri.substring(uri.lastIndexOf('/') + 1);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < last.length(); i++) {
            char c = last.charAt(i);
            if (c == '%' && i + 2 < last.length()) {
                out.write(HexFormat.fromHexDigits(last, i + 1, i + 3));
                i += 2;
            } else {
                out.write((byte) c);
            }
        }
        return out.toByteArray();
    }

    /** The name as UTF-8 where it is, with each byte that is not, and each backslash, shown as %XX. */
    static String escape(byte[] raw) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(raw);
        CharBuffer out = CharBuffer.allocate(raw.length * 3 + 4);
        while (true) {
            CoderResult r = decoder.decode(in, out, true);
            if (r.isError()) {
                for (int i = 0; i < r.length(); i++) {
                    out.put(String.format(Locale.ROOT, "%%%02X", in.get() & 0xff));
                }
                continue;
            }
            break;
        }
        decoder.flush(out);
        out.flip();
        return out.toString().replace("\\", "%5C");
    }

    private static String hex(byte[] raw) {
        StringBuilder out = new StringBuilder();
        for (byte b : raw) {
            if (out.length() > 0) {
                out.append(' ');
            }
            out.append(String.format(Locale.ROOT, "%02x", b & 0xff));
        }
        return out.toString();
    }
}
