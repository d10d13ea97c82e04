package io.sandflow.flow;

import org.h2.store.fs.FileBase;
import org.h2.store.fs.FilePath;
import org.h2.store.fs.FilePathWrapper;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A disk for an H2 store that the test can fill and free: a small tmpfs mounted for the test where the machine lets
 * it (root), else the real disk seen through an H2 file system whose writes fail with "No space left on device"
 * while it is full.
 */
abstract class FullDisk implements AutoCloseable {

    /** The folder the store's file goes in. */
    abstract Path folder();

    /** The JDBC URL of a store file in {@link #folder()}. */
    abstract String url();

    /** Fills the disk: writes fail from now on. */
    abstract void fill() throws IOException;

    /** Frees the space again. */
    abstract void free() throws IOException;

    /** Which of the two this is, for the test's output. */
    abstract String kind();

    /** A tmpfs of the given size at {@code mountPoint}, or the injected fault where mounting is not allowed. */
    static FullDisk at(Path mountPoint, String size) throws IOException, InterruptedException {
        Files.createDirectories(mountPoint);
        if ("injected".equals(System.getProperty("sandflow.test.full-disk"))) {
            // -Dsandflow.test.full-disk=injected tries the fallback on a machine that could mount
            return new Injected(mountPoint);
        }
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs",
                mountPoint.toString()).redirectErrorStream(true).start();
        String said = new String(mount.getInputStream().readAllBytes());
        if (mount.waitFor(30, TimeUnit.SECONDS) && mount.exitValue() == 0) {
            return new Tmpfs(mountPoint);
        }
        System.out.println("no tmpfs (" + said.strip() + "): the disk fills by an injected IOException instead");
        return new Injected(mountPoint);
    }

    /** A real small file system: full when a filler file has taken all its space. */
    static final class Tmpfs extends FullDisk {
        private final Path mountPoint;
        private final Path filler;

        Tmpfs(Path mountPoint) {
            this.mountPoint = mountPoint;
            this.filler = mountPoint.resolve("filler");
        }

        @Override
        Path folder() {
            return mountPoint;
        }

        @Override
        String url() {
            return "jdbc:h2:" + mountPoint.resolve("sandflow") + ";AUTO_SERVER=TRUE";
        }

        @Override
        void fill() throws IOException {
            byte[] block = new byte[64 * 1024];
            try (OutputStream out = Files.newOutputStream(filler)) {
                while (true) {
                    out.write(block);
                }
            } catch (IOException full) {
                // the disk is full now
            }
        }

        @Override
        void free() throws IOException {
            Files.deleteIfExists(filler);
        }

        @Override
        String kind() {
            return "tmpfs";
        }

        @Override
        public void close() throws IOException, InterruptedException {
            new ProcessBuilder("umount", "-l", mountPoint.toString()).inheritIO().start().waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** The real disk, through an H2 file system ("fulldisk:") that fails every write while {@link #full} is set. */
    static final class Injected extends FullDisk {
        static volatile boolean full;
        private final Path folder;

        Injected(Path folder) {
            this.folder = folder;
            FilePath.register(new FullDiskPath());
        }

        @Override
        Path folder() {
            return folder;
        }

        @Override
        String url() {
            return "jdbc:h2:fulldisk:" + folder.resolve("sandflow");
        }

        @Override
        void fill() {
            full = true;
        }

        @Override
        void free() {
            full = false;
        }

        @Override
        String kind() {
            return "injected IOException";
        }

        @Override
        public void close() {
            full = false;
        }
    }

    /** H2's file system with the "fulldisk:" prefix: the real one, whose channels fail writes while full. */
    public static final class FullDiskPath extends FilePathWrapper {
        @Override
        public String getScheme() {
            return "fulldisk";
        }

        @Override
        public FileChannel open(String mode) throws IOException {
            return new FullDiskChannel(super.open(mode));
        }
    }

    private static final class FullDiskChannel extends FileBase {
        private final FileChannel base;

        FullDiskChannel(FileChannel base) {
            this.base = base;
        }

        private static void failWhenFull() throws IOException {
            if (Injected.full) {
                throw new FileSystemException(null, null, "No space left on device");
            }
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return base.read(dst);
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return base.read(dst, position);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            failWhenFull();
            return base.write(src);
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            failWhenFull();
            return base.write(src, position);
        }

        @Override
        public long position() throws IOException {
            return base.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            base.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return base.size();
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            failWhenFull();
            base.truncate(size);
            return this;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            failWhenFull();
            base.force(metaData);
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            return base.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException {
            base.close();
        }
    }
}
