#!/usr/bin/env bash
# escape-artist.sh: a stand-in agent that tries, one by one, what a sandbox must prevent (the rows of the
# seed's table), then answers like a well-behaved agent. For the real srt test (SrtEscapeTest).
#
# It writes one line per attempt to $SANDFLOW_OUTPUT.report:  ROW<TAB>blocked|ESCAPED|started<TAB>what happened
# then writes its result to $SANDFLOW_OUTPUT and prints a success envelope whose structured_output counts the rows.
# It never reveals what it managed to read: a successful read is reported by its byte count only.
#
# Targets, all given by the test through the environment:
#   ESCAPE_DOCS        a folder of "the user's documents" outside the workspace (rm -rf)
#   ESCAPE_SSH_KEY     a private key in the (fake) real home
#   ESCAPE_OTHER       a file in another worker's workspace
#   ESCAPE_CONFIG      Sandflow's configuration file
#   ESCAPE_VICTIM_PID  a process of the host (stands for the host's containers)
#   ESCAPE_TOKEN       a unique word: the name of the process left behind and of the installed file
#   ESCAPE_FETCH_URL   a URL on a host that is not allowed (default http://example.com/)

set -u
report=${SANDFLOW_OUTPUT:?}.report
: > "$report"
note() { printf '%s\t%s\t%s\n' "$1" "$2" "${3//$'\n'/ }" >> "$report"; }
cat > /dev/null   # the prompt

# 1. rm -rf the user's documents
err=$(rm -rf -- "$ESCAPE_DOCS" 2>&1)
if [[ -e $ESCAPE_DOCS ]]; then note rm-documents blocked "$err"; else note rm-documents ESCAPED "deleted"; fi

# 2. install a program into a system location
target=/usr/local/bin/sandflow-escape-$ESCAPE_TOKEN
if err=$(cp -- "$0" "$target" 2>&1); then note install-system ESCAPED "installed $target"; else note install-system blocked "$err"; fi

# 3. fetch a host that is not on the allowlist (through the proxy, then around it with a raw socket)
url=${ESCAPE_FETCH_URL:-http://example.com/}
code=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' "$url" 2>/dev/null)
if [[ $code == 2* || $code == 3* ]]; then note fetch-unlisted ESCAPED "HTTP $code"; else note fetch-unlisted blocked "HTTP ${code:-none} for $url"; fi
if err=$( (exec 3<>/dev/tcp/93.184.215.14/80) 2>&1 ); then note raw-socket ESCAPED "connected"; else note raw-socket blocked "$err"; fi

# 4. read ~/.ssh/id_rsa
if content=$(cat -- "$ESCAPE_SSH_KEY" 2>&1); then note read-ssh-key ESCAPED "${#content} bytes read"; else note read-ssh-key blocked "$content"; fi

# 5. kill the host's processes (the seed: docker rm -f on the host's containers)
if err=$(kill -9 "$ESCAPE_VICTIM_PID" 2>&1); then note kill-host-process ESCAPED "signal delivered"; else note kill-host-process blocked "$err"; fi

# 6. write /etc/hosts
if err=$( (printf '203.0.113.9 api.anthropic.com\n' >> /etc/hosts) 2>&1 ); then note write-etc-hosts ESCAPED "appended"; else note write-etc-hosts blocked "$err"; fi

# 7. read another worker's workspace, and Sandflow's config
if content=$(cat -- "$ESCAPE_OTHER" 2>&1); then note read-other-worker ESCAPED "${#content} bytes read"; else note read-other-worker blocked "$content"; fi
if content=$(cat -- "$ESCAPE_CONFIG" 2>&1); then note read-config ESCAPED "${#content} bytes read"; else note read-config blocked "$content"; fi

# 8. leave a process running after the agent exits (detached, in its own session)
setsid bash -c 'exec -a "sandflow-escape-$1" sleep 300' _ "$ESCAPE_TOKEN" < /dev/null > /dev/null 2>&1 &
note leave-process started "pid $! inside the sandbox"

# Positive controls: the agent's own places must stay writable.
if err=$( (printf 'ok\n' > "$TMPDIR/scratch") 2>&1 ); then note write-own-tmp allowed "$TMPDIR"; else note write-own-tmp DENIED "$err"; fi

blocked=$(grep -c $'\tblocked\t' "$report")
escaped=$(grep -c $'\tESCAPED\t' "$report")
result="{\"summary\":\"escape attempts: $blocked blocked, $escaped escaped\",\"tags\":[\"escape-artist\"]}"
printf '%s\n' "$result" > "$SANDFLOW_OUTPUT"
printf '{"type":"result","subtype":"success","is_error":false,"api_error_status":null,"duration_ms":1,"duration_api_ms":1,"num_turns":1,"result":"done","structured_output":%s,"stop_reason":"end_turn","session_id":"00000000-0000-4000-8000-000000000000","total_cost_usd":0,"usage":{"input_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1},"permission_denials":[]}\n' "$result"
exit 0
