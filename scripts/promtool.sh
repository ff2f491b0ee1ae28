#!/usr/bin/env bash
# promtool (Prometheus' rule checker) for `make test`, built from the Go module proxy into
# .cache/bin when missing, once; needs Go (the module
# asks for 1.26.7 or newer; an older go fetches that toolchain itself).
#
#   scripts/promtool.sh ensure    # build .cache/bin/promtool unless it is there at $VERSION
#
# Env: PROMTOOL_VERSION (a github.com/prometheus/prometheus module version).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VERSION=${PROMTOOL_VERSION:-v0.316.0}  # Prometheus 3.16.0
BIN=$REPO/.cache/bin
STAMP=$BIN/promtool.version

die() { echo "promtool.sh: $*" >&2; exit 1; }

ensure() {
    if [[ -x $BIN/promtool && -f $STAMP && $(<"$STAMP") == "$VERSION" ]]; then
        return 0
    fi
    if ! command -v go >/dev/null; then
        # not fatal: the rules are still parsed and checked by tests/unit/test_observability.py
        echo "promtool.sh: no Go, promtool not built; its checks are skipped" >&2
        return 0
    fi
    mkdir -p "$BIN"
    echo "promtool.sh: building promtool $VERSION into $BIN (once; it takes minutes)" >&2
    # remove_all_sd: without the service discovery plugins (cloud SDKs), which checking
    # rules never uses and which are most of the build
    GOBIN=$BIN GOFLAGS=-buildvcs=false \
        go install -tags remove_all_sd "github.com/prometheus/prometheus/cmd/promtool@$VERSION"
    echo "$VERSION" >"$STAMP"
}

case ${1:-} in
    ensure) ensure ;;
    *) die "usage: scripts/promtool.sh ensure" ;;
esac
