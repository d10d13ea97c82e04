package io.sandflow.demo;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * An offline stand-in for the agent CLI, so the masader profile can be demonstrated without a
 * Claude account. It honours the same contract as {@code claude -p --output-format json}: the
 * prompt arrives on stdin (read and ignored), the input file is named by {@code SANDFLOW_INPUT},
 * and one result envelope is printed on stdout. Command-line arguments (the CLI flags) are ignored.
 *
 * <p>The assessment is built from the metadata alone: {@code الطريقة_المستخدمة} is
 * {@code metadata_only}, no samples are loaded and no URL is opened, so
 * {@code المصادر_المفتوحة} is empty and {@code البيانات_تطابق_الوصف} is {@code false}
 * (nothing was checked against the data).
 *
 * <h2>Scoring</h2>
 * Each of the seven sub-scores of {@code تفصيل_الجودة} is the sum of the points below, capped at 100:
 * <ul>
 *   <li>{@code سهولة_الوصول} (access): Access {@code Free} 60, {@code Upon-Request} 35,
 *       {@code With-Fee} 20, anything else 10; +25 for an {@code HF Link}; +15 for a {@code Link}.</li>
 *   <li>{@code التوثيق} (documentation): non-empty {@code Description} 30; {@code Paper Link} 30;
 *       {@code Paper Title} or {@code Abstract} 10; at least one of {@code Tasks} 15;
 *       {@code Volume} &gt; 0 with a {@code Unit} 15.</li>
 *   <li>{@code السلامة_الأخلاقية} (ethics): 50 base; +25 when a {@code Provider} is named;
 *       +25 when a {@code Source} is named (the origin of the data is known).</li>
 *   <li>{@code الترخيص} (licence): an open licence (CC, MIT, Apache, GPL, ODbL, ODC, public domain)
 *       90, or 75 when it carries NC or ND; any other named licence 50; blank or {@code unknown} 10.</li>
 *   <li>{@code قابلية_إعادة_الإنتاج} (reproducibility): {@code HF Link} 40; {@code Link} 20;
 *       {@code Has Splits} 20; {@code Volume} &gt; 0 20.</li>
 *   <li>{@code المراجعة_العلمية} (peer review): {@code Paper Link} 50; {@code Venue Type}
 *       {@code conference} or {@code journal} +40, {@code workshop} +30, {@code preprint} +15;
 *       at least one author +10.</li>
 *   <li>{@code جودة_البيانات} (data quality, unseen so capped low): 40 base; +20 when the
 *       {@code Annotation Style} mentions human work; +10 when {@code Volume} &gt; 0.</li>
 * </ul>
 * {@code درجة_الجودة} is the rounded mean of the seven sub-scores, and {@code تقدير_الجودة} is its
 * band: ممتاز 80–100, جيد 60–79, مقبول 40–59, ضعيف 0–39.
 *
 * <p>Exit codes follow the CLI: 0 with a success envelope, 1 with an {@code is_error} envelope
 * when the input is missing, unreadable or not a JSON object.
 *
 * <p>It ships outside the product, in a jar of its own (target/sandflow-demo-agent.jar). It is longer than 400
 * lines because the scoring table above is one piece: the seven rules, read side by side, are the demo's answer.
 */
public final class DemoAgent {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private static final Map<String, String> DIALECTS = Map.ofEntries(
            Map.entry("modern standard arabic", "العربية الفصحى المعاصرة"),
            Map.entry("classical arabic", "العربية الفصحى التراثية"),
            Map.entry("mixed", "مزيجاً من اللهجات العربية"),
            Map.entry("gulf", "اللهجة الخليجية"),
            Map.entry("egypt", "اللهجة المصرية"),
            Map.entry("levant", "اللهجة الشامية"),
            Map.entry("morocco", "اللهجة المغربية"),
            Map.entry("tunisia", "اللهجة التونسية"),
            Map.entry("algeria", "اللهجة الجزائرية"),
            Map.entry("saudi arabia", "اللهجة السعودية"),
            Map.entry("palestine", "اللهجة الفلسطينية"),
            Map.entry("sudan", "اللهجة السودانية"),
            Map.entry("iraq", "اللهجة العراقية"),
            Map.entry("yemen", "اللهجة اليمنية"));

    private static final Map<String, String> UNITS = Map.of(
            "sentences", "الجمل",
            "tokens", "الوحدات النصية",
            "documents", "الوثائق",
            "hours", "الساعات الصوتية",
            "images", "الصور",
            "videos", "مقاطع الفيديو",
            "conversations", "المحادثات");

    private static final Map<String, String> FORMS = Map.of(
            "text", "نصية",
            "audio", "صوتية",
            "images", "من الصور",
            "videos", "من مقاطع الفيديو");

    private static final Map<String, String> TASKS = Map.ofEntries(
            Map.entry("sentiment analysis", "تحليل المشاعر"),
            Map.entry("dialect identification", "تحديد اللهجة"),
            Map.entry("speech recognition", "التعرف الآلي على الكلام"),
            Map.entry("machine translation", "الترجمة الآلية"),
            Map.entry("named entity recognition", "التعرف على الكيانات المسماة"),
            Map.entry("text classification", "تصنيف النصوص"),
            Map.entry("question answering", "الإجابة عن الأسئلة"),
            Map.entry("part of speech tagging", "وسم أقسام الكلام"),
            Map.entry("language modeling", "النمذجة اللغوية"),
            Map.entry("intent classification", "تصنيف المقاصد"),
            Map.entry("dialogue generation", "توليد الحوار"),
            Map.entry("summarization", "التلخيص الآلي"),
            Map.entry("offensive language detection", "كشف اللغة المسيئة"),
            Map.entry("morphological analysis", "التحليل الصرفي"));

    private DemoAgent() {
    }

    public static void main(String[] args) {
        int code = run(System.getenv(), System.in, System.out);
        System.out.flush();
        System.exit(code);
    }

    /**
     * The whole program without {@code System.exit}: drains {@code stdin}, reads the file named by
     * {@code SANDFLOW_INPUT} in {@code env}, writes one envelope line to {@code stdout}.
     *
     * @return the exit code (0 success, 1 error envelope)
     */
    public static int run(Map<String, String> env, InputStream stdin, OutputStream stdout) {
        long started = System.nanoTime();
        try {
            stdin.readAllBytes(); // the prompt: the demo does not need it, but the writer must not block
        } catch (IOException e) {
            // a closed or broken stdin changes nothing for the demo
        }
        ObjectNode envelope;
        int code;
        try {
            JsonNode input = readInput(env.get("SANDFLOW_INPUT"));
            ObjectNode assessment = assess(input);
            envelope = successEnvelope(assessment, elapsedMs(started));
            code = 0;
        } catch (InputProblem e) {
            envelope = errorEnvelope(e.getMessage(), elapsedMs(started));
            code = 1;
        }
        try {
            stdout.write(MAPPER.writeValueAsBytes(envelope));
            stdout.write('\n');
            stdout.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return code;
    }

    /** Why the input cannot be assessed; the message goes into the error envelope's result text. */
    static final class InputProblem extends Exception {
        InputProblem(String message) {
            super(message);
        }
    }

    static JsonNode readInput(String inputPath) throws InputProblem {
        if (inputPath == null || inputPath.isBlank()) {
            throw new InputProblem("Demo agent: SANDFLOW_INPUT is not set, so there is no metadata file to read");
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(Path.of(inputPath));
        } catch (IOException | RuntimeException e) {
            throw new InputProblem("Demo agent: cannot read the input file " + inputPath + ": " + e.getMessage());
        }
        JsonNode node;
        try {
            node = MAPPER.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw new InputProblem("Demo agent: the input file " + inputPath + " is not JSON: "
                    + e.getOriginalMessage());
        } catch (IOException e) {
            throw new InputProblem("Demo agent: cannot parse the input file " + inputPath + ": " + e.getMessage());
        }
        if (node == null || !node.isObject()) {
            String kind = node == null || node.isMissingNode() ? "empty" : node.getNodeType().name().toLowerCase(Locale.ROOT);
            throw new InputProblem("Demo agent: the input file " + inputPath
                    + " is not a JSON object (found " + kind + "); a Masader metadata object is expected");
        }
        return node;
    }

    /**
     * Builds a masader assessment (see schemas/masader-assessment.schema.json) from parsed metadata.
     *
     * @param metadata a JSON object in the Masader catalogue's shape; missing fields count as absent
     */
    public static ObjectNode assess(JsonNode metadata) {
        Meta m = new Meta(metadata);

        int access = cap(switch (m.text("Access").toLowerCase(Locale.ROOT)) {
            case "free" -> 60;
            case "upon-request" -> 35;
            case "with-fee" -> 20;
            default -> 10;
        } + (m.has("HF Link") ? 25 : 0) + (m.has("Link") ? 15 : 0));
        int documentation = cap((m.has("Description") ? 30 : 0) + (m.has("Paper Link") ? 30 : 0)
                + (m.has("Paper Title") || m.has("Abstract") ? 10 : 0) + (m.list("Tasks").isEmpty() ? 0 : 15)
                + (m.volume() > 0 && m.has("Unit") ? 15 : 0));
        int ethics = cap(50 + (m.list("Provider").isEmpty() ? 0 : 25) + (m.list("Source").isEmpty() ? 0 : 25));
        License license = License.of(m.text("License"));
        int licensing = switch (license) {
            case OPEN -> 90;
            case OPEN_RESTRICTED -> 75;
            case OTHER -> 50;
            case UNKNOWN -> 10;
        };
        int reproducibility = cap((m.has("HF Link") ? 40 : 0) + (m.has("Link") ? 20 : 0)
                + (m.bool("Has Splits") ? 20 : 0) + (m.volume() > 0 ? 20 : 0));
        String venueType = m.text("Venue Type").toLowerCase(Locale.ROOT);
        int review = cap((m.has("Paper Link") ? 50 : 0) + switch (venueType) {
            case "conference", "journal" -> 40;
            case "workshop" -> 30;
            case "preprint" -> 15;
            default -> 0;
        } + (m.list("Authors").isEmpty() ? 0 : 10));
        boolean humanWork = m.list("Annotation Style").stream()
                .anyMatch(s -> s.toLowerCase(Locale.ROOT).contains("human"));
        int dataQuality = cap(40 + (humanWork ? 20 : 0) + (m.volume() > 0 ? 10 : 0));

        int[] parts = {access, documentation, ethics, licensing, reproducibility, review, dataQuality};
        int sum = 0;
        for (int p : parts) {
            sum += p;
        }
        int score = Math.round(sum / (float) parts.length);

        ObjectNode out = NODES.objectNode();
        String name = m.text("Name").isEmpty() ? "(بلا اسم)" : m.text("Name");
        out.put("الاسم", "مجموعة بيانات «" + name + "»");
        out.put("الاسم_الأصلي", name);
        out.put("درجة_الجودة", score);
        out.put("تقدير_الجودة", grade(score));
        out.put("الملخص", summary(m, name, license, score));

        ObjectNode inspection = out.putObject("فحص_البيانات");
        inspection.put("الطريقة_المستخدمة", "metadata_only");
        inspection.put("عدد_العينات_المفحوصة", 0);
        inspection.putArray("معاينة_العينات");
        ArrayNode problems = inspection.putArray("مشاكل_مكتشفة");
        problems.add("لم تُحمَّل أي عينة من البيانات؛ بُني التقييم على البيانات الوصفية وحدها.");
        if (!m.has("Description")) {
            problems.add("حقل الوصف (Description) فارغ.");
        }
        if (m.volume() <= 0) {
            problems.add("حجم البيانات (Volume) غير مذكور.");
        }
        if (license == License.UNKNOWN) {
            problems.add("الترخيص غير محدد.");
        }
        inspection.put("البيانات_تطابق_الوصف", false);

        List<String> strengths = new ArrayList<>();
        List<String> weaknesses = new ArrayList<>();
        if (m.has("HF Link")) {
            strengths.add("متاحة على منصة Hugging Face، فيسهل تحميلها برمجياً.");
        } else {
            weaknesses.add("لا يوجد لها رابط على منصة Hugging Face.");
        }
        if (m.has("Link")) {
            strengths.add("لها رابط عام يدل على مكان البيانات أو مستودعها.");
        } else {
            weaknesses.add("لا يوجد رابط عام يدل على مكان البيانات.");
        }
        if (m.has("Paper Link")) {
            strengths.add("ترافقها ورقة بحثية تشرح طريقة بنائها.");
        } else {
            weaknesses.add("لا توجد ورقة بحثية منشورة تشرح طريقة بنائها.");
        }
        switch (license) {
            case OPEN -> strengths.add("ترخيصها (" + m.text("License") + ") مفتوح يسمح بإعادة الاستخدام.");
            case OPEN_RESTRICTED -> weaknesses.add("ترخيصها (" + m.text("License")
                    + ") يمنع الاستخدام التجاري أو التعديل.");
            case OTHER -> weaknesses.add("ترخيصها (" + m.text("License") + ") خاص وقد يقيّد الاستخدام.");
            case UNKNOWN -> weaknesses.add("ترخيصها غير معروف، فلا يتضح ما يجوز فعله بها.");
        }
        switch (m.text("Access").toLowerCase(Locale.ROOT)) {
            case "free" -> strengths.add("الوصول إليها مجاني.");
            case "with-fee" -> weaknesses.add("الوصول إليها مدفوع.");
            case "upon-request" -> weaknesses.add("لا تُتاح إلا بطلب من أصحابها.");
            default -> weaknesses.add("طريقة الوصول إليها غير مذكورة.");
        }
        if (m.bool("Has Splits")) {
            strengths.add("مقسّمة مسبقاً إلى أقسام للتدريب والاختبار.");
        }
        if (humanWork) {
            strengths.add("وسمها أو راجعها بشر.");
        }
        if (!m.has("Description")) {
            weaknesses.add("وصفها في البيانات الوصفية فارغ.");
        }
        if (m.list("Tasks").isEmpty()) {
            weaknesses.add("لم تُحدَّد المهام التي تخدمها.");
        }
        weaknesses.add("لم تُفحص عينات فعلية منها في هذا التقييم.");
        strengths.forEach(out.putArray("نقاط_القوة")::add);
        weaknesses.forEach(out.putArray("نقاط_الضعف")::add);

        ArrayNode uses = out.putArray("الاستخدامات_الموصى_بها");
        m.list("Tasks").stream().limit(3).forEach(t -> uses.add("تدريب نماذج " + task(t) + " وتقييمها."));
        if (uses.isEmpty()) {
            uses.add("الاستكشاف الأولي بعد التحقق من محتواها يدوياً.");
        }
        if (license == License.OPEN_RESTRICTED) {
            uses.add("البحث العلمي غير التجاري.");
        }

        ObjectNode detail = out.putObject("تفصيل_الجودة");
        detail.put("سهولة_الوصول", access);
        detail.put("التوثيق", documentation);
        detail.put("السلامة_الأخلاقية", ethics);
        detail.put("الترخيص", licensing);
        detail.put("قابلية_إعادة_الإنتاج", reproducibility);
        detail.put("المراجعة_العلمية", review);
        detail.put("جودة_البيانات", dataQuality);

        out.putArray("المصادر_المفتوحة");
        out.put("تم_تحميل_البيانات", false);
        return out;
    }

    /** The grade band for a score: ممتاز 80–100, جيد 60–79, مقبول 40–59, ضعيف 0–39. */
    public static String grade(int score) {
        if (score >= 80) {
            return "ممتاز";
        }
        if (score >= 60) {
            return "جيد";
        }
        if (score >= 40) {
            return "مقبول";
        }
        return "ضعيف";
    }

    /** Four or five sentences: what it is and when, dialect and size, licence, tasks, and how it was judged. */
    private static String summary(Meta m, String name, License license, int score) {
        List<String> sentences = new ArrayList<>();
        String form = FORMS.getOrDefault(m.text("Form").toLowerCase(Locale.ROOT), "");
        String what = "«" + name + "» مجموعة بيانات" + (form.isEmpty() ? "" : " " + form);
        sentences.add(m.year() > 0 ? what + " صدرت عام " + m.year() + "." : what + " لم تُذكر سنة إصدارها.");

        String dialectKey = m.text("Dialect");
        String dialect = dialectKey.isEmpty() ? ""
                : DIALECTS.getOrDefault(dialectKey.toLowerCase(Locale.ROOT), "لهجة " + dialectKey);
        String size = m.volume() > 0 ? number(m.volume()) + " من "
                + UNITS.getOrDefault(m.text("Unit").toLowerCase(Locale.ROOT), "الوحدات (" + m.text("Unit") + ")")
                : "";
        if (!dialect.isEmpty() && !size.isEmpty()) {
            sentences.add("تغطي " + dialect + "، ويبلغ حجمها " + size + ".");
        } else if (!dialect.isEmpty()) {
            sentences.add("تغطي " + dialect + "، ولم يُذكر حجمها.");
        } else if (!size.isEmpty()) {
            sentences.add("يبلغ حجمها " + size + "، ولم تُذكر لهجتها.");
        }

        sentences.add(license == License.UNKNOWN ? "ترخيصها غير معروف."
                : "تُوزَّع بترخيص " + m.text("License") + ".");

        List<String> tasks = m.list("Tasks");
        if (!tasks.isEmpty()) {
            List<String> arabic = new ArrayList<>();
            tasks.forEach(t -> arabic.add(task(t)));
            sentences.add("تخدم مهام " + String.join("، ", arabic) + ".");
        }
        sentences.add("بُني هذا التقييم على البيانات الوصفية وحدها دون تحميل أي عينة، ودرجته "
                + score + " من 100.");
        return String.join(" ", sentences);
    }

    private static String task(String task) {
        return TASKS.getOrDefault(task.toLowerCase(Locale.ROOT), task);
    }

    private static String number(double value) {
        if (value == Math.rint(value) && Math.abs(value) < 1e15) {
            return Long.toString((long) value);
        }
        return String.format(Locale.ROOT, "%.2f", value);
    }

    private static int cap(int points) {
        return Math.max(0, Math.min(100, points));
    }

    private static long elapsedMs(long startedNanos) {
        return (System.nanoTime() - startedNanos) / 1_000_000L;
    }

    private static ObjectNode successEnvelope(ObjectNode assessment, long durationMs) {
        ObjectNode env = envelope(false, durationMs, 1);
        try {
            env.put("result", MAPPER.writeValueAsString(assessment));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        env.set("structured_output", assessment);
        env.put("stop_reason", "end_turn");
        return env;
    }

    private static ObjectNode errorEnvelope(String message, long durationMs) {
        ObjectNode env = envelope(true, durationMs, 0);
        env.put("result", message);
        return env;
    }

    /** The fields every envelope of the CLI carries; like the CLI, errors too say subtype "success". */
    private static ObjectNode envelope(boolean isError, long durationMs, int turns) {
        ObjectNode env = NODES.objectNode();
        env.put("type", "result");
        env.put("subtype", "success");
        env.put("is_error", isError);
        env.putNull("api_error_status");
        env.put("duration_ms", durationMs);
        env.put("duration_api_ms", 0);
        env.put("num_turns", turns);
        env.put("session_id", UUID.randomUUID().toString());
        env.put("total_cost_usd", 0.0);
        usage(env);
        return env;
    }

    private static void usage(ObjectNode env) {
        ObjectNode usage = env.putObject("usage");
        usage.put("input_tokens", 0);
        usage.put("cache_creation_input_tokens", 0);
        usage.put("cache_read_input_tokens", 0);
        usage.put("output_tokens", 0);
    }

    /** How open a licence string is. */
    enum License {
        OPEN, OPEN_RESTRICTED, OTHER, UNKNOWN;

        private static final java.util.regex.Pattern OPEN_LICENCE = java.util.regex.Pattern.compile(
                "^cc|\\b(creative commons|mit|apache|gpl|lgpl|agpl|bsd|odbl|odc|public domain)\\b");

        static License of(String text) {
            String t = text.trim().toLowerCase(Locale.ROOT);
            if (t.isEmpty() || t.equals("unknown") || t.equals("none")) {
                return UNKNOWN;
            }
            boolean open = OPEN_LICENCE.matcher(t).find();
            if (!open) {
                return OTHER;
            }
            boolean restricted = t.contains("-nc") || t.contains(" nc") || t.contains("-nd") || t.contains(" nd")
                    || t.contains("noncommercial") || t.contains("non-commercial");
            return restricted ? OPEN_RESTRICTED : OPEN;
        }
    }

    /** Lenient access to the metadata fields: absent, null or wrongly typed fields read as empty. */
    private static final class Meta {
        private final JsonNode node;

        Meta(JsonNode node) {
            this.node = node == null ? NODES.objectNode() : node;
        }

        String text(String field) {
            JsonNode v = node.get(field);
            return v != null && v.isValueNode() && !v.isNull() ? v.asText().trim() : "";
        }

        boolean has(String field) {
            return !text(field).isEmpty();
        }

        List<String> list(String field) {
            JsonNode v = node.get(field);
            List<String> out = new ArrayList<>();
            if (v != null && v.isArray()) {
                v.forEach(e -> {
                    if (e.isValueNode() && !e.isNull() && !e.asText().isBlank()) {
                        out.add(e.asText().trim());
                    }
                });
            } else if (v != null && v.isTextual() && !v.asText().isBlank()) {
                out.add(v.asText().trim());
            }
            return out;
        }

        boolean bool(String field) {
            JsonNode v = node.get(field);
            return v != null && (v.isBoolean() ? v.booleanValue() : "true".equalsIgnoreCase(v.asText()));
        }

        double volume() {
            JsonNode v = node.get("Volume");
            if (v == null || v.isNull()) {
                return 0;
            }
            if (v.isNumber()) {
                return v.doubleValue();
            }
            try {
                return Double.parseDouble(v.asText().trim());
            } catch (NumberFormatException e) {
                return 0;
            }
        }

        int year() {
            JsonNode v = node.get("Year");
            if (v == null || v.isNull()) {
                return 0;
            }
            return v.isNumber() ? v.intValue() : v.asInt(0);
        }
    }
}
