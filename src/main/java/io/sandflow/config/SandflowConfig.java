package io.sandflow.config;

import io.sandflow.agent.AgentSettings;
import io.sandflow.inbox.FollowLinks;
import io.sandflow.job.InputCheck;
import io.sandflow.job.RetryPolicy;
import io.sandflow.process.ProcessRunner;
import io.sandflow.prompt.PromptRenderer;
import io.sandflow.result.OutputNames;
import io.sandflow.result.ResultRules;
import io.sandflow.result.ResultValidator;
import io.sandflow.sandbox.Sandbox;
import io.sandflow.sandbox.Sandboxes;
import io.sandflow.sandbox.WorkerPool;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Everything a run of Sandflow is told, typed and checked once: a bad template, schema, rule or value stops start-up
 * with one sentence naming the setting ({@link ConfigException}). Immutable; built by {@link #of(Settings)}.
 *
 * @param settings the layered values it was read from, for Camel's placeholders and for saying where a value came
 *                 from
 */
public record SandflowConfig(Settings settings, Folders folders, Intake intake, Agent agent, Results results,
                             Sandboxing sandbox, RetryPolicy retry, Breaker breaker, BigDecimal budgetCap,
                             Store store, Http http, LogSettings log, Duration shutdownGrace, Duration onceMaxWait,
                             Duration observeRefresh, int ratePerMinute) {

    /** The folders of a working folder, resolved against it. */
    public record Folders(Path workDir, Path inbox, Path outbox, Path failed, Path archive, Path workspace,
                          long minFreeBytes) {

        /** The folders a job writes to, each by the setting that names it. */
        public Map<String, Path> written() {
            Map<String, Path> folders = new LinkedHashMap<>();
            folders.put("sandflow.inbox", inbox);
            folders.put("sandflow.outbox", outbox);
            folders.put("sandflow.failed", failed);
            folders.put("sandflow.archive", archive);
            return folders;
        }
    }

    /**
     * How the inbox is taken in.
     *
     * @param include   sandflow.include, a Java regular expression the whole name must match
     * @param recheck   how often a store or folder that holds intake is tried again
     * @param check     the checks an input passes before any agent runs
     */
    public record Intake(String include, FollowLinks followLinks, Duration poll, Duration settle, int batch,
                         Duration recheck, InputCheck check) {
    }

    /**
     * The agent and what each attempt gives it.
     *
     * @param env            sandflow.agent.env.NAME entries, for every agent process
     * @param inheritSecrets the secret-looking variables of Sandflow's environment the agent may inherit
     */
    public record Agent(AgentSettings settings, Duration timeout, int maxOutputBytes, Map<String, String> env,
                        List<String> inheritSecrets, PromptRenderer prompt) {
    }

    /**
     * What a result must be and where it goes.
     *
     * @param schemaText  the JSON Schema as written, handed to the agent
     * @param validator   the schema compiled, with the cross-field rules
     * @param namePattern sandflow.result.name
     */
    public record Results(String schemaText, ResultValidator validator, String namePattern) {
    }

    /**
     * The sandbox and the workers, one sandbox each.
     *
     * @param names       one sandbox name per worker: a shorter sandflow.sandbox.names list means fewer workers
     * @param maxFailures sandbox failures in a row before a sandbox is retired
     */
    public record Sandboxing(Sandbox sandbox, List<String> names, int maxFailures) {

        public int workers() {
            return names.size();
        }
    }

    /** The circuit breaker's settings (sandflow.breaker.*). */
    public record Breaker(double failureRate, int window, int minCalls, Duration openFor) {
    }

    /**
     * The job store and this node's place in it.
     *
     * @param url    the JDBC URL, an embedded H2 file resolved against the working folder
     * @param nodeId this node's name in the store
     * @param lease  how long a claim holds without renewal
     */
    public record Store(String url, String nodeId, Duration lease) {
    }

    /** Where the management server listens; port 0 means none. */
    public record Http(String host, int port) {
    }

    /** Keywords Claude Code's --json-schema compiler rejects; it then drops its StructuredOutput tool silently. */
    private static final java.util.Set<String> CLI_UNSUPPORTED_KEYWORDS = java.util.Set.of("format", "prefixItems",
            "dependentRequired", "dependentSchemas", "unevaluatedProperties", "unevaluatedItems", "$dynamicRef");
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger("sandflow");

    /** Reads and checks every setting; opens nothing. */
    public static SandflowConfig of(Settings s) {
        List<String> names = wrap("sandflow.sandbox.names", () -> WorkerPool.sandboxNames(
                s.positiveInt("sandflow.workers"), s.list("sandflow.sandbox.names"),
                s.required("sandflow.sandbox.name-prefix")));
        Duration lease = s.positiveDuration("sandflow.cluster.lease");
        LogSettings log = LogSettings.of(s);
        Folders folders = new Folders(s.workDir(), s.path("sandflow.inbox"), s.path("sandflow.outbox"),
                s.path("sandflow.failed"), s.path("sandflow.archive"), s.path("sandflow.workspace"),
                s.positiveLong("sandflow.folders.min-free-bytes"));
        Intake intake = intake(s);
        PromptRenderer prompt = wrap("sandflow.prompt.template", () -> new PromptRenderer(
                s.text("sandflow.prompt.template"), "sandflow.prompt.template=" + s.get("sandflow.prompt.template")));
        String schemaText = s.text("sandflow.result.schema");
        ResultValidator validator = wrap("sandflow.result.schema", () -> new ResultValidator(schemaText,
                ResultRules.parse(s.optional("sandflow.result.rules").orElse(""))));
        String resultName = s.required("sandflow.result.name");
        wrap("sandflow.result.name", () -> OutputNames.resolve(resultName, "probe.json"));
        AgentSettings agentSettings = wrap("sandflow.agent", () -> AgentSettings.fromProperties(s.values()));
        warnAboutSchemaKeywords(schemaText, agentSettings.claudeContract());
        Agent agent = new Agent(agentSettings, s.positiveDuration("sandflow.agent.timeout"),
                s.positiveInt("sandflow.agent.max-output"), agentEnv(s), s.list("sandflow.agent.inherit-secrets"),
                prompt);
        RetryPolicy retry = wrap("sandflow.retry", () -> new RetryPolicy(s.positiveInt("sandflow.retry.max-attempts"),
                s.positiveInt("sandflow.retry.max-invalid-attempts"), s.duration("sandflow.retry.backoff.initial"),
                s.duration("sandflow.retry.backoff.max"), s.decimal("sandflow.retry.backoff.multiplier", 1, 100),
                s.decimal("sandflow.retry.backoff.jitter", 0, 1)));
        // Its CLI calls run on a runner of their own: stopping kills the agents, never a sandbox being made
        Sandbox sandbox = wrap("sandflow.sandbox.kind", () -> Sandboxes.create(s.required("sandflow.sandbox.kind"),
                s.optional("sandflow.sandbox.command").orElse(""), s.bool("sandflow.sandbox.allow-unsandboxed"),
                s.list("sandflow.sandbox.network.allow"), secretPaths(s), s.duration("sandflow.sandbox.call-timeout"),
                new ProcessRunner()));
        Sandboxing sandboxing = new Sandboxing(sandbox, List.copyOf(names),
                s.positiveInt("sandflow.sandbox.max-failures"));
        Breaker breaker = new Breaker(s.decimal("sandflow.breaker.failure-rate", 1, 100),
                s.positiveInt("sandflow.breaker.window"), s.positiveInt("sandflow.breaker.min-calls"),
                s.positiveDuration("sandflow.breaker.open-for"));
        Store store = new Store(storeUrl(s), s.optional("sandflow.node.id").orElseGet(() -> defaultNodeId(s.workDir())),
                lease);
        Http http = new Http(HttpPort.host(s), HttpPort.port(s));
        return new SandflowConfig(s, folders, intake, agent, new Results(schemaText, validator, resultName),
                sandboxing, retry, breaker, s.money("sandflow.budget.max-usd-total").orElse(BigDecimal.ZERO), store,
                http, log, s.duration("sandflow.shutdown.grace"), s.duration("sandflow.once.max-wait"),
                s.positiveDuration("sandflow.observe.refresh"), s.positiveInt("sandflow.rate.per-minute"));
    }

    private static Intake intake(Settings s) {
        String include = s.required("sandflow.include");
        try {
            Pattern.compile(include);
        } catch (PatternSyntaxException e) {
            throw s.invalid("sandflow.include", "must be a Java regular expression (" + e.getDescription() + ")");
        }
        FollowLinks follow;
        try {
            follow = FollowLinks.parse(s.get(FollowLinks.SETTING));
        } catch (IllegalArgumentException e) {
            throw s.invalid(FollowLinks.SETTING, "must be inside, any or never");
        }
        InputCheck check = new InputCheck(s.positiveLong("sandflow.input.max-bytes"), requireJson(s, include));
        return new Intake(include, follow, s.positiveDuration("sandflow.intake.poll"),
                s.duration("sandflow.intake.settle"), s.positiveInt("sandflow.intake.batch"),
                s.positiveDuration("sandflow.intake.recheck"), check);
    }

    /**
     * The programs a run needs on this machine, each with the setting that names it: the agent where it runs on the
     * host, and the sandbox's own CLI.
     */
    public Map<String, String> hostPrograms() {
        Map<String, String> programs = new LinkedHashMap<>();
        Sandbox box = sandbox.sandbox();
        if (box.agentRunsOnHost()) {
            programs.put(agent.settings().command(), "sandflow.agent.command");
        }
        box.program().ifPresent(p -> programs.put(p, "sandflow.sandbox.kind=" + box.kind()));
        return programs;
    }

    /** How many workers run jobs: one per sandbox. */
    public int workers() {
        return sandbox.workers();
    }

    /**
     * The JDBC URL the settings name. An embedded H2 file URL with a relative path is resolved against the working
     * folder, not the JVM's; H2's write delay is left alone, as the store writes to disk itself what the daemon acts
     * on.
     */
    public static String storeUrl(Settings s) {
        String url = s.required("sandflow.store.url");
        if (!url.startsWith("jdbc:h2:") || url.startsWith("jdbc:h2:mem:") || url.startsWith("jdbc:h2:tcp:")) {
            return url;
        }
        String prefix = url.startsWith("jdbc:h2:file:") ? "jdbc:h2:file:" : "jdbc:h2:";
        String rest = url.substring(prefix.length());
        int semi = rest.indexOf(';');
        String file = semi < 0 ? rest : rest.substring(0, semi);
        String options = semi < 0 ? "" : rest.substring(semi);
        if (file.startsWith("./") || file.startsWith("../")) {
            file = s.workDir().resolve(file).normalize().toString();
        }
        return prefix + file + options;
    }

    /** What no agent may read: the store's folder, Sandflow's config files, the log. */
    public static List<Path> secretPaths(Settings s) {
        List<Path> paths = new java.util.ArrayList<>();
        String url = storeUrl(s);
        if (url.startsWith("jdbc:h2:") && !url.startsWith("jdbc:h2:mem:")) {
            String file = url.substring("jdbc:h2:".length()).split(";")[0].replaceFirst("^file:", "");
            paths.add(s.workDir().resolve(file).getParent());
        }
        paths.add(s.workDir().resolve("application.properties"));
        // The log names every input and why each failed: hide its folder (the rotated files too), or only the file
        // when that folder also holds the workspaces
        s.optional("sandflow.log.file").ifPresent(f -> {
            Path log = s.path("sandflow.log.file");
            Path folder = log.getParent();
            boolean holdsWorkspaces = s.path("sandflow.workspace").startsWith(folder);
            paths.add(holdsWorkspaces ? log : folder);
        });
        return paths;
    }

    private static Map<String, String> agentEnv(Settings s) {
        Map<String, String> env = new LinkedHashMap<>();
        s.values().forEach((k, v) -> {
            if (k.startsWith("sandflow.agent.env.")) {
                env.put(k.substring("sandflow.agent.env.".length()), v);
            }
        });
        return Map.copyOf(env);
    }

    private static boolean requireJson(Settings s, String include) {
        String v = s.get("sandflow.input.require-json").toLowerCase(Locale.ROOT);
        return switch (v) {
            case "auto" -> include.toLowerCase(Locale.ROOT).replace("$", "").endsWith("json");
            case "true" -> true;
            case "false" -> false;
            default -> throw s.invalid("sandflow.input.require-json", "must be auto, true or false");
        };
    }

    /**
     * Sandflow validates with every 2020-12 keyword, but the CLI compiles the schema as draft-07 and, when that
     * fails, runs without structured output: every job would then come back as invalid output. Say so at start.
     */
    private static void warnAboutSchemaKeywords(String schema, boolean claudeContract) {
        if (!claudeContract) {
            return;
        }
        try {
            java.util.Set<String> found = new java.util.TreeSet<>();
            collectKeywords(io.sandflow.job.Json.MAPPER.readTree(schema), found);
            if (!found.isEmpty()) {
                LOG.warn("sandflow.result.schema uses {}: Claude Code's --json-schema does not accept them and then "
                        + "answers without structured output; Sandflow still validates them, but prefer draft-07 "
                        + "keywords in the schema the agent sees", found);
            }
        } catch (java.io.IOException e) {
            // The validator reports an unreadable schema with the setting's name
        }
    }

    private static void collectKeywords(com.fasterxml.jackson.databind.JsonNode node, java.util.Set<String> found) {
        if (node.isObject()) {
            node.fields().forEachRemaining(e -> {
                String key = e.getKey();
                boolean namesSchemas = key.equals("properties") || key.equals("patternProperties")
                        || key.equals("$defs") || key.equals("definitions");
                if (namesSchemas && e.getValue().isObject()) {
                    // Its keys are property or definition names, not keywords
                    e.getValue().forEach(schema -> collectKeywords(schema, found));
                } else {
                    if (CLI_UNSUPPORTED_KEYWORDS.contains(key)) {
                        found.add(key);
                    }
                    collectKeywords(e.getValue(), found);
                }
            });
        } else if (node.isArray()) {
            node.forEach(n -> collectKeywords(n, found));
        }
    }

    private static String defaultNodeId(Path workDir) {
        return hostName() + ":" + Integer.toHexString(workDir.toString().hashCode());
    }

    /** This machine's name, as nodes record it. */
    public static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "localhost";
        }
    }

    private static <T> T wrap(String setting, Supplier<T> build) {
        try {
            return build.get();
        } catch (ConfigException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            String msg = e.getMessage();
            throw new ConfigException(msg != null && msg.contains("sandflow.") ? msg : setting + ": " + msg, e);
        }
    }
}
