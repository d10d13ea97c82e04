package io.sandflow.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * One worker's own folders. The agent sees the job's input under {@code input/}, may write its result under
 * {@code out/}, and keeps its CLI state in {@code home/} so that concurrent agents never share a config file.
 * Everything inside is the agent's to change, so Sandflow touches it only through {@link WorkspaceFiles}: it never
 * follows a link out of the workspace, and every job starts from folders Sandflow has just made.
 */
public record Workspace(int index, String sandboxName, Path root) {

    private static final List<String> FOLDERS = List.of("input", "out", "home", "tmp");
    private static final List<String> JOB_FOLDERS = List.of("input", "out", "tmp");

    public Path input() {
        return root.resolve("input");
    }

    public Path out() {
        return root.resolve("out");
    }

    public Path home() {
        return root.resolve("home");
    }

    public Path configDir() {
        return home().resolve(".claude");
    }

    public Path tmp() {
        return root.resolve("tmp");
    }

    /** Beside the workspace, where no agent can write: a file the agent wrote is moved here before it is read. */
    public Path taken() {
        return root.resolveSibling(root.getFileName() + ".taken");
    }

    /** Creates the workspace and its holding folder, and lays out fresh folders; called once at start. */
    public void create() throws IOException {
        for (Path dir : new Path[] {root, taken()}) {
            Files.createDirectories(dir.getParent());
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                    throw new IOException(dir + " is not a folder; Sandflow makes its workspaces itself");
                }
                Files.createDirectory(dir);
            }
        }
        WorkspaceFiles.empty(taken());
        reset();
    }

    /**
     * Starts a job from a clean workspace: removes whatever is in it (links removed, not followed), then makes
     * {@code input/}, {@code out/}, {@code home/.claude/} and {@code tmp/} afresh.
     */
    public void reset() throws IOException {
        WorkspaceFiles.empty(root);
        for (String folder : FOLDERS) {
            Files.createDirectory(root.resolve(folder));
        }
        Files.createDirectory(configDir());
    }

    /**
     * Removes a finished job's files ({@code input/}, {@code out/}, {@code tmp/}) so that nothing of it stays on
     * disk; {@code home/} stays until the next job, for a look at what the CLI kept.
     */
    public void clearJobFiles() throws IOException {
        for (String folder : JOB_FOLDERS) {
            WorkspaceFiles.remove(root, folder);
            Files.createDirectory(root.resolve(folder));
        }
    }

    /** Empties {@code out/} before an attempt, so that what is read after it can only be this attempt's. */
    public void clearOut() throws IOException {
        WorkspaceFiles.remove(root, "out");
        Files.createDirectory(out());
    }

    /** Copies the job's input to {@code input/NAME} as a new file, where the agent sees it; returns that path. */
    public Path stageInput(Path source, String name) throws IOException {
        WorkspaceFiles.writeNew(root, "input", name, source);
        return input().resolve(name);
    }

    /**
     * Reads a file the agent wrote in this workspace (its output file), after taking it out of the agent's reach.
     *
     * @return its bytes, or empty when the agent wrote no such file
     * @throws RefusedFileException when the file is a link, lies under one, is not a regular file, has another name
     *                              or is larger than {@code maxBytes}
     */
    public Optional<byte[]> readAgentFile(Path file, long maxBytes) throws IOException {
        return WorkspaceFiles.take(root, file, taken(), maxBytes);
    }
}
