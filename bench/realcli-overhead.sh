#!/usr/bin/env bash
# bench/realcli-overhead.sh: what one job costs in wall time around an instant model, layer by layer:
# Sandflow alone, the real Claude Code CLI alone, the CLI inside srt, and Sandflow running the CLI inside srt.
#
# Usage (from anywhere):
#   bench/realcli-overhead.sh            # N=10 CLI calls per variant, 100 inputs for Sandflow alone
#   N=20 N_INSTANT=200 bench/realcli-overhead.sh
#
# Needs: java, maven (to build the jar and the test classes once), claude and srt on PATH
# (bin/install-test-deps installs both). No account and no network: the model is the project's scripted
# Messages API stand-in (src/test/java/io/sandflow/realcli/ScriptedMessagesApi.java) on 127.0.0.1, answering
# every call at once with a StructuredOutput call that matches the default schema.
#
# Variants, run one after the other (cli and cli-srt interleaved) on the same inputs (each input is the default job: summarise one file):
#   sandflow-instant  java -jar target/sandflow.jar run --once over N_INSTANT inputs, no sandbox, agent =
#                     src/test/resources/standin/instant-agent.sh: Sandflow's own per-job overhead
#   cli               N sequential `claude -p --output-format json --json-schema ...` calls, the prompt on stdin,
#                     the same argv and environment Sandflow builds (render prints it)
#   cli-srt           the same inside `srt -s SETTINGS -- env -u NO_PROXY -u no_proxy claude ...`
#   sandflow-cli-srt  run --once over N inputs, sandflow.sandbox.kind=srt, agent claude, 1 worker
# "per job" is the variant's wall time divided by its inputs; for the two Sandflow variants the JVM's
# start-up and shutdown are included, so they are also printed separately as "fixed".
set -euo pipefail
export LANG=C.UTF-8 LC_ALL=C.UTF-8

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
project=$(cd "$here/.." && pwd)
n=${N:-10}
n_instant=${N_INSTANT:-100}
jar=$project/target/sandflow.jar

die() { echo "realcli-overhead.sh: $*" >&2; exit 2; }
for tool in java mvn claude srt; do command -v "$tool" >/dev/null || die "$tool not found (bin/install-test-deps)"; done

cd "$project"
if [[ ! -f $jar || ! -d target/test-classes/io/sandflow/realcli ]]; then
    echo "building the jar and the test classes ..." >&2
    mvn -q -o package -DskipTests || mvn -q package -DskipTests
fi
scratch=$(mktemp -d "${TMPDIR:-/tmp}/sandflow-realcli-bench.XXXXXX")
api_pid=
cleanup() {
    [[ -n $api_pid ]] && kill "$api_pid" 2>/dev/null || true
    rm -rf "$scratch"
}
trap cleanup EXIT

# --- the instant model ---
mvn -q -o dependency:build-classpath -Dmdep.outputFile="$scratch/cp.txt" >/dev/null
mkfifo "$scratch/api.in"
java -cp "target/test-classes:target/classes:$(cat "$scratch/cp.txt")" io.sandflow.realcli.ScriptedMessagesApi \
    <"$scratch/api.in" >"$scratch/api.port" &
api_pid=$!
exec 3>"$scratch/api.in"   # the stand-in serves until this is closed
for _ in $(seq 100); do [[ -s $scratch/api.port ]] && break; sleep 0.1; done
port=$(head -1 "$scratch/api.port")
[[ $port =~ ^[0-9]+$ ]] || die "the stand-in did not start"
base_url=http://127.0.0.1:$port

now() { date +%s.%N; }
per() { awk -v t="$1" -v n="$2" 'BEGIN { printf "%.2f", t / n }'; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

make_inputs() { # DIR COUNT
    mkdir -p "$1"
    for ((i = 1; i <= $2; i++)); do
        printf '{"Name": "input %03d", "Description": "benchmark input number %d"}\n' "$i" "$i" >"$1/in-$(printf %03d "$i").json"
    done
}

common=(-Dsandflow.intake.settle=50ms -Dsandflow.intake.poll=50ms -Dsandflow.rate.per-minute=1000000
        -Dsandflow.workers=1)

# --- sandflow-instant: an empty run first, for the JVM's fixed cost ---
cp "$project/src/test/resources/standin/instant-agent.sh" "$scratch/instant-agent.sh"
chmod +x "$scratch/instant-agent.sh"
instant=(-Dsandflow.agent.command="$scratch/instant-agent.sh" -Dsandflow.sandbox.kind=none
         -Dsandflow.sandbox.allow-unsandboxed=true)
mkdir -p "$scratch/empty/inbox"
t=$(now); java -jar "$jar" -C "$scratch/empty" "${common[@]}" "${instant[@]}" run --once >/dev/null 2>&1
fixed=$(since "$t")
make_inputs "$scratch/sf-instant/inbox" "$n_instant"
t=$(now); java -jar "$jar" -C "$scratch/sf-instant" "${common[@]}" "${instant[@]}" run --once >/dev/null 2>&1
sf_instant=$(since "$t")
[[ $(ls "$scratch/sf-instant/outbox" | wc -l) -eq $n_instant ]] || die "sandflow-instant: not every input has a result"

# --- cli and cli-srt: the argv and environment Sandflow builds, without Sandflow ---
ws=$scratch/ws
mkdir -p "$ws/home/.claude" "$ws/tmp" "$ws/input"
echo '{"Name": "probe"}' >"$ws/input/probe.json"
schema=$(tr -d '\n' <"$project/schemas/default.schema.json" | sed 's/"\$schema": *"[^"]*", *//')
cat >"$scratch/srt.json" <<EOF
{"network": {"allowedDomains": ["127.0.0.1:$port"], "deniedDomains": []},
 "filesystem": {"denyRead": [], "allowRead": [], "allowWrite": ["$ws"], "denyWrite": []}}
EOF
claude_argv=(claude -p --output-format json --json-schema "$schema" --no-session-persistence --max-turns 30
             --dangerously-skip-permissions)
run_cli() { # PREFIX...
    (cd "$ws" && env HOME="$ws/home" CLAUDE_CONFIG_DIR="$ws/home/.claude" CLAUDE_CODE_TMPDIR="$ws/tmp" TMPDIR="$ws/tmp" \
        CLAUDE_CODE_MAX_RETRIES=0 CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 IS_SANDBOX=1 \
        ANTHROPIC_BASE_URL="$base_url" ANTHROPIC_API_KEY=bench-key "$@" "${claude_argv[@]}" \
        <<<"Summarise $ws/input/probe.json." | grep -q '"structured_output"') || die "a CLI call failed: $*"
}
# Interleaved, one call of each per round, each timed alone: other load on the machine then hits both alike,
# and the median per call is printed next to the mean.
cli_times=() srt_times=()
for ((i = 0; i < n; i++)); do
    t=$(now); run_cli; cli_times+=("$(since "$t")")
    t=$(now); run_cli srt -s "$scratch/srt.json" -- env -u NO_PROXY -u no_proxy; srt_times+=("$(since "$t")")
done
sum() { printf '%s\n' "$@" | awk '{ s += $1 } END { printf "%.2f", s }'; }
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
cli=$(sum "${cli_times[@]}") cli_srt=$(sum "${srt_times[@]}")

# --- sandflow-cli-srt ---
make_inputs "$scratch/sf-srt/inbox" "$n"
t=$(now)
ANTHROPIC_API_KEY=bench-key java -jar "$jar" -C "$scratch/sf-srt" "${common[@]}" -Dsandflow.agent.command=claude \
    -Dsandflow.sandbox.kind=srt -Dsandflow.agent.base-url="$base_url" -Dsandflow.agent.cli-retries=0 \
    -Dsandflow.sandbox.network.allow="127.0.0.1:$port" run --once >/dev/null 2>&1
sf_srt=$(since "$t")
[[ $(ls "$scratch/sf-srt/outbox" | wc -l) -eq $n ]] || die "sandflow-cli-srt: not every input has a result"

exec 3>&-
printf '\n%-18s %6s %8s %10s %10s\n' variant jobs "wall s" "s per job" "median s"
printf '%-18s %6s %8s %10s %10s\n' "sandflow (fixed)" 0 "$fixed" "-" "-"
printf '%-18s %6d %8s %10s %10s\n' sandflow-instant "$n_instant" "$sf_instant" "$(per "$(awk -v a="$sf_instant" -v b="$fixed" 'BEGIN{print a-b}')" "$n_instant")" "-"
printf '%-18s %6d %8s %10s %10s\n' cli "$n" "$cli" "$(per "$cli" "$n")" "$(median "${cli_times[@]}")"
printf '%-18s %6d %8s %10s %10s\n' cli-srt "$n" "$cli_srt" "$(per "$cli_srt" "$n")" "$(median "${srt_times[@]}")"
printf '%-18s %6d %8s %10s %10s\n' sandflow-cli-srt "$n" "$sf_srt" "$(per "$(awk -v a="$sf_srt" -v b="$fixed" 'BEGIN{print a-b}')" "$n")" "-"
echo "(per job for the two Sandflow variants: wall time minus the fixed JVM start-up and shutdown, divided by jobs)"
echo "machine: $(nproc) cores, $(claude --version | cut -d' ' -f1) claude, load $(cut -d' ' -f1-3 /proc/loadavg)"
