//! Plug a persistent `wasi:keyvalue` provider into any component, and run the result.
//!
//! An application component that imports `wasi:keyvalue/*` and a provider component that
//! exports it become one component that imports only standard WASI interfaces, which the `run`
//! feature (on by default) runs on an embedded wasmtime:
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let app = std::fs::read("app.wasm")?;
//! let composed = virt_store::plug(&app, virt_store::PROVIDER)?;
//! assert!(!virt_store::imports(&composed)?.iter().any(|i| virt_store::is_keyvalue(i)));
//!
//! let runtime = virt_store::Runtime::new()?;
//! let program = runtime.compile(&composed)?;
//! let outcome = program.run(
//!     &virt_store::RunConfig::new("app")
//!         .dir("./data", "/data", virt_store::Access::ReadWrite)
//!         .arg("hello"),
//! )?;
//! std::process::exit(outcome.status.code());
//! # }
//! ```
#![deny(missing_docs)]

/// The provider component, built from `provider/` by `build.rs`: exports `wasi:keyvalue` store,
/// atomics and batch at `0.2.0-draft3`, `0.2.0-draft2` and `0.2.0-draft`, and
/// `wasi:filesystem/preopens@0.2.4`: the host's preopens without the store's directory, for the app.
pub const PROVIDER: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/provider.wasm"));

/// The Valkey provider component, built from `provider-valkey/` by `build.rs`: the same
/// `wasi:keyvalue` exports as [`PROVIDER`], over a Valkey or Redis server that it reaches through
/// `wasi:sockets` (`VIRT_STORE_URL`); it imports no `wasi:filesystem` and exports no preopens.
pub const PROVIDER_VALKEY: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/provider_valkey.wasm"));

mod check;
mod imports;
mod plug;
#[cfg(feature = "run")]
mod run;
mod spin;
mod store_dir;
mod stores;
mod transfer;

pub use check::{check, Check, Package};
pub use imports::{exports, imports, is_keyvalue, is_preopens, ImportsError};
pub use plug::{plug, PlugError};
#[cfg(feature = "run")]
pub use run::{
    Access, CompileError, Outcome, Program, RunConfig, RunError, Runtime, RuntimeError, Status,
    TRAP_EXIT_CODE,
};
pub use store_dir::{check_preopens, StoreDirError};
pub use stores::{AnyBucket, AnyStore, StoreError};
pub use transfer::{all_keys, export_json_lines, import_json_lines, Summary, TransferError};
