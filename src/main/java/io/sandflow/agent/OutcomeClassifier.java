package io.sandflow.agent;

import io.sandflow.job.Durations;
import io.sandflow.job.FailureClass;

import java.time.Clock;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Decides what one agent run's outcome means for the job: success, or which {@link FailureClass}. The exit code is
 * 0 or 1 and stderr is usually empty, so the envelope ({@code is_error}, {@code subtype}, {@code api_error_status}
 * and the text) is what decides. Whether a success carries a usable result is the result package's question.
 * Each failure also says whose it is: API error statuses, connection failures, auth and usage limits are the
 * service's (the circuit breaker counts them); timeouts, crashes without an API error and unusable answers are
 * the input's own.
 */
public final class OutcomeClassifier {

    static final int MAX_AGENT_TEXT = 300;

    private static final Pattern OVERLOADED = Pattern.compile("(?i)\\b529\\b|overloaded");
    private static final Pattern AUTH = Pattern.compile(
            "(?i)invalid api key|authentication|unauthori[sz]ed|oauth token (?:has )?expired|please run /login");
    private static final Pattern USAGE_LIMIT = Pattern.compile(
            "(?i)session limit|usage limit|weekly limit|5-hour limit|hit your\\b.{0,40}\\blimit|(?<!rate )limit reached"
                    + "|credit balance is too low");
    private static final Pattern NETWORK = Pattern.compile(
            "(?i)unable to connect|connection|econnreset|econnrefused|etimedout|timed out|socket hang up|fetch failed");
    /** "resets 3:45pm", "resets at 15:45", "resets 3pm (Europe/Paris)". */
    private static final Pattern RESET_CLOCK = Pattern.compile(
            "(?i)\\bresets?\\s+(?:at\\s+)?(\\d{1,2})(?::(\\d{2}))?\\s*([ap])\\.?m\\.?(?![a-z])"
                    + "(?:\\s*\\(([A-Za-z][A-Za-z0-9_+\\-]*(?:/[A-Za-z0-9_+\\-]+)*)\\))?"
                    + "|\\bresets?\\s+(?:at\\s+)?(\\d{1,2}):(\\d{2})(?!\\d)"
                    + "(?:\\s*\\(([A-Za-z][A-Za-z0-9_+\\-]*(?:/[A-Za-z0-9_+\\-]+)*)\\))?");
    /** Older CLIs: "Claude AI usage limit reached|1749924000" (epoch seconds). */
    private static final Pattern RESET_EPOCH = Pattern.compile("(?i)limit reached\\|(\\d{9,11})\\b");

    private final Duration timeout;
    private final Clock clock;
    private final ZoneId zone;

    /**
     * @param timeout the hard timeout the caller enforces, quoted in the timeout reason
     * @param clock   "now" for reset times
     * @param zone    the zone a reset time without its own zone is read in (the CLI prints local time)
     */
    public OutcomeClassifier(Duration timeout, Clock clock, ZoneId zone) {
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.zone = Objects.requireNonNull(zone, "zone");
    }

    public Verdict classify(int exitCode, boolean timedOut, Envelope env) {
        // A hang, a crash without an API error, an unreadable answer: this input's own failures, which spend its
        // retries but say nothing about the service (another input may run fine meanwhile)
        if (timedOut) {
            return Verdict.failure(FailureClass.TRANSIENT, "the agent ran longer than sandflow.agent.timeout="
                    + Durations.human(timeout) + " and was killed with its process tree.");
        }
        if (env == null || env.presence() == Envelope.Presence.EMPTY) {
            return Verdict.failure(FailureClass.TRANSIENT,
                    "the agent exited with code " + exitCode + " and printed no output (empty output).");
        }
        if (env.presence() == Envelope.Presence.TEXT) {
            // A plain agent without an envelope: the exit code is all it says about how it went
            if (exitCode == 0) {
                return Verdict.success();
            }
            String said = env.message();
            return Verdict.failure(FailureClass.TRANSIENT, "the agent exited with code " + exitCode
                    + " without a result envelope" + (said.isEmpty() ? "" : ": " + clip(said)) + ".");
        }
        if (env.presence() == Envelope.Presence.NOT_JSON) {
            return Verdict.failure(FailureClass.INVALID_OUTPUT,
                    "the agent exited with code " + exitCode + " and its " + clip(env.absentReason()) + ".");
        }
        if (!env.isError()) {
            // The envelope is the authority: is_error=false is a finished run whatever the exit code says.
            return Verdict.success();
        }

        String subtype = env.subtype() == null ? "" : env.subtype();
        Integer status = env.apiErrorStatus();
        String text = env.message();
        String quoted = text.isEmpty() ? "" : ": " + clip(text);

        switch (subtype) {
            case "error_max_turns":
                return Verdict.failure(FailureClass.INVALID_OUTPUT,
                        "the agent used up its turns without finishing" + quoted + ".");
            case "error_max_structured_output_retries":
                return Verdict.failure(FailureClass.INVALID_OUTPUT,
                        "the agent never produced output matching the schema" + quoted + ".");
            case "error_max_budget_usd":
                return Verdict.serviceFailure(FailureClass.SYSTEMIC,
                        "the agent hit the budget cap (sandflow.agent.max-budget-usd)" + quoted + ".");
            default:
                break;
        }
        if (status != null && (status == 401 || status == 403)) {
            return new Verdict(FailureClass.SYSTEMIC,
                    "the API refused the credentials (" + status + ")" + quoted + ".", resetTime(text));
        }
        // Before the 400 rule: a too-low credit balance comes back as a 400, yet no file is to blame.
        if (USAGE_LIMIT.matcher(text).find()) {
            return new Verdict(FailureClass.SYSTEMIC, "the account hit a usage limit" + quoted + ".", resetTime(text));
        }
        if (AUTH.matcher(text).find()) {
            return new Verdict(FailureClass.SYSTEMIC, "the API refused the credentials" + quoted + ".",
                    resetTime(text));
        }
        if (status != null && status == 400) {
            return Verdict.failure(FailureClass.PERMANENT, "the API rejected the request (400)" + quoted + ".");
        }
        if (status != null && (status == 429 || status == 529 || (status >= 500 && status <= 599))) {
            return Verdict.serviceFailure(FailureClass.TRANSIENT, "the API failed with " + status + quoted + ".");
        }
        if (status == null && OVERLOADED.matcher(text).find()) {
            return Verdict.serviceFailure(FailureClass.TRANSIENT, "the API is overloaded (529)" + quoted + ".");
        }
        if (NETWORK.matcher(text).find()) {
            return Verdict.serviceFailure(FailureClass.TRANSIENT, "the agent could not reach the API" + quoted + ".");
        }
        // Anything else: the CLI reports API and network trouble this way (subtype "success", is_error true), so
        // an unknown error is most likely passing. A retry is bounded, and if the error is really permanent the
        // job ends in failed/ with this text in its report. Parking (systemic) would stop all intake on a guess,
        // and invalid-output would feed the agent a complaint about its answer that it cannot act on. For the same
        // reason it counts toward the breaker, which needs several distinct jobs failing before it opens.
        String what = subtype.isEmpty() || subtype.equals("success") ? "" : " (" + subtype + ")";
        String why = status == null ? "" : " with status " + status;
        return Verdict.serviceFailure(FailureClass.TRANSIENT, "the agent reported an error" + what + why
                + (quoted.isEmpty() ? " without saying why" : quoted) + ".");
    }

    /** The longest an agent's reset time can hold intake before a probe. */
    private static final Duration MAX_RESET_WAIT = Duration.ofDays(1);

    /**
     * The next moment the text's reset time ("resets 3:45pm", "resets at 15:45", "resets 3pm (Europe/Paris)")
     * occurs after now, or null when the text names none or names an impossible one.
     */
    public Instant resetTime(String text) {
        if (text == null) {
            return null;
        }
        Matcher epoch = RESET_EPOCH.matcher(text);
        if (epoch.find()) {
            Instant now = clock.instant();
            Instant at = Instant.ofEpochSecond(Long.parseLong(epoch.group(1)));
            // The agent's text decides how long intake waits: further than a day, it waits a day and probes again
            Instant latest = now.plus(MAX_RESET_WAIT);
            return !at.isAfter(now) ? null : at.isAfter(latest) ? latest : at;
        }
        Matcher m = RESET_CLOCK.matcher(text);
        if (!m.find()) {
            return null;
        }
        int hour;
        int minute;
        String zoneText;
        if (m.group(1) != null) {
            hour = Integer.parseInt(m.group(1));
            minute = m.group(2) == null ? 0 : Integer.parseInt(m.group(2));
            if (hour < 1 || hour > 12) {
                return null;
            }
            boolean pm = m.group(3).toLowerCase(Locale.ROOT).equals("p");
            hour = hour % 12 + (pm ? 12 : 0);
            zoneText = m.group(4);
        } else {
            hour = Integer.parseInt(m.group(5));
            minute = Integer.parseInt(m.group(6));
            zoneText = m.group(7);
        }
        if (hour > 23 || minute > 59) {
            return null;
        }
        ZoneId where = zone;
        if (zoneText != null) {
            try {
                where = ZoneId.of(zoneText);
            } catch (DateTimeException e) {
                return null;
            }
        }
        ZonedDateTime now = ZonedDateTime.now(clock.withZone(where));
        LocalTime at = LocalTime.of(hour, minute);
        ZonedDateTime candidate = ZonedDateTime.of(now.toLocalDate(), at, where);
        if (!candidate.isAfter(now)) {
            candidate = ZonedDateTime.of(now.toLocalDate().plusDays(1), at, where);
        }
        return candidate.toInstant();
    }

    /** The agent's text on one line, secrets masked, at most {@value #MAX_AGENT_TEXT} characters. */
    static String clip(String text) {
        String flat = Redactor.patternsOnly().redact(text).replaceAll("\\s+", " ").strip();
        if (flat.endsWith(".")) {
            flat = flat.substring(0, flat.length() - 1);
        }
        return flat.length() <= MAX_AGENT_TEXT ? flat : flat.substring(0, MAX_AGENT_TEXT) + "…";
    }
}
