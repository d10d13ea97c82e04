package io.sandflow.result;

import io.sandflow.job.Json;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.PathType;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Checks a result against the configured JSON Schema and cross-field rules. The schema is compiled once, on
 * construction, and checked against its meta-schema so a broken schema stops startup rather than every job.
 * Problems come back as short "pointer: message" lines, fit to be shown to the agent on its next attempt.
 */
public final class ResultValidator {

    public static final String KEY = "sandflow.result.schema";
    /** More than this many problems would drown the agent's next prompt; the rest are counted. */
    static final int MAX_PROBLEMS = 20;


    private final JsonSchema schema;
    private final List<ResultRule> rules;

    public ResultValidator(String schemaJson, List<ResultRule> rules) {
        this.rules = List.copyOf(Objects.requireNonNullElse(rules, List.of()));
        JsonNode node = readSchema(schemaJson);
        SpecVersion.VersionFlag version = version(node);
        SchemaValidatorsConfig config = SchemaValidatorsConfig.builder()
                .pathType(PathType.JSON_POINTER)
                .locale(Locale.ENGLISH)
                .formatAssertionsEnabled(true)
                .build();
        JsonSchemaFactory factory = JsonSchemaFactory.getInstance(version);
        checkAgainstMetaSchema(factory, version, node, config);
        try {
            this.schema = factory.getSchema(node, config);
            this.schema.initializeValidators();
        } catch (RuntimeException e) {
            String why = String.valueOf(e.getMessage()).replaceFirst("^[:\\s]+", "");
            throw new IllegalArgumentException(KEY + " cannot be compiled: " + why, e);
        }
    }

    /** The problems with this result, each "pointer: message"; empty when it is valid. */
    public List<String> validate(JsonNode result) {
        if (result == null || result.isMissingNode()) {
            return List.of("(root): there is no result");
        }
        List<String> problems = new ArrayList<>(describe(schema.validate(result)));
        problems.addAll(ruleProblems(result));
        return capped(problems);
    }

    /** The compiled schema, which the dispatch route's {@code validate-result} step checks results against. */
    public JsonSchema schema() {
        return schema;
    }

    /** The problems the cross-field rules find, once the schema's own check has passed; empty when none. */
    public List<String> checkRules(JsonNode result) {
        return capped(ruleProblems(result));
    }

    private List<String> ruleProblems(JsonNode result) {
        List<String> problems = new ArrayList<>();
        for (ResultRule rule : rules) {
            problems.addAll(rule.check(result));
        }
        return problems;
    }

    private static List<String> capped(List<String> problems) {
        if (problems.size() > MAX_PROBLEMS) {
            int more = problems.size() - MAX_PROBLEMS;
            problems = new ArrayList<>(problems.subList(0, MAX_PROBLEMS));
            problems.add("… and " + more + " more");
        }
        return List.copyOf(problems);
    }

    private static JsonNode readSchema(String schemaJson) {
        if (schemaJson == null || schemaJson.isBlank()) {
            throw new IllegalArgumentException(KEY + " is empty: give the JSON Schema the results must match");
        }
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(schemaJson);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(KEY + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException(KEY + " must be a JSON object (a JSON Schema), got "
                    + (node == null ? "nothing" : node.getNodeType().name().toLowerCase(Locale.ROOT)));
        }
        return node;
    }

    private static SpecVersion.VersionFlag version(JsonNode node) {
        JsonNode declared = node.get("$schema");
        if (declared == null) {
            return SpecVersion.VersionFlag.V202012;
        }
        String uri = declared.asText();
        Optional<SpecVersion.VersionFlag> flag = SpecVersion.VersionFlag.fromId(uri);
        if (flag.isEmpty()) {
            // Tolerate the common spellings the library's exact match misses: http vs https, a trailing '#'.
            String normalized = uri.replaceFirst("^http://", "https://").replaceFirst("#$", "");
            for (SpecVersion.VersionFlag f : SpecVersion.VersionFlag.values()) {
                String id = f.getId().replaceFirst("^http://", "https://").replaceFirst("#$", "");
                if (id.equals(normalized)) {
                    return f;
                }
            }
            throw new IllegalArgumentException(KEY + " declares an unsupported $schema '" + uri
                    + "' (use draft 2020-12, 2019-09, 07, 06 or 04)");
        }
        return flag.get();
    }

    private static void checkAgainstMetaSchema(JsonSchemaFactory factory, SpecVersion.VersionFlag version,
                                               JsonNode node, SchemaValidatorsConfig config) {
        Set<ValidationMessage> problems;
        try {
            JsonSchema meta = factory.getSchema(SchemaLocation.of(version.getId()), config);
            problems = meta.validate(node);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(KEY + " cannot be checked against its meta-schema: "
                    + e.getMessage(), e);
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(KEY + " is not a valid JSON Schema: "
                    + String.join("; ", describe(problems)));
        }
    }

    private static List<String> describe(Set<ValidationMessage> messages) {
        return messages.stream()
                .sorted(Comparator.comparing((ValidationMessage m) -> m.getInstanceLocation().toString())
                        .thenComparing(ValidationMessage::getError, Comparator.nullsFirst(Comparator.naturalOrder())))
                .map(ResultValidator::line)
                .distinct()
                .toList();
    }

    private static String line(ValidationMessage m) {
        String where = m.getInstanceLocation().toString();
        if (where.isEmpty()) {
            where = "(root)";
        }
        String error = m.getError();
        if (error == null || error.isBlank()) {
            error = m.getMessage();
        }
        return where + ": " + error;
    }
}
