#!/usr/bin/env bash
# fake-sandbox-cli.sh: a recording stand-in for `sbx` and for `docker sandbox`, for tests (no Docker here).
#
# Install it as ROOT/bin/sbx or ROOT/bin/docker. Every call appends to ROOT/calls.log:
#   start<TAB>epoch-us<TAB>pid<TAB>arg1<US>arg2...      when the call begins
#   end<TAB>epoch-us<TAB>pid<TAB>exit-code               when an exec call's command has finished
# (<US> is the 0x1F unit separator; inside an argument \ is written \\, newline \n, tab \t and 0x1F \u,
# so any argv survives one line.)
#
# State lives in ROOT/state: sandboxes/NAME (exists), policy/NAME (the policy arguments, one per line).
# Behaviour, by file, so a test can set it without touching the JVM's environment:
#   ROOT/state/fail-NAME   every call that names sandbox NAME exits 1 with an error on stderr;
#                          when the file holds a word (create, policy, network, exec) only that verb fails
#   ROOT/state/hang-NAME   the same calls never answer
#
# Understood calls (after `sandbox` when installed as docker):
#   ls --json | create --name N AGENT PATH | policy allow network --sandbox N HOST... |
#   policy check network [--sandbox N] HOST | network proxy N --policy P --allow-host H... |
#   exec [-i] [-e K=V]... [-w DIR] N COMMAND ARGS...   (runs COMMAND here, K=V exported, in DIR)

set -u
bin=${0%/*}
root=${bin%/*}
state=$root/state
log=$root/calls.log
mkdir -p "$state/sandboxes" "$state/policy"

now() { local t=${EPOCHREALTIME//[!0-9]/}; printf '%s' "$t"; }
enc() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//$'\n'/\\n}
    s=${s//$'\t'/\\t}
    s=${s//$'\x1f'/\\u}
    printf '%s' "$s"
}

line="start"$'\t'"$(now)"$'\t'"$$"$'\t'
first=1
for a in "$0" "$@"; do
    [[ $first == 1 ]] && { line+=$(enc "${a##*/}"); first=0; continue; }
    line+=$'\x1f'$(enc "$a")
done
printf '%s\n' "$line" >> "$log"

if [[ ${0##*/} == docker ]]; then
    [[ ${1:-} == sandbox ]] || { echo "fake docker: only 'docker sandbox' is faked" >&2; exit 2; }
    shift
fi
verb=${1:-}

# Behaviour for a named sandbox: any argument equal to NAME selects it.
for a in "$@"; do
    if [[ -e $state/hang-$a ]]; then
        want=$(<"$state/hang-$a")
        if [[ -z $want || $want == "$verb" ]]; then
            exec sleep 3600
        fi
    fi
    if [[ -e $state/fail-$a ]]; then
        want=$(<"$state/fail-$a")
        if [[ -z $want || $want == "$verb" ]]; then
            echo "error: sandbox $a: simulated failure of $verb" >&2
            exit 1
        fi
    fi
done

case $verb in
    ls)
        out='['
        sep=''
        for f in "$state/sandboxes"/*; do
            [[ -e $f ]] || continue
            out+="$sep{\"name\":\"${f##*/}\",\"status\":\"running\"}"
            sep=','
        done
        printf '%s]\n' "$out"
        ;;
    create)
        [[ ${2:-} == --name && -n ${3:-} && -n ${5:-} ]] || { echo "usage: create --name N AGENT PATH" >&2; exit 2; }
        : > "$state/sandboxes/$3"
        ;;
    policy)
        shift
        sub=${1:-}; shift
        [[ ${1:-} == network ]] || { echo "fake: only network policies" >&2; exit 2; }
        shift
        name=
        if [[ ${1:-} == --sandbox ]]; then name=$2; shift 2; fi
        case $sub in
            allow)
                printf '%s\n' "$@" >> "$state/policy/${name:-global}" ;;
            check)
                grep -qxF -- "$1" "$state/policy/${name:-global}" 2>/dev/null || { echo "denied: $1" >&2; exit 1; } ;;
            *) echo "fake: policy $sub not faked" >&2; exit 2 ;;
        esac
        ;;
    network)
        [[ ${2:-} == proxy && -n ${3:-} ]] || { echo "usage: network proxy NAME ..." >&2; exit 2; }
        [[ -e $state/sandboxes/$3 ]] || { echo "error: no sandbox named $3" >&2; exit 1; }
        printf '%s\n' "${@:4}" > "$state/policy/$3"
        ;;
    exec)
        shift
        dir=
        while [[ $# -gt 0 ]]; do
            case $1 in
                -i|-t|-it) shift ;;
                -e) export "$2"; shift 2 ;;
                -w) dir=$2; shift 2 ;;
                -*) echo "fake: unknown exec flag $1" >&2; exit 2 ;;
                *) break ;;
            esac
        done
        name=$1; shift
        [[ -e $state/sandboxes/$name ]] || { echo "error: no sandbox named $name" >&2; exit 1; }
        [[ -n $dir ]] && cd "$dir"
        "$@"
        rc=$?
        printf 'end\t%s\t%s\t%s\n' "$(now)" "$$" "$rc" >> "$log"
        exit "$rc"
        ;;
    *)
        echo "fake: unknown command $verb" >&2
        exit 2
        ;;
esac
