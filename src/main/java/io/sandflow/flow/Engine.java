package io.sandflow.flow;

import io.sandflow.config.ConfigException;
import io.sandflow.config.HttpPort;
import io.sandflow.config.Settings;
import io.sandflow.inbox.InboxEntries;
import io.sandflow.observe.Logging;
import io.sandflow.job.Json;
import io.sandflow.job.Durations;
import com.fasterxml.jackson.databind.JsonNode;
import io.sandflow.agent.AgentCommand;
import io.sandflow.agent.AgentSettings;
import io.sandflow.agent.Redactor;
import io.sandflow.job.InputCheck;
import io.sandflow.job.RetryPolicy;
import io.sandflow.process.ProcessRunner;
import io.sandflow.prompt.PromptRenderer;
import io.sandflow.result.OutputNames;
import io.sandflow.result.ResultExtractor;
import io.sandflow.result.ResultWriter;
import io.sandflow.result.ResultRules;
import io.sandflow.result.ResultValidator;
import io.sandflow.sandbox.Sandbox;
import io.sandflow.sandbox.Sandboxes;
import io.sandflow.sandbox.Secrets;
import io.sandflow.sandbox.WorkerPool;
import io.sandflow.sandbox.Workspace;
import io.sandflow.store.JobStore;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Everything a running Sandflow needs, built once from the settings and checked before anything starts:
 * a bad template, schema, rule or value stops start-up with one sentence naming the setting.
 */
public final class Engine implements AutoCloseable {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger("sandflow");

    final Settings settings;
    public final Path inbox;
    public final Path outbox;
    public final Path failed;
    public final Path archive;
    final String nodeId;
    final String host = hostName();
    final Duration lease;
    public final InputCheck inputCheck;
    /** sandflow.intake.follow-links: which symbolic links in the inbox are read as inputs. */
    final InboxEntries.FollowLinks followLinks;
    final PromptRenderer prompt;
    final String schemaText;
    final ResultValidator validator;
    public final String resultNamePattern;
    public final AgentSettings agent;
    final Duration agentTimeout;
    final int maxOutputBytes;
    public final Sandbox sandbox;
    final RetryPolicy retry;
    public final int workers;
    final int maxSandboxFailures;
    /** sandflow.agent.env.NAME=value entries, passed to every agent process. */
    final Map<String, String> extraAgentEnv;
    final ProcessRunner runner = new ProcessRunner();
    /** Reads the agent's output file out of its workspace, never through a link (sandbox boundary). */
    final ResultExtractor extractor;
    /** Masks the values of Sandflow's and the agent's secret variables in everything that leaves a job. */
    final Redactor redactor;
    /** Secret-looking variables of Sandflow's environment the agent may inherit (sandflow.agent.inherit-secrets). */
    final List<String> inheritedSecrets;
    /** sandflow.http.host and sandflow.http.port; port 0 means no management server. */
    public final String httpHost;
    public final int httpPort;
    final ResultWriter writer = new ResultWriter();
    /** Set when shutdown begins: no new attempt starts, and a failed one leaves its job pending. */
    volatile boolean stopping;
    /** sandflow.folders.min-free-bytes: a folder whose file system has less free is full. */
    final long minFreeBytes;
    /** sandflow.intake.recheck: how often a store or folder that holds intake is tried again. */
    final Duration recheck;
    /** sandflow.budget.max-usd-total; zero means no cap. */
    final java.math.BigDecimal budgetCap;
    private WorkerPool pool;
    private WorkingFolderLock folderLock;
    private volatile JobStore store;
    private CompletableFuture<JobStore> storeOpening;

    private Engine(Settings s) {
        this.settings = s;
        this.inbox = s.path("sandflow.inbox");
        this.outbox = s.path("sandflow.outbox");
        this.failed = s.path("sandflow.failed");
        this.archive = s.path("sandflow.archive");
        // A names list shorter than sandflow.workers caps the number of workers
        this.workers = wrap("sandflow.sandbox.names", () -> sandboxNames(s)).size();
        this.lease = s.positiveDuration("sandflow.cluster.lease");
        // Read by the breaker and the intake route; zero would fail every job or take nothing in
        s.positiveDuration("sandflow.breaker.open-for");
        s.positiveInt("sandflow.intake.batch");
        Logging.check(s);
        this.nodeId = s.optional("sandflow.node.id").orElseGet(() -> defaultNodeId(s.workDir()));
        String include = s.required("sandflow.include");
        try {
            java.util.regex.Pattern.compile(include);
        } catch (java.util.regex.PatternSyntaxException e) {
            throw s.invalid("sandflow.include", "must be a Java regular expression (" + e.getDescription() + ")");
        }
        this.followLinks = InboxEntries.FollowLinks.of(s);
        this.inputCheck = new InputCheck(s.positiveLong("sandflow.input.max-bytes"), requireJson(s, include));
        this.prompt = wrap("sandflow.prompt.template", () -> new PromptRenderer(s.text("sandflow.prompt.template"),
                "sandflow.prompt.template=" + s.get("sandflow.prompt.template")));
        this.schemaText = s.text("sandflow.result.schema");
        this.validator = wrap("sandflow.result.schema", () -> new ResultValidator(schemaText,
                ResultRules.parse(s.optional("sandflow.result.rules").orElse(""))));
        this.resultNamePattern = s.required("sandflow.result.name");
        wrap("sandflow.result.name", () -> OutputNames.resolve(resultNamePattern, "probe.json"));
        this.agent = wrap("sandflow.agent", () -> AgentSettings.fromProperties(s.values()));
        warnAboutSchemaKeywords(schemaText, agent.claudeContract());
        this.extraAgentEnv = agentEnv(s);
        this.budgetCap = s.money("sandflow.budget.max-usd-total").orElse(java.math.BigDecimal.ZERO);
        this.agentTimeout = s.positiveDuration("sandflow.agent.timeout");
        this.maxOutputBytes = s.positiveInt("sandflow.agent.max-output");
        this.retry = wrap("sandflow.retry", () -> new RetryPolicy(s.positiveInt("sandflow.retry.max-attempts"),
                s.positiveInt("sandflow.retry.max-invalid-attempts"), s.duration("sandflow.retry.backoff.initial"),
                s.duration("sandflow.retry.backoff.max"), s.decimal("sandflow.retry.backoff.multiplier", 1, 100),
                s.decimal("sandflow.retry.backoff.jitter", 0, 1)));
        this.sandbox = wrap("sandflow.sandbox.kind", () -> Sandboxes.create(s.required("sandflow.sandbox.kind"),
                s.optional("sandflow.sandbox.command").orElse(""), s.bool("sandflow.sandbox.allow-unsandboxed"),
                s.list("sandflow.sandbox.network.allow"), secretPaths(s), s.duration("sandflow.sandbox.call-timeout"),
                runner));
        this.maxSandboxFailures = s.positiveInt("sandflow.sandbox.max-failures");
        this.extractor = new ResultExtractor(file -> pool.readAgentFile(file, maxOutputBytes));
        this.redactor = Redactor.of(System.getenv(), extraAgentEnv);
        this.inheritedSecrets = s.list("sandflow.agent.inherit-secrets");
        this.httpPort = HttpPort.port(s);
        this.httpHost = HttpPort.host(s);
        this.minFreeBytes = s.positiveLong("sandflow.folders.min-free-bytes");
        this.recheck = s.duration("sandflow.intake.recheck");
    }

    /** sandbox: one sandbox name per worker, from sandflow.sandbox.names or the prefix. */
    private static List<String> sandboxNames(Settings s) {
        return WorkerPool.sandboxNames(s.positiveInt("sandflow.workers"), s.list("sandflow.sandbox.names"),
                s.required("sandflow.sandbox.name-prefix"));
    }

    /** Reads and checks every setting; opens nothing. */
    public static Engine configure(Settings settings) {
        return new Engine(settings);
    }

    /**
     * Creates the folders and workspaces, and starts opening the store on a thread of its own: Camel builds its
     * routes meanwhile (the two take about as long), and the first use of {@link #store()} waits for it.
     */
    public Engine open() throws IOException {
        // With a VM sandbox (sbx, docker-sandbox) the agent and its tools live inside it, which preparing it checks
        if (sandbox.agentRunsOnHost()) {
            requireProgram(agent.command(), "sandflow.agent.command");
            sandbox.program().ifPresent(p -> requireProgram(p, "sandflow.sandbox.kind=" + sandbox.kind()));
        }
        // One daemon per working folder: a second one would share this one's node id and run its jobs again
        folderLock = WorkingFolderLock.take(settings.workDir());
        try {
            for (Path dir : List.of(inbox, outbox, failed, archive)) {
                Files.createDirectories(dir);
            }
            // Each sandbox is made ready (time-boxed); those that cannot be are retired and logged, and
            // start-up fails with one sentence (SandboxException) only when none is left
            pool = new WorkerPool(settings.path("sandflow.workspace"), sandboxNames(settings), maxSandboxFailures);
            int orphans = AgentExec.Executor.killOrphans(runner, pool.all().stream().map(Workspace::root).toList());
            if (orphans > 0) {
                LOG.warn("killed {} agent process tree(s) left running by a previous run that was killed", orphans);
            }
            pool.prepare(sandbox);
            HttpPort.requireFree(this);
            removeTempFiles(outbox);
            removeTempFiles(failed);
        } catch (IOException | RuntimeException e) {
            releaseFolderLock();
            throw e;
        }
        storeOpening = CompletableFuture.supplyAsync(this::openStore, task -> {
            Thread t = new Thread(task, "sandflow-store-open");
            t.setDaemon(true);
            t.start();
        });
        return this;
    }

    private JobStore openStore() {
        JobStore opened;
        try {
            opened = JobStore.open(storeUrl(settings),
                    System.getenv("SANDFLOW_STORE_USER"), System.getenv("SANDFLOW_STORE_PASSWORD"));
        } catch (IllegalStateException cannotOpen) {
            // A store that cannot be opened at start is, like a bad setting, one sentence naming the setting
            throw new ConfigException(cannotOpen.getMessage());
        }
        try {
            // Before this node touches any job: a store that serves another inbox would have it skip that
            // inbox's jobs as done, or release them
            InboxIdentity.check(opened, inbox, io.sandflow.store.JdbcUrls.redact(storeUrl(settings)));
            requireOwnNodeId(opened);
            opened.nodeStarted(nodeId, host);
            int released = opened.releaseOwnedBy(nodeId);
            if (released > 0) {
                LOG.info("{} job(s) this node was running when it last stopped are pending again", released);
            }
            return opened;
        } catch (RuntimeException e) {
            opened.close();
            throw e;
        }
    }

    /**
     * Two live nodes with one id would each take the other's jobs for their own: a node whose id has a heartbeat
     * from another host within the lease refuses to start. (On this host, the working folder's lock already keeps
     * a second daemon out, and a restart after a crash must not wait for its own old heartbeat.)
     */
    private void requireOwnNodeId(JobStore opened) {
        for (io.sandflow.store.NodeRecord node : opened.nodes()) {
            if (!node.nodeId().equals(nodeId) || node.host() == null || node.host().equals(host)
                    || node.heartbeatAt() == null) {
                continue;
            }
            Duration since = Duration.between(node.heartbeatAt(), java.time.Instant.now()).abs();
            if (since.compareTo(lease) < 0) {
                throw new ConfigException("sandflow.node.id=" + nodeId + " is in use by a node on host "
                        + node.host() + " (its last heartbeat " + since.toSeconds() + " s ago): give each node of "
                        + "the cluster its own sandflow.node.id, or, if that node has stopped, start this one after "
                        + "sandflow.cluster.lease=" + Durations.human(lease));
            }
        }
    }

    /** The prompt, environment and argv of one attempt: shared by the dispatch route and {@code render}. */
    public record Attempt(String prompt, Map<String, String> env, List<String> argv) {
    }

    public Attempt attempt(Workspace ws, String name, Path stagedInput, String text, JsonNode json, int attempt,
                    String previousError, String outputName) {
        Path output = ws.out().resolve(outputName).toAbsolutePath();
        Object jsonScope = json == null ? null : Json.MAPPER.convertValue(json, Object.class);
        String rendered = prompt.render(new PromptRenderer.PromptContext(name, stagedInput.toAbsolutePath().toString(),
                text, jsonScope, schemaText, attempt, previousError, output.toString()));
        Map<String, String> env = new LinkedHashMap<>(AgentCommand.environment(agent, ws.home(), ws.configDir(), ws.tmp()));
        env.put("SANDFLOW_INPUT", stagedInput.toAbsolutePath().toString());
        env.put("SANDFLOW_OUTPUT", output.toString());
        env.put("SANDFLOW_ATTEMPT", Integer.toString(attempt));
        env.put("SANDFLOW_JOB_NAME", name);
        // Sandflow's other secrets (a store password, cloud keys) never reach the agent
        env.putAll(Secrets.withheld(System.getenv(), inheritedSecrets));
        env.putAll(extraAgentEnv);
        List<String> argv = sandbox.wrap(AgentCommand.argv(agent, schemaText), ws, env);
        return new Attempt(rendered, env, argv);
    }

    /** The store, once open: the first callers wait for {@link #open()}'s opening to end, and get its error. */
    public JobStore store() {
        JobStore s = store;
        return s != null ? s : awaitStore();
    }

    private synchronized JobStore awaitStore() {
        if (store == null) {
            if (storeOpening == null) {
                throw new IllegalStateException("the engine is not open");
            }
            try {
                store = storeOpening.join();
            } catch (CompletionException e) {
                if (e.getCause() instanceof RuntimeException r) {
                    throw r;
                }
                throw e;
            }
        }
        return store;
    }

    public WorkerPool pool() {
        return pool;
    }

    @Override
    public void close() throws Exception {
        JobStore s = store;
        if (s == null && storeOpening != null) {
            // Closed before anyone used it (start-up failed elsewhere): wait for the opening, so as not to leave
            // the database open behind us
            s = storeOpening.exceptionally(e -> null).join();
        }
        try {
            if (s != null) {
                s.close();
            }
        } finally {
            releaseFolderLock();
        }
    }

    private void releaseFolderLock() {
        if (folderLock != null) {
            try {
                folderLock.close();
            } catch (IOException e) {
                LOG.debug("cannot release the working folder's lock: {}", e.getMessage());
            }
            folderLock = null;
        }
    }

    /** Keywords Claude Code's --json-schema compiler rejects; it then drops its StructuredOutput tool silently. */
    private static final java.util.Set<String> CLI_UNSUPPORTED_KEYWORDS = java.util.Set.of("format", "prefixItems",
            "dependentRequired", "dependentSchemas", "unevaluatedProperties", "unevaluatedItems", "$dynamicRef");

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
            collectKeywords(Json.MAPPER.readTree(schema), found);
            if (!found.isEmpty()) {
                LOG.warn("sandflow.result.schema uses {}: Claude Code's --json-schema does not accept them and then "
                        + "answers without structured output; Sandflow still validates them, but prefer draft-07 "
                        + "keywords in the schema the agent sees", found);
            }
        } catch (IOException e) {
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

    /** A kill -9 between writing a result's temp file and publishing it leaves the temp file: remove it. */
    private static void removeTempFiles(Path dir) throws IOException {
        try (java.util.stream.Stream<Path> files = Files.list(dir)) {
            for (Path p : files.toList()) {
                String n = p.getFileName().toString();
                if (n.startsWith(".sandflow-") && n.endsWith(".tmp")) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** A program this machine must run, found on PATH or at its path. */
    private static void requireProgram(String program, String setting) {
        if (io.sandflow.process.ProcessRunner.locate(program).isEmpty()) {
            throw new ConfigException(setting + ": cannot find the program '" + program + "'"
                    + (program.contains("/") ? "" : " on PATH") + " (run `sandflow doctor` for what is missing)");
        }
    }

    /**
     * An embedded H2 file URL with a relative path is resolved against the working folder, not the JVM's. (H2's
     * write delay is left alone: the store writes to disk itself what the daemon acts on; see JdbcJobStore.)
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

    private static Map<String, String> agentEnv(Settings s) {
        Map<String, String> env = new LinkedHashMap<>();
        s.values().forEach((k, v) -> {
            if (k.startsWith("sandflow.agent.env.")) {
                env.put(k.substring("sandflow.agent.env.".length()), v);
            }
        });
        return env;
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

    /** What no agent may read: the store's folder, Sandflow's config files, the outbox and failed reports. */
    public static List<Path> secretPaths(Settings s) {
        List<Path> paths = new ArrayList<>();
        String url = storeUrl(s);
        if (url.startsWith("jdbc:h2:") && !url.startsWith("jdbc:h2:mem:")) {
            String file = url.substring("jdbc:h2:".length()).split(";")[0].replaceFirst("^file:", "");
            paths.add(s.workDir().resolve(file).getParent());
        }
        for (String name : List.of("application.properties")) {
            paths.add(s.workDir().resolve(name));
        }
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

    private static String defaultNodeId(Path workDir) {
        return hostName() + ":" + Integer.toHexString(workDir.toString().hashCode());
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }

    private static <T> T wrap(String setting, java.util.function.Supplier<T> build) {
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
