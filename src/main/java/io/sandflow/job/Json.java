package io.sandflow.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** The one Jackson mapper every part of Sandflow reads and writes JSON with: configured once, thread-safe. */
public final class Json {

    /** Jackson's defaults: what inputs, envelopes, schemas and results have always been read and written with. */
    public static final ObjectMapper MAPPER = JsonMapper.builder().build();

    /** The same, indented, for the files and answers people read (reports, {@code status --json}). */
    public static final ObjectWriter PRETTY = MAPPER.writerWithDefaultPrettyPrinter();

    private Json() {
    }

    /** Puts {@code value} under {@code key}, or null when it is null or empty: an export's column is never "". */
    public static void putText(ObjectNode o, String key, String value) {
        if (value == null || value.isEmpty()) {
            o.putNull(key);
        } else {
            o.put(key, value);
        }
    }
}
