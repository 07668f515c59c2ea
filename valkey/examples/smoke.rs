//! A smoke run of the backend against a server: `smoke redis://127.0.0.1:6379`. Built for
//! wasm32-wasip2 and run with `wasmtime run -S inherit-network`, it checks that `std::net`
//! reaches the server through wasi:sockets; with a second argument, the port of a server that
//! never answers, it checks that a read times out there too. `tests/it/wasm.rs` runs it so.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use virt_store_valkey::{Error, Options, Store};

fn main() -> ExitCode {
    // The error's message (Display), which is what a person would see, not its Debug form.
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "redis://127.0.0.1:6379".into());
    let store = Store::open(&url, Options::default())?;
    let bucket = store.bucket("smoke")?;
    let big: Vec<u8> = (0..3 * 1024 * 1024u32).map(|i| (i * 7) as u8).collect();
    bucket.set("big", &big)?;
    assert!(bucket.get("big")?.as_deref() == Some(&big[..]), "big value");
    let n = bucket.increment("n", 2)?;
    let (version, _) = bucket.read_versioned("n")?;
    assert!(bucket.swap("n", version, b"40")?);
    println!("increment {n}, keys {:?}", bucket.list_keys(None)?.keys);
    if let Some(port) = args.next() {
        let options = Options {
            timeout: Duration::from_millis(500),
        };
        let silent = Store::open(&format!("redis://127.0.0.1:{port}"), options)?;
        let started = Instant::now();
        match silent.bucket("")?.get("k") {
            Err(e) => println!("silent server: {e} (after {:?})", started.elapsed()),
            Ok(_) => println!("silent server answered?"),
        }
    }
    Ok(())
}
