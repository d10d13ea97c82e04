package io.sandflow.agent;

import io.sandflow.job.Json;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Builds the agent's argv and environment. The prompt is never part of either: it goes on stdin, so no shell and
 * no process listing ever sees it. Secrets are never part of either: the child inherits them from our environment.
 */
public final class AgentCommand {


    private AgentCommand() {
    }

    /**
     * The argument list for one run.
     *
     * @param schemaJson the result's JSON Schema, re-serialised compactly for {@code --json-schema}; null to omit
     * @throws IllegalArgumentException when the schema is not JSON (naming {@code sandflow.result.schema})
     */
    public static List<String> argv(AgentSettings s, String schemaJson) {
        Objects.requireNonNull(s, "settings");
        List<String> argv = new ArrayList<>();
        argv.add(s.command());
        if (s.claudeContract()) {
            argv.addAll(List.of("-p", "--output-format", "json"));
            if (schemaJson != null) {
                argv.add("--json-schema");
                argv.add(compact(schemaJson));
            }
            argv.add("--no-session-persistence");
            if (s.maxTurns() != null) {
                argv.add("--max-turns");
                argv.add(s.maxTurns().toString());
            }
            if (s.model() != null) {
                argv.add("--model");
                argv.add(s.model());
            }
            if (s.fallbackModel() != null) {
                argv.add("--fallback-model");
                argv.add(s.fallbackModel());
            }
            if (s.maxBudgetUsd() != null) {
                argv.add("--max-budget-usd");
                argv.add(s.maxBudgetUsd().toPlainString());
            }
            if (s.tools() != null) {
                // --tools limits which tools exist; without skip-permissions the same list must also be
                // pre-approved, or Write and Bash are denied silently and the run still "succeeds".
                argv.add("--tools");
                argv.add(s.tools());
                if (!s.skipPermissions()) {
                    argv.add("--allowedTools");
                    argv.add(s.tools());
                }
            }
            if (s.skipPermissions()) {
                argv.add("--dangerously-skip-permissions");
            }
            if (s.appendSystemPrompt() != null) {
                argv.add("--append-system-prompt");
                argv.add(s.appendSystemPrompt());
            }
        }
        argv.addAll(s.extraArgs());
        return Collections.unmodifiableList(argv);
    }

    /**
     * The variables to set on top of the inherited environment. Each worker gets its own home and config dir,
     * because concurrent CLIs sharing {@code ~/.claude.json} corrupt it. The API key is deliberately absent: the
     * child inherits it, and this map may be logged.
     */
    public static Map<String, String> environment(AgentSettings s, Path home, Path configDir, Path tmpDir) {
        Objects.requireNonNull(s, "settings");
        Map<String, String> env = new LinkedHashMap<>();
        env.put("HOME", home.toString());
        env.put("CLAUDE_CONFIG_DIR", configDir.toString());
        env.put("CLAUDE_CODE_TMPDIR", tmpDir.toString());
        env.put("TMPDIR", tmpDir.toString());
        env.put("CLAUDE_CODE_MAX_RETRIES", Integer.toString(s.cliRetries()));
        env.put("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1");
        if (s.baseUrl() != null) {
            env.put("ANTHROPIC_BASE_URL", s.baseUrl());
        }
        if (s.skipPermissions()) {
            // Without it the CLI refuses --dangerously-skip-permissions when running as root.
            env.put("IS_SANDBOX", "1");
        }
        return Collections.unmodifiableMap(env);
    }

    private static String compact(String schemaJson) {
        try {
            JsonNode schema = Json.MAPPER.readTree(schemaJson);
            if (schema == null || schema.isMissingNode()) {
                throw new IllegalArgumentException("sandflow.result.schema is empty");
            }
            if (schema instanceof ObjectNode object) {
                // The CLI compiles the schema as draft-07 and, when that fails, silently offers no StructuredOutput
                // tool at all (seen on 2.1.x: a "$schema" naming draft 2019-09 or 2020-12 is enough). The keywords
                // our schemas use mean the same in both drafts, and Sandflow validates the result itself against
                // the file as written, dialect included; so the CLI gets the schema without its dialect line.
                object.remove("$schema");
            }
            return Json.MAPPER.writeValueAsString(schema);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("sandflow.result.schema is not valid JSON: "
                    + e.getOriginalMessage(), e);
        }
    }
}
