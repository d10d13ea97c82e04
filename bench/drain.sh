#!/usr/bin/env bash
# bench/drain.sh: how fast Sandflow drains an inbox compared with the plain bash loop it replaces.
#
# Usage (from anywhere; LANG=C.UTF-8 is set for you, the corpus has a file with an Arabic name):
#   bench/drain.sh                      # 2 repetitions of: loop, Sandflow 1 worker, Sandflow 2 workers
#   REPS=3 BATCH=200 bench/drain.sh     # more repetitions, another sandflow.intake.batch
#   CORPUS=/none N=2000 bench/drain.sh  # no corpus: generate N small JSON inputs instead
#
# Environment (all optional):
#   CORPUS   folder of *.json inputs; default ../shared/corpus/masader/datasets next to the project
#   N        how many inputs to generate when CORPUS is absent (default 1152)
#   REPS     repetitions of the whole set (default 2); the variants run interleaved in each one
#   WORKERS  Sandflow worker counts to try (default "1 2")
#   BATCH    sandflow.intake.batch (default 100, the built-in default)
#   POLL     sandflow.intake.poll (default 50ms); SETTLE sandflow.intake.settle (default 50ms)
#   JAVA_OPTS extra JVM options for the Sandflow runs (e.g. -XX:StartFlightRecording=...)
#   KEEP=1   keep the temp workdirs (their paths are printed) instead of deleting them
#
# What it measures: the wall time, JVM start-up and shutdown included for Sandflow, to take every input
# from inbox/ to a result in outbox/ and the input in archive/, with an agent that answers instantly
# (src/test/resources/standin/instant-agent.sh: it reads the prompt on stdin and prints a success envelope).
# So the figure is pure orchestration overhead per file: process spawn, bookkeeping, file moves.
#   loop    the seed's hand-written loop done carefully: for each file, skip it if its output exists, pipe a
#           prompt (instructions plus the file's content) into the agent with the same argv shape and the
#           SANDFLOW_* variables Sandflow sets, keep the envelope in a file, take .structured_output out of it
#           with jq (failing on a missing one), write the result atomically, move the input to archive/.
#           No sleep between files (the seed's `sleep 2` would only measure itself).
#   sf-wN   java -jar target/sandflow.jar -C WORKDIR run --once with N workers, no sandbox, H2 store,
#           rate limit 1,000,000/min (never throttles), the settle and poll above.
# Every run gets a fresh temp workdir with a copy of the inputs; afterwards it checks that every input has
# an output, none failed, and the inbox is empty. It prints a table (files, wall s, files/s, ratio of the
# wall time to the loop's in the same repetition, CPU seconds user+sys including every child process) and
# appends one line per run to bench/out/results.csv. On a shared machine wall time swings with other people's
# load: the load average before each run is printed with it, and CPU seconds are the steadier figure.
set -euo pipefail
export LANG=C.UTF-8 LC_ALL=C.UTF-8

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
project=$(cd "$here/.." && pwd)
corpus=${CORPUS:-$project/../shared/corpus/masader/datasets}
n_gen=${N:-1152}
reps=${REPS:-2}
workers_list=${WORKERS:-"1 2"}
batch=${BATCH:-100}
poll=${POLL:-50ms}
settle=${SETTLE:-50ms}
keep=${KEEP:-0}
jar=$project/target/sandflow.jar
agent_src=$project/src/test/resources/standin/instant-agent.sh
schema_src=$project/schemas/default.schema.json
out_dir=$here/out
csv=$out_dir/results.csv

die() { echo "drain.sh: $*" >&2; exit 2; }
command -v java >/dev/null || die "java not found"
[[ -x /usr/bin/time ]] || die "/usr/bin/time not found (GNU time, for CPU seconds)"
command -v jq >/dev/null || die "jq not found (the bash loop uses it to read the envelope)"
[[ -f $agent_src ]] || die "missing $agent_src"

if [[ ! -f $jar ]]; then
    echo "building $jar ..." >&2
    (cd "$project" && mvn -q -o package -DskipTests) || (cd "$project" && mvn -q package -DskipTests)
fi
mkdir -p "$out_dir"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/sandflow-bench.XXXXXX")
cleanup() { if [[ $keep != 1 ]]; then rm -rf "$scratch"; else echo "kept $scratch" >&2; fi; }
trap cleanup EXIT

# One pristine copy of the inputs; every run copies from it so that no run reads the shared corpus.
seed=$scratch/inputs
mkdir -p "$seed"
if [[ -d $corpus ]] && compgen -G "$corpus/*.json" >/dev/null; then
    cp -- "$corpus"/*.json "$seed"/
    source_desc="corpus $(cd "$corpus" && pwd)"
else
    for ((i = 1; i <= n_gen; i++)); do
        printf '{"id": %d, "name": "input %05d", "text": "generated benchmark input number %d"}\n' \
            "$i" "$i" "$i" >"$seed/input-$(printf %05d "$i").json"
    done
    source_desc="$n_gen generated inputs"
fi
files=$(find "$seed" -maxdepth 1 -name '*.json' | wc -l)
agent=$scratch/instant-agent.sh
cp "$agent_src" "$agent"
chmod +x "$agent"
schema_compact=$(jq -c . "$schema_src")

now() { date +%s.%N; }

# Fresh workdir with the inputs in its inbox; prints its path.
new_workdir() {
    local wd
    wd=$(mktemp -d "$scratch/run.XXXXXX")
    mkdir -p "$wd/inbox" "$wd/outbox" "$wd/failed" "$wd/archive"
    cp -- "$seed"/*.json "$wd/inbox"/
    echo "$wd"
}

# The loop under test. Runs in its own bash so that its start-up counts, like the JVM's.
write_loop() {
    cat >"$1" <<'LOOP'
#!/usr/bin/env bash
# A careful version of the seed's loop: resumable, atomic result, failures set aside, no sleep.
set -uo pipefail
agent=$1 schema=$2 wd=$3
inbox=$wd/inbox outbox=$wd/outbox failed=$wd/failed archive=$wd/archive work=$wd/work
mkdir -p "$work"
rc=0
for f in "$inbox"/*.json; do
    [[ -e $f ]] || continue
    name=${f##*/}
    base=${name%.json}
    out=$outbox/$base.result.json
    if [[ -f $out ]]; then
        mv -- "$f" "$archive/"
        continue
    fi
    envelope=$work/envelope.json
    {
        printf 'You are processing one input file for a batch job. Work only on this file.\n\n'
        printf 'File name: %s\nFile path: %s\n\n' "$name" "$f"
        printf 'Summarise the file in a few sentences and give a few lower-case tags, as JSON matching:\n%s\n\n' "$schema"
        printf '<file name="%s">\n' "$name"
        cat -- "$f"
        printf '</file>\n'
    } | SANDFLOW_INPUT=$f SANDFLOW_OUTPUT=$out SANDFLOW_ATTEMPT=1 SANDFLOW_JOB_NAME=$name \
        "$agent" -p --output-format json --json-schema "$schema" --no-session-persistence \
        --max-turns 30 --dangerously-skip-permissions >"$envelope"
    status=$?
    if [[ $status -eq 0 ]] && jq -e '.structured_output | objects' "$envelope" >"$out.tmp"; then
        mv -- "$out.tmp" "$out"
        mv -- "$f" "$archive/"
    else
        rm -f -- "$out.tmp"
        echo "failed: $name (exit $status)" >&2
        mv -- "$f" "$failed/"
        rc=1
    fi
done
exit $rc
LOOP
    chmod +x "$1"
}
loop=$scratch/loop.sh
write_loop "$loop"

load1() { cut -d' ' -f1 /proc/loadavg; }

# Counts what a run left behind and says whether it is a clean drain.
verify() {
    local wd=$1 outs arch fails left
    outs=$(find "$wd/outbox" -maxdepth 1 -name '*.result.json' | wc -l)
    arch=$(find "$wd/archive" -maxdepth 1 -name '*.json' | wc -l)
    fails=$(find "$wd/failed" -maxdepth 1 -type f | wc -l)
    left=$(find "$wd/inbox" -maxdepth 1 -name '*.json' | wc -l)
    if [[ $outs -eq $files && $arch -eq $files && $fails -eq 0 && $left -eq 0 ]]; then
        echo ok
    else
        echo "BAD(out=$outs archive=$arch failed=$fails inbox=$left)"
    fi
}

commit=$(git -C "$project" rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -f $csv ]] || echo "when,commit,nproc,load1_before,variant,workers,batch,poll,settle,files,wall_s,files_per_s,ratio_vs_loop,cpu_s,exit,check" >"$csv"

rows=()
run_one() { # variant rep -> sets wall, code, check
    local variant=$1 wd t0 t1 w
    wd=$(new_workdir)
    sync
    before=$(load1)
    if [[ $variant == loop ]]; then
        w=0
        t0=$(now)
        set +e
        /usr/bin/time -f '%U %S' -o "$wd/cpu.txt" bash "$loop" "$agent" "$schema_compact" "$wd" >"$wd/run.log" 2>&1
        code=$?
        set -e
        t1=$(now)
    else
        w=${variant#sf-w}
        t0=$(now)
        set +e
        # shellcheck disable=SC2086
        /usr/bin/time -f '%U %S' -o "$wd/cpu.txt" java -Dfile.encoding=UTF-8 ${JAVA_OPTS:-} -jar "$jar" -C "$wd" \
            -Dsandflow.agent.command="$agent" \
            -Dsandflow.sandbox.kind=none -Dsandflow.sandbox.allow-unsandboxed=true \
            -Dsandflow.workers="$w" -Dsandflow.rate.per-minute=1000000 \
            -Dsandflow.intake.settle="$settle" -Dsandflow.intake.poll="$poll" -Dsandflow.intake.batch="$batch" \
            -Dsandflow.once.max-wait=30s \
            run --once >"$wd/run.log" 2>&1
        code=$?
        set -e
        t1=$(now)
    fi
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    cpu=$(awk '{ s = $1 + $2 } END { printf "%.1f", s }' "$wd/cpu.txt")
    check=$(verify "$wd")
    workers_used=$w
    last_wd=$wd
    if [[ $keep != 1 ]]; then rm -rf "$wd"; fi
}

echo "Sandflow drain benchmark: $files files ($source_desc); nproc $(nproc); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "settings: batch=$batch poll=$poll settle=$settle reps=$reps workers=[$workers_list] commit=$commit"
printf '%-4s %-8s %6s %8s %8s %8s %7s %6s %6s  %s\n' rep variant files wall_s files/s ratio cpu_s load1 exit check
for ((rep = 1; rep <= reps; rep++)); do
    loop_wall=
    for variant in loop $(for w in $workers_list; do echo "sf-w$w"; done); do
        run_one "$variant"
        [[ $variant == loop ]] && loop_wall=$wall
        fps=$(awk -v f="$files" -v w="$wall" 'BEGIN { printf "%.1f", f / w }')
        ratio=$(awk -v w="$wall" -v l="$loop_wall" 'BEGIN { printf "%.2f", w / l }')
        printf '%-4s %-8s %6s %8s %8s %8s %7s %6s %6s  %s\n' "$rep" "$variant" "$files" "$wall" "$fps" "${ratio}x" \
            "$cpu" "$before" "$code" "$check"
        [[ $keep == 1 ]] && echo "     workdir: $last_wd"
        echo "$(date -u +%FT%TZ),$commit,$(nproc),$before,$variant,$workers_used,$batch,$poll,$settle,$files,$wall,$fps,$ratio,$cpu,$code,$check" >>"$csv"
        rows+=("$variant $wall")
    done
done

echo
echo "median over $reps repetition(s):"
printf '%-8s %6s %8s %8s %8s\n' variant files wall_s files/s vs_loop
loop_med=
for variant in loop $(for w in $workers_list; do echo "sf-w$w"; done); do
    med=$(printf '%s\n' "${rows[@]}" | awk -v v="$variant" '$1 == v { print $2 }' | sort -n |
        awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
    [[ $variant == loop ]] && loop_med=$med
    printf '%-8s %6s %8s %8s %7sx\n' "$variant" "$files" "$med" \
        "$(awk -v f="$files" -v w="$med" 'BEGIN { printf "%.1f", f / w }')" \
        "$(awk -v w="$med" -v l="$loop_med" 'BEGIN { printf "%.2f", w / l }')"
done
echo "results appended to $csv"
