#!/usr/bin/env bash
# bench/resilience.sh: issue 3's figures, throughput and rate limit, measured on the real jar.
#
# Usage:  bench/resilience.sh [throughput|rate|all]      (default: all)
#   run from anywhere; it builds target/sandflow.jar first (mvn -q -o package -DskipTests)
#   unless SKIP_BUILD=1. Each benchmark works in a fresh folder under ${BENCH_TMP:-/tmp}
#   and prints the exact command it ran and its figures; nothing in the repository changes.
#
# throughput  200 inputs, the stand-in agent `slow` with STANDIN_DELAY=1 (every run takes 1 s),
#             8 workers, no sandbox (sandflow.sandbox.kind=none + allow-unsandboxed=true),
#             rate limit off (sandflow.rate.per-minute=1000000): `run --once` wall time vs the
#             ideal 200 / 8 x 1 s = 25 s (target: within 10%). Also the drain alone: from the
#             first agent start (STANDIN_LOG, epoch ms) to the exit of `run --once`, which
#             leaves out the JVM's and Camel's start-up.
# rate        sandflow.rate.per-minute=60 with an instant agent (stand-in `success`, no delay),
#             4 workers and 130 inputs (a bit over 2 minutes of work): agent starts per minute
#             from STANDIN_LOG, as (starts - 1) / (last - first) and per whole minute since the
#             first start (target: within 5% of 60/min).
#
# Sandflow is started the way the README starts it, through bin/sandflow (UTF-8 locale, the build's
# class-data archive target/sandflow.jsa); LAUNCHER=jar starts it as plain
# `java -Dfile.encoding=UTF-8 -jar target/sandflow.jar` instead, to see what the archive saves.
#
# Environment: FILES, WORKERS, DELAY (throughput); RATE_FILES, RATE (rate); BENCH_TMP; SKIP_BUILD;
#              EXTRA: more -Dkey=value settings for both, space-separated; LAUNCHER (launcher|jar).
# Needs: java 17, mvn (offline repo filled), bash, awk.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
what=${1:-all}
jar=$here/target/sandflow.jar
standin_src=$here/src/test/resources/standin/standin-agent.sh

read -ra extra <<< "${EXTRA:-}"
FILES=${FILES:-200}
WORKERS=${WORKERS:-8}
DELAY=${DELAY:-1}
RATE_FILES=${RATE_FILES:-130}
RATE=${RATE:-60}

now_ms() { local t=${EPOCHREALTIME//[!0-9]/}; echo "${t:0:${#t}-3}"; }

machine() {
    echo "machine: $(nproc) cores; $(free -h | awk '/^Mem:/ {print $2 " RAM, " $7 " available"}'); load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "java: $(java -version 2>&1 | head -1)"
}

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    (cd "$here" && mvn -q -o package -DskipTests)
fi
[[ -f $jar ]] || { echo "no $jar: build it with mvn -q -o package -DskipTests" >&2; exit 1; }

# new_work NAME: a fresh working folder with an executable copy of the stand-in; prints its path
new_work() {
    local w
    w=$(mktemp -d "${BENCH_TMP:-/tmp}/sandflow-bench-$1.XXXXXX")
    mkdir -p "$w/inbox" "$w/bin" "$w/state"
    cp "$standin_src" "$w/bin/standin-agent.sh"
    chmod +x "$w/bin/standin-agent.sh"
    echo "$w"
}

# fill WORK N BEHAVIOUR: N small JSON inputs naming the stand-in behaviour
fill() {
    local i
    for ((i = 0; i < $2; i++)); do
        printf '{"standin": "%s", "Name": "bench-%04d"}\n' "$3" "$i" > "$1/inbox/bench-$(printf %04d "$i").json"
    done
}

# run_once WORK SETTINGS...: runs `run --once` in WORK, echoing the command; sets RC and WALL_MS
run_once() {
    local w=$1; shift
    local launch=("$here/bin/sandflow")
    if [[ ${LAUNCHER:-launcher} == jar ]]; then launch=(java -Dfile.encoding=UTF-8 -jar "$jar"); fi
    local cmd=("${launch[@]}" -C "$w"
        -Dsandflow.agent.command="$w/bin/standin-agent.sh"
        -Dsandflow.sandbox.kind=none -Dsandflow.sandbox.allow-unsandboxed=true
        -Dsandflow.agent.env.STANDIN_LOG="$w/standin.log" -Dsandflow.agent.env.STANDIN_STATE_DIR="$w/state"
        "$@" "${extra[@]}" run --once)
    echo "command: LANG=C.UTF-8 ${cmd[*]}"
    local t0 t1
    t0=$(now_ms)
    set +e
    LANG=C.UTF-8 "${cmd[@]}" > "$w/daemon.log" 2>&1
    RC=$?
    set -e
    t1=$(now_ms)
    END_MS=$t1
    WALL_MS=$((t1 - t0))
}

throughput() {
    echo "== throughput: $FILES inputs, agent ${DELAY}s each, $WORKERS workers, no sandbox, rate limit off"
    machine
    local w
    w=$(new_work throughput)
    fill "$w" "$FILES" slow
    run_once "$w" -Dsandflow.workers="$WORKERS" -Dsandflow.rate.per-minute=1000000 \
        -Dsandflow.agent.env.STANDIN_DELAY="$DELAY"
    local done_n first ideal_ms
    done_n=$(find "$w/outbox" -name '*.result.json' | wc -l)
    first=$(sort -n "$w/standin.log" | head -1 | cut -d' ' -f1)
    ideal_ms=$(awk -v f="$FILES" -v w="$WORKERS" -v d="$DELAY" 'BEGIN { n = int((f + w - 1) / w); printf "%d", n * d * 1000 }')
    echo "exit code: $RC; results: $done_n of $FILES; agent runs: $(wc -l < "$w/standin.log")"
    awk -v wall="$WALL_MS" -v drain="$((END_MS - first))" -v ideal="$ideal_ms" 'BEGIN {
        printf "wall time of run --once: %.2f s (%+.1f%% vs ideal %.1f s)\n", wall / 1000, (wall - ideal) * 100 / ideal, ideal / 1000
        printf "drain (first agent start to exit): %.2f s (%+.1f%% vs ideal)\n", drain / 1000, (drain - ideal) * 100 / ideal
    }'
    echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); work folder: $w"
}

rate() {
    echo "== rate: sandflow.rate.per-minute=$RATE, instant agent, $RATE_FILES inputs, 4 workers"
    machine
    local w
    w=$(new_work rate)
    fill "$w" "$RATE_FILES" success
    run_once "$w" -Dsandflow.workers=4 -Dsandflow.rate.per-minute="$RATE"
    echo "exit code: $RC; results: $(find "$w/outbox" -name '*.result.json' | wc -l) of $RATE_FILES; wall $((WALL_MS / 1000)) s"
    sort -n "$w/standin.log" | awk -v target="$RATE" '
        { t[NR] = $1 }
        END {
            n = NR; span = (t[n] - t[1]) / 1000
            overall = (n - 1) / span * 60
            printf "agent starts: %d over %.1f s: %.2f/min overall (%+.2f%% vs %d/min)\n", n, span, overall, (overall - target) * 100 / target, target
            for (i = 1; i <= n; i++) { m = int((t[i] - t[1]) / 60000); c[m]++ }
            for (m = 0; (m + 1) * 60 <= span; m++) printf "minute %d after the first start: %d starts (%+.2f%%)\n", m + 1, c[m], (c[m] - target) * 100 / target
            # gaps between consecutive starts
            min = 1e18; max = 0
            for (i = 2; i <= n; i++) { g = t[i] - t[i-1]; if (g < min) min = g; if (g > max) max = g }
            printf "gap between starts: min %d ms, max %d ms (period %d ms)\n", min, max, 60000 / target
        }'
    echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); work folder: $w"
}

case $what in
    throughput) throughput ;;
    rate) rate ;;
    all) throughput; echo; rate ;;
    *) echo "usage: $0 [throughput|rate|all]" >&2; exit 2 ;;
esac
