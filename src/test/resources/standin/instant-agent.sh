#!/usr/bin/env bash
# instant-agent.sh: the fastest honest stand-in for benchmarks. It drains the prompt from
# stdin, then prints one fixed success envelope whose summary names $SANDFLOW_JOB_NAME.
# No behaviours, no logging, no forks besides `cat`: use standin-agent.sh for anything else.
cat > /dev/null
LC_ALL=C
s=${SANDFLOW_JOB_NAME:-unnamed}
s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\n'/\\n}; s=${s//$'\r'/\\r}; s=${s//$'\t'/\\t}; s=${s//[[:cntrl:]]/}
so="{\"summary\":\"Instant summary of $s.\",\"tags\":[\"standin\",\"instant\"]}"
r=${so//\\/\\\\}; r=${r//\"/\\\"}
printf '{"type":"result","subtype":"success","is_error":false,"api_error_status":null,"duration_ms":1,"duration_api_ms":1,"num_turns":1,"result":"%s","structured_output":%s,"stop_reason":"end_turn","session_id":"00000000-0000-4000-8000-000000000000","total_cost_usd":0.0,"usage":{"input_tokens":1000,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":50},"permission_denials":[]}\n' "$r" "$so"
