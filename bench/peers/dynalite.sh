#!/usr/bin/env bash
# dynalite.sh PORT [dynalite options...]
# Run dynalite in the foreground, in memory (no --path), on 127.0.0.1:PORT.
# Extra options go to dynalite (e.g. --createTableMs 0). Installed by install.sh.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[[ $# -ge 1 && $1 =~ ^[0-9]+$ ]] || die "usage: dynalite.sh PORT [dynalite options...]"
port=$1
shift
cli=$TARN_PEERS_DIR/node_modules/dynalite/cli.js
[[ -f $cli ]] || die "dynalite is not installed in $TARN_PEERS_DIR: run bench/peers/install.sh"
exec node "$cli" --host 127.0.0.1 --port "$port" "$@"
