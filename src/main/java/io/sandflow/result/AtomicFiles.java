package io.sandflow.result;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.LinkOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;

/**
 * File operations that never leave a half-written or clobbered file behind, even after kill -9: content goes to a
 * hidden temp file in the target's folder, is flushed to disk, and is then published by one atomic step.
 */
public final class AtomicFiles {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int MAX_SUFFIX = 10_000;

    private AtomicFiles() {
    }

    /**
     * Writes {@code target} whole, unless it already exists.
     *
     * @return true when written; false when {@code target} existed (it is left untouched)
     */
    public static boolean writeOnce(Path target, byte[] content) throws IOException {
        if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        Path tmp = writeTemp(target, content);
        try {
            boolean published = publishWithoutReplacing(tmp, target);
            if (published) {
                syncDirectory(target.toAbsolutePath().getParent());
            }
            return published;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Writes {@code target} whole, replacing what was there (for reports, which may be rewritten). */
    public static void writeReplacing(Path target, byte[] content) throws IOException {
        Path tmp = writeTemp(target, content);
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            syncDirectory(target.toAbsolutePath().getParent());
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Moves {@code file} into {@code dir} by an atomic rename (both must be on one filesystem). When the name is
     * taken there, the file gets a numeric suffix ({@code a.json} becomes {@code a-1.json}) instead of
     * overwriting. The folder is not synced: a move survives a killed process as it is, and one lost to a power
     * cut leaves the input where it was, which the next run recognises (its output or its ledger row exists).
     * That fsync was a third of a job's disk waits.
     *
     * @return where the file now is
     */
    public static Path moveInto(Path file, Path dir) throws IOException {
        String name = file.getFileName().toString();
        for (int n = 0; n < MAX_SUFFIX; n++) {
            Path target = dir.resolve(n == 0 ? name : withSuffix(name, n));
            if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            if (publishWithoutReplacing(file, target)) {
                // A link leaves the source in place; removing it completes the move.
                try {
                    Files.deleteIfExists(file);
                } catch (IOException e) {
                    // The source stays (its folder cannot be written): take the link back, or every later try
                    // would leave one more numbered copy behind
                    if (!Files.exists(file) || !Files.isSameFile(file, target)) {
                        throw e;
                    }
                    Files.deleteIfExists(target);
                    throw e;
                }
                return target;
            }
        }
        throw new FileAlreadyExistsException(dir.resolve(name).toString(), null,
                "no free name after " + MAX_SUFFIX + " numeric suffixes");
    }

    /**
     * "a.result.json" with 2 becomes "a.result-2.json"; a name without extension gets "-2" at its end. A name already
     * at the file system's limit loses the end of its stem instead of growing past it.
     */
    static String withSuffix(String name, int n) {
        return insertBeforeExtension(name, "-" + n);
    }

    private static String insertBeforeExtension(String name, String insert) {
        int dot = name.lastIndexOf('.');
        String stem = dot <= 0 ? name : name.substring(0, dot);
        String ext = dot <= 0 ? "" : name.substring(dot);
        int room = OutputNames.MAX_NAME_BYTES - OutputNames.utf8Length(insert) - OutputNames.utf8Length(ext);
        return OutputNames.truncate(stem, Math.max(0, room)) + insert + ext;
    }

    /** What {@link #replace} did: whether the content was published, and where the file it replaced was kept. */
    public record Replacement(boolean published, Path kept) {
    }

    /**
     * Publishes {@code content} at {@code target} with one rename, so that a reader sees the old file or the new one,
     * never neither. The file there is replaced only while it is still {@code expected} (its file key, read when the
     * job chose to replace it; null to skip the check): a node that lost its claim meanwhile, and so finds another
     * node's newer result there, publishes nothing. The replaced file stays reachable in {@code keepDir} by a hard
     * link made before the rename, named after {@code target} with the time of the replacement in UTC before its
     * extension ({@code a.result.20250601T120000Z.json}, then {@code …Z-1.json} within the same second). With no file
     * at {@code target}, this is {@link #writeOnce}.
     */
    public static Replacement replace(Path target, byte[] content, Object expected, Path keepDir, Instant now)
            throws IOException {
        Path tmp = writeTemp(target, content);
        try {
            BasicFileAttributes old;
            try {
                old = Files.readAttributes(target, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException gone) {
                boolean published = publishWithoutReplacing(tmp, target);
                if (published) {
                    syncDirectory(target.toAbsolutePath().getParent());
                }
                return new Replacement(published, null);
            }
            if (expected != null && !expected.equals(old.fileKey())) {
                return new Replacement(false, null);
            }
            Path kept = keep(target, keepDir, now);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            syncDirectory(keepDir);
            syncDirectory(target.toAbsolutePath().getParent());
            return new Replacement(true, kept);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The identity of the file at {@code path} (device and inode), for {@link #replace}; null when there is none. */
    public static Object fileKey(Path path) throws IOException {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
        } catch (NoSuchFileException gone) {
            return null;
        }
    }

    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);

    /** A second name for {@code file} in {@code dir}: a hard link, or a copy where links are not supported. */
    private static Path keep(Path file, Path dir, Instant now) throws IOException {
        Files.createDirectories(dir);
        String stamped = insertBeforeExtension(file.getFileName().toString(), "." + STAMP.format(now));
        for (int n = 0; n < MAX_SUFFIX; n++) {
            Path kept = dir.resolve(n == 0 ? stamped : withSuffix(stamped, n));
            try {
                Files.createLink(kept, file);
                return kept;
            } catch (FileAlreadyExistsException taken) {
                // the same second: the next suffix
            } catch (UnsupportedOperationException | FileSystemException e) {
                if (e instanceof FileSystemException fse && !linkUnsupported(fse)) {
                    throw fse;
                }
                try {
                    Files.copy(file, kept, StandardCopyOption.COPY_ATTRIBUTES);
                    return kept;
                } catch (FileAlreadyExistsException taken) {
                    // the same second: the next suffix
                }
            }
        }
        throw new FileAlreadyExistsException(dir.resolve(stamped).toString(), null,
                "no free name after " + MAX_SUFFIX + " numeric suffixes");
    }

    /**
     * Makes {@code source}'s content appear at {@code target} in one step without replacing an existing target.
     * A hard link fails when the target exists, which rename does not; where links are unsupported, fall back to
     * an atomic rename after an existence check (a narrow race, acceptable because a job is claimed by one
     * worker).
     */
    private static boolean publishWithoutReplacing(Path source, Path target) throws IOException {
        try {
            Files.createLink(target, source);
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        } catch (UnsupportedOperationException | FileSystemException e) {
            if (e instanceof FileSystemException fse && !linkUnsupported(fse)) {
                throw fse;
            }
            if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                return false;
            }
            Files.move(source, target, StandardCopyOption.ATOMIC_MOVE);
            return true;
        }
    }

    /** EPERM/ENOTSUP/EXDEV show up as a plain FileSystemException; the typed subclasses are real errors. */
    private static boolean linkUnsupported(FileSystemException e) {
        return e.getClass() == FileSystemException.class;
    }

    private static Path writeTemp(Path target, byte[] content) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        byte[] random = new byte[8];
        RANDOM.nextBytes(random);
        Path tmp = dir.resolve(".sandflow-" + HexFormat.of().formatHex(random) + ".tmp");
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer buffer = ByteBuffer.wrap(content);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(true);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        return tmp;
    }

    /** Makes the new directory entry durable; not every platform lets a directory be opened, so it is a best effort. */
    private static void syncDirectory(Path dir) {
        if (dir == null) {
            return;
        }
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException | RuntimeException e) {
            // Best effort: the file itself is already flushed.
        }
    }
}
