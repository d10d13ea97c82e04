package io.sandflow.cli;

import io.sandflow.config.ConfigException;
import io.sandflow.config.SandflowConfig;
import io.sandflow.config.Settings;
import io.sandflow.flow.Daemon;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code demo}: prepares ./demo with the bundled example inputs and drains it with the offline demo agent, through
 * the same routes and code path as a real run.
 */
public final class DemoCommand {

    /** The examples shipped in the jar (written for this project; no corpus file). */
    static final List<String> EXAMPLES = List.of("tiny_sentiment_corpus.json", "gulf dialect tweets.json",
            "مدونة_الحوار.json", "it's $(not) a & shell.json", "-leading-dash.json");

    private DemoCommand() {
    }

    static int run(Path dir, Map<String, String> overrides) throws Exception {
        Path demo = dir.resolve("demo");
        Path inbox = demo.resolve("inbox");
        Files.createDirectories(inbox);
        for (String name : EXAMPLES) {
            try (InputStream in = DemoCommand.class.getClassLoader().getResourceAsStream("examples/masader/" + name)) {
                if (in == null) {
                    throw new ConfigException("demo: example " + name + " is missing from the jar");
                }
                Files.copy(in, inbox.resolve(name), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        System.out.println("Demo: " + EXAMPLES.size() + " example inputs in " + inbox + "; results go to "
                + demo.resolve("outbox"));
        Settings loaded = Settings.load(demo, null, List.of("demo"), settings(overrides, demoAgent()));
        int code = new Daemon(SandflowConfig.of(loaded), true).run();
        Path here = Path.of("").toAbsolutePath();
        Path shown = demo.toAbsolutePath().normalize();
        System.out.println(nextSteps(shown.startsWith(here) ? here.relativize(shown) : shown));
        return code;
    }

    /** What to look at once the demo ran: its batch through the demo profile, which names the assessment's fields. */
    static String nextSteps(Path demo) {
        String folder = demo.toString().contains(" ") ? "'" + demo + "'" : demo.toString();
        String on = "bin/sandflow -C " + folder + " --profile demo ";
        return String.join(System.lineSeparator(), "See the batch:",
                "  " + on + "report                  # counts, time, spend, and the grades as a histogram",
                "  " + on + "export --format csv     # a row per input: score, grade, name",
                "  " + on + "show '" + EXAMPLES.get(2) + "'");
    }

    /**
     * The demo's settings: the user's, plus the demo agent and, for that agent only, no sandbox. A user who names
     * another agent gets the sandbox their own settings (or the defaults) give it.
     */
    public static Map<String, String> settings(Map<String, String> overrides, String demoAgent) {
        Map<String, String> settings = new LinkedHashMap<>(overrides);
        if (!settings.containsKey("sandflow.agent.command")) {
            settings.put("sandflow.agent.command", demoAgent);
            settings.putIfAbsent("sandflow.sandbox.kind", "none");
            settings.putIfAbsent("sandflow.sandbox.allow-unsandboxed", "true");
        }
        return settings;
    }

    /** The demo agent is this very jar's DemoAgent class, started through bin/demo-agent or java directly. */
    private static String demoAgent() throws IOException {
        try {
            Path jar = Path.of(DemoCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path script = jar.getParent().resolve("../bin/demo-agent").normalize();
            if (Files.isExecutable(script)) {
                return script.toString();
            }
        } catch (URISyntaxException | RuntimeException e) {
            // fall through to the script next to the working folder
        }
        return Path.of("bin/demo-agent").toAbsolutePath().toString();
    }
}
