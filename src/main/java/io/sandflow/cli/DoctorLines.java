package io.sandflow.cli;

import java.io.File;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/** What {@code doctor} prints: one line per check, {@code ok}, {@code WARN} or {@code MISSING}, and the count missing. */
final class DoctorLines {

    private final PrintStream out;
    private final Map<String, String> env;
    private int missing;

    DoctorLines(PrintStream out, Map<String, String> env) {
        this.out = out;
        this.env = env;
    }

    int missing() {
        return missing;
    }

    void tool(String what, String command, String fix) {
        find(command).ifPresentOrElse(p -> ok(what, "`" + command + "` is " + p),
                () -> missing(what, "`" + command + "` is not on PATH; " + fix));
    }

    Optional<Path> find(String command) {
        if (command.contains(File.separator)) {
            Path p = Path.of(command);
            return Files.isExecutable(p) && !Files.isDirectory(p) ? Optional.of(p) : Optional.empty();
        }
        for (String entry : env.getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (entry.isEmpty()) {
                continue;
            }
            Path p = Path.of(entry, command);
            if (Files.isExecutable(p) && !Files.isDirectory(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    static String firstLine(String message) {
        if (message == null) {
            return "unknown error";
        }
        return message.strip().split("\\R", 2)[0];
    }

    void ok(String what, String text) {
        out.println("ok       " + what + ": " + text);
    }

    void warn(String what, String text) {
        out.println("WARN     " + what + ": " + text);
    }

    void missing(String what, String text) {
        missing++;
        out.println("MISSING  " + what + ": " + text);
    }
}
