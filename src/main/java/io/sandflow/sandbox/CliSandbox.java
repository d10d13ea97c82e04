package io.sandflow.sandbox;

import io.sandflow.job.Json;
import io.sandflow.job.Durations;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.JsonNode;
import io.sandflow.process.ProcessOutcome;
import io.sandflow.process.ProcessRunner;
import io.sandflow.process.ProcessSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The part Docker Sandboxes' two CLIs ({@code sbx} and the legacy {@code docker sandbox}) share: one named,
 * long-lived sandbox per worker, managed by calling the CLI, every call time-boxed, every failure one sentence.
 */
public abstract class CliSandbox implements Sandbox {

    private static final Logger LOG = LoggerFactory.getLogger("sandflow.sandbox");
    /** Sandbox CLIs print little; a generous cap still keeps a runaway CLI from filling the heap. */
    private static final int MAX_CALL_OUTPUT = 1024 * 1024;

    private final List<String> cli;
    private final List<String> allowedHosts;
    private final Duration callTimeout;
    private final ProcessRunner runner;

    /**
     * @param cli          the argv prefix that reaches the sandbox commands: {@code [sbx]} or {@code [docker, sandbox]}
     * @param allowedHosts the network allowlist (hosts and {@code *.domain} patterns)
     * @param callTimeout  how long any one CLI call may take before it is killed
     */
    protected CliSandbox(List<String> cli, List<String> allowedHosts, Duration callTimeout, ProcessRunner runner) {
        this.cli = List.copyOf(cli);
        this.allowedHosts = List.copyOf(allowedHosts);
        this.callTimeout = Objects.requireNonNull(callTimeout, "callTimeout");
        this.runner = Objects.requireNonNull(runner, "runner");
        if (allowedHosts.isEmpty()) {
            throw new IllegalArgumentException("sandflow.sandbox.network.allow must name at least the agent's API "
                    + "host (e.g. api.anthropic.com) for kind " + kind());
        }
    }

    /**
     * The argv (after the CLI prefix) that creates sandbox {@code name} over {@code workspaceRoot}: the same for
     * sbx and for the legacy {@code docker sandbox}, a Claude sandbox named after the worker.
     */
    protected List<String> createArgs(String name, Path workspaceRoot) {
        return List.of("create", "--name", name, "claude", workspaceRoot.toString());
    }

    /** The calls (after the CLI prefix) that give sandbox {@code name} the deny-by-default network policy. */
    protected abstract List<List<String>> policyArgs(String name, List<String> hosts);

    /** The flags of the exec call that come between {@code exec} and the sandbox name, environment excluded. */
    protected abstract List<String> execFlags(Workspace ws);

    public List<String> allowedHosts() {
        return allowedHosts;
    }

    public Duration callTimeout() {
        return callTimeout;
    }

    /** How the user would type the CLI, for messages: {@code sbx} or {@code docker sandbox}. */
    public String cliName() {
        List<String> shown = new ArrayList<>(cli);
        shown.set(0, Path.of(cli.get(0)).getFileName().toString());
        return String.join(" ", shown);
    }

    @Override
    public boolean isolated() {
        return true;
    }

    /** The agent lives inside the sandbox's VM; only the sandbox CLI runs here. */
    @Override
    public boolean agentRunsOnHost() {
        return false;
    }

    @Override
    public Optional<String> program() {
        return Optional.of(cli.get(0));
    }

    /**
     * Lists, creates what is missing, then applies the policy, one sandbox after the other. A sandbox that
     * cannot be created or given its policy is reported, not fatal: the others still work. Running one without
     * its policy would let the agent reach any host, so a policy failure makes it unusable too.
     */
    @Override
    public Map<Workspace, String> prepare(List<Workspace> workspaces) {
        Set<String> existing = listNames();
        Map<Workspace, String> unusable = new LinkedHashMap<>();
        for (Workspace ws : workspaces) {
            try {
                if (!existing.contains(ws.sandboxName())) {
                    call(ws.sandboxName(), "create", createArgs(ws.sandboxName(), ws.root().toAbsolutePath()));
                    LOG.info("sandbox {}: created over {}", ws.sandboxName(), ws.root().toAbsolutePath());
                }
                for (List<String> args : policyArgs(ws.sandboxName(), allowedHosts)) {
                    call(ws.sandboxName(), verb(args, ws.sandboxName()), args);
                }
            } catch (SandboxException e) {
                LOG.warn("{}", e.getMessage());
                unusable.put(ws, e.getMessage());
            }
        }
        return unusable;
    }

    /**
     * The names of the sandboxes that exist now.
     *
     * @throws SandboxException when the CLI cannot list them: then no sandbox can be trusted to exist
     */
    public Set<String> listNames() {
        ProcessOutcome listed = call(null, "ls", List.of("ls", "--json"));
        return parseNames(listed.stdoutText());
    }

    /**
     * Reads the names out of {@code ls --json}. The shape is not a published contract, so this accepts an array
     * of objects or of strings, an object wrapping such an array, or one JSON value per line, and takes any
     * {@code name}-like field it finds.
     */
    static Set<String> parseNames(String text) {
        Set<String> names = new LinkedHashSet<>();
        if (text == null || text.isBlank()) {
            return names;
        }
        // Several values one after another (JSON lines) are read as a sequence, not just the first.
        try (MappingIterator<JsonNode> values = Json.MAPPER.readerFor(JsonNode.class).readValues(text)) {
            Set<String> found = new LinkedHashSet<>();
            while (values.hasNextValue()) {
                // readValues unwraps a top-level array, so its strings arrive here one by one.
                collectNames(values.nextValue(), found, true);
            }
            names.addAll(found);
        } catch (IOException | RuntimeException wholeFailed) {
            for (String line : text.split("\\R")) {
                try {
                    if (!line.isBlank()) {
                        collectNames(Json.MAPPER.readTree(line), names, false);
                    }
                } catch (JsonProcessingException ignored) {
                    // A banner or warning line among the JSON: skip it rather than refuse the listing.
                }
            }
        }
        return names;
    }

    private static void collectNames(JsonNode node, Set<String> names, boolean inArray) {
        if (node == null) {
            return;
        }
        if (node.isTextual() && inArray) {
            names.add(node.asText());
        } else if (node.isArray()) {
            node.forEach(child -> collectNames(child, names, true));
        } else if (node.isObject()) {
            boolean named = false;
            for (String field : List.of("name", "Name", "NAME", "sandbox", "sandboxName", "sandbox_name")) {
                JsonNode value = node.get(field);
                if (value != null && value.isTextual() && !value.asText().isBlank()) {
                    names.add(value.asText());
                    named = true;
                    break;
                }
            }
            if (!named) {
                node.forEach(child -> collectNames(child, names, false));
            }
        }
    }

    /**
     * {@code CLI exec -i [-e K=V …] [flags] NAME AGENT_ARGV…}. Secret entries are left out: on an argv any user
     * of the machine could read them with {@code ps}; the sandbox gets the key its own way (see docs/SECURITY.md).
     */
    @Override
    public List<String> wrap(List<String> agentArgv, Workspace ws, Map<String, String> env) {
        List<String> argv = new ArrayList<>(cli);
        argv.add("exec");
        argv.add("-i");
        env.forEach((name, value) -> {
            if (value != null && !Secrets.isSecretName(name)) {
                argv.add("-e");
                argv.add(name + "=" + value);
            }
        });
        argv.addAll(execFlags(ws));
        argv.add(ws.sandboxName());
        argv.addAll(agentArgv);
        return argv;
    }

    @Override
    public Optional<String> failureOf(Workspace ws, ProcessOutcome outcome) {
        if (!Sandbox.wrapperGaveUp(outcome)) {
            return Optional.empty();
        }
        return Optional.of(sentence(ws.sandboxName(), "exec", "failed with exit " + outcome.exitCode()
                + " and printed nothing" + causeOf(outcome)));
    }

    /**
     * Runs one CLI call, time-boxed, stdin closed so that a CLI that wants to prompt fails instead of waiting.
     *
     * @param sandbox the sandbox the call is about, or null for a call about all of them
     * @throws SandboxException with one sentence when the CLI cannot be run, exits non-zero or times out
     */
    public ProcessOutcome call(String sandbox, String verb, List<String> args) {
        List<String> argv = new ArrayList<>(cli);
        argv.addAll(args);
        ProcessSpec spec = new ProcessSpec(argv, Map.of(), null, new byte[0], callTimeout, MAX_CALL_OUTPUT, 2048);
        ProcessOutcome outcome;
        try {
            outcome = runner.run(spec);
        } catch (InterruptedIOException e) {
            throw new SandboxException(sentence(sandbox, verb, "was interrupted"), e);
        } catch (IOException e) {
            throw new SandboxException(sentence(sandbox, verb, "could not be run (" + e.getMessage() + ")"), e);
        }
        if (outcome.timedOut()) {
            throw new SandboxException(sentence(sandbox, verb, "timed out after " + Durations.human(callTimeout)
                    + " (sandflow.sandbox.call-timeout)"));
        }
        if (outcome.exitCode() != 0) {
            throw new SandboxException(sentence(sandbox, verb, "failed with exit " + outcome.exitCode()
                    + causeOf(outcome)));
        }
        return outcome;
    }

    /** Like {@link #call} but answers whether the call exited 0, for checks such as {@code policy check}. */
    public boolean succeeds(String sandbox, String verb, List<String> args) {
        try {
            call(sandbox, verb, args);
            return true;
        } catch (SandboxException e) {
            if (e.getMessage().contains("failed with exit 1")) {
                return false;
            }
            throw e;
        }
    }

    private String sentence(String sandbox, String verb, String what) {
        String command = "`" + cliName() + " " + verb + "`";
        return (sandbox == null ? "" : "sandbox " + sandbox + ": ") + command + " " + what;
    }

    /** The last line the CLI wrote to stderr is usually its error message. */
    private static String causeOf(ProcessOutcome outcome) {
        String[] lines = outcome.stderrTail().strip().split("\\R");
        String last = lines.length == 0 ? "" : lines[lines.length - 1].strip();
        if (last.isEmpty()) {
            return "";
        }
        return ": " + (last.length() > 200 ? last.substring(0, 200) + "…" : last);
    }

    /** The words of a call before its first option or the sandbox's name, e.g. {@code policy allow network}. */
    private static String verb(List<String> args, String name) {
        List<String> words = new ArrayList<>();
        for (String arg : args) {
            if (arg.startsWith("-") || arg.equals(name)) {
                break;
            }
            words.add(arg);
        }
        return String.join(" ", words);
    }
}
