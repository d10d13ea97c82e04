package io.sandflow.agent;

import io.sandflow.job.FailureClass;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;

import static org.assertj.core.api.Assertions.assertThat;

/** Every row of the outcome table in AGENT-CLI.md, from stdout text through parser and classifier. */
class OutcomeClassifierTest {

    private static final ZoneId PARIS = ZoneId.of("Europe/Paris");
    /** 2026-03-10 14:00 in Paris (13:00 UTC). */
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-03-10T13:00:00Z"), ZoneId.of("UTC"));

    private final OutcomeClassifier classifier = new OutcomeClassifier(Duration.ofMinutes(15), CLOCK, PARIS);

    /** An error envelope as the CLI prints it after giving up on an API error. */
    private static String apiError(String status, String result) {
        return """
                {"type":"result","subtype":"success","is_error":true,"duration_ms":183004,"duration_api_ms":0,
                 "num_turns":1,"result":%s,"session_id":"5e0c9a44-2f0e-4a57-8f77-6d1f1f5a0b11",
                 "total_cost_usd":0,"usage":{"input_tokens":0,"cache_creation_input_tokens":0,
                 "cache_read_input_tokens":0,"output_tokens":0},"modelUsage":{},"permission_denials":[],
                 "api_error_status":%s,"uuid":"0b8f"}
                """.formatted(com.fasterxml.jackson.databind.node.TextNode.valueOf(result).toString(), status);
    }

    private Verdict classify(int rc, String stdout) {
        return classifier.classify(rc, false, EnvelopeParser.parse(stdout));
    }

    @Test
    void successIsASuccess() {
        Verdict v = classify(0, EnvelopeParserTest.SUCCESS);
        assertThat(v.isSuccess()).isTrue();
        assertThat(v.failureClass()).isNull();
    }

    @Test
    void successWithoutStructuredOutputIsLeftToTheExtractor() {
        Verdict v = classify(0, """
                {"type":"result","subtype":"success","is_error":false,"num_turns":1,"result":"Here is my answer.",
                 "total_cost_usd":0.01,"usage":{"input_tokens":10,"output_tokens":5},"permission_denials":[]}
                """);
        assertThat(v.isSuccess()).isTrue();
    }

    @Test
    void rateLimitIsTransient() {
        Verdict v = classify(1, apiError("429",
                "API Error: Request rejected (429) · This request would exceed the rate limit for your organization"));
        assertThat(v.failureClass()).isEqualTo(FailureClass.TRANSIENT);
        assertThat(v.reason()).startsWith("the API failed with 429: API Error: Request rejected (429)");
    }

    @Test
    void serverErrorIsTransient() {
        Verdict v = classify(1, apiError("500", "API Error: 500 {\"type\":\"error\",\"error\":{\"type\":\"api_error\"}}"));
        assertThat(v.failureClass()).isEqualTo(FailureClass.TRANSIENT);
        assertThat(v.reason()).startsWith("the API failed with 500");
    }

    @Test
    void repeatedOverloadWithoutStatusIsTransient() {
        Verdict v = classify(1, apiError("null", "API Error: Repeated 529 Overloaded errors · check status.anthropic.com"));
        assertThat(v.failureClass()).isEqualTo(FailureClass.TRANSIENT);
        assertThat(v.reason()).startsWith("the API is overloaded (529)");
    }

    @Test
    void badKeyIsSystemic() {
        Verdict v = classify(1, apiError("401", "Invalid API key · Fix external API key"));
        assertThat(v.failureClass()).isEqualTo(FailureClass.SYSTEMIC);
        assertThat(v.reason()).isEqualTo("the API refused the credentials (401): Invalid API key · Fix external API key.");
        assertThat(v.retryNotBefore()).isNull();
    }

    @Test
    void forbiddenIsSystemic() {
        assertThat(classify(1, apiError("403", "API Error: 403 permission_error")).failureClass())
                .isEqualTo(FailureClass.SYSTEMIC);
    }

    @Test
    void badRequestIsPermanent() {
        Verdict v = classify(1, apiError("400", "API Error: 400 prompt is too long: 250000 tokens > 200000 maximum"));
        assertThat(v.failureClass()).isEqualTo(FailureClass.PERMANENT);
        assertThat(v.reason()).startsWith("the API rejected the request (400): API Error: 400 prompt is too long");
    }

    @Test
    void lowCreditBalanceIsSystemicEvenAsA400() {
        Verdict v = classify(1, apiError("400",
                "API Error: 400 Your credit balance is too low to access the Anthropic API."));
        assertThat(v.failureClass()).isEqualTo(FailureClass.SYSTEMIC);
    }

    @Test
    void unreachableEndpointIsTransient() {
        Verdict v = classify(1, apiError("null", "API Error: Unable to connect to API (ConnectionRefused)"));
        assertThat(v.failureClass()).isEqualTo(FailureClass.TRANSIENT);
        assertThat(v.reason()).isEqualTo(
                "the agent could not reach the API: API Error: Unable to connect to API (ConnectionRefused).");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "API Error: read ECONNRESET",
            "API Error: Connection error.",
            "API Error: Request timed out."})
    void networkFailuresAreTransient(String text) {
        assertThat(classify(1, apiError("null", text)).failureClass()).isEqualTo(FailureClass.TRANSIENT);
    }

    @Test
    void maxTurnsIsInvalidOutput() {
        Verdict v = classify(1, """
                {"type":"result","subtype":"error_max_turns","is_error":true,"duration_ms":40210,"num_turns":9,
                 "session_id":"a1","total_cost_usd":0.31,"usage":{"input_tokens":9000,"output_tokens":1200},
                 "permission_denials":[],"errors":["Reached maximum number of turns (8)"]}
                """);
        assertThat(v.failureClass()).isEqualTo(FailureClass.INVALID_OUTPUT);
        assertThat(v.reason()).isEqualTo(
                "the agent used up its turns without finishing: Reached maximum number of turns (8).");
    }

    @Test
    void schemaNeverSatisfiedIsInvalidOutput() {
        Verdict v = classify(1, """
                {"type":"result","subtype":"error_max_structured_output_retries","is_error":true,"num_turns":6,
                 "errors":["Failed to provide valid structured output after 5 attempts"],"total_cost_usd":0.2}
                """);
        assertThat(v.failureClass()).isEqualTo(FailureClass.INVALID_OUTPUT);
        assertThat(v.reason()).contains("never produced output matching the schema");
    }

    @Test
    void budgetExceededIsSystemic() {
        Verdict v = classify(1, """
                {"type":"result","subtype":"error_max_budget_usd","is_error":true,"num_turns":4,
                 "total_cost_usd":1.02,"errors":[]}
                """);
        assertThat(v.failureClass()).isEqualTo(FailureClass.SYSTEMIC);
        assertThat(v.reason()).isEqualTo("the agent hit the budget cap (sandflow.agent.max-budget-usd).");
    }

    @Test
    void sessionLimitIsSystemicWithItsResetTime() {
        Verdict v = classify(0, apiError("null", "You've hit your session limit · resets 3:45pm"));
        assertThat(v.failureClass()).isEqualTo(FailureClass.SYSTEMIC);
        assertThat(v.retryNotBefore()).isEqualTo(ZonedDateTime.of(2026, 3, 10, 15, 45, 0, 0, PARIS).toInstant());
    }

    @Test
    void usageLimitWithoutResetTimeIsSystemicWithoutRetryTime() {
        Verdict v = classify(1, apiError("429", "Claude AI usage limit reached. Upgrade your plan."));
        assertThat(v.failureClass()).isEqualTo(FailureClass.SYSTEMIC);
        assertThat(v.retryNotBefore()).isNull();
    }

    @Test
    void authenticationTextWithoutStatusIsSystemic() {
        assertThat(classify(1, apiError("null", "OAuth authentication is currently not supported.")).failureClass())
                .isEqualTo(FailureClass.SYSTEMIC);
    }

    @Test
    void unknownErrorIsTransientAndQuotesTheAgent() {
        Verdict v = classify(1, """
                {"type":"result","subtype":"error_during_execution","is_error":true,"errors":["tool crashed"]}
                """);
        assertThat(v.failureClass()).isEqualTo(FailureClass.TRANSIENT);
        assertThat(v.reason()).isEqualTo("the agent reported an error (error_during_execution): tool crashed.");
    }

    @Test
    void errorWithoutAnyTextSaysSo() {
        Verdict v = classify(1, "{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":true}");
        assertThat(v.reason()).isEqualTo("the agent reported an error without saying why.");
    }

    @Test
    void timeoutIsTransientAndQuotesTheLimit() {
        Verdict v = classifier.classify(137, true, EnvelopeParser.parse(""));
        assertThat(v.failureClass()).isEqualTo(FailureClass.TRANSIENT);
        assertThat(v.reason()).isEqualTo("the agent ran longer than sandflow.agent.timeout=15m and was killed with its "
                + "process tree.");
    }

    @Test
    void emptyOutputIsTransient() {
        Verdict v = classify(0, "");
        assertThat(v.failureClass()).isEqualTo(FailureClass.TRANSIENT);
        assertThat(v.reason()).contains("empty output");
    }

    @Test
    void nonJsonOutputIsInvalidOutput() {
        Verdict v = classify(1, "Error: --dangerously-skip-permissions cannot be used with root privileges");
        assertThat(v.failureClass()).isEqualTo(FailureClass.INVALID_OUTPUT);
        assertThat(v.reason()).contains("output is not a JSON envelope: Error: --dangerously-skip-permissions");
    }

    @Test
    void longAgentTextIsClippedAndSecretsMasked() {
        String text = "API Error: 500 sk-ant-api03-SECRETSECRET " + "é".repeat(1000);
        Verdict v = classify(1, apiError("500", text));
        assertThat(v.reason()).doesNotContain("SECRETSECRET").contains("[REDACTED]");
        assertThat(v.reason().length()).isLessThan(OutcomeClassifier.MAX_AGENT_TEXT + 40);
    }

    @Test
    void verdictBecomesAJobFailure() {
        Verdict v = classify(0, apiError("null", "You've hit your session limit · resets 3:45pm"));
        assertThat(v.toFailure().failureClass()).isEqualTo(FailureClass.SYSTEMIC);
        assertThat(v.toFailure().retryNotBefore()).isEqualTo(v.retryNotBefore());
    }

    // Reset times: "now" is 14:00 in Paris, 13:00 UTC.

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "resets 3:45pm                     | 2026-03-10T15:45+01:00[Europe/Paris]",
            "resets at 15:45                   | 2026-03-10T15:45+01:00[Europe/Paris]",
            "resets 3pm (Europe/Paris)         | 2026-03-10T15:00+01:00[Europe/Paris]",
            "resets 3 PM                       | 2026-03-10T15:00+01:00[Europe/Paris]",
            "resets 9am                        | 2026-03-11T09:00+01:00[Europe/Paris]",
            "resets 12am                       | 2026-03-11T00:00+01:00[Europe/Paris]",
            "resets 12:30pm                    | 2026-03-11T12:30+01:00[Europe/Paris]",
            "resets 2pm                        | 2026-03-11T14:00+01:00[Europe/Paris]",
            "resets 10am (America/New_York)    | 2026-03-10T10:00-04:00[America/New_York]",
            "resets 11:00 (UTC)                | 2026-03-11T11:00Z[UTC]"})
    void resetTimeIsTheNextOccurrence(String text, String expected) {
        assertThat(classifier.resetTime("You've hit your limit · " + text))
                .isEqualTo(ZonedDateTime.parse(expected).toInstant());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "resets soon",
            "resets 13pm",
            "resets 25:00",
            "resets 3",
            "resets 3pm (Mars/Olympus)",
            "no reset mentioned"})
    void unreadableResetTimeIsNull(String text) {
        assertThat(classifier.resetTime(text)).isNull();
    }

    @Test
    void epochResetOfOlderClisIsRead() {
        assertThat(classifier.resetTime("Claude AI usage limit reached|1773162000"))
                .isEqualTo(Instant.ofEpochSecond(1773162000L));
    }

    /**
     * The agent's text is the agent's: a reset time far away would hold the breaker open, and all intake, for as
     * long as it says. It is capped at a day from now (one probe a day then).
     */
    @Test
    void aResetTimeFurtherThanADayAwayIsCappedAtADay() {
        assertThat(classifier.resetTime("Claude AI usage limit reached|99999999999"))
                .isEqualTo(CLOCK.instant().plus(Duration.ofDays(1)));
        assertThat(classifier.classify(1, false, EnvelopeParser.parse("{\"type\":\"result\",\"is_error\":true,"
                + "\"result\":\"Claude AI usage limit reached|99999999999\"}")).retryNotBefore())
                .isEqualTo(CLOCK.instant().plus(Duration.ofDays(1)));
    }

    /** Whose fault each outcome is: the breaker counts only the service's failures. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "429                 | 1 | 429  | API Error: Request rejected (429)                       | SERVICE",
            "500                 | 1 | 500  | API Error: 500 Internal server error                     | SERVICE",
            "529 without status  | 1 | null | API Error: Repeated 529 Overloaded errors               | SERVICE",
            "connection refused  | 1 | null | API Error: Unable to connect to API (ConnectionRefused) | SERVICE",
            "bad key             | 1 | 401  | Invalid API key · Fix external API key                  | SERVICE",
            "usage limit         | 1 | null | You've hit your session limit · resets 3:45pm            | SERVICE",
            "unknown API error   | 1 | null | something went wrong                                    | SERVICE",
            "400                 | 1 | 400  | API Error: 400 prompt is too long                       | INPUT",
    })
    void apiErrorsAreTheServicesAndABadRequestIsTheInputs(String what, int rc, String status, String text,
                                                          io.sandflow.job.FailureScope scope) {
        assertThat(classify(rc, apiError(status, text)).scope()).as(what).isEqualTo(scope);
    }

    @Test
    void timeoutsCrashesAndUnusableAnswersAreTheInputsOwn() {
        assertThat(classifier.classify(137, true, EnvelopeParser.parse("")).scope()).as("timeout")
                .isEqualTo(io.sandflow.job.FailureScope.INPUT);
        assertThat(classify(1, "").scope()).as("exit 1, no output").isEqualTo(io.sandflow.job.FailureScope.INPUT);
        assertThat(classify(1, "Segmentation fault").scope()).as("not JSON")
                .isEqualTo(io.sandflow.job.FailureScope.INPUT);
        assertThat(classify(1, """
                {"type":"result","subtype":"error_max_turns","is_error":true,"num_turns":31,"errors":["Reached maximum number of turns (30)"]}
                """).scope()).as("max turns").isEqualTo(io.sandflow.job.FailureScope.INPUT);
        assertThat(classify(0, EnvelopeParserTest.SUCCESS).scope()).as("success").isNull();
    }

    @Test
    void aPlainAgentWithoutAnEnvelopeSucceedsOnExitZeroWhateverItPrinted() {
        assertThat(classifier.classify(0, false, EnvelopeParser.parse("", "", false)).failureClass()).isNull();
        assertThat(classifier.classify(0, false, EnvelopeParser.parse("some chatter", "", false)).failureClass())
                .isNull();
    }

    @Test
    void aPlainAgentWithoutAnEnvelopeFailsOnAnotherExitCodeQuotingItsStderr() {
        Verdict v = classifier.classify(3, false, EnvelopeParser.parse("", "boom: disk full\n", false));

        assertThat(v.failureClass()).isEqualTo(FailureClass.TRANSIENT);
        assertThat(v.reason()).isEqualTo("the agent exited with code 3 without a result envelope: boom: disk full.");
    }

    @Test
    void aPlainAgentsEnvelopeIsClassifiedAsClaudesIs() {
        Verdict v = classifier.classify(1, false, EnvelopeParser.parse(apiError("429", "API Error: 429"), "", false));

        assertThat(v.failureClass()).isEqualTo(FailureClass.TRANSIENT);
        assertThat(v.reason()).contains("429");
    }
}
