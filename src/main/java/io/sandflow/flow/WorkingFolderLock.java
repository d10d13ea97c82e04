package io.sandflow.flow;

import io.sandflow.config.ConfigException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One daemon per working folder: an OS file lock on {@code .sandflow.lock} in it, held while the daemon runs and
 * let go by the OS when its process ends, however it ends. Read-only commands (status, doctor) do not take it.
 */
final class WorkingFolderLock implements AutoCloseable {

    static final String FILE_NAME = ".sandflow.lock";

    private final FileChannel channel;
    private final FileLock lock;

    private WorkingFolderLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the working folder's lock.
     *
     * @throws ConfigException when another daemon holds it, in one sentence naming the folder and that daemon's pid
     */
    static WorkingFolderLock take(Path workDir) throws IOException {
        Files.createDirectories(workDir);
        Path file = workDir.resolve(FILE_NAME);
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException sameProcess) {
            lock = null;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            String holder = holder(channel);
            channel.close();
            throw new ConfigException("another Sandflow daemon" + holder + " already runs on the working folder "
                    + workDir + " (it holds " + file + "); stop it first, or give this one a working folder of its "
                    + "own with -C");
        }
        // The holder's pid, for the message a second daemon prints
        channel.truncate(0);
        channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)), 0);
        channel.force(false);
        return new WorkingFolderLock(channel, lock);
    }

    private static String holder(FileChannel channel) {
        try {
            ByteBuffer buffer = ByteBuffer.allocate(32);
            channel.read(buffer, 0);
            String pid = new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8).strip();
            return pid.matches("\\d+") ? " (pid " + pid + ")" : "";
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
        }
    }
}
