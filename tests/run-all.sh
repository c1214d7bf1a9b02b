#!/usr/bin/env bash
# The whole test suite: installs the real peers it needs, then every Rust test
# (unit, contract, end-to-end against swaks / smtplib / aiosmtpd / Postfix tools).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/mmsc-target}
bash tests/setup-peers.sh
# The end-to-end tests run the real binaries (mmsc, diameter-sidecar): build them first,
# since `cargo test` only builds a package's binaries for that package's own tests.
cargo build --workspace --bins --locked
cargo test --workspace --locked "$@"
