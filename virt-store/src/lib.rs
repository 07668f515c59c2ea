//! Plug a persistent `wasi:keyvalue` provider into any component, and run the result.
//!
//! An application component that imports `wasi:keyvalue/*` and a provider component that
//! exports it become one component that imports only standard WASI interfaces:
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let app = std::fs::read("app.wasm")?;
//! let provider = std::fs::read("provider.wasm")?;
//! let composed = virt_store::plug(&app, &provider)?;
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

mod imports;
mod plug;
mod run;
mod spin;

pub use imports::{imports, is_keyvalue, ImportsError};
pub use plug::{plug, PlugError};
pub use run::{
    Access, CompileError, Outcome, Program, RunConfig, RunError, Runtime, RuntimeError, Status,
    TRAP_EXIT_CODE,
};
