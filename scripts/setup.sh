# Sourced by the other scripts: installs what the build needs, skipping what is already there.
set -euo pipefail
if ! command -v cargo >/dev/null; then
    echo "error: cargo not found; install Rust with rustup (https://rustup.rs) first" >&2
    exit 1
fi
# rust-toolchain files do not install targets when RUSTUP_AUTO_INSTALL=0, so add it here.
if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    echo "setup: installing the wasm32-wasip2 target"
    rustup target add wasm32-wasip2
fi

# The native packages, selected the same way by scripts/test and scripts/demo: cargo unifies
# dependency features over the packages it builds, so building the CLI alone would compile
# wasmtime a second time with other features.
NATIVE_PACKAGES=(--workspace --exclude provider --exclude test-programs --exclude counter --exclude http-counter --exclude bench --exclude bench-workload)
