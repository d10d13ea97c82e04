package io.sandflow.config;

/**
 * A setting that cannot work, explained in one sentence that names the setting and where it came from.
 */
public class ConfigException extends RuntimeException {

    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
