#!/usr/bin/env bash
# bench/poison.sh: poison inputs must not stall the batch (issue 12, section 1), measured on the real jar.
#
# Usage:  bench/poison.sh            run from anywhere; builds target/sandflow.jar first
#                                    (mvn -q -o package -DskipTests) unless SKIP_BUILD=1
#
# What runs: a fresh folder under ${BENCH_TMP:-/tmp} with GOOD inputs (default 80) answered by the stand-in agent
# after STANDIN_DELAY=0.2 s, plus 3 inputs whose agent always hangs (stand-in `hang`) and 3 whose agent always
# exits 1 with no output (stand-in `crash`, also after the 0.2 s delay). LAYOUT=spread (default) names them all
# in-NNN.json with the poison evenly spread through the batch in name order (the last hang at about three
# quarters); LAYOUT=grouped names them crash-N, good-NNN and hang-N, so the crashes run first and the hangs last.
# `run --once` with 2 workers, no sandbox, rate limit off, sandflow.agent.timeout=2s,
# sandflow.retry.max-attempts=3, sandflow.retry.backoff.initial=1s, and the shipped breaker settings.
#
# Checked: every good input in outbox/; the 6 poison inputs in failed/ with a report saying 3 attempts and 3 agent
# runs each (from STANDIN_LOG); exit code 1; no "circuit breaker OPEN" in the log.
#
# The ideal: the worker-seconds the work needs, divided by the workers, backoffs excluded:
#   nominal   (GOOD x 0.2 s  +  3 hang x 3 attempts x 2 s  +  3 crash x 3 attempts x 0.2 s) / 2 workers
#   measured  the sum of every attempt's duration as Sandflow recorded it (sandflow_attempts: ended_at - started_at,
#             the agent process's wall time), divided by 2 workers
# Wall time is from launching `bin/sandflow` to its exit (JVM start-up and shutdown included); "drain" is from the
# first agent start (STANDIN_LOG, epoch ms) to the exit. The bar: wall time at most 1.5x the nominal ideal.
#
# Environment: GOOD (default 80), LAYOUT (spread|grouped), BENCH_TMP, SKIP_BUILD, EXTRA (more -Dkey=value
#              settings, space-separated).
# Needs: java 17, mvn (offline repo filled), bash, awk.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
jar=$here/target/sandflow.jar
standin_src=$here/src/test/resources/standin/standin-agent.sh
read -ra extra <<< "${EXTRA:-}"
GOOD=${GOOD:-80}
WORKERS=2
DELAY=0.2
TIMEOUT=2
ATTEMPTS=3

now_ms() { local t=${EPOCHREALTIME//[!0-9]/}; echo "${t:0:${#t}-3}"; }

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    (cd "$here" && mvn -q -o package -DskipTests)
fi
[[ -f $jar ]] || { echo "no $jar: build it with mvn -q -o package -DskipTests" >&2; exit 1; }

echo "machine: $(nproc) cores; $(free -h | awk '/^Mem:/ {print $2 " RAM, " $7 " available"}'); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "java: $(java -version 2>&1 | head -1); commit $(git -C "$here" rev-parse --short HEAD)"

w=$(mktemp -d "${BENCH_TMP:-/tmp}/sandflow-bench-poison.XXXXXX")
mkdir -p "$w/inbox" "$w/bin" "$w/state"
cp "$standin_src" "$w/bin/standin-agent.sh"
chmod +x "$w/bin/standin-agent.sh"

input() { printf '{"standin": "%s", "Name": "%s"}\n' "$2" "$1" > "$w/inbox/$1"; }
poison=()
if [[ ${LAYOUT:-spread} == grouped ]]; then
    for ((i = 1; i <= GOOD; i++)); do input "$(printf 'good-%03d.json' "$i")" success; done
    for i in 1 2 3; do
        input "crash-$i.json" crash; input "hang-$i.json" hang; poison+=("crash-$i.json" "hang-$i.json")
    done
else
    # GOOD + 6 inputs named in-000..; the poison ones evenly spread, hang and crash in turn
    total=$((GOOD + 6))
    step=$((total / 6))
    for ((i = 0; i < total; i++)); do
        name=$(printf 'in-%03d.json' "$i")
        behaviour=success
        if (( i % step == step / 2 && ${#poison[@]} < 6 )); then
            if (( ${#poison[@]} % 2 == 0 )); then behaviour=hang; else behaviour=crash; fi
            poison+=("$name")
        fi
        input "$name" "$behaviour"
    done
fi
echo "inputs: $GOOD good, layout ${LAYOUT:-spread}, poison: ${poison[*]}"

cmd=("$here/bin/sandflow" -C "$w"
    -Dsandflow.agent.command="$w/bin/standin-agent.sh"
    -Dsandflow.sandbox.kind=none -Dsandflow.sandbox.allow-unsandboxed=true
    -Dsandflow.agent.env.STANDIN_LOG="$w/standin.log" -Dsandflow.agent.env.STANDIN_STATE_DIR="$w/state"
    -Dsandflow.agent.env.STANDIN_DELAY="$DELAY"
    -Dsandflow.workers="$WORKERS" -Dsandflow.rate.per-minute=1000000
    -Dsandflow.agent.timeout="${TIMEOUT}s" -Dsandflow.retry.max-attempts="$ATTEMPTS"
    -Dsandflow.retry.backoff.initial=1s
    "${extra[@]}" run --once)
echo "command: LANG=C.UTF-8 ${cmd[*]}"
t0=$(now_ms)
set +e
LANG=C.UTF-8 "${cmd[@]}" > "$w/daemon.log" 2>&1
rc=$?
set -e
t1=$(now_ms)

done_n=$(find "$w/outbox" -name '*.result.json' | wc -l)
opened=$(grep -c 'circuit breaker OPEN' "$w/daemon.log" || true)
echo "exit code: $rc (want 1); results: $done_n of $GOOD; breaker opened: $opened time(s) (want 0)"
ok=1
[[ $rc == 1 && $done_n == "$GOOD" && $opened == 0 ]] || ok=0
for name in "${poison[@]}"; do
    runs=$(grep -c " $name attempt=" "$w/standin.log" || true)
    report=$w/failed/$name.error.json
    attempts=$( [[ -f $report ]] && grep -o '"attempts" *: *[0-9]*' "$report" | grep -o '[0-9]*$' || echo none)
    where=$( [[ -f $w/failed/$name ]] && echo "failed/" || echo "NOT in failed/")
    echo "  $name: $where, report attempts $attempts, agent runs $runs"
    [[ $where == failed/ && $attempts == "$ATTEMPTS" && $runs == "$ATTEMPTS" ]] || ok=0
done

# Sandflow's own record of every attempt: how long each agent run took
measured_ms=$(java -cp "$jar" org.h2.tools.Shell -url "jdbc:h2:$w/data/sandflow" -user "" -password "" \
    -sql "SELECT SUM(DATEDIFF('MILLISECOND', started_at, ended_at)) FROM sandflow_attempts" 2>"$w/h2-shell.err" \
    | awk 'NR == 2 {print $1}') || { echo "cannot read the attempts from the store: see $w/h2-shell.err"; measured_ms=0; }
first=$(sort -n "$w/standin.log" | head -1 | cut -d' ' -f1)
awk -v wall=$((t1 - t0)) -v drain=$((t1 - first)) -v good="$GOOD" -v d="$DELAY" -v t="$TIMEOUT" -v a="$ATTEMPTS" \
    -v w="$WORKERS" -v measured="${measured_ms:-0}" -v runs="$(wc -l < "$w/standin.log")" 'BEGIN {
    nominal = (good * d + 3 * a * t + 3 * a * d) / w
    printf "agent runs: %d (want %d)\n", runs, good + 6 * a
    printf "ideal (nominal): (%d x %.1f s + 3 x %d x %d s + 3 x %d x %.1f s) / %d workers = %.2f s\n", good, d, a, t, a, d, w, nominal
    printf "ideal (measured attempt durations / %d): %.2f s\n", w, measured / 1000 / w
    printf "wall time: %.2f s = %.2fx the nominal ideal (bar 1.50x); drain (first agent start to exit): %.2f s = %.2fx\n", wall / 1000, wall / 1000 / nominal, drain / 1000, drain / 1000 / nominal
}'
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); work folder: $w"
if [[ $ok == 1 ]]; then echo "outcomes: as required"; else echo "outcomes: NOT as required"; exit 1; fi
