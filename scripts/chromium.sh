#!/usr/bin/env bash
# Headless Chromium for the dashboard's browser tests and benchmark (Debian's package;
# Playwright drives it through executable_path, never `playwright install`).
#
#   scripts/chromium.sh ensure    # apt-get install chromium if /usr/bin/chromium is missing
set -euo pipefail

BIN=/usr/bin/chromium

die() { echo "chromium.sh: $*" >&2; exit 1; }

ensure() {
    [[ -x $BIN ]] && return 0
    local sudo=()
    ((EUID == 0)) || sudo=(sudo)
    echo "chromium.sh: installing chromium with apt-get" >&2
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends chromium >/dev/null
    [[ -x $BIN ]] || die "$BIN still missing after install"
}

case ${1:-} in
    ensure) ensure ;;
    *) die "usage: $0 ensure" ;;
esac
