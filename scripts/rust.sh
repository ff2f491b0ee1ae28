#!/usr/bin/env bash
# The Rust toolchain that builds the validator's native fast path (services/validator/native).
#
#   scripts/rust.sh ensure    # cargo on PATH or in ~/.cargo/bin, else rustup installs it there
#
# `uv sync` builds the extension with maturin, which runs cargo; the crates come from crates.io.
set -euo pipefail

MIN_MINOR=74  # the oldest Rust (1.x) that builds the crate's dependencies

die() { echo "rust.sh: $*" >&2; exit 1; }

new_enough() {
    local version
    version=$(cargo --version 2>/dev/null | awk '{print $2}') || return 1
    [[ $version =~ ^1\.([0-9]+) ]] && ((BASH_REMATCH[1] >= MIN_MINOR))
}

ensure() {
    export PATH=$HOME/.cargo/bin:$PATH
    new_enough && return 0
    command -v curl >/dev/null || die "curl is needed to install Rust with rustup"
    echo "rust.sh: installing a minimal Rust toolchain with rustup into ~/.cargo" >&2
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs \
        | sh -s -- -y --profile minimal --no-modify-path >/dev/null
    new_enough || die "cargo 1.$MIN_MINOR or newer still not found after installing rustup"
}

case ${1:-} in
    ensure) ensure ;;
    *) die "usage: scripts/rust.sh ensure" ;;
esac
