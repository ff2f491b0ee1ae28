#!/usr/bin/env bash
# The gateway's dashboard (services/gateway/ui): npm packages from the lock file, the
# bundle the gateway serves (ui/dist, not committed), and its type-check and lint.
#
#   scripts/ui.sh ensure   # npm ci when the lock file changed, then build
#   scripts/ui.sh build    # bundle into services/gateway/ui/dist
#   scripts/ui.sh check    # tsc --noEmit and eslint
set -euo pipefail

UI=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/services/gateway/ui

die() { echo "ui.sh: $*" >&2; exit 1; }

need_node() {
    command -v npm >/dev/null || die "npm not found: install Node.js 20 or later"
}

ensure() {
    need_node
    # npm ci only when the lock file differs from the one last installed from
    local stamp=$UI/node_modules/.installed-lock.json
    if ! cmp -s "$UI/package-lock.json" "$stamp" 2>/dev/null; then
        (cd "$UI" && npm ci --no-audit --no-fund --loglevel=error)
        cp "$UI/package-lock.json" "$stamp"
    fi
    build
}

build() {
    need_node
    (cd "$UI" && node build.mjs)
}

check() {
    need_node
    (cd "$UI" && npx --no-install tsc --noEmit -p . && npx --no-install eslint .)
}

case ${1:-} in
    ensure) ensure ;;
    build) build ;;
    check) check ;;
    *) die "usage: $0 ensure | build | check" ;;
esac
