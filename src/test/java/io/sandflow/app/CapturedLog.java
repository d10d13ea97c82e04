package io.sandflow.app;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.Property;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * The log lines an in-process run writes, for tests where a log line is the behaviour under test (what is logged
 * while the breaker is open). Each line is "LOGGER MESSAGE". Attach before the run, close after it.
 */
final class CapturedLog implements AutoCloseable {

    private static final AtomicInteger NAMES = new AtomicInteger();

    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final LoggerContext context;
    private final AbstractAppender appender;

    private CapturedLog() {
        context = (LoggerContext) LogManager.getContext(false);
        appender = new AbstractAppender("captured-" + NAMES.incrementAndGet(), null, null, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent event) {
                lines.add(event.getLoggerName() + " " + event.getMessage().getFormattedMessage());
            }
        };
        appender.start();
        Configuration config = context.getConfiguration();
        config.addAppender(appender);
        config.getRootLogger().addAppender(appender, Level.INFO, null);
        context.updateLoggers();
    }

    static CapturedLog start() {
        return new CapturedLog();
    }

    List<String> lines() {
        return List.copyOf(lines);
    }

    List<String> matching(String regex) {
        Pattern p = Pattern.compile(regex);
        return lines.stream().filter(l -> p.matcher(l).find()).toList();
    }

    @Override
    public void close() {
        Configuration config = context.getConfiguration();
        config.getRootLogger().removeAppender(appender.getName());
        context.updateLoggers();
        appender.stop();
    }
}
