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
    private static final Path LAST_PID = PROC.resolve("sys/kernel/ns_last_pid");

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
        return groupMembers(pgid, false);
    }

    /**
     * Like {@link #groupMembers(long)}; with {@code justStarted} (the group's leader was started moments ago) only
     * the processes with a pid from the leader's up are read. Every member was forked after the leader, and the
     * kernel hands out pids in increasing order until it wraps at pid_max; the last pid handed out
     * (ns_last_pid) still being at or above the leader's shows that it has not wrapped since, short of a full
     * cycle of pid_max forks, which "moments" rules out. That reads a handful of /proc/N/stat files instead of
     * every process's (each costs the kernel a stat line), which was a quarter of the JVM's CPU per agent run
     * with 70 processes on the host, and grows with the host's process count. Any doubt falls back to all.
     */
    static Set<Long> groupMembers(long pgid, boolean justStarted) {
        long from = justStarted && lastPid() >= pgid ? pgid : 0;
        Set<Long> members = new HashSet<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(PROC)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (!isNumeric(name) || name.length() > 18) {
                    continue;
                }
                long pid = Long.parseLong(name);
                if (pid < from) {
                    continue;
                }
                Stat stat = stat(pid);
                if (stat != null && stat.pgrp == pgid && !stat.dead()) {
                    members.add(stat.pid);
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // /proc vanished or is unreadable: the caller still has descendants() to go on.
        }
        return members;
    }

    /**
     * Live processes whose environment holds {@code entry} ({@code NAME=value}), as {@code /proc/PID/environ} shows
     * it: the environment a process was started with, unless it rewrote that memory itself. With {@code justStarted}
     * only pids from {@code leader}'s up are read, as in {@link #groupMembers(long, boolean)}. Processes of other
     * users are unreadable and skipped.
     */
    static Set<Long> marked(String entry, long leader, boolean justStarted) {
        long from = justStarted && lastPid() >= leader ? leader : 0;
        byte[] needle = (entry + "\0").getBytes(StandardCharsets.UTF_8);
        Set<Long> found = new HashSet<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(PROC)) {
            for (Path dir : entries) {
                String name = dir.getFileName().toString();
                if (!isNumeric(name) || name.length() > 18 || Long.parseLong(name) < from) {
                    continue;
                }
                byte[] environ;
                try {
                    environ = Files.readAllBytes(dir.resolve("environ"));
                } catch (IOException | RuntimeException unreadable) {
                    continue;
                }
                if (contains(environ, needle)) {
                    Stat stat = stat(Long.parseLong(name));
                    if (stat != null && !stat.dead()) {
                        found.add(stat.pid);
                    }
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // /proc vanished or is unreadable: the group and the descendants are still killed
        }
        return found;
    }

    /** Whether {@code needle} occurs in {@code haystack} at the start or right after a NUL (a whole entry). */
    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            if (i > 0 && haystack[i - 1] != 0) {
                continue;
            }
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    /** The kernel's highest pid plus one; 32768, the smallest default, when it cannot be read. */
    static long pidMax() {
        long max = sysctl(PROC.resolve("sys/kernel/pid_max"));
        return max > 0 ? max : 32_768;
    }

    /** The last pid the kernel handed out in this pid namespace, or -1 when unknown (then nothing is skipped). */
    static long lastPid() {
        return sysctl(LAST_PID);
    }

    /** A number in a sysctl file, or -1 when it cannot be read. */
    private static long sysctl(Path file) {
        // One read into a buffer: a sysctl file answers a read at an offset past 0 with end of file, so
        // Files.readString (which reads the first byte alone when the size says 0) would see "2" of "24017".
        byte[] buffer = new byte[32];
        try (java.io.InputStream in = Files.newInputStream(file)) {
            int n = in.read(buffer);
            return n <= 0 ? -1 : Long.parseLong(new String(buffer, 0, n, StandardCharsets.US_ASCII).trim());
        } catch (IOException | RuntimeException e) {
            return -1;
        }
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
