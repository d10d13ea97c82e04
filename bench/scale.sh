#!/usr/bin/env bash
# bench/scale.sh: does Sandflow's cost stay flat with a huge inbox, a huge store and a long uptime? (issue 8)
#
# Usage (from anywhere; builds target/sandflow.jar with `mvn -q -o package -DskipTests` first):
#   bench/scale.sh inbox1k              # 1,000 files: the reference throughput
#   bench/scale.sh inbox100k            # 100,000 files: time to first agent run, throughput over a window, heap
#   bench/scale.sh store1m              # 1,000,000 DONE rows vs an empty store: start-up, intake of 1,000, status
#   bench/scale.sh soak                 # 20,000 jobs in one run: fds, threads, children, heap slope
#   bench/scale.sh all                  # the four in that order
#
# Environment (all optional):
#   N          files for inbox100k / soak (defaults 100000 / 20000); ROWS rows for store1m (default 1000000)
#   WINDOW     inbox100k: seconds of steady running measured after the first agent run (default 180)
#   EVERY      seconds between samples (default 5); HEAP_EVERY: a heap-after-full-GC sample every this many
#              samples (default 6, i.e. 30 s; soak: 2, i.e. 10 s); each one forces a full GC, which costs a little
#   JAVA_OPTS  extra JVM options; by default none, so the heap is the JVM's default (a quarter of RAM as max)
#   KEEP=1     keep the temp workdirs
#
# Every Sandflow run here: java -Dfile.encoding=UTF-8 -jar target/sandflow.jar -C WORKDIR run, LANG=C.UTF-8,
# sandflow.sandbox.kind=none + allow-unsandboxed=true, 2 workers, rate limit 1,000,000/min (never throttles),
# settle 50ms, poll 50ms, batch 100 (the default), H2 file store (the default URL). The agent is
# src/test/resources/standin/instant-agent.sh with one line put in front of it that appends
# "$EPOCHREALTIME $SANDFLOW_JOB_NAME" to a log (bash's clock: no extra fork), so every agent start is timed.
#
# What it samples, every EVERY seconds, into bench/out/scale-<mode>-<time>.csv:
#   t_s (since java was started), load1, results in outbox/, agent starts so far, the daemon's CPU seconds
#   (utime+stime of the JVM itself, from /proc/PID/stat), open fds (/proc/PID/fd), threads (/proc/PID/task),
#   child processes and zombie children (ps --ppid), and every HEAP_EVERY samples the heap live after a full GC
#   (jcmd PID GC.class_histogram: a full GC, then the total bytes of the objects left, in KiB).
# Then a summary on stdout (also in bench/out/scale-<mode>-<time>.txt):
#   first_run_s     first agent start (from the agent log) minus the moment java was started
#   steady_fps      agent starts per second between the 10% and 90% marks of the measured jobs (inbox1k: the
#                   whole drain; inbox100k: the WINDOW; soak: the whole run)
#   heap_max_mib    largest heap-after-full-GC sample; heap_slope: least-squares slope of those samples against
#                   results done, in KiB per 1,000 jobs: over the whole run, and from t=60s on (after H2's 45 s
#                   chunk retention has filled; before that the store's chunk table grows by design)
#   fds/threads/children/zombies at the first sample with a result and at the end (soak: after all done), and
#   their range over the run (they move with the agents in flight: pipes, pump threads, a child not yet reaped)
# store1m fills a store by SQL through H2's own Shell (in the jar), in chunks of 100,000 rows:
#   INSERT ... SELECT 'old-' || X || '.json', sha, 'DONE', ... FROM SYSTEM_RANGE(a, b)
# after `status` has created the schema; then, for the empty store and the filled one alike, it times
# `sandflow status --json` (3 runs, wall and CPU), and a daemon start with 1,000 new files: first agent run,
# and intake of the 1,000 (first agent start to the 1,000th result).
set -euo pipefail
export LANG=C.UTF-8 LC_ALL=C.UTF-8

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
project=$(cd "$here/.." && pwd)
jar=$project/target/sandflow.jar
agent_src=$project/src/test/resources/standin/instant-agent.sh
out_dir=$here/out
every=${EVERY:-5}
heap_every=${HEAP_EVERY:-6}
# the soak is about the heap's slope: sample it every 10 s unless told otherwise
[[ ${1:-} == soak && -z ${HEAP_EVERY:-} ]] && heap_every=2
keep=${KEEP:-0}
mode=${1:-}

die() { echo "scale.sh: $*" >&2; exit 2; }
[[ -n $mode ]] || die "usage: bench/scale.sh inbox1k|inbox100k|store1m|soak|all"
command -v java >/dev/null || die "java not found"
command -v jcmd >/dev/null || die "jcmd not found (a JDK, not a JRE)"
[[ -f $agent_src ]] || die "missing $agent_src"
[[ -x /usr/bin/time ]] || die "/usr/bin/time not found (GNU time)"

(cd "$project" && mvn -q -o package -DskipTests) || die "build failed"
mkdir -p "$out_dir"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
commit=$(git -C "$project" rev-parse --short HEAD 2>/dev/null || echo unknown)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/sandflow-scale.XXXXXX")
daemon=
cleanup() {
    if [[ -n $daemon ]] && kill -0 "$daemon" 2>/dev/null; then kill -TERM "$daemon"; wait "$daemon" || true; fi
    if [[ $keep != 1 ]]; then rm -rf "$scratch"; else echo "kept $scratch" >&2; fi
}
trap cleanup EXIT

# The timed agent: one log line, then the instant stand-in's own body (its first line is the shebang).
agent=$scratch/timed-agent.sh
{
    echo '#!/usr/bin/env bash'
    echo 'printf "%s %s\n" "$EPOCHREALTIME" "$SANDFLOW_JOB_NAME" >>"$SCALE_AGENT_LOG"'
    tail -n +2 "$agent_src"
} >"$agent"
chmod +x "$agent"

now() { date +%s.%N; }
load1() { cut -d' ' -f1 /proc/loadavg; }
count_dir() { find "$1" -maxdepth 1 -type f -name "${2:-*}" 2>/dev/null | wc -l; }

# N small JSON inputs named input-000001.json ... in one awk process (a shell loop is slow at 100,000).
gen_inputs() { # n dir [prefix]
    awk -v n="$1" -v d="$2" -v p="${3:-input}" 'BEGIN {
        for (i = 1; i <= n; i++) {
            f = sprintf("%s/%s-%06d.json", d, p, i)
            printf "{\"id\": %d, \"name\": \"input %06d\", \"text\": \"generated scale input number %d\"}\n", i, i, i > f
            close(f)
        }
    }'
}

new_workdir() {
    local wd
    wd=$(mktemp -d "$scratch/run.XXXXXX")
    mkdir -p "$wd/inbox" "$wd/outbox" "$wd/failed" "$wd/archive"
    echo "$wd"
}

# Sandflow's command line for a workdir; "$@" is the subcommand.
sandflow() { # wd args...
    local wd=$1
    shift
    # shellcheck disable=SC2086
    ${as_exec:-} java -Dfile.encoding=UTF-8 ${JAVA_OPTS:-} -jar "$jar" -C "$wd" \
        -Dsandflow.agent.command="$agent" -Dsandflow.agent.env.SCALE_AGENT_LOG="$wd/agent.log" \
        -Dsandflow.sandbox.kind=none -Dsandflow.sandbox.allow-unsandboxed=true \
        -Dsandflow.workers=2 -Dsandflow.rate.per-minute=1000000 \
        -Dsandflow.intake.settle=50ms -Dsandflow.intake.poll=50ms -Dsandflow.intake.batch=100 \
        ${EXTRA:-} "$@"
}

start_daemon() { # wd
    : >"$1/agent.log"
    t_start=$(now)
    # exec: the background job is java itself, so $! is the JVM's pid
    as_exec=exec sandflow "$1" run >"$1/run.log" 2>&1 &
    daemon=$!
}

stop_daemon() {
    if [[ -n $daemon ]]; then
        kill -TERM "$daemon" 2>/dev/null || true
        wait "$daemon" 2>/dev/null || true
        daemon=
    fi
}

cpu_s() { # pid -> utime+stime of the process itself, seconds
    awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat" 2>/dev/null || echo NA
}

heap_after_gc_kib() { # pid
    # GC.class_histogram runs a full GC first and then counts what survived: the live heap at that moment.
    # (GC.run followed by GC.heap_info reads "used" a moment later, after the workers allocated again: noisy.)
    jcmd "$1" GC.class_histogram 2>/dev/null | awk '$1 == "Total" { printf "%d", $3 / 1024; found = 1 } END { if (!found) print "NA" }'
}

csv=
sample_header() {
    csv=$out_dir/scale-$1-$stamp.csv
    echo "t_s,load1,results,agent_starts,cpu_s,fds,threads,children,zombies,heap_after_gc_kib" >"$csv"
}

# One sample row; echoes it too. $2 = 1 to take a heap sample.
sample() { # wd heap?
    local wd=$1 pid=$daemon t res starts fds thr ch zb heap
    t=$(awk -v a="$t_start" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
    res=$(count_dir "$wd/outbox" '*.result.json')
    starts=$(wc -l <"$wd/agent.log")
    # "|| true": ps exits 1 when there is no child, which pipefail would turn into the script's end
    fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l || true)
    thr=$(ls "/proc/$pid/task" 2>/dev/null | wc -l || true)
    ch=$(ps --ppid "$pid" -o pid= 2>/dev/null | wc -l || true)
    zb=$(ps --ppid "$pid" -o stat= 2>/dev/null | grep -c '^Z' || true)
    heap=
    [[ $2 == 1 ]] && heap=$(heap_after_gc_kib "$pid")
    echo "$t,$(load1),$res,$starts,$(cpu_s "$pid"),$fds,$thr,$ch,$zb,$heap" | tee -a "$csv"
}

# Agent starts per second between the 10% and 90% marks of the starts in the log (or of lines a..b).
steady_fps() { # agent.log [from_line to_line]
    local from=${2:-0} to=${3:-0}
    awk -v f="$from" -v t="$to" '{ ts[NR] = $1 } END {
        if (t == 0 || t > NR) t = NR
        n = t - f; if (n < 20) { print "NA"; exit }
        a = f + int(n * 0.1) + 1; b = f + int(n * 0.9)
        printf "%.1f", (b - a) / (ts[b] - ts[a]) }' "$1"
}

first_run_s() { # agent.log
    awk -v s="$t_start" 'NR == 1 { printf "%.2f", $1 - s; exit }' "$1"
}

# Least-squares slope of heap_after_gc (KiB) against results, in KiB per 1,000 jobs, over the samples taken at
# t_s >= $1 (default 0); and the max in MiB.
heap_stats() { # [from_t_s]
    awk -F, -v from="${1:-0}" 'NR > 1 && $10 != "" && $10 != "NA" && $3 > 0 && $1 >= from { n++; x = $3; y = $10; sx += x; sy += y; sxx += x * x; sxy += x * y;
        if (y > m) m = y }
        END { if (n < 2 || n * sxx - sx * sx == 0) { printf "heap_max_mib=%.1f heap_slope_kib_per_1000_jobs=NA (samples %d)", m / 1024, n; exit }
              printf "heap_max_mib=%.1f heap_slope_kib_per_1000_jobs=%.1f (samples %d)", m / 1024, 1000 * (n * sxy - sx * sy) / (n * sxx - sx * sx), n }' "$csv"
}

# Values of the first sample with a result and of the last sample: fds, threads, children, zombies.
ends() {
    awk -F, 'NR > 1 && $3 > 0 && !f { f = 1; a = $6 "/" $7 "/" $8 "/" $9 } NR > 1 { b = $6 "/" $7 "/" $8 "/" $9 }
        NR > 1 { if (NR == 2 || $6 < f1) f1 = $6; if ($6 > f2) f2 = $6; if (NR == 2 || $7 < t1) t1 = $7; if ($7 > t2) t2 = $7; if ($9 > z) z = $9 }
        END { printf "fds/threads/children/zombies start=%s end=%s; over the run fds %d-%d, threads %d-%d, zombies max %d", a, b, f1, f2, t1, t2, z }' "$csv"
}

summary_file=
say() { echo "$*" | tee -a "$summary_file"; }

header() { # mode
    summary_file=$out_dir/scale-$1-$stamp.txt
    say "== scale.sh $1 · commit $commit · $(date -u +%FT%TZ) · nproc $(nproc) · uptime: $(uptime)"
    say "   java: $(java -version 2>&1 | head -1) · JAVA_OPTS='${JAVA_OPTS:-}' (empty: JVM default heap,"\
        "max $(java -XX:+PrintFlagsFinal -version 2>/dev/null | awk '$2 == "MaxHeapSize" { printf "%d MiB", $4 / 1048576 }'))"
}

# Drain a fresh inbox of n files; measure until all done, or until `window` seconds after the first agent run.
run_inbox() { # label n window(0 = until done)
    local label=$1 n=$2 window=$3 wd i=0 first_t= done_n t_first_sample_line
    header "$label"
    wd=$(new_workdir)
    gen_inputs "$n" "$wd/inbox"
    sync
    sample_header "$label"
    say "   $n files generated; load before: $(load1)"
    start_daemon "$wd"
    while kill -0 "$daemon" 2>/dev/null; do
        sleep "$every"
        i=$((i + 1))
        sample "$wd" $((i % heap_every == 0 ? 1 : 0)) >/dev/null
        done_n=$(tail -1 "$csv" | cut -d, -f3)
        if [[ -z $first_t && -s $wd/agent.log ]]; then first_t=$(now); fi
        if [[ $window -eq 0 && $done_n -ge $n ]]; then
            sample "$wd" 1 >/dev/null
            break
        fi
        if [[ $window -gt 0 && -n $first_t ]] && awk -v a="$first_t" -v b="$(now)" -v w="$window" 'BEGIN { exit !(b - a >= w) }'; then
            sample "$wd" 1 >/dev/null
            break
        fi
    done
    local cpu
    cpu=$(tail -1 "$csv" | cut -d, -f5)
    stop_daemon
    local starts results
    starts=$(wc -l <"$wd/agent.log")
    results=$(count_dir "$wd/outbox" '*.result.json')
    say "   first_run_s=$(first_run_s "$wd/agent.log") steady_fps=$(steady_fps "$wd/agent.log") agent_starts=$starts" \
        "results=$results distinct_jobs_started=$(cut -d' ' -f2 "$wd/agent.log" | sort -u | wc -l) daemon_cpu_s=$cpu"
    say "   cpu_ms_per_job=$(awk -v c="$cpu" -v r="$results" 'BEGIN { if (r > 0) printf "%.1f", 1000 * c / r; else print "NA" }')" \
        "(the JVM's own CPU, start-up included, over results)"
    say "   whole run: $(heap_stats)"
    # H2 keeps every chunk it wrote for RETENTION_TIME (45 s) before reusing it, so its chunk table fills for the
    # first 45 s of a busy run and then holds level; the slope from 60 s on is the one that says "leak" or not.
    say "   from t=60s: $(heap_stats 60)"
    say "   $(ends)"
    say "   failed=$(count_dir "$wd/failed") load after: $(load1) · csv: $csv"
    [[ $keep == 1 ]] && say "   workdir: $wd"
    if [[ $keep != 1 ]]; then rm -rf "$wd"; fi
}

# Wall and CPU seconds (user+sys of java and its children) of `sandflow WD ARGS...`, by GNU time.
timed() { # wd args...
    local wd=$1
    shift
    # shellcheck disable=SC2086
    /usr/bin/time -f '%e %U %S' -o "$scratch/time.txt" java -Dfile.encoding=UTF-8 ${JAVA_OPTS:-} -jar "$jar" \
        -C "$wd" "$@" >/dev/null 2>&1 || true
    awk '{ printf "%.2f %.2f", $1, $2 + $3 }' "$scratch/time.txt"
}

fill_store() { # wd rows
    local wd=$1 rows=$2 from url
    url="jdbc:h2:$wd/data/sandflow"
    for ((from = 1; from <= rows; from += 100000)); do
        java -cp "$jar" org.h2.tools.Shell -url "$url" -user "" -password "" -sql \
            "INSERT INTO sandflow_jobs (name, sha256, state, attempts, started_at, finished_at, duration_ms,
               input_tokens, output_tokens, turns, fence_token, output_name)
             SELECT 'old-' || X || '.json', LPAD(CAST(X AS VARCHAR), 64, '0'), 'DONE', 1,
               CURRENT_TIMESTAMP - (MOD(X, 2592000) + 60) * INTERVAL '1' SECOND,
               CURRENT_TIMESTAMP - MOD(X, 2592000) * INTERVAL '1' SECOND, 900, 1000, 50, 1, 1,
               'old-' || X || '.result.json'
             FROM SYSTEM_RANGE($from, $((from + 99999 < rows ? from + 99999 : rows)))" >/dev/null
    done
}

store_case() { # label rows
    local label=$1 rows=$2 wd i st
    wd=$(new_workdir)
    sandflow "$wd" status --json >/dev/null 2>&1 || true   # creates the store and its schema
    if [[ $rows -gt 0 ]]; then
        local t0
        t0=$(now)
        fill_store "$wd" "$rows"
        say "   [$label] filled $rows DONE rows in $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }') s;" \
            "store file $(du -h "$wd/data/sandflow.mv.db" | cut -f1)"
    fi
    for i in 1 2 3; do
        st=$(timed "$wd" status --json)
        say "   [$label] status --json run $i: wall_s cpu_s = $st · load $(load1)"
    done
    gen_inputs 1000 "$wd/inbox" new
    sync
    sample_header "store-$label"
    start_daemon "$wd"
    while kill -0 "$daemon" 2>/dev/null; do
        sleep 1
        [[ $(count_dir "$wd/outbox" '*.result.json') -ge 1000 ]] && break
    done
    sample "$wd" 1 >/dev/null
    local cpu last
    cpu=$(tail -1 "$csv" | cut -d, -f5)
    last=$(ls -t --full-time "$wd/outbox" | awk 'NR == 2 { print $7 }')
    stop_daemon
    say "   [$label] daemon: first_run_s=$(first_run_s "$wd/agent.log")" \
        "intake_1000_s=$(awk 'NR == 1 { a = $1 } END { printf "%.1f", $1 - a }' "$wd/agent.log") (first to last agent start)" \
        "steady_fps=$(steady_fps "$wd/agent.log") daemon_cpu_s=$cpu heap_after_gc_kib=$(tail -1 "$csv" | cut -d, -f10)" \
        "results=$(count_dir "$wd/outbox" '*.result.json') · load $(load1)"
    [[ $keep == 1 ]] && say "   workdir: $wd"
    if [[ $keep != 1 ]]; then rm -rf "$wd"; fi
}

run_store() {
    header store1m
    store_case empty 0
    store_case "rows=${ROWS:-1000000}" "${ROWS:-1000000}"
}

case $mode in
    inbox1k) run_inbox inbox1k "${N:-1000}" 0 ;;
    inbox100k) run_inbox inbox100k "${N:-100000}" "${WINDOW:-180}" ;;
    store1m) run_store ;;
    soak) run_inbox soak "${N:-20000}" 0 ;;
    all)
        run_inbox inbox1k 1000 0
        run_inbox inbox100k "${N:-100000}" "${WINDOW:-180}"
        run_store
        run_inbox soak 20000 0
        ;;
    *) die "unknown mode $mode" ;;
esac
