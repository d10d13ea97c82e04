package io.sandflow.flow;

import com.fasterxml.jackson.databind.JsonNode;
import io.sandflow.agent.AgentCommand;
import io.sandflow.config.SandflowConfig;
import io.sandflow.job.Json;
import io.sandflow.prompt.PromptRenderer;
import io.sandflow.sandbox.Secrets;
import io.sandflow.sandbox.Workspace;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One call of the agent: the prompt it reads on stdin, its environment and the argv that runs it in its sandbox.
 * The dispatch route and {@code sandflow render} build it the same way.
 */
public record AgentCall(String prompt, Map<String, String> env, List<String> argv) {

    /**
     * @param stagedInput   the input where the agent sees it, in its workspace
     * @param previousError what was wrong with the last answer, or empty on a first attempt
     */
    public static AgentCall of(SandflowConfig config, Workspace ws, String name, Path stagedInput, String text,
                               JsonNode json, int attempt, String previousError, String outputName) {
        SandflowConfig.Agent agent = config.agent();
        String schema = config.results().schemaText();
        Path output = ws.out().resolve(outputName).toAbsolutePath();
        Object jsonScope = json == null ? null : Json.MAPPER.convertValue(json, Object.class);
        String rendered = agent.prompt().render(new PromptRenderer.PromptContext(name,
                stagedInput.toAbsolutePath().toString(), text, jsonScope, schema, attempt, previousError,
                output.toString()));
        Map<String, String> env = new LinkedHashMap<>(AgentCommand.environment(agent.settings(), ws.home(),
                ws.configDir(), ws.tmp()));
        env.put("SANDFLOW_INPUT", stagedInput.toAbsolutePath().toString());
        env.put("SANDFLOW_OUTPUT", output.toString());
        env.put("SANDFLOW_ATTEMPT", Integer.toString(attempt));
        env.put("SANDFLOW_JOB_NAME", name);
        // Sandflow's other secrets (a store password, cloud keys) never reach the agent
        env.putAll(Secrets.withheld(System.getenv(), agent.inheritSecrets()));
        env.putAll(agent.env());
        List<String> argv = config.sandbox().sandbox().wrap(AgentCommand.argv(agent.settings(), schema), ws, env);
        return new AgentCall(rendered, env, argv);
    }
}
