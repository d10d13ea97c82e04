package io.sandflow.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * One worker's own folders. The agent sees the job's input under {@code input/}, may write its result under
 * {@code out/}, and keeps its CLI state in {@code home/} so that concurrent agents never share a config file.
 */
public record Workspace(int index, String sandboxName, Path root) {

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

    /** Creates the folders; called once at start. */
    public void create() throws IOException {
        for (Path dir : new Path[] {input(), out(), configDir(), tmp()}) {
            Files.createDirectories(dir);
        }
    }

    /** Empties the per-job folders (input, out, tmp) so that nothing of one job leaks into the next. */
    public void clearJobFiles() throws IOException {
        for (Path dir : new Path[] {input(), out(), tmp()}) {
            if (Files.isDirectory(dir)) {
                try (Stream<Path> walk = Files.walk(dir)) {
                    for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                        if (!p.equals(dir)) {
                            Files.deleteIfExists(p);
                        }
                    }
                }
            }
            Files.createDirectories(dir);
        }
    }
}
