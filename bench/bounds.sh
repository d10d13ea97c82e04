#!/usr/bin/env bash
# bench/bounds.sh: the wall-clock bars that the tests leave to a benchmark, on this machine as it is now.
#
# Usage:  bench/bounds.sh        run from anywhere; builds the jar and the test classes first
#                                (mvn -q -o package -DskipTests) unless SKIP_BUILD=1
#
# Figures, each with its bar:
#   status      `status --json` on a ledger of 100,000 jobs while a daemon holds the store (AUTO_SERVER): under 1 s
#   store       the store's status query on 50,000 rows (H2), best of 5: under 1 s
#   breaker     a breaker opened until a reset time 1.5 s away, with sandflow.breaker.open-for=200ms: still OPEN
#               at 1.2 s, HALF_OPEN within 300 ms after the reset
#   shutdown    SIGTERM to a daemon whose 2 agents hang, sandflow.shutdown.grace=1s: exits within grace + 5 s
#   drained     `run --once` over 4 instant inputs, 8 workers: from its last agent start to its exit, under 500 ms
#               (the agent's own run included; Camel's default 1 s poll of the retries queue made this 2 s)
# (io.sandflow.bench.Bounds measures the first three in one JVM; the last two start target/sandflow.jar.)
#
# Needs: java 17, mvn (offline repo filled), bash.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    mvn -q -o package -DskipTests
fi
out="$here/bench/out"
mkdir -p "$out"
echo "machine: $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg); commit $(git rev-parse --short HEAD)"

mvn -q -o dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$out/test-classpath.txt" >/dev/null
cp_test="$here/target/test-classes:$here/target/classes:$(cat "$out/test-classpath.txt")"
LANG=C.UTF-8 java -Dfile.encoding=UTF-8 -cp "$cp_test" io.sandflow.bench.Bounds 2>/dev/null

# Shutdown: two hanging agents, SIGTERM once both run
work=$(mktemp -d /tmp/sandflow-bounds.XXXXXX)
mkdir -p "$work/inbox" "$work/bin" "$work/state"
cp src/test/resources/standin/standin-agent.sh "$work/bin/agent.sh"
chmod +x "$work/bin/agent.sh"
for name in a b c; do printf '{"Name": "%s"}\n' "$name" > "$work/inbox/$name.json"; done
LANG=C.UTF-8 java -Dfile.encoding=UTF-8 -jar target/sandflow.jar -C "$work" \
    -Dsandflow.agent.command="$work/bin/agent.sh" -Dsandflow.sandbox.kind=none \
    -Dsandflow.sandbox.allow-unsandboxed=true -Dsandflow.workers=2 -Dsandflow.shutdown.grace=1s \
    -Dsandflow.agent.timeout=5m -Dsandflow.intake.settle=50ms -Dsandflow.intake.poll=100ms \
    -Dsandflow.agent.env.STANDIN_BEHAVIOUR=hang-with-child -Dsandflow.agent.env.STANDIN_LOG="$work/standin.log" \
    -Dsandflow.agent.env.STANDIN_STATE_DIR="$work/state" run 2>"$work/daemon.log" &
pid=$!
for _ in $(seq 1 600); do
    [[ -f $work/standin.log && $(wc -l < "$work/standin.log") -ge 2 ]] && break
    sleep 0.1
done
t0=${EPOCHREALTIME//[!0-9]/}
kill -TERM "$pid"
wait "$pid" || true
t1=${EPOCHREALTIME//[!0-9]/}
ms=$(( (t1 - t0) / 1000 ))
verdict=MISSED
(( ms <= 6000 )) && verdict=met
echo "SIGTERM to exit with 2 hanging agents, grace 1 s: $ms ms (bar: at most 6000 ms) $verdict"
rm -rf "$work"

# Drained: the exit follows the last result at once
work=$(mktemp -d /tmp/sandflow-bounds.XXXXXX)
mkdir -p "$work/inbox" "$work/bin"
cp src/test/resources/standin/standin-agent.sh "$work/bin/agent.sh"
chmod +x "$work/bin/agent.sh"
for name in a b c d; do printf '{"Name": "%s"}\n' "$name" > "$work/inbox/$name.json"; done
LANG=C.UTF-8 java -Dfile.encoding=UTF-8 -jar target/sandflow.jar -C "$work" \
    -Dsandflow.agent.command="$work/bin/agent.sh" -Dsandflow.sandbox.kind=none \
    -Dsandflow.sandbox.allow-unsandboxed=true -Dsandflow.workers=8 -Dsandflow.rate.per-minute=1000000 \
    -Dsandflow.agent.env.STANDIN_LOG="$work/standin.log" run --once 2>"$work/daemon.log" || true
t1=${EPOCHREALTIME//[!0-9]/}
last=$(sort -n "$work/standin.log" | tail -1 | cut -d' ' -f1)
ms=$(( t1 / 1000 - last ))
verdict=MISSED
(( ms < 500 )) && verdict=met
echo "run --once, last agent start to exit, 4 instant inputs: $ms ms (bar: under 500 ms) $verdict"
rm -rf "$work"
