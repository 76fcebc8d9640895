#!/usr/bin/env bash
# compare-sqs.sh [options] [-- extra tarn-load options]
# Tarn's SQS, moto and LocalStack side by side: sqs-send (SendMessage of a
# 100-byte body) and sqs-receive-delete (ReceiveMessage of up to 10, then
# DeleteMessageBatch of them, from a prefilled queue), closed loop, p50/p99.
#
#   --targets LIST      default tarn,moto,localstack
#   --workloads LIST    default sqs-send,sqs-receive-delete
#   --duration T        measured time per run (default 15s)
#   --warmup T          unmeasured time before it (default 2s)
#   --concurrency N     connections (default 16)
#   --prefill N         messages put in the queue before sqs-receive-delete
#                       (default by target: tarn 400000, localstack 60000,
#                       moto 1000: moto's operations slow down with the
#                       queue's length, see docs/benchmarks.md)
#   --out DIR           results (default ${TMPDIR:-/tmp}/tarn-sqs-<date>)
#
# Each (workload, target) run starts its server fresh on a free loopback port,
# runs tarn-load against it (the queue is created by tarn-load: CreateQueue,
# GetQueueUrl, and for sqs-receive-delete a SendMessageBatch prefill), then
# stops the server by its pid. Runs go workload by workload, each on every
# target in turn.
#
#   tarn        target/release/tarn on a fresh data directory under
#               $TARN_PEERS_DATA_PARENT (default $TMPDIR or /var/tmp), default
#               durability (sync); TARN_ARGS adds options
#   moto        moto_server (moto[server] from PyPI), in memory
#   localstack  LocalStack's SQS provider on the host (localstack-core from
#               PyPI, no Docker), in memory
#
# The whole run happens in a private network namespace (unshare -n, loopback
# up): LocalStack's gateway listens on every interface whatever it is told.
# TARN_PEERS_NETNS=0 runs in the current namespace instead (not localstack).
#
# In DIR: <target>-<workload>.json (tarn-load's report), .txt (its summary),
# .err, .rc, logs/<target>-<workload>.log (the server's output), meta.json,
# summary.md and summary.json. Exits non-zero when any run failed (a server
# that does not serve SQS, a run whose every request failed).
#
# Needs: target/release/{tarn,tarn-load} (copied at the start, so that a
# rebuild during the run changes nothing), install-sqs.sh's peers, python3.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() {
    sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

targets=tarn,moto,localstack
workloads=sqs-send,sqs-receive-delete
duration=15s
warmup=2s
concurrency=16
prefill=""
out=""
args_in=("$@")
while [[ $# -gt 0 ]]; do
    case $1 in
        --targets) targets=$2; shift 2 ;;
        --workloads) workloads=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --warmup) warmup=$2; shift 2 ;;
        --concurrency) concurrency=$2; shift 2 ;;
        --prefill) prefill=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --) shift; break ;;
        -h | --help) usage ;;
        *) echo "compare-sqs.sh: unknown option $1" >&2; usage ;;
    esac
done
extra=("$@")
IFS=, read -r -a target_list <<<"$targets"
IFS=, read -r -a workload_list <<<"$workloads"
MOTO_SERVER=$TARN_PEERS_DIR/moto/bin/moto_server
LOCALSTACK_PY=$TARN_PEERS_DIR/localstack/bin/python
for t in "${target_list[@]}"; do
    case $t in
        tarn) [[ -x $TARN_BIN ]] || die "no $TARN_BIN: cargo build --release --bin tarn" ;;
        moto) [[ -x $MOTO_SERVER ]] || die "moto is not installed: run bench/peers/install-sqs.sh" ;;
        localstack) [[ -x $LOCALSTACK_PY ]] || die "LocalStack is not installed: run bench/peers/install-sqs.sh" ;;
        *) die "unknown target $t (tarn, moto, localstack)" ;;
    esac
done
for w in "${workload_list[@]}"; do
    case $w in sqs-send | sqs-receive-delete) ;; *) die "unknown workload $w (sqs-send, sqs-receive-delete)" ;; esac
done
[[ -z $prefill || $prefill =~ ^[1-9][0-9]*$ ]] || die "bad --prefill: $prefill"
[[ -x $TARN_LOAD ]] || die "no $TARN_LOAD: cargo build --release -p tarn-bench --bin tarn-load"
command -v python3 >/dev/null || die "python3 is needed (free ports, the summary)"

# Re-run inside a private network namespace; `unshare` execs bash, so the pid
# stays the same and a signal to this command reaches it.
if [[ -z ${TARN_PEERS_IN_NETNS:-} ]]; then
    if [[ ${TARN_PEERS_NETNS:-1} != 0 ]]; then
        command -v unshare >/dev/null || die "unshare (util-linux) is needed, or TARN_PEERS_NETNS=0"
        export TARN_PEERS_IN_NETNS=1
        exec unshare -n -- bash "${BASH_SOURCE[0]}" "${args_in[@]}"
    fi
    for t in "${target_list[@]}"; do
        [[ $t != localstack ]] || die "localstack runs only in a private network namespace (it listens on every interface)"
    done
else
    ip link set lo up || die "cannot bring up the loopback in the new network namespace"
    only_loopback || die "not in a private network namespace"
fi

default_prefill() {
    case $1 in
        tarn) echo 400000 ;;
        localstack) echo 60000 ;;
        moto) echo 1000 ;;
    esac
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

out=${out:-${TMPDIR:-/tmp}/tarn-sqs-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out/logs"

# Snapshot the binaries: someone may be rebuilding target/ meanwhile.
bin_dir=$(mktemp -d "${TMPDIR:-/tmp}/tarn-sqs-bin.XXXXXX")
server_pid=""
load_pid=""
scratch=""
finish() {
    local rc=$?
    if [[ -n $load_pid ]]; then stop_pid "$load_pid" 5; load_pid=""; fi
    if [[ -n $server_pid ]]; then stop_pid "$server_pid" 30; server_pid=""; fi
    if [[ -n $scratch ]]; then rm -rf -- "$scratch"; scratch=""; fi
    rm -rf -- "$bin_dir"
    exit "$rc"
}
trap finish EXIT
trap 'echo; echo "compare-sqs.sh: interrupted; partial results in $out" >&2; exit 130' INT
trap 'exit 143' TERM
tarn_src=$TARN_BIN
cp "$TARN_LOAD" "$bin_dir/tarn-load"
TARN_LOAD=$bin_dir/tarn-load
if [[ -x $TARN_BIN ]]; then cp "$TARN_BIN" "$bin_dir/tarn" && TARN_BIN=$bin_dir/tarn; fi

# start_server TARGET PORT LOG: start it in the background, set server_pid
# (and scratch, its state directory, deleted after the run).
start_server() {
    local target=$1 port=$2 log=$3 parent
    parent=${TARN_PEERS_DATA_PARENT:-${TMPDIR:-/var/tmp}}
    scratch=$(mktemp -d "$parent/tarn-sqs-$target.XXXXXX")
    # shellcheck disable=SC2086
    case $target in
        tarn)
            if [[ $(stat -f -c %T "$scratch") == tmpfs ]]; then
                echo "compare-sqs.sh: warning: $scratch is on tmpfs, so fsync costs nothing: set TARN_PEERS_DATA_PARENT to a disk" >&2
            fi
            "$TARN_BIN" --host 127.0.0.1 --port "$port" --data-dir "$scratch" ${TARN_ARGS:-} >>"$log" 2>&1 &
            ;;
        moto)
            "$MOTO_SERVER" -H 127.0.0.1 -p "$port" >>"$log" 2>&1 &
            ;;
        localstack)
            # Host mode: its files under the scratch directory, not /etc,
            # /var/lib and /usr/lib (where it goes when it believes it is in a
            # container); SQS only, loaded at start; no DNS server.
            OVERRIDE_IN_DOCKER=0 FILESYSTEM_ROOT=$scratch GATEWAY_LISTEN=127.0.0.1:$port \
                SERVICES=sqs EAGER_SERVICE_LOADING=1 DNS_ADDRESS=0 LOCALSTACK_CLI=0 \
                "$LOCALSTACK_PY" -m localstack.runtime.main >>"$log" 2>&1 &
            ;;
    esac
    server_pid=$!
}

# What was measured, for meta.json.
venv_version() {
    "$TARN_PEERS_DIR/$1/bin/python" -c "import importlib.metadata as m; print(m.version('$2'))" 2>/dev/null || echo "?"
}
peer_bits=()
for t in "${target_list[@]}"; do
    case $t in
        moto) peer_bits+=("moto $(venv_version moto moto) ($("$TARN_PEERS_DIR/moto/bin/python" -V 2>&1), moto_server, in memory)") ;;
        localstack) peer_bits+=("LocalStack $(venv_version localstack localstack-core) ($("$LOCALSTACK_PY" -V 2>&1), localstack-core on the host, in memory)") ;;
    esac
done
peers="none"
((${#peer_bits[@]} == 0)) || peers=$(IFS=';'; echo "${peer_bits[*]}" | sed 's/;/, /g')
commit=$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo "?")
tarn_desc="none"
if [[ -x $tarn_src ]]; then
    tarn_desc="${tarn_src#"$REPO_ROOT"/} built $(date -r "$tarn_src" '+%Y-%m-%d %H:%M')"
fi
cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || echo "?")
machine="$(nproc) CPUs ($cpu), load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
prefills=()
for t in "${target_list[@]}"; do prefills+=("$t=${prefill:-$(default_prefill "$t")}"); done
python3 - "$out/meta.json" "${extra[@]}" <<EOF
import json, sys
json.dump({
    "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
    "targets": "$targets".split(","),
    "workloads": "$workloads".split(","),
    "parameters": {"duration": "$duration", "warmup": "$warmup", "concurrency": $concurrency,
                   "prefill": dict(p.split("=") for p in "${prefills[*]}".split()),
                   "extra_tarn_load_args": sys.argv[2:]},
    "tarn": {"binary": "$tarn_desc", "commit": "$commit"},
    "peers": "$peers",
    "machine": "$machine",
}, open(sys.argv[1], "w"), indent=2)
EOF

total=$((${#target_list[@]} * ${#workload_list[@]}))
n=0
failed=0
echo "compare-sqs.sh: $total runs of $warmup + $duration, results in $out" >&2
if awk -v n="$(nproc)" '{exit !($1 > n / 2)}' /proc/loadavg; then
    echo "compare-sqs.sh: warning: load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs: the machine is busy, the figures will be noisy" >&2
fi
for w in "${workload_list[@]}"; do
    for t in "${target_list[@]}"; do
        n=$((n + 1))
        name=$t-$w
        log=$out/logs/$name.log
        : >"$log"
        rm -f "$out/$name.json" "$out/$name.rc"
        printf '[%2d/%d] %-11s %-19s load avg %s ... ' "$n" "$total" "$t" "$w" "$(cut -d' ' -f1 /proc/loadavg)" >&2
        port=$(free_port)
        start_server "$t" "$port" "$log"
        rc=0
        if ! wait_port "$server_pid" "$port" "${TARN_PEERS_START_TIMEOUT:-120}"; then
            echo "FAILED: $t did not start listening on 127.0.0.1:$port; see $log" >&2
            rc=1
        else
            args=(--endpoint "http://127.0.0.1:$port" --workload "$w" --concurrency "$concurrency"
                  --warmup "$warmup" --duration "$duration" --timeout 60s
                  --json "$out/$name.json" --no-progress)
            [[ $w != sqs-receive-delete ]] || args+=(--load --records "${prefill:-$(default_prefill "$t")}")
            # In the background, so that a signal to this script is handled
            # at once (bash runs traps only between foreground commands).
            "$TARN_LOAD" "${args[@]}" "${extra[@]}" >"$out/$name.txt" 2>"$out/$name.err" &
            load_pid=$!
            wait "$load_pid" || rc=$?
            load_pid=""
            if ! is_running "$server_pid"; then
                echo "compare-sqs.sh: $t exited during the run; see $log" >&2
                ((rc != 0)) || rc=1
            fi
        fi
        stop_pid "$server_pid" 30
        server_pid=""
        rm -rf -- "$scratch"
        scratch=""
        echo "$rc" >"$out/$name.rc"
        ((rc == 0)) || failed=$((failed + 1))
        if [[ -f $out/$name.json ]]; then
            python3 - "$out/$name.json" "$rc" <<'EOF' >&2
import json, sys
r = json.load(open(sys.argv[1])); run = r.get("run") or {}
op = run.get("all") or {}
lat = op.get("latency_us") or {}
s = f"{op.get('ops_per_s', 0):,.0f} ops/s, p99 {lat.get('p99', 0):,} us"
if run.get("messages_per_s") is not None: s += f", {run['messages_per_s']:,.0f} messages/s"
if run.get("empty_receives"): s += f", queue ran dry ({run['empty_receives']} empty receives)"
if run.get("errors_total"): s += f", {run['errors_total']} errors"
if sys.argv[2] != "0": s += f", exit status {sys.argv[2]}"
print(s)
EOF
            [[ $rc == 0 ]] || sed 's/^/    /' "$out/$name.err" >&2
        elif ((rc != 0)) && [[ -s $out/$name.err ]]; then
            echo "FAILED (exit status $rc): $(tail -n 1 "$out/$name.err")" >&2
        fi
    done
done
echo >&2
python3 "$PEERS_HERE/summarize-sqs.py" "$out"
echo >&2
echo "compare-sqs.sh: results in $out (summary.md, summary.json)" >&2
((failed == 0)) || { echo "compare-sqs.sh: $failed of $total runs failed" >&2; exit 1; }
