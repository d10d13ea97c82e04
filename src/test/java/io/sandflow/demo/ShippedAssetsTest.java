package io.sandflow.demo;

import io.sandflow.job.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.mustachejava.DefaultMustacheFactory;
import com.github.mustachejava.Mustache;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/** The shipped profile, prompts and schemas: they load, they say what they must, they render. */
class ShippedAssetsTest {

    private static final ObjectMapper JSON = Json.MAPPER;

    private static Properties masaderProfile() throws IOException {
        Properties props = new Properties();
        try (InputStream in = Files.newInputStream(Path.of("application-masader.properties"))) {
            props.load(in); // ISO-8859-1, as the daemon reads it: non-ASCII must be \\u escapes
        }
        return props;
    }

    @Test
    void masaderProfileLoadsWithItsArabicRuleIntact() throws IOException {
        Properties props = masaderProfile();

        assertThat(props.getProperty("sandflow.result.rules")).isEqualTo(
                "/درجة_الجودة -> /تقدير_الجودة : ممتاز=80..100, جيد=60..79, مقبول=40..59, ضعيف=0..39");
        assertThat(props.getProperty("sandflow.prompt.template")).isEqualTo("prompts/masader.mustache");
        assertThat(props.getProperty("sandflow.result.schema")).isEqualTo("schemas/masader-assessment.schema.json");
        assertThat(props.getProperty("sandflow.result.name")).isEqualTo("{base}_assessment.json");
        assertThat(props.getProperty("sandflow.agent.max-turns")).isEqualTo("40");
        assertThat(props.getProperty("sandflow.agent.tools")).isEqualTo("Read,Write,Bash,WebFetch");
        assertThat(props.getProperty("sandflow.rate.per-minute")).isEqualTo("30");
        assertThat(Arrays.stream(props.getProperty("sandflow.sandbox.network.allow").split(",")).map(String::trim))
                .containsExactly("api.anthropic.com", "*.anthropic.com", "huggingface.co", "*.huggingface.co",
                        "*.hf.co", "hf.co", "cdn-lfs.huggingface.co", "github.com", "*.github.com",
                        "*.githubusercontent.com", "pypi.org", "*.pypi.org", "files.pythonhosted.org", "arxiv.org",
                        "*.arxiv.org", "semanticscholar.org", "*.semanticscholar.org", "*.researchgate.net");
        assertThat(props.stringPropertyNames()).allMatch(k -> k.startsWith("sandflow."));
        assertThat(Path.of(props.getProperty("sandflow.prompt.template"))).isRegularFile();
        assertThat(Path.of(props.getProperty("sandflow.result.schema"))).isRegularFile();
    }

    @Test
    void propertiesFilesKeepNonAsciiOutOfValues() throws IOException {
        // Comments may carry readable Arabic; a property line must be pure ASCII.
        for (String line : Files.readAllLines(Path.of("application-masader.properties"), StandardCharsets.UTF_8)) {
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                continue;
            }
            assertThat(trimmed.chars().allMatch(c -> c < 128)).as(line).isTrue();
        }
    }

    @Test
    void schemasAreDraft202012AndUsable() throws IOException {
        JsonSchemaFactory factory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);

        JsonNode defaultSchemaNode = JSON.readTree(Path.of("schemas/default.schema.json").toFile());
        assertThat(defaultSchemaNode.get("$schema").asText()).isEqualTo("https://json-schema.org/draft/2020-12/schema");
        JsonSchema defaultSchema = factory.getSchema(defaultSchemaNode);
        assertThat(defaultSchema.validate(JSON.readTree("{\"summary\":\"ok\",\"tags\":[],\"extra\":1}"))).isEmpty();
        assertThat(defaultSchema.validate(JSON.readTree("{\"summary\":42}"))).isNotEmpty();
        assertThat(defaultSchema.validate(JSON.readTree("{\"summary\":\"\",\"tags\":[]}"))).isNotEmpty();
        assertThat(defaultSchema.validate(JSON.readTree("{\"summary\":\"ok\",\"tags\":[1]}"))).isNotEmpty();

        JsonNode masader = JSON.readTree(Path.of("schemas/masader-assessment.schema.json").toFile());
        assertThat(masader.get("$schema").asText()).isEqualTo("https://json-schema.org/draft/2020-12/schema");
        assertThat(masader.get("additionalProperties").asBoolean(true)).isFalse();
        assertThat(masader.get("required")).hasSize(12);
        assertThat(masader.at("/properties/فحص_البيانات/additionalProperties").asBoolean(true)).isFalse();
        assertThat(masader.at("/properties/تفصيل_الجودة/required")).hasSize(7);
        assertThat(masader.at("/properties/فحص_البيانات/properties/معاينة_العينات/maxItems").asInt()).isEqualTo(3);
        JsonSchema masaderSchema = factory.getSchema(masader);
        assertThat(masaderSchema.validate(JSON.readTree("{}"))).hasSize(12);
    }

    private static String render(String template, Map<String, Object> scope) throws IOException {
        try (Reader reader = Files.newBufferedReader(Path.of(template), StandardCharsets.UTF_8)) {
            Mustache mustache = new DefaultMustacheFactory().compile(reader, template);
            StringWriter out = new StringWriter();
            mustache.execute(out, scope).flush();
            return out.toString();
        }
    }

    private static Map<String, Object> scope(String previousError) {
        Map<String, Object> scope = new HashMap<>();
        scope.put("file", Map.of("name", "it's $(not) a & <shell>.json",
                "path", "/work/inbox/it's $(not) a & <shell>.json",
                "content", "{\"Name\": \"A & B\"}"));
        scope.put("json", Map.of("Name", "A & B"));
        scope.put("schema", "{\"type\":\"object\",\"required\":[\"summary\"]}");
        scope.put("attempt", previousError == null ? 1 : 2);
        scope.put("output", Map.of("path", "/work/out/result & co.json"));
        if (previousError != null) {
            scope.put("previous", Map.of("error", previousError));
        }
        return scope;
    }

    @Test
    void promptsRenderRawValuesAndTheRetrySectionOnlyOnRetries() throws IOException {
        for (String template : new String[] {"prompts/default.mustache", "prompts/masader.mustache"}) {
            String first = render(template, scope(null));
            String retry = render(template, scope("/درجة_الجودة: 150 is greater than the maximum 100 & more"));

            assertThat(first).as(template)
                    .contains("/work/inbox/it's $(not) a & <shell>.json")
                    .contains("{\"type\":\"object\",\"required\":[\"summary\"]}")
                    .contains("/work/out/result & co.json")
                    .doesNotContain("&amp;").doesNotContain("&quot;")
                    .doesNotContain("150 is greater");
            assertThat(retry).as(template).contains("/درجة_الجودة: 150 is greater than the maximum 100 & more");
        }
        assertThat(render("prompts/masader.mustache", scope(null)))
                .contains("datasets").contains("metadata_only").contains("ممتاز").containsPattern("\\p{InArabic}{4}");
    }
}
