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
import java.security.SecureRandom;
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

    /** "a.result.json" with 2 becomes "a.result-2.json"; a name without extension gets "-2" at its end. */
    static String withSuffix(String name, int n) {
        int dot = name.lastIndexOf('.');
        if (dot <= 0) {
            return name + "-" + n;
        }
        return name.substring(0, dot) + "-" + n + name.substring(dot);
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
