package io.sandflow.flow;

import io.sandflow.process.ProcessOutcome;
import io.sandflow.process.ProcessRunner;
import io.sandflow.process.ProcessSpec;
import org.apache.camel.Exchange;
import org.apache.camel.component.exec.ExecBinding;
import org.apache.camel.component.exec.ExecCommand;
import org.apache.camel.component.exec.ExecCommandExecutor;
import org.apache.camel.component.exec.ExecEndpoint;
import org.apache.camel.component.exec.ExecResult;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

/**
 * Plugs Sandflow's process runner into camel-exec. camel-exec's own executor cannot set the environment, and its
 * timeout kills only the direct child; this binding and executor carry the whole {@link ProcessSpec} through
 * and kill the agent's entire process tree.
 */
final class AgentExec {

    private AgentExec() {
    }

    /** The command camel-exec hands to the executor, carrying the full process spec. */
    static final class Command extends ExecCommand {
        private final transient ProcessSpec spec;

        Command(ProcessSpec spec) {
            super(spec.argv().get(0), spec.argv().subList(1, spec.argv().size()),
                    spec.workingDir() == null ? null : spec.workingDir().toString(), spec.timeout().toMillis(),
                    new HashSet<>(), new ByteArrayInputStream(spec.stdin()), null, false, org.apache.camel.LoggingLevel.OFF);
            this.spec = spec;
        }

        /** The full process spec: argv, environment, stdin, timeout. */
        ProcessSpec spec() {
            return spec;
        }

        @Override
        public String toString() {
            // argv only: the environment may hold secrets and never reaches a log
            return "agent command " + spec.argv();
        }
    }

    /** What the executor returns: camel-exec's result plus the full outcome. */
    static final class Result extends ExecResult {
        private final transient ProcessOutcome outcome;

        Result(ExecCommand command, ProcessOutcome outcome) {
            super(command, new ByteArrayInputStream(outcome.stdout()),
                    new ByteArrayInputStream(outcome.stderrTail().getBytes(StandardCharsets.UTF_8)),
                    outcome.exitCode());
            this.outcome = outcome;
        }

        ProcessOutcome outcome() {
            return outcome;
        }
    }

    /** Reads the job's prepared spec from the exchange instead of camel-exec headers. */
    static final class Binding implements ExecBinding {
        @Override
        public ExecCommand readInput(Exchange exchange, ExecEndpoint endpoint) {
            Job job = exchange.getProperty(Job.PROPERTY, Job.class);
            if (job == null || job.spec == null) {
                throw new IllegalStateException("exec:sandflow-agent called without a prepared attempt");
            }
            return new Command(job.spec);
        }

        @Override
        public void writeOutput(Exchange exchange, ExecResult result) {
            exchange.getMessage().setHeader(EXEC_EXIT_VALUE, result.getExitValue());
            exchange.getMessage().setBody(result);
        }
    }

    /** Runs the command with the tree-killing runner and counts the agents running now (bean {@code agentExecutor}). */
    static class Executor implements ExecCommandExecutor {
        private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger("sandflow.attempt");
        private final ProcessRunner runner;
        private final AtomicInteger running = new AtomicInteger();
        private final BiConsumer<Duration, ProcessOutcome> timing;

        Executor(ProcessRunner runner) {
            this(runner, (took, outcome) -> { });
        }

        /** With {@code timing} told how long each agent run took and how it ended (the attempt histogram). */
        Executor(ProcessRunner runner, BiConsumer<Duration, ProcessOutcome> timing) {
            this.runner = runner;
            this.timing = timing;
        }

        @Override
        public ExecResult execute(ExecCommand command) throws IOException {
            if (!(command instanceof Command agent)) {
                throw new IllegalArgumentException("the agent executor runs only Sandflow's agent commands");
            }
            if (LOG.isDebugEnabled()) {
                LOG.debug("{}: attempt {} runs {}", agent.spec.environment().get("SANDFLOW_JOB_NAME"),
                        agent.spec.environment().get("SANDFLOW_ATTEMPT"), agent.spec.argv());
            }
            running.incrementAndGet();
            Path pidFile = pidFile(agent.spec);
            long start = System.nanoTime();
            try {
                ProcessOutcome outcome = runner.run(agent.spec, started -> recordPid(pidFile, started));
                timing.accept(Duration.ofNanos(System.nanoTime() - start), outcome);
                return new Result(command, outcome);
            } finally {
                running.decrementAndGet();
                if (pidFile != null) {
                    Files.deleteIfExists(pidFile);
                }
            }
        }

        int running() {
            return running.get();
        }

        /** Beside the worker's workspace: after a kill -9 the next start kills what the pid file names. */
        static Path pidFile(ProcessSpec spec) {
            Path dir = spec.workingDir();
            return dir == null ? null : dir.resolveSibling(dir.getFileName() + ".agent.pid");
        }

        private static void recordPid(Path pidFile, ProcessHandle started) {
            if (pidFile == null) {
                return;
            }
            String start = started.info().startInstant().map(Object::toString).orElse("");
            try {
                Files.writeString(pidFile, started.pid() + " " + start + "\n");
            } catch (IOException e) {
                // Only crash clean-up needs it; the run itself goes on
            }
        }

        /** Kills the agent trees a previous JVM of this working folder left running when it was killed. */
        static int killOrphans(ProcessRunner runner, List<Path> workspaceRoots) {
            int killed = 0;
            for (Path root : workspaceRoots) {
                Path pidFile = root.resolveSibling(root.getFileName() + ".agent.pid");
                try {
                    if (!Files.exists(pidFile)) {
                        continue;
                    }
                    String[] parts = Files.readString(pidFile).trim().split(" ");
                    if (parts.length == 2 && runner.killOrphan(Long.parseLong(parts[0]), Instant.parse(parts[1]))) {
                        killed++;
                    }
                    Files.deleteIfExists(pidFile);
                } catch (IOException | RuntimeException e) {
                    // A damaged pid file names nothing we could safely kill
                }
            }
            return killed;
        }
    }
}
