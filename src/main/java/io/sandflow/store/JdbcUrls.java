package io.sandflow.store;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Hides secrets in JDBC URLs and in messages that quote them, so that neither reaches a log. */
public final class JdbcUrls {

    /** password=..., pwd=..., passwd=... up to the next separator of PostgreSQL (&amp;) or H2 (;) URLs. */
    private static final Pattern SECRET_PARAMETER = Pattern.compile(
            "(?i)\\b(password|passwd|pwd|sslpassword|sslkey|secret|token)=[^&;\\s\"']*");
    /** user:password@host in the authority of a URL. */
    private static final Pattern USER_INFO = Pattern.compile("(//[^/@:\\s\"']+):[^/@\\s\"']*@");

    private JdbcUrls() {
    }

    /** The text with every password parameter and user-info password replaced by ***; null stays null. */
    public static String redact(String text) {
        if (text == null) {
            return null;
        }
        Matcher m = SECRET_PARAMETER.matcher(text);
        String out = m.replaceAll(r -> Matcher.quoteReplacement(r.group(1) + "=***"));
        return USER_INFO.matcher(out).replaceAll("$1:***@");
    }

    /**
     * A copy of the exception chain whose messages are redacted, keeping class names, SQL states and stack
     * traces, for attaching as the cause of an exception that may be logged.
     */
    static Throwable scrub(Throwable t) {
        if (t == null) {
            return null;
        }
        Throwable cause = t.getCause() == t ? null : scrub(t.getCause());
        String message = t.getClass().getName() + ": " + redact(t.getMessage());
        if (t instanceof java.sql.SQLException sql) {
            message += " [SQLState " + sql.getSQLState() + "]";
        }
        RedactedException copy = new RedactedException(message, cause);
        copy.setStackTrace(t.getStackTrace());
        return copy;
    }

    /** Stands in for an exception whose message may have quoted a secret. */
    static final class RedactedException extends RuntimeException {
        RedactedException(String message, Throwable cause) {
            super(message, cause, false, true);
        }
    }
}
