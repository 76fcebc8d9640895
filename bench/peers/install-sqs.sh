#!/usr/bin/env bash
# Install the SQS peers that compare-sqs.sh measures Tarn against, from PyPI,
# each into its own virtualenv under $TARN_PEERS_DIR (default
# ~/.cache/tarn-peers), never into the repository:
#   moto        moto[server] (`moto_server`), in memory; needs Python 3.9+
#   localstack  localstack-core[runtime], its SQS provider run on the host
#               (no Docker), in memory; needs Python 3.13+ (it imports
#               warnings.deprecated), found as python3.14 / python3.13,
#               among pyenv's versions, or $TARN_PEERS_PYTHON313. Skipped
#               with a warning without one.
# Idempotent: does nothing for a peer whose pinned version is already there.
# Versions: TARN_PEERS_MOTO_VERSION, TARN_PEERS_LOCALSTACK_VERSION.
# ElasticMQ is not offered: it is published as a jar on its own site and on
# Maven Central, neither of which is a registry this project can reach.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

moto_version=${TARN_PEERS_MOTO_VERSION:-5.2.6}
localstack_version=${TARN_PEERS_LOCALSTACK_VERSION:-2026.3.0}

# venv_install DIR PYTHON DIST VERSION PIP-SPEC...
venv_install() {
    local dir=$1 python=$2 dist=$3 version=$4 have
    shift 4
    have=$("$dir/bin/python" -c "import importlib.metadata as m; print(m.version('$dist'))" 2>/dev/null || true)
    # A venv made with another Python than the one now chosen is redone.
    if [[ $("$dir/bin/python" -V 2>&1) != $("$python" -V 2>&1) ]]; then
        have=""
    fi
    if [[ $have == "$version" ]]; then
        echo "install-sqs.sh: $dist $version already in $dir"
        return 0
    fi
    rm -rf -- "$dir"
    "$python" -m venv "$dir"
    "$dir/bin/pip" install --quiet --disable-pip-version-check "$@"
    echo "install-sqs.sh: $dist $("$dir/bin/python" -c "import importlib.metadata as m; print(m.version('$dist'))") in $dir"
}

command -v python3 >/dev/null || die "python3 (3.9 or later) is needed"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 9))' || die "python3 $(python3 -V) is too old: moto needs 3.9"
mkdir -p "$TARN_PEERS_DIR"
venv_install "$TARN_PEERS_DIR/moto" python3 moto "$moto_version" "moto[server]==$moto_version"

py313=""
for p in ${TARN_PEERS_PYTHON313:-} python3.14 python3.13 "$HOME"/.pyenv/versions/3.1[3-9]*/bin/python3 python3; do
    if [[ -n $p ]] && command -v "$p" >/dev/null 2>&1 &&
        "$p" -c 'import sys; sys.exit(sys.version_info < (3, 13))' 2>/dev/null; then
        py313=$p
        break
    fi
done
if [[ -z $py313 ]]; then
    echo "install-sqs.sh: warning: no Python 3.13 or later (set TARN_PEERS_PYTHON313): LocalStack not installed" >&2
    exit 0
fi
# localstack-core's ranges admit releases it cannot start with: cbor2 6 has no
# cbor2._decoder, pyOpenSSL 25 no X509.add_extensions (the gateway's
# certificate), and its twisted server wants service_identity, which it does
# not declare. Pinned below those breaks.
venv_install "$TARN_PEERS_DIR/localstack" "$py313" localstack-core "$localstack_version" \
    "localstack-core[runtime]==$localstack_version" "cbor2<6" "cryptography<45" "pyopenssl<25" service_identity
