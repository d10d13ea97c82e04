package io.sandflow.sandbox;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Reading and writing inside a workspace, whose every entry an agent may have replaced, without ever following a
 * link: each folder below the trusted root is opened relative to its parent and with O_NOFOLLOW, entries are created
 * exclusively and removed relative to their folder, and a file is moved out of the agent's reach before it is
 * examined and read. Where the platform cannot open a folder relative to another (no {@link SecureDirectoryStream}),
 * the same checks run on paths, which a process still running in the sandbox could race.
 */
public final class WorkspaceFiles {

    private static final LinkOption[] NOFOLLOW = {LinkOption.NOFOLLOW_LINKS};

    private WorkspaceFiles() {
    }

    /**
     * Removes {@code root/name}, whatever it is, and everything below it; a link is removed, never followed.
     * Nothing happens when there is no such entry.
     */
    public static void remove(Path root, String name) throws IOException {
        try (Folder folder = Folder.open(root)) {
            folder.remove(Path.of(name));
        }
    }

    /** Removes everything in {@code root} (not the folder itself), following no link. */
    public static void empty(Path root) throws IOException {
        try (Folder folder = Folder.open(root)) {
            List<Path> entries = new ArrayList<>();
            for (Path entry : folder.plain) {
                entries.add(entry.getFileName());
            }
            for (Path entry : entries) {
                folder.remove(entry);
            }
        }
    }

    /**
     * Creates {@code root/folder/name} as a new file with {@code source}'s bytes. The folder must be a real folder and
     * the file must not exist: a link planted there is never written through.
     */
    public static void writeNew(Path root, String folder, String name, Path source) throws IOException {
        try (Folder top = Folder.open(root); Folder dir = top.child(Path.of(folder));
             InputStream in = Files.newInputStream(source);
             OutputStream out = Channels.newOutputStream(dir.newFile(Path.of(name)))) {
            in.transferTo(out);
        }
    }

    /**
     * Takes the file at {@code file} (somewhere below {@code root}) out of the workspace into {@code holding}, a
     * folder no agent can write, then reads it there, and removes it.
     *
     * @return the file's bytes, or empty when there is no entry at {@code file} (nor a folder on its way)
     * @throws RefusedFileException when the file lies outside {@code root}, under a link, is a link itself, is not a
     *                              regular file, has another name (a hard link) or holds more than {@code maxBytes}
     */
    public static Optional<byte[]> take(Path root, Path file, Path holding, long maxBytes) throws IOException {
        List<Path> parts = below(root, file);
        String heldName = ".taken-" + UUID.randomUUID();
        try (Folder top = Folder.open(root); Folder hold = Folder.open(holding)) {
            Folder dir = top;
            try {
                for (Path part : parts.subList(0, parts.size() - 1)) {
                    Folder next;
                    try {
                        next = dir.childOrRefuse(part);
                    } catch (NoSuchFileException noFolder) {
                        return Optional.empty();
                    }
                    if (dir != top) {
                        dir.close();
                    }
                    dir = next;
                }
                if (!dir.moveOut(parts.get(parts.size() - 1), hold, Path.of(heldName))) {
                    return Optional.empty();
                }
            } finally {
                if (dir != top) {
                    dir.close();
                }
            }
            try {
                return Optional.of(hold.readRegular(Path.of(heldName), maxBytes));
            } finally {
                hold.remove(Path.of(heldName));
            }
        }
    }

    /**
     * Reads a regular file whose folder nobody else writes, refusing what {@link #take} refuses. For callers without
     * a workspace (a file named by the user, a test).
     */
    public static Optional<byte[]> read(Path file, long maxBytes) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (!Files.exists(parent, NOFOLLOW)) {
            return Optional.empty();
        }
        try (Folder dir = Folder.open(parent)) {
            return dir.exists(file.getFileName()) ? Optional.of(dir.readRegular(file.getFileName(), maxBytes))
                    : Optional.empty();
        }
    }

    /** The names from {@code root} down to {@code file}; refused when {@code file} does not lie below it. */
    private static List<Path> below(Path root, Path file) throws RefusedFileException {
        Path r = root.toAbsolutePath().normalize();
        Path f = file.toAbsolutePath().normalize();
        if (!f.startsWith(r) || f.equals(r)) {
            throw new RefusedFileException("lies outside its workspace");
        }
        List<Path> parts = new ArrayList<>();
        r.relativize(f).forEach(parts::add);
        return parts;
    }

    /** An open folder: a {@link SecureDirectoryStream} where the platform has one, else its path. */
    private static final class Folder implements AutoCloseable {
        private final Path path;
        private final SecureDirectoryStream<Path> stream;
        private final DirectoryStream<Path> plain;

        private Folder(Path path, DirectoryStream<Path> opened) {
            this.path = path;
            this.plain = opened;
            this.stream = opened instanceof SecureDirectoryStream<Path> s ? s : null;
        }

        /** A folder Sandflow made and no agent can replace (the workspace's root, the holding folder). */
        static Folder open(Path path) throws IOException {
            BasicFileAttributes attrs = Files.readAttributes(path, BasicFileAttributes.class, NOFOLLOW);
            if (!attrs.isDirectory()) {
                throw new RefusedFileException("is not a folder");
            }
            return new Folder(path, Files.newDirectoryStream(path));
        }

        BasicFileAttributes attributes(Path name) throws IOException {
            if (stream != null) {
                return stream.getFileAttributeView(name, BasicFileAttributeView.class, NOFOLLOW).readAttributes();
            }
            return Files.readAttributes(path.resolve(name), BasicFileAttributes.class, NOFOLLOW);
        }

        boolean exists(Path name) throws IOException {
            try {
                attributes(name);
                return true;
            } catch (NoSuchFileException e) {
                return false;
            }
        }

        /** The sub-folder {@code name}, opened without following a link. */
        Folder child(Path name) throws IOException {
            if (stream != null) {
                try {
                    return new Folder(path.resolve(name), stream.newDirectoryStream(name, NOFOLLOW));
                } catch (FileSystemException e) {
                    BasicFileAttributes attrs = attributesOrNull(name);
                    if (e instanceof NoSuchFileException || (attrs != null && attrs.isDirectory())) {
                        throw e;
                    }
                    throw new RefusedFileException(describe(attrs));
                }
            }
            BasicFileAttributes attrs = attributes(name);
            if (!attrs.isDirectory()) {
                throw new RefusedFileException(describe(attrs));
            }
            return new Folder(path.resolve(name), Files.newDirectoryStream(path.resolve(name)));
        }

        /** Like {@link #child}, with a refusal that names the folder ("lies under out/, which is a symbolic link"). */
        Folder childOrRefuse(Path name) throws IOException {
            try {
                return child(name);
            } catch (RefusedFileException e) {
                throw new RefusedFileException("lies under " + name + "/, which " + e.problem());
            }
        }

        private BasicFileAttributes attributesOrNull(Path name) {
            try {
                return attributes(name);
            } catch (IOException e) {
                return null;
            }
        }

        SeekableByteChannel newFile(Path name) throws IOException {
            Set<OpenOption> options = Set.of(StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW,
                    LinkOption.NOFOLLOW_LINKS);
            return stream != null ? stream.newByteChannel(name, options)
                    : Files.newByteChannel(path.resolve(name), options);
        }

        /** Moves {@code name} into {@code target}; false when there was nothing to move. */
        boolean moveOut(Path name, Folder target, Path targetName) throws IOException {
            try {
                if (stream != null && target.stream != null) {
                    stream.move(name, target.stream, targetName);
                } else {
                    Files.move(path.resolve(name), target.path.resolve(targetName));
                }
                return true;
            } catch (NoSuchFileException e) {
                return false;
            }
        }

        /** Reads {@code name}: a regular file with one name and at most {@code maxBytes}. */
        byte[] readRegular(Path name, long maxBytes) throws IOException {
            BasicFileAttributes attrs = attributes(name);
            if (!attrs.isRegularFile()) {
                throw new RefusedFileException(describe(attrs));
            }
            long links = linkCount(name);
            if (links > 1) {
                throw new RefusedFileException("has " + links + " names (a hard link)");
            }
            if (attrs.size() > maxBytes) {
                throw new RefusedFileException("holds " + attrs.size() + " bytes, more than the " + maxBytes
                        + " allowed");
            }
            Set<OpenOption> options = Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
            try (SeekableByteChannel in = stream != null ? stream.newByteChannel(name, options)
                    : Files.newByteChannel(path.resolve(name), options)) {
                // One more byte than allowed tells a file that grew since it was measured
                byte[] bytes = Channels.newInputStream(in).readNBytes((int) Math.min(Integer.MAX_VALUE - 8,
                        maxBytes + 1));
                if (bytes.length > maxBytes) {
                    throw new RefusedFileException("holds more than the " + maxBytes + " bytes allowed");
                }
                return bytes;
            }
        }

        private long linkCount(Path name) throws IOException {
            // Only path-based attribute views know the link count; the entry is in a folder only Sandflow writes
            Object n = Files.getAttribute(path.resolve(name), "unix:nlink", NOFOLLOW);
            return n instanceof Number number ? number.longValue() : 1;
        }

        /** Removes {@code name} and, for a folder, everything in it; links are removed, not followed. */
        void remove(Path name) throws IOException {
            BasicFileAttributes attrs;
            try {
                attrs = attributes(name);
            } catch (NoSuchFileException e) {
                return;
            }
            if (attrs.isDirectory()) {
                Folder dir;
                try {
                    dir = child(name);
                } catch (RefusedFileException swapped) {
                    // Replaced by a link or a file since it was looked at: remove that instead
                    deleteFile(name);
                    return;
                }
                try (dir) {
                    List<Path> entries = new ArrayList<>();
                    for (Path entry : dir.plain) {
                        entries.add(entry.getFileName());
                    }
                    for (Path entry : entries) {
                        dir.remove(entry);
                    }
                }
                if (stream != null) {
                    stream.deleteDirectory(name);
                } else {
                    Files.delete(path.resolve(name));
                }
            } else {
                deleteFile(name);
            }
        }

        private void deleteFile(Path name) throws IOException {
            try {
                if (stream != null) {
                    stream.deleteFile(name);
                } else {
                    Files.delete(path.resolve(name));
                }
            } catch (NoSuchFileException gone) {
                // removed meanwhile: what was wanted
            }
        }

        @Override
        public void close() throws IOException {
            plain.close();
        }
    }

    /** What a non-regular entry is, as the end of a sentence about it. */
    static String describe(BasicFileAttributes attrs) {
        if (attrs == null) {
            return "cannot be examined";
        }
        if (attrs.isSymbolicLink()) {
            return "is a symbolic link";
        }
        if (attrs.isDirectory()) {
            return "is a folder, not a file";
        }
        if (attrs.isOther()) {
            return "is not a regular file (a FIFO, socket or device)";
        }
        return "is a file, not a folder";
    }
}
