package io.sandflow.process;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Process-group plumbing the JDK lacks: finding a group's members through /proc and signalling a whole group.
 */
final class ProcessTree {

    private static final Path PROC = Path.of("/proc");

    private ProcessTree() {
    }

    static boolean procAvailable() {
        return Files.isReadable(PROC.resolve("self").resolve("stat"));
    }

    /**
     * Live (non-zombie) members of a process group. Orphans reparented to init no longer show up in
     * {@link ProcessHandle#descendants()}, but they keep their group, so this finds double-forked children.
     */
    static Set<Long> groupMembers(long pgid) {
        Set<Long> members = new HashSet<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(PROC)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (!isNumeric(name)) {
                    continue;
                }
                Stat stat = stat(Long.parseLong(name));
                if (stat != null && stat.pgrp == pgid && !stat.dead()) {
                    members.add(stat.pid);
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // /proc vanished or is unreadable: the caller still has descendants() to go on.
        }
        return members;
    }

    /** The process group of a pid, or -1 when unknown. */
    static long groupOf(long pid) {
        Stat stat = stat(pid);
        return stat == null ? -1 : stat.pgrp;
    }

    /**
     * Whether a process can still run. The JDK reports zombies as alive, yet a killed orphan stays a zombie
     * until init gets round to reaping it (about two seconds on some container inits).
     */
    static boolean isRunning(ProcessHandle handle) {
        if (!handle.isAlive()) {
            return false;
        }
        Stat stat = stat(handle.pid());
        if (stat == null) {
            // Without /proc (macOS) the JDK's answer is all there is; with it, an unreadable stat means gone.
            return !Files.isDirectory(PROC);
        }
        return !stat.dead();
    }

    /**
     * Sends a signal to every member of a group with kill(1), which signals the group atomically, so children
     * forked between our scan and the signal are hit too.
     */
    static void signalGroup(Path killCommand, long pgid, String signal) {
        if (killCommand == null || pgid <= 1) {
            return;
        }
        try {
            Process kill = new ProcessBuilder(killCommand.toString(), "-" + signal, "--", "-" + pgid)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
            if (!kill.waitFor(2, TimeUnit.SECONDS)) {
                kill.destroyForcibly();
            }
        } catch (IOException ignored) {
            // The members are also signalled one by one by the caller.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static boolean isNumeric(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    private static Stat stat(long pid) {
        String line;
        try {
            line = Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat"), StandardCharsets.ISO_8859_1);
        } catch (IOException | RuntimeException e) {
            return null;
        }
        // The command name sits in parentheses and may itself contain spaces and ')'.
        int close = line.lastIndexOf(')');
        if (close < 0 || close + 2 >= line.length()) {
            return null;
        }
        String[] fields = line.substring(close + 2).split(" ", 5);
        if (fields.length < 4) {
            return null;
        }
        try {
            return new Stat(pid, fields[0].charAt(0), Long.parseLong(fields[2]));
        } catch (RuntimeException e) {
            return null;
        }
    }

    private record Stat(long pid, char state, long pgrp) {
        boolean dead() {
            return state == 'Z' || state == 'X' || state == 'x';
        }
    }
}
