package io.sandflow.prompt;

import com.github.mustachejava.DefaultMustacheFactory;
import com.github.mustachejava.Mustache;
import com.github.mustachejava.MustacheException;

import java.io.StringReader;
import java.io.StringWriter;
import java.util.Map;
import java.util.Objects;

/**
 * Renders the prompt for one attempt from a Mustache template compiled once at start-up.
 * Double braces HTML-escape (Mustache's rule); templates use triple braces for raw text.
 */
public final class PromptRenderer {

    private final Mustache template;

    /**
     * @param templateText the template's text
     * @param settingName  the setting it came from, named in errors
     */
    public PromptRenderer(String templateText, String settingName) {
        Objects.requireNonNull(templateText, "templateText");
        try {
            this.template = new DefaultMustacheFactory().compile(new StringReader(templateText), settingName);
        } catch (MustacheException e) {
            throw new IllegalArgumentException(settingName + " is not a valid Mustache template: " + e.getMessage(), e);
        }
        if (templateText.isBlank()) {
            throw new IllegalArgumentException(settingName + " is an empty template");
        }
    }

    public String render(PromptContext context) {
        StringWriter out = new StringWriter();
        template.execute(out, context.asScope());
        return out.toString();
    }

    /** The variables a template can use, as the nested maps Mustache walks for dotted names. */
    public record PromptContext(String fileName, String filePath, String fileContent, Object json, String schema,
                                int attempt, String previousError, String outputPath) {

        Map<String, Object> asScope() {
            Map<String, Object> scope = new java.util.HashMap<>();
            scope.put("file", Map.of("name", fileName, "path", filePath, "content", fileContent));
            if (json != null) {
                scope.put("json", json);
            }
            scope.put("schema", schema);
            scope.put("attempt", attempt);
            // An empty string is falsy in Mustache, so {{#previous.error}} sections vanish on the first attempt
            scope.put("previous", Map.of("error", previousError == null ? "" : previousError));
            scope.put("output", Map.of("path", outputPath));
            return scope;
        }
    }
}
