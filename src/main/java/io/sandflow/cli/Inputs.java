package io.sandflow.cli;

import io.sandflow.config.ConfigException;
import io.sandflow.config.Settings;
import io.sandflow.report.ResultField;

import java.nio.file.Path;
import java.util.List;

/** What the commands that look at a batch share: file names as users type them, and the result fields. */
final class Inputs {

    private Inputs() {
    }

    /** A path such as failed/a.json or archive/a.json stands for its file name. */
    static String name(String typed) {
        Path p = Path.of(typed).getFileName();
        return p == null ? typed : p.toString();
    }

    /**
     * The fields named on the command line, or else by {@code sandflow.export.fields}.
     *
     * @throws ConfigException naming the option or the setting when one is not NAME=/json/pointer
     */
    static List<ResultField> fields(List<String> given, Settings settings) {
        boolean own = given != null && !given.isEmpty();
        List<String> specs = own ? given : settings.list("sandflow.export.fields");
        try {
            return ResultField.parseAll(specs);
        } catch (IllegalArgumentException e) {
            if (own) {
                throw new ConfigException("--field: " + e.getMessage());
            }
            throw settings.invalid("sandflow.export.fields", "must list NAME=/json/pointer entries separated by "
                    + "commas (" + e.getMessage() + ")");
        }
    }
}
