package io.sandflow.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/sandflow, run for real against a stand-in JDK whose {@code java} records what it was given: the locale it
 * sets, the class-data archive it passes only when it is fresh, and the arguments it hands on untouched.
 */
class LauncherScriptTest {

    private static final Path LAUNCHER = Path.of("bin/sandflow").toAbsolutePath();

    @TempDir
    Path dir;
    private Path jdk;
    private Path jar;
    private Path record;

    @BeforeEach
    void standInJdk() throws IOException {
        jdk = dir.resolve("jdk");
        Path java = Files.createDirectories(jdk.resolve("bin")).resolve("java");
        record = dir.resolve("java-was-given.txt");
        Files.writeString(java, """
                #!/usr/bin/env bash
                {
                    printf 'LANG=%s\\n' "${LANG:-}"
                    printf 'LC_ALL=%s\\n' "${LC_ALL:-}"
                    printf 'ARG=%s\\n' "$@"
                } > "$RECORD"
                """);
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        jar = Files.writeString(Files.createDirectories(dir.resolve("build")).resolve("sandflow.jar"), "not a jar");
    }

    @Test
    void handsTheArgumentsOnUntouchedAfterTheJvmOptions() throws Exception {
        int code = launch(Map.of("LANG", "en_US.UTF-8"), "run", "--once", "ملف عربي.json", "a b", "-leading");

        assertThat(code).isZero();
        List<String> args = given("ARG=");
        int jarAt = args.indexOf("-jar");
        assertThat(jarAt).isPositive();
        assertThat(args.get(jarAt + 1)).isEqualTo(jar.toRealPath().toString());
        assertThat(args.subList(jarAt + 2, args.size())).containsExactly("run", "--once", "ملف عربي.json", "a b",
                "-leading");
        assertThat(args.subList(0, jarAt)).contains("-Dfile.encoding=UTF-8")
                .noneMatch(a -> a.startsWith("-XX:SharedArchiveFile"));
        assertThat(given("LANG=")).containsExactly("en_US.UTF-8");
    }

    @Test
    void javaOptsComeAfterTheLaunchersOwnSoTheyCanChangeThem() throws Exception {
        assertThat(launch(Map.of("JAVA_OPTS", "-XX:TieredStopAtLevel=4 -Xmx1g"), "status")).isZero();

        List<String> args = given("ARG=");
        int own = args.indexOf("-XX:TieredStopAtLevel=1");
        int users = args.indexOf("-XX:TieredStopAtLevel=4");
        assertThat(own).isNotNegative();
        assertThat(users).isGreaterThan(own).isLessThan(args.indexOf("-jar"));
        assertThat(args.get(users + 1)).isEqualTo("-Xmx1g");
    }

    @Test
    void aPosixLocaleBecomesUtf8() throws Exception {
        assertThat(launch(Map.of("LANG", "C"), "status")).isZero();

        assertThat(given("LANG=")).containsExactly("C.UTF-8");
        assertThat(given("LC_ALL=")).containsExactly("C.UTF-8");
    }

    @Test
    void passesTheClassDataArchiveOnlyWhenItIsNewerThanTheJar() throws Exception {
        Path archive = Files.writeString(jar.resolveSibling("sandflow.jsa"), "archive");
        Files.setLastModifiedTime(jar, FileTime.from(Instant.now().minusSeconds(60)));

        assertThat(launch(Map.of(), "status")).isZero();
        assertThat(given("ARG=")).contains("-XX:SharedArchiveFile=" + archive.toRealPath(), "-Xshare:auto");

        // A jar rebuilt after the archive was recorded: the archive no longer matches it
        Files.setLastModifiedTime(archive, FileTime.from(Instant.now().minusSeconds(120)));
        assertThat(launch(Map.of(), "status")).isZero();
        assertThat(given("ARG=")).noneMatch(a -> a.startsWith("-XX:SharedArchiveFile"));
    }

    @Test
    void findsTheJarNextToItselfWhenCalledThroughASymlink() throws Exception {
        Path link = Files.createSymbolicLink(Files.createDirectories(dir.resolve("usr-local-bin")).resolve("sandflow"),
                LAUNCHER);
        Path expected = LAUNCHER.getParent().resolveSibling("target").resolve("sandflow.jar");
        Path err = dir.resolve("err.txt");

        int code = run(link, Map.of(), err, false, "--version");

        // Before `mvn package` the jar is not there yet: then the error must name where it was looked for
        if (code == 2) {
            assertThat(Files.readString(err)).contains(expected.toString());
        } else {
            assertThat(code).isZero();
            assertThat(given("ARG=")).contains(expected.toRealPath().toString());
        }
    }

    @Test
    void aMissingJarIsOneSentenceAndExitTwo() throws Exception {
        Files.delete(jar);
        Path err = dir.resolve("err.txt");

        int code = launch(Map.of(), err, "run");

        assertThat(code).isEqualTo(2);
        assertThat(Files.readString(err)).contains(jar.toString()).contains("not found").contains("mvn -q package");
        assertThat(record).doesNotExist();
    }

    private int launch(Map<String, String> env, String... args) throws Exception {
        return launch(env, dir.resolve("err.txt"), args);
    }

    private int launch(Map<String, String> env, Path err, String... args) throws Exception {
        return run(LAUNCHER, env, err, true, args);
    }

    private int run(Path script, Map<String, String> env, Path err, boolean standInJar, String... args)
            throws Exception {
        ProcessBuilder pb = new ProcessBuilder();
        pb.command().add(script.toString());
        pb.command().addAll(List.of(args));
        pb.environment().remove("LC_ALL");
        pb.environment().remove("LC_CTYPE");
        pb.environment().remove("LANG");
        pb.environment().remove("JAVA_OPTS");
        pb.environment().putAll(env);
        pb.environment().put("JAVA_HOME", jdk.toString());
        pb.environment().remove("SANDFLOW_JAR");
        if (standInJar) {
            pb.environment().put("SANDFLOW_JAR", jar.toString());
        }
        pb.environment().put("RECORD", record.toString());
        pb.redirectErrorStream(false).redirectError(err.toFile()).redirectOutput(dir.resolve("out.txt").toFile());
        Process p = pb.start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return p.exitValue();
    }

    private List<String> given(String prefix) throws IOException {
        return Files.readAllLines(record, StandardCharsets.UTF_8).stream().filter(l -> l.startsWith(prefix))
                .map(l -> l.substring(prefix.length())).toList();
    }
}
