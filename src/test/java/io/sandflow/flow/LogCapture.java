package io.sandflow.flow;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Collects the log events of this JVM while open, for tests whose subject is a log line (a failed attempt's one
 * line, what shutdown says, what is logged while the breaker is open). It listens on the root logger, so it sees
 * what the configured levels let through. Open it before the run, close it after.
 */
public final class LogCapture implements AutoCloseable {

    /** One event as the console would show it, minus the time. */
    public record Line(Level level, String logger, String message) {
        @Override
        public String toString() {
            return level + " " + logger + " " + message;
        }
    }

    private final List<Line> lines = new CopyOnWriteArrayList<>();
    private final Appender appender = new Appender();

    static LogCapture start() {
        return new LogCapture();
    }

    public LogCapture() {
        appender.start();
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        Configuration config = context.getConfiguration();
        config.getRootLogger().addAppender(appender, null, null);
        for (LoggerConfig logger : config.getLoggers().values()) {
            if (logger != config.getRootLogger() && !logger.isAdditive()) {
                logger.addAppender(appender, null, null);
            }
        }
        context.updateLoggers();
    }

    public List<Line> lines() {
        return List.copyOf(lines);
    }

    /** Every line as its logger and message. */
    public List<String> messages() {
        return lines.stream().map(l -> l.logger() + " " + l.message()).toList();
    }

    /** Every line as text: level, logger, message. */
    public List<String> texts() {
        return lines.stream().map(Line::toString).toList();
    }

    /** Every line as text whose text has a match for {@code regex}. */
    List<String> matching(String regex) {
        java.util.regex.Pattern p = java.util.regex.Pattern.compile(regex);
        return texts().stream().filter(l -> p.matcher(l).find()).toList();
    }

    /** The lines at WARN level or above that contain {@code text}. */
    public List<String> warnings(String text) {
        return lines.stream().filter(l -> l.level().isMoreSpecificThan(Level.WARN)).map(Line::toString)
                .filter(l -> l.contains(text)).toList();
    }

    @Override
    public void close() {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        for (LoggerConfig logger : context.getConfiguration().getLoggers().values()) {
            logger.removeAppender(appender.getName());
        }
        context.getConfiguration().getRootLogger().removeAppender(appender.getName());
        context.updateLoggers();
        appender.stop();
    }

    private final class Appender extends AbstractAppender {
        Appender() {
            super("test-capture-" + System.identityHashCode(LogCapture.this), null, null, true, Property.EMPTY_ARRAY);
        }

        @Override
        public void append(LogEvent event) {
            lines.add(new Line(event.getLevel(), event.getLoggerName(), event.getMessage().getFormattedMessage()));
        }
    }
}
