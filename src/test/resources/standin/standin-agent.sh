#!/usr/bin/env bash
# standin-agent.sh: a scripted stand-in for `claude -p --output-format json`, for tests.
#
# Sandflow runs it exactly as it would run the real CLI: COMMAND [flags...] with the
# prompt on stdin. It prints ONE result envelope on stdout, shaped like the CLI's, and
# exits 0 or 1 the way the CLI does (see docs/AGENT-CLI.md in the shared docs).
#
# Which behaviour: the input file ($SANDFLOW_INPUT) may contain  "standin": "<behaviour>"
# (first match wins); otherwise $STANDIN_BEHAVIOUR; otherwise "success".
#
# Behaviours
#   success               structured_output {"summary": ..., "tags": ["standin"]} + result text
#   write-file            no structured_output; the JSON is written to $SANDFLOW_OUTPUT
#   fenced                result text holds the JSON inside a ```json fence
#   invalid-json          result "this is not json"
#   schema-mismatch       structured_output {"summary": 42}
#   no-structured-output  result "All done." and nothing else
#   max-turns             subtype error_max_turns, errors[], rc 1 (honours --max-turns N)
#   max-structured-retries subtype error_max_structured_output_retries, rc 1
#   rate-limit            is_error, api_error_status 429, rc 1
#   overloaded            is_error, api_error_status null, "Repeated 529 Overloaded errors", rc 1
#   server-error          is_error, api_error_status 500, rc 1
#   auth                  is_error, api_error_status 401, "Invalid API key · Fix external API key", rc 1
#   bad-request           is_error, api_error_status 400, rc 1
#   usage-limit           is_error, "You've hit your session limit · resets 3:45pm", rc 1
#   connection            is_error, "API Error: Unable to connect to API (ConnectionRefused)", rc 1
#   empty                 prints nothing, rc 0
#   crash                 prints nothing at all (stdout and stderr), rc 1: a crash without an API error
#   hang                  never answers (becomes a single `sleep infinity`)
#   hang-with-child       starts `sleep 3000 &`, records its pid, then never answers
#   fork-child            starts `sleep 3000 &`, records its pid, succeeds at once; the child
#                         keeps the inherited stdout/stderr open unless STANDIN_CHILD_FDS=closed
#   detach-child          starts `setsid sleep 3000 &` (its own session and process group), records its pid,
#                         and succeeds at once
#   huge-output           ~30 MB of junk lines, then a success envelope
#   slow                  success after $STANDIN_DELAY seconds (default 1)
#   flaky-N               429 envelope for the first N calls of this job name, then success
#   invalid-then-ok       schema-mismatch on attempt 1, success from attempt 2 ($SANDFLOW_ATTEMPT)
#   arabic                success with an Arabic summary
#   masader               success with a Masader assessment (the masader profile's schema): the score is the
#                         input's "standin_score" (default 50), the grade its band, the name the input's "Name"
#   outage                429 while $STANDIN_STATE_DIR/outage exists, success after it is removed
#   plain-print           the plain contract's first way: prints only the result JSON (no envelope), rc 0
#   plain-file            the plain contract's second way: writes the result JSON to $SANDFLOW_OUTPUT, prints
#                         nothing, rc 0
#   plain-chatter-file    prints progress lines (one of them a JSON object that is not the result), writes the
#                         result to $SANDFLOW_OUTPUT, rc 0
#   plain-crash           prints "standin crashed" on stderr and nothing on stdout, rc 3
#
# Environment read
#   SANDFLOW_INPUT, SANDFLOW_OUTPUT, SANDFLOW_ATTEMPT, SANDFLOW_JOB_NAME  (from Sandflow)
#   STANDIN_BEHAVIOUR   default behaviour when the input does not name one
#   STANDIN_DELAY       seconds (fractions allowed, e.g. 0.2) to sleep before answering
#   STANDIN_LOG         append "<epoch-ms> <behaviour> <job name> attempt=<n> pid=<pid>" per call
#   STANDIN_STATE_DIR   keeps <name>.attempt-<n>.prompt, <name>.count (flaky-N), <name>.pids
#   STANDIN_CHILD_FDS   "closed" detaches forked children from stdout/stderr
#
# Speed matters (benchmarks call this thousands of times): apart from `cat` draining stdin
# and the sleeps/children a behaviour asks for, everything is a bash builtin.
# Safety: every expansion is quoted, nothing is eval'ed, file names are only ever used as
# "$STANDIN_STATE_DIR/<name>..." so a leading dash cannot turn into an option.

set -u
LC_ALL=C   # byte-wise pattern matching: UTF-8 multi-byte sequences never contain ASCII bytes

t0=${EPOCHREALTIME//[!0-9]/}           # microseconds since the epoch, whatever the locale's decimal mark
job=${SANDFLOW_JOB_NAME:-unnamed}
attempt=${SANDFLOW_ATTEMPT:-1}
[[ $attempt =~ ^[0-9]+$ ]] || attempt=1
state=${STANDIN_STATE_DIR:-}

# 1. Drain stdin (the prompt); keep it byte for byte when a state dir is given.
if [[ -n $state ]]; then
    cat > "$state/$job.attempt-$attempt.prompt"
else
    cat > /dev/null
fi

# 2. Pick the behaviour: the input file first (only its first 64 KiB are looked at).
behaviour=${STANDIN_BEHAVIOUR:-success}
if [[ -n ${SANDFLOW_INPUT:-} && -r $SANDFLOW_INPUT && -f $SANDFLOW_INPUT ]]; then
    head_text=
    IFS= read -r -d '' -N 65536 head_text < "$SANDFLOW_INPUT" || true
    if [[ $head_text =~ \"standin\"[[:space:]]*:[[:space:]]*\"([^\"]+)\" ]]; then
        behaviour=${BASH_REMATCH[1]}
    fi
    if [[ $behaviour == masader ]]; then
        [[ $head_text =~ \"standin_score\"[[:space:]]*:[[:space:]]*([0-9]+) ]] && score=${BASH_REMATCH[1]}
        [[ $head_text =~ \"Name\"[[:space:]]*:[[:space:]]*\"([^\"]*)\" ]] && dataset=${BASH_REMATCH[1]}
    fi
    unset head_text
fi

# 3. Log the call (one printf, one write: safe for concurrent appends with O_APPEND).
if [[ -n ${STANDIN_LOG:-} ]]; then
    printf '%s %s %s attempt=%s pid=%s\n' "${t0:0:${#t0}-3}" "$behaviour" "$job" "$attempt" "$$" >> "$STANDIN_LOG"
fi

# --max-turns N from the argv, for the error_max_turns envelope.
max_turns=10
prev=
for arg in "$@"; do
    if [[ $prev == --max-turns && $arg =~ ^[0-9]+$ ]]; then max_turns=$arg; fi
    prev=$arg
done

# ---------------------------------------------------------------------------------------
# JSON helpers (set REPLY; no subshells)

# json_string TEXT: REPLY becomes TEXT as a JSON string literal, quotes included.
json_string() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\n'/\\n}
    s=${s//$'\r'/\\r}
    s=${s//$'\t'/\\t}
    s=${s//[[:cntrl:]]/}
    REPLY="\"$s\""
}

# session_id: REPLY becomes a random version-4 UUID.
session_id() {
    printf -v REPLY '%04x%04x-%04x-4%03x-%04x-%04x%04x%04x' \
        "$RANDOM" "$RANDOM" "$RANDOM" "$((RANDOM & 0xfff))" \
        "$(((RANDOM & 0x3fff) | 0x8000))" "$RANDOM" "$RANDOM" "$RANDOM"
}

elapsed_ms() {
    local now=${EPOCHREALTIME//[!0-9]/}
    REPLY=$(((now - t0) / 1000))
}

cost=${STANDIN_COST_USD:-0.0}
[[ $cost =~ ^[0-9]+(\.[0-9]+)?$ ]] || cost=0.0

# emit_success RESULT_TEXT [STRUCTURED_OUTPUT_JSON]: success envelope, exit 0.
emit_success() {
    local result so=
    json_string "$1"; result=$REPLY
    if [[ -n ${2:-} ]]; then so=",\"structured_output\":$2"; fi
    elapsed_ms; local ms=$REPLY
    session_id
    printf '{"type":"result","subtype":"success","is_error":false,"api_error_status":null,"duration_ms":%d,"duration_api_ms":%d,"num_turns":2,"result":%s%s,"stop_reason":"end_turn","session_id":"%s","total_cost_usd":%s,"usage":{"input_tokens":1200,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":80},"permission_denials":[]}\n' \
        "$ms" "$ms" "$result" "$so" "$REPLY" "$cost"
    exit 0
}

# emit_api_error STATUS_JSON RESULT_TEXT: the CLI's "success but is_error" envelope, exit 1.
emit_api_error() {
    local result
    json_string "$2"; result=$REPLY
    elapsed_ms; local ms=$REPLY
    session_id
    printf '{"type":"result","subtype":"success","is_error":true,"api_error_status":%s,"duration_ms":%d,"duration_api_ms":0,"num_turns":1,"result":%s,"stop_reason":"stop_sequence","session_id":"%s","total_cost_usd":0,"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0},"permission_denials":[]}\n' \
        "$1" "$ms" "$result" "$REPLY"
    exit 1
}

# emit_error_subtype SUBTYPE TURNS ERROR_TEXT: error_* envelope without a result key, exit 1.
emit_error_subtype() {
    local err
    json_string "$3"; err=$REPLY
    elapsed_ms; local ms=$REPLY
    session_id
    printf '{"type":"result","subtype":"%s","is_error":true,"duration_ms":%d,"duration_api_ms":%d,"num_turns":%d,"errors":[%s],"stop_reason":"tool_use","session_id":"%s","total_cost_usd":%s,"usage":{"input_tokens":4000,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":300},"permission_denials":[]}\n' \
        "$1" "$ms" "$ms" "$2" "$err" "$REPLY" "$cost"
    exit 1
}

# fork_sleeper: start `sleep 3000` in the background and record its pid.
fork_sleeper() {
    if [[ ${STANDIN_CHILD_FDS:-} == closed ]]; then
        sleep 3000 < /dev/null > /dev/null 2>&1 &
    else
        sleep 3000 < /dev/null &
    fi
    if [[ -n $state ]]; then
        printf '%s\n' "$!" >> "$state/$job.pids"
    fi
}

json_string "Stand-in summary of $job: the file was read and summarised."
summary=$REPLY
good_json="{\"summary\":$summary,\"tags\":[\"standin\"]}"

# ---------------------------------------------------------------------------------------
# 4. The optional delay, then the behaviour.

delay=${STANDIN_DELAY:-}
if [[ $behaviour == slow && -z $delay ]]; then delay=1; fi
if [[ -n $delay && $delay =~ ^[0-9]*\.?[0-9]+$ ]]; then
    sleep "$delay"
fi

case $behaviour in
    success|slow)
        emit_success "$good_json" "$good_json" ;;
    write-file)
        if [[ -z ${SANDFLOW_OUTPUT:-} ]]; then
            emit_api_error null "Stand-in: write-file needs SANDFLOW_OUTPUT"
        fi
        if ! printf '%s\n' "$good_json" > "$SANDFLOW_OUTPUT"; then
            emit_api_error null "Stand-in: could not write $SANDFLOW_OUTPUT"
        fi
        emit_success "I wrote the summary to $SANDFLOW_OUTPUT." ;;
    fenced)
        emit_success $'Here is the summary you asked for:\n\n```json\n'"$good_json"$'\n```\n' ;;
    invalid-json)
        emit_success "this is not json" ;;
    schema-mismatch)
        emit_success '{"summary":42}' '{"summary":42}' ;;
    no-structured-output)
        emit_success "All done." ;;
    max-turns)
        emit_error_subtype error_max_turns "$((max_turns + 1))" "Reached maximum number of turns ($max_turns)" ;;
    max-structured-retries)
        emit_error_subtype error_max_structured_output_retries 6 "Failed to provide valid structured output after 5 attempts" ;;
    outage)
        # 429 while "$STANDIN_STATE_DIR/outage" exists (the API is down), success once it is removed
        if [[ -n $state && -e $state/outage ]]; then
            emit_api_error 429 'API Error: Request rejected (429) · {"type":"error","error":{"type":"rate_limit_error","message":"outage"}}'
        else
            emit_success "$good_json" "$good_json"
        fi ;;
    rate-limit)
        emit_api_error 429 'API Error: Request rejected (429) · {"type":"error","error":{"type":"rate_limit_error","message":"Number of requests has exceeded your rate limit"}}' ;;
    overloaded)
        emit_api_error null 'API Error: Repeated 529 Overloaded errors · check https://status.anthropic.com' ;;
    server-error)
        emit_api_error 500 'API Error: 500 {"type":"error","error":{"type":"api_error","message":"Internal server error"}}' ;;
    auth)
        emit_api_error 401 'Invalid API key · Fix external API key' ;;
    bad-request)
        emit_api_error 400 'API Error: 400 {"type":"error","error":{"type":"invalid_request_error","message":"messages: prompt is too long"}}' ;;
    usage-limit)
        emit_api_error null "You've hit your session limit · resets 3:45pm" ;;
    connection)
        emit_api_error null 'API Error: Unable to connect to API (ConnectionRefused)' ;;
    empty)
        exit 0 ;;
    crash)
        exit 1 ;;
    plain-print)
        printf '%s\n' "$good_json"
        exit 0 ;;
    plain-file)
        printf '%s\n' "$good_json" > "${SANDFLOW_OUTPUT:?}"
        exit 0 ;;
    plain-chatter-file)
        printf 'reading the input...\n{"progress": 50}\nwriting the answer\n'
        printf '%s\n' "$good_json" > "${SANDFLOW_OUTPUT:?}"
        exit 0 ;;
    plain-crash)
        printf 'standin crashed\n' >&2
        exit 3 ;;
    hang)
        exec sleep infinity ;;
    hang-with-child)
        fork_sleeper
        exec sleep infinity ;;
    fork-child)
        fork_sleeper
        emit_success "$good_json" "$good_json" ;;
    detach-child)
        setsid sleep 3000 < /dev/null > /dev/null 2>&1 &
        if [[ -n $state ]]; then
            printf '%s\n' "$!" >> "$state/$job.pids"
        fi
        emit_success "$good_json" "$good_json" ;;
    huge-output)
        # 30 MiB of junk lines from two coreutils, then the envelope on its own line.
        yes 'standin junk output line, ignore me .......................................' | head -c 31457280
        printf '\n'
        emit_success "$good_json" "$good_json" ;;
    flaky-*)
        n=${behaviour#flaky-}
        [[ $n =~ ^[0-9]+$ ]] || emit_api_error null "Stand-in: bad behaviour '$behaviour'"
        if [[ -n $state ]]; then
            count=0
            if [[ -f $state/$job.count ]]; then
                read -r count < "$state/$job.count" || true
                [[ $count =~ ^[0-9]+$ ]] || count=0
            fi
            count=$((count + 1))
            printf '%d\n' "$count" > "$state/$job.count"
        else
            count=$attempt   # no state dir: the attempt number is the best call counter we have
        fi
        if ((count <= n)); then
            emit_api_error 429 "API Error: Request rejected (429) · flaky stand-in call $count of $n"
        fi
        emit_success "$good_json" "$good_json" ;;
    invalid-then-ok)
        if ((attempt <= 1)); then
            emit_success '{"summary":42}' '{"summary":42}'
        fi
        emit_success "$good_json" "$good_json" ;;
    masader)
        score=${score:-50}
        ((score > 100)) && score=100
        if ((score >= 80)); then grade=ممتاز; elif ((score >= 60)); then grade=جيد
        elif ((score >= 40)); then grade=مقبول; else grade=ضعيف; fi
        json_string "${dataset:-$job}"; name_json=$REPLY
        parts=
        for part in سهولة_الوصول التوثيق السلامة_الأخلاقية الترخيص قابلية_إعادة_الإنتاج المراجعة_العلمية جودة_البيانات; do
            parts+="${parts:+,}\"$part\":$score"
        done
        assessment="{\"الاسم\":$name_json,\"الاسم_الأصلي\":$name_json,\"درجة_الجودة\":$score,\"تقدير_الجودة\":\"$grade\",\"الملخص\":\"تقييم تجريبي من الوكيل البديل.\",\"فحص_البيانات\":{\"الطريقة_المستخدمة\":\"metadata_only\",\"عدد_العينات_المفحوصة\":0,\"معاينة_العينات\":[],\"مشاكل_مكتشفة\":[],\"البيانات_تطابق_الوصف\":true},\"نقاط_القوة\":[],\"نقاط_الضعف\":[],\"الاستخدامات_الموصى_بها\":[],\"تفصيل_الجودة\":{$parts},\"المصادر_المفتوحة\":[],\"تم_تحميل_البيانات\":false}"
        emit_success "$assessment" "$assessment" ;;
    arabic)
        json_string "ملخص تجريبي للملف «$job»: قرأ الوكيل البديل الملف ولخّص محتواه بجملة واحدة."
        arabic_json="{\"summary\":$REPLY,\"tags\":[\"standin\",\"عربي\"]}"
        emit_success "$arabic_json" "$arabic_json" ;;
    *)
        printf 'standin-agent: unknown behaviour: %s\n' "$behaviour" >&2
        emit_api_error null "Stand-in: unknown behaviour '$behaviour'" ;;
esac
