package io.sandflow.observe;

import io.sandflow.config.ConfigException;
import io.sandflow.config.LogSettings;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.RollingFileAppender;
import org.apache.logging.log4j.core.appender.rolling.DefaultRolloverStrategy;
import org.apache.logging.log4j.core.appender.rolling.SizeBasedTriggeringPolicy;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.layout.PatternLayout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Applies the logging settings on top of log4j2.xml (which sends everything to stderr): the level of Sandflow's own
 * loggers ({@code sandflow.log.level}) and, with {@code sandflow.log.file}, a copy of the log in a file rotated by
 * size. What it changes is undone by {@link Applied#close()}, so that commands run in one JVM (tests) do not
 * inherit each other's logging.
 */
public final class Logging {

    /** The console's layout (log4j2.xml), for the file too. */
    static final String PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level %-18c %msg%n";
    private static final String FILE_APPENDER = "sandflow-file";
    private static final List<String> OWN_LOGGERS = List.of("sandflow", "io.sandflow");

    private Logging() {
    }

    /** What {@link #apply} changed; closing it puts the previous levels back and closes the file. */
    public interface Applied extends AutoCloseable {
        @Override
        void close();
    }

    /** Applies the settings, which {@link LogSettings#of} has checked. */
    public static Applied apply(LogSettings s) {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        Configuration config = context.getConfiguration();
        Level level = Level.valueOf(s.level());
        Map<String, Level> previous = new LinkedHashMap<>();
        for (String name : OWN_LOGGERS) {
            LoggerConfig logger = config.getLoggerConfig(name);
            if (logger.getName().equals(name)) {
                previous.put(name, logger.getLevel());
                logger.setLevel(level);
            }
        }
        RollingFileAppender file = s.file() == null ? null : addFile(s, config);
        context.updateLoggers();
        return () -> {
            previous.forEach((name, was) -> config.getLoggerConfig(name).setLevel(was));
            if (file != null) {
                for (LoggerConfig logger : config.getLoggers().values()) {
                    logger.removeAppender(FILE_APPENDER);
                }
                config.getRootLogger().removeAppender(FILE_APPENDER);
                file.stop();
            }
            context.updateLoggers();
        };
    }

    private static RollingFileAppender addFile(LogSettings s, Configuration config) {
        Path file = s.file();
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
        } catch (IOException e) {
            throw new ConfigException("sandflow.log.file=" + s.shown() + ": cannot create its folder ("
                    + e.getMessage() + ")", e);
        }
        if (Files.isDirectory(file) || (Files.exists(file) && !Files.isWritable(file))) {
            throw new ConfigException("sandflow.log.file must name a file this user can write, got " + s.shown());
        }
        RollingFileAppender appender = RollingFileAppender.newBuilder()
                .setName(FILE_APPENDER)
                .withFileName(file.toString())
                .withFilePattern(file + ".%i.gz")
                .withPolicy(SizeBasedTriggeringPolicy.createPolicy(s.maxSize()))
                .withStrategy(DefaultRolloverStrategy.newBuilder().withMin("1")
                        .withMax(Integer.toString(s.keep())).withFileIndex("min")
                        .withConfig(config).build())
                .setLayout(PatternLayout.newBuilder().withPattern(PATTERN).withCharset(StandardCharsets.UTF_8)
                        .withConfiguration(config).build())
                .setConfiguration(config)
                .build();
        if (appender == null) {
            throw new ConfigException("sandflow.log.file must name a file this user can write, got " + s.shown());
        }
        appender.start();
        config.addAppender(appender);
        config.getRootLogger().addAppender(appender, null, null);
        for (LoggerConfig logger : config.getLoggers().values()) {
            if (logger != config.getRootLogger() && !logger.isAdditive()) {
                logger.addAppender(appender, null, null);
            }
        }
        return appender;
    }

    /** Flushes and closes every appender: the last thing a command does before the JVM exits. */
    public static void shutdown() {
        LogManager.shutdown();
    }
}
