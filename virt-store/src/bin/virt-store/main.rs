//! `virt-store`: plug the persistent `wasi:keyvalue` provider into a component, run it, and look
//! after the store it keeps.

mod components;
mod store_tools;

use anyhow::{bail, Result};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// The data directory the store tools and `run` use unless `--data` says otherwise.
const DEFAULT_DATA_DIR: &str = "data";

#[derive(Parser)]
#[command(name = "virt-store", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Plug the provider into the app's `wasi:keyvalue` imports and write the composed component.
    Plug {
        /// The application component.
        app: PathBuf,
        /// Where to write the composed component (stdout if omitted, unless it is a terminal).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Plug this provider component instead of the one built into virt-store.
        #[arg(long, value_name = "PROVIDER.wasm")]
        provider: Option<PathBuf>,
    },
    /// Write the provider component built into virt-store (for `wac plug` and `wac compose`).
    Provider {
        /// Where to write it (stdout if omitted, unless it is a terminal).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Show what an app imports, which `wasi:keyvalue` versions it needs, whether the provider
    /// serves them, and what the composed component will import from the host.
    Check {
        /// The application component.
        app: PathBuf,
        /// Check against this provider component instead of the one built into virt-store.
        #[arg(long, value_name = "PROVIDER.wasm")]
        provider: Option<PathBuf>,
    },
    /// Plug the provider into a command app and run it on the embedded wasmtime; the exit code is
    /// the app's (134 if it trapped).
    Run {
        /// The application component (a command: it exports `wasi:cli/run`).
        app: PathBuf,
        /// The host directory of the store, created if missing; the provider sees it at `/data`, the app does not.
        #[arg(long, value_name = "DIR", default_value = DEFAULT_DATA_DIR)]
        data: PathBuf,
        /// Also give the app a host directory, read-write, at a guest path (`./in::/in`); a bare
        /// `DIR` appears at the same path.
        #[arg(long = "dir", value_name = "HOST::GUEST", value_parser = parse_dir)]
        dirs: Vec<(PathBuf, String)>,
        /// Set an environment variable for the app (`VIRT_STORE_SYNC=off`).
        #[arg(long = "env", value_name = "KEY=VALUE", value_parser = parse_env)]
        envs: Vec<(String, String)>,
        /// Plug this provider component instead of the one built into virt-store.
        #[arg(long, value_name = "PROVIDER.wasm")]
        provider: Option<PathBuf>,
        /// Arguments for the app, after `--`.
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// List the keys of a bucket, sorted, one per line.
    List {
        #[command(flatten)]
        at: store_tools::At,
    },
    /// Print a key's value (exactly its bytes when not to a terminal).
    Get {
        #[command(flatten)]
        at: store_tools::At,
        /// The key.
        key: String,
    },
    /// Set a key to VALUE, to the contents of `--file`, or to standard input.
    Set {
        #[command(flatten)]
        at: store_tools::At,
        /// The key.
        key: String,
        /// The value, as UTF-8 text.
        #[arg(conflicts_with = "file")]
        value: Option<String>,
        /// Read the value from this file (`-` for standard input).
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Delete keys (deleting an absent key is not an error, as in `wasi:keyvalue`).
    Delete {
        #[command(flatten)]
        at: store_tools::At,
        /// The keys.
        #[arg(required = true)]
        keys: Vec<String>,
    },
    /// Write every key of the store (or of the `--bucket`s given) as JSON lines.
    Export {
        /// The store's directory.
        #[arg(long, value_name = "DIR", default_value = DEFAULT_DATA_DIR)]
        data: PathBuf,
        /// Only this bucket (repeatable; `""` is the default bucket).
        #[arg(long = "bucket", value_name = "ID")]
        buckets: Vec<String>,
        /// Write to this file instead of stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Read JSON lines as `export` writes them and set every key (creates the store if needed).
    Import {
        /// The store's directory.
        #[arg(long, value_name = "DIR", default_value = DEFAULT_DATA_DIR)]
        data: PathBuf,
        /// The file to read (`-` or omitted: standard input).
        input: Option<PathBuf>,
    },
    /// Describe the store: format, buckets, key counts and sizes.
    Inspect {
        /// The store's directory.
        #[arg(long, value_name = "DIR", default_value = DEFAULT_DATA_DIR)]
        data: PathBuf,
    },
    /// Verify every entry of the store and sweep what crashed writers left; exits 1 when a
    /// problem remains.
    Fsck {
        /// The store's directory.
        #[arg(long, value_name = "DIR", default_value = DEFAULT_DATA_DIR)]
        data: PathBuf,
        /// Fix what can be fixed safely (see docs/FORMAT.md).
        #[arg(long)]
        repair: bool,
    },
}

fn main() -> ExitCode {
    match dispatch(Cli::parse().command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(command: Command) -> Result<ExitCode> {
    match command {
        Command::Plug {
            app,
            output,
            provider,
        } => components::plug(&app, output.as_deref(), provider.as_deref()),
        Command::Provider { output } => components::provider(output.as_deref()),
        Command::Check { app, provider } => components::check(&app, provider.as_deref()),
        Command::Run {
            app,
            data,
            dirs,
            envs,
            provider,
            args,
        } => components::run(&app, &data, dirs, envs, provider.as_deref(), args),
        Command::List { at } => store_tools::list(&at),
        Command::Get { at, key } => store_tools::get(&at, &key),
        Command::Set {
            at,
            key,
            value,
            file,
        } => store_tools::set(&at, &key, value, file.as_deref()),
        Command::Delete { at, keys } => store_tools::delete(&at, &keys),
        Command::Export {
            data,
            buckets,
            output,
        } => store_tools::export(&data, &buckets, output.as_deref()),
        Command::Import { data, input } => store_tools::import(&data, input.as_deref()),
        Command::Inspect { data } => store_tools::inspect(&data),
        Command::Fsck { data, repair } => store_tools::fsck(&data, repair),
    }
}

/// Parses `HOST::GUEST`, or a bare `DIR` that appears at the same path in the guest.
fn parse_dir(arg: &str) -> Result<(PathBuf, String)> {
    let (host, guest) = arg.split_once("::").unwrap_or((arg, arg));
    if host.is_empty() || guest.is_empty() {
        bail!("expected `HOST::GUEST` or `DIR`, got `{arg}`");
    }
    Ok((PathBuf::from(host), guest.to_owned()))
}

/// Parses `KEY=VALUE`.
fn parse_env(arg: &str) -> Result<(String, String)> {
    match arg.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => bail!("expected `KEY=VALUE`, got `{arg}`"),
    }
}
