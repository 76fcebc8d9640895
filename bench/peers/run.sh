#!/usr/bin/env bash
# run.sh TARGET [--port P] [--log FILE] [--] [tarn-load options...]
# run.sh TARGET [--port P] [--log FILE] --exec COMMAND [ARGS...]
#
# One command that starts TARGET on 127.0.0.1:P, runs tarn-load against it
# (with --endpoint http://127.0.0.1:P added) or COMMAND (with $TARN_ENDPOINT
# set), then stops TARGET by its pid and exits with the status of tarn-load or
# COMMAND. TARGET is one of:
#   tarn            target/release/tarn on a fresh data directory (deleted
#                   afterwards), default durability (sync); default port 8765
#   dynamodb-local  DynamoDB Local, -inMemory -sharedDb; default port 8000
#   dynalite        dynalite, in memory; default port 4567
#   ceiling         target/release/tarn-ceiling; default port 8766
#
# Everything runs inside a private network namespace (unshare -n, loopback
# up): DynamoDB Local listens on every interface, so it must, and the others
# do too so that all targets see the same loopback and no port clashes with
# anything else on the machine. This needs root (or user namespaces);
# TARN_PEERS_NETNS=0 runs tarn, dynalite and ceiling in the current namespace
# instead (never dynamodb-local).
#
# Environment: TARN_BIN, TARN_LOAD, TARN_CEILING (binaries), TARN_PEERS_DIR
# (install.sh's directory), TARN_ARGS / CEILING_ARGS / DYNALITE_ARGS /
# DDB_LOCAL_ARGS (extra server options), DDB_LOCAL_JAVA_OPTS,
# TARN_PEERS_DATA_PARENT (where Tarn's data directory is made; default
# $TMPDIR or /var/tmp: it must be a real disk for the sync figures to mean
# anything), TARN_PEERS_START_TIMEOUT (seconds, default 120).
#
# Example:
#   bench/peers/run.sh dynamodb-local --load --records 100000 --workload get --warmup 3s --duration 20s
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() {
    sed -n '2,4p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

[[ $# -ge 1 ]] || usage
target=$1
shift
default_port "$target" >/dev/null || usage
port=""
log=""
while [[ $# -gt 0 ]]; do
    case $1 in
        --port) port=$2; shift 2 ;;
        --log) log=$2; shift 2 ;;
        --) shift; break ;;
        -h | --help) usage ;;
        *) break ;;
    esac
done
port=${port:-$(default_port "$target")}
[[ $port =~ ^[0-9]+$ ]] || die "bad port: $port"

# Re-run this script inside a new network namespace. `unshare` execs the shell,
# so the pid stays the same and a signal to this command reaches it.
if [[ -z ${TARN_PEERS_IN_NETNS:-} ]]; then
    if [[ ${TARN_PEERS_NETNS:-1} != 0 ]]; then
        command -v unshare >/dev/null || die "unshare (util-linux) is needed, or TARN_PEERS_NETNS=0"
        export TARN_PEERS_IN_NETNS=1
        exec unshare -n -- bash "${BASH_SOURCE[0]}" "$target" --port "$port" ${log:+--log "$log"} -- "$@"
    fi
    [[ $target != dynamodb-local ]] || die "dynamodb-local runs only in a private network namespace (it listens on every interface)"
else
    ip link set lo up || die "cannot bring up the loopback in the new network namespace"
    only_loopback || die "not in a private network namespace"
fi

case $target in
    tarn) [[ -x $TARN_BIN ]] || die "no $TARN_BIN: cargo build --release --bin tarn" ;;
    ceiling) [[ -x $TARN_CEILING ]] || die "no $TARN_CEILING: cargo build --release -p tarn-bench --bin tarn-load --bin tarn-ceiling" ;;
esac
if [[ ${1:-} != --exec ]]; then
    [[ -x $TARN_LOAD ]] || die "no $TARN_LOAD: cargo build --release -p tarn-bench --bin tarn-load --bin tarn-ceiling"
fi

if [[ -z $log ]]; then
    log=$(mktemp "${TMPDIR:-/tmp}/tarn-peers-$target.XXXXXX.log")
fi
: >"$log"

pid=""
cmd_pid=""
data_dir=""
cleanup() {
    local rc=$?
    if [[ -n $cmd_pid ]]; then
        stop_pid "$cmd_pid" 5
        cmd_pid=""
    fi
    if [[ -n $pid ]]; then
        stop_pid "$pid"
        pid=""
    fi
    if [[ -n $data_dir ]]; then
        rm -rf -- "$data_dir"
        data_dir=""
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

endpoint=http://127.0.0.1:$port
# shellcheck disable=SC2086
case $target in
    tarn)
        parent=${TARN_PEERS_DATA_PARENT:-${TMPDIR:-/var/tmp}}
        data_dir=$(mktemp -d "$parent/tarn-peers-data.XXXXXX")
        if [[ $(stat -f -c %T "$data_dir") == tmpfs ]]; then
            echo "run.sh: warning: $data_dir is on tmpfs, so fsync costs nothing: set TARN_PEERS_DATA_PARENT to a disk" >&2
        fi
        "$TARN_BIN" --host 127.0.0.1 --port "$port" --data-dir "$data_dir" ${TARN_ARGS:-} >>"$log" 2>&1 &
        ;;
    ceiling)
        "$TARN_CEILING" --host 127.0.0.1 --port "$port" ${CEILING_ARGS:-} >>"$log" 2>&1 &
        ;;
    dynalite)
        "$PEERS_HERE/dynalite.sh" "$port" ${DYNALITE_ARGS:-} >>"$log" 2>&1 &
        ;;
    dynamodb-local)
        "$PEERS_HERE/dynamodb-local.sh" "$port" ${DDB_LOCAL_ARGS:-} >>"$log" 2>&1 &
        ;;
esac
pid=$!

if ! wait_port "$pid" "$port" "${TARN_PEERS_START_TIMEOUT:-120}"; then
    echo "run.sh: $target (pid $pid) did not start listening on $endpoint; its log ($log):" >&2
    tail -n 30 "$log" >&2
    exit 1
fi
echo "run.sh: $target pid $pid on $endpoint (log $log)" >&2

# In the background, so that a SIGINT or SIGTERM to this script is handled at
# once (bash runs traps only between foreground commands), stopping both.
if [[ ${1:-} == --exec ]]; then
    shift
    [[ $# -ge 1 ]] || die "--exec needs a command"
    TARN_ENDPOINT=$endpoint TARN_TARGET=$target TARN_TARGET_PID=$pid "$@" <&0 &
else
    "$TARN_LOAD" --endpoint "$endpoint" "$@" <&0 &
fi
cmd_pid=$!
rc=0
wait "$cmd_pid" || rc=$?
cmd_pid=""
if ! is_running "$pid"; then
    echo "run.sh: $target (pid $pid) exited during the run; its log ($log):" >&2
    tail -n 30 "$log" >&2
    ((rc != 0)) || rc=1
fi
exit "$rc"
