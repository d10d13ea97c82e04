package io.sandflow.sandbox;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * Installs the recording stand-in (src/test/resources/sandbox/fake-sandbox-cli.sh) as {@code ROOT/bin/sbx} and
 * {@code ROOT/bin/docker}, steers it through its state files and reads back what it was called with.
 */
final class FakeSandboxCli {

    /** One line of the call log: a call's start (with its argv) or an exec's end (with its exit code). */
    record Call(String phase, long micros, long pid, List<String> argv, int exitCode) {

        /** The sandbox named by an exec call: the first argument after exec's own flags. */
        String execTarget() {
            int i = argv.indexOf("exec") + 1;
            while (i < argv.size() && argv.get(i).startsWith("-")) {
                i += argv.get(i).equals("-e") || argv.get(i).equals("-w") ? 2 : 1;
            }
            return argv.get(i);
        }

        boolean isExec() {
            return phase.equals("start") && argv.contains("exec");
        }
    }

    final Path root;

    FakeSandboxCli(Path root) throws IOException {
        this.root = root;
        Files.createDirectories(root.resolve("bin"));
        Files.createDirectories(root.resolve("state/sandboxes"));
        for (String name : List.of("sbx", "docker")) {
            Path target = root.resolve("bin").resolve(name);
            try (InputStream in = FakeSandboxCli.class.getResourceAsStream("/sandbox/fake-sandbox-cli.sh")) {
                Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    String sbx() {
        return root.resolve("bin/sbx").toString();
    }

    String docker() {
        return root.resolve("bin/docker").toString();
    }

    void exists(String... names) throws IOException {
        for (String name : names) {
            Files.writeString(root.resolve("state/sandboxes").resolve(name), "");
        }
    }

    /** Every call naming the sandbox fails; with a verb (create, policy, network, exec) only that one. */
    void failOn(String name, String verb) throws IOException {
        Files.writeString(root.resolve("state").resolve("fail-" + name), verb == null ? "" : verb);
    }

    void hangOn(String name, String verb) throws IOException {
        Files.writeString(root.resolve("state").resolve("hang-" + name), verb == null ? "" : verb);
    }

    List<String> policyOf(String name) throws IOException {
        return Files.readAllLines(root.resolve("state/policy").resolve(name));
    }

    List<Call> calls() throws IOException {
        Path log = root.resolve("calls.log");
        List<Call> calls = new ArrayList<>();
        if (!Files.exists(log)) {
            return calls;
        }
        for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
            String[] f = line.split("\t", 4);
            if (f[0].equals("end")) {
                calls.add(new Call("end", Long.parseLong(f[1]), Long.parseLong(f[2]), List.of(), Integer.parseInt(f[3])));
            } else {
                List<String> argv = new ArrayList<>();
                for (String arg : f[3].split("\u001f", -1)) {
                    argv.add(decode(arg));
                }
                calls.add(new Call("start", Long.parseLong(f[1]), Long.parseLong(f[2]), argv, -1));
            }
        }
        return calls;
    }

    /** The argv of every call, in order, starts only. */
    List<List<String>> argvs() throws IOException {
        return calls().stream().filter(c -> c.phase().equals("start")).map(Call::argv).toList();
    }

    private static String decode(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(++i);
                out.append(switch (n) {
                    case 'n' -> '\n';
                    case 't' -> '\t';
                    case 'u' -> '\u001f';
                    default -> n;
                });
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
