#!/usr/bin/env bash
# bench/cluster.sh: throughput of 1, 2 and 3 Sandflow nodes sharing one inbox and one PostgreSQL job store.
#
# Usage: bench/cluster.sh [FILES] [AGENT_SECONDS]      (defaults: 240 files, 0.5 s agent)
#
# Each node runs 2 workers and a stand-in agent that sleeps AGENT_SECONDS and answers a valid result, with no
# sandbox (the figure is Sandflow's coordination, not the sandbox's cost). PostgreSQL is the embedded server the
# tests use (io.zonky.test:embedded-postgres), started fresh for each node count. The nodes start on an empty
# inbox; once all are up, the files are moved in at once. For each count it reports the drain's wall time (from
# the drop to the last result), files per second, and the
# scaling efficiency: throughput(k nodes) / (k x throughput(1 node)). Figures go to stdout and bench/out/.
set -euo pipefail
export LANG=C.UTF-8 LC_ALL=C.UTF-8

files=${1:-240}
agent_seconds=${2:-0.5}
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
out="$here/bench/out"
mkdir -p "$out"

cd "$here"
if [[ ! -f target/sandflow.jar || ! -d target/test-classes/io/sandflow/bench ]]; then
    mvn -q -o package -DskipTests
fi
mvn -q -o dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$out/test-classpath.txt" >/dev/null
cp_test="$here/target/test-classes:$here/target/classes:$(cat "$out/test-classpath.txt")"

run_nodes() {
    local nodes=$1 work
    work=$(mktemp -d /tmp/sandflow-cluster-bench.XXXXXX)
    mkdir -p "$work/shared/inbox" "$work/staging" "$work/bin"
    cp src/test/resources/standin/standin-agent.sh "$work/bin/agent.sh"
    chmod +x "$work/bin/agent.sh"
    for ((i = 0; i < files; i++)); do
        printf '{"standin": "slow", "Name": "dataset %d"}\n' "$i" > "$work/staging/$(printf 'input-%05d.json' "$i")"
    done

    # PostgreSQL: it prints JDBC_URL=… once up; closing its stdin stops it
    coproc PG { java -cp "$cp_test" io.sandflow.bench.BenchPostgres 2>&1; }
    local url="" line
    while read -r line <&"${PG[0]}"; do
        if [[ $line == JDBC_URL=* ]]; then url=${line#JDBC_URL=}; break; fi
    done
    [[ -n $url ]] || { echo "cluster.sh: PostgreSQL did not start" >&2; exit 1; }

    local pids=()
    for ((n = 1; n <= nodes; n++)); do
        mkdir -p "$work/node-$n"
        SANDFLOW_STORE_USER=postgres java -Dfile.encoding=UTF-8 -jar target/sandflow.jar -C "$work/node-$n" \
            -Dsandflow.node.id="node-$n" -Dsandflow.store.url="$url" \
            -Dsandflow.inbox="$work/shared/inbox" -Dsandflow.outbox="$work/shared/outbox" \
            -Dsandflow.failed="$work/shared/failed" -Dsandflow.archive="$work/shared/archive" \
            -Dsandflow.workers=2 -Dsandflow.sandbox.kind=none -Dsandflow.sandbox.allow-unsandboxed=true \
            -Dsandflow.agent.command="$work/bin/agent.sh" -Dsandflow.agent.env.STANDIN_DELAY="$agent_seconds" \
            -Dsandflow.agent.env.STANDIN_LOG="$work/agent.log" -Dsandflow.rate.per-minute=1000000 \
            -Dsandflow.intake.settle=50ms -Dsandflow.intake.poll=200ms -Dsandflow.intake.batch=20 \
            run > "$work/node-$n.log" 2>&1 &
        pids+=($!)
    done
    # Every node up before the files arrive: the figure is the cluster's throughput, not JVM start-up
    for ((n = 1; n <= nodes; n++)); do
        until grep -q "Sandflow running on node" "$work/node-$n.log" 2>/dev/null; do
            kill -0 "${pids[$((n - 1))]}" 2>/dev/null || { echo "cluster.sh: node-$n exited; see $work/node-$n.log" >&2; exit 1; }
            sleep 0.1
        done
    done
    sleep 2
    local dropped_at
    dropped_at=$(date +%s%3N)
    find "$work/staging" -name '*.json' -exec mv -t "$work/shared/inbox" {} +
    while (( $(find "$work/shared/outbox" -name '*.result.json' 2>/dev/null | wc -l) < files )); do
        for pid in "${pids[@]}"; do
            if ! kill -0 "$pid" 2>/dev/null; then
                echo "cluster.sh: a node exited early; see $work/node-*.log" >&2
                exit 1
            fi
        done
        sleep 0.2
    done
    local done_at
    done_at=$(date +%s%3N)
    kill -TERM "${pids[@]}"
    wait "${pids[@]}" 2>/dev/null || true
    exec {PG[1]}>&-
    wait "$PG_PID" 2>/dev/null || true

    local first runs
    first=$dropped_at
    runs=$(wc -l < "$work/agent.log")
    local failed
    failed=$(find "$work/shared/failed" -name '*.json' 2>/dev/null | wc -l)
    awk -v n="$nodes" -v f="$files" -v a="$first" -v b="$done_at" -v r="$runs" -v x="$failed" 'BEGIN {
        s = (b - a) / 1000; printf "%d %d %.2f %.2f %d %d\n", n, f, s, f / s, r, x }'
    rm -rf "$work"
}

printf 'nodes files drain_s files_per_s agent_runs failed\n'
declare -A tput
for nodes in 1 2 3; do
    line=$(run_nodes "$nodes")
    echo "$line"
    tput[$nodes]=$(echo "$line" | cut -d' ' -f4)
    echo "$(date -Is) cluster $line" >> "$out/results.csv"
done
for nodes in 2 3; do
    awk -v k="$nodes" -v t1="${tput[1]}" -v tk="${tput[$nodes]}" \
        'BEGIN { printf "scaling efficiency with %d nodes: %.2f\n", k, tk / (k * t1) }'
done
