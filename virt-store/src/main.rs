//! `virt-store`: plug the persistent `wasi:keyvalue` provider into a component, and run it.

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use virt_store::{Access, RunConfig, Runtime, Status};

#[derive(Parser)]
#[command(name = "virt-store", version, about)]
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
        /// The provider component.
        #[arg(long)]
        provider: PathBuf,
        /// Where to write the composed component.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Plug the provider into the app, then run it on the embedded wasmtime.
    ///
    /// The exit code is the app's (134 if it trapped).
    Run {
        /// The application component (a command: it exports `wasi:cli/run`).
        app: PathBuf,
        /// The provider component.
        #[arg(long)]
        provider: PathBuf,
        /// Give the app a host directory, read-write, at a guest path (`./data::/data`);
        /// a bare `DIR` appears at the same path.
        #[arg(long = "dir", value_name = "HOST::GUEST", value_parser = parse_dir)]
        dirs: Vec<(PathBuf, String)>,
        /// Set an environment variable for the app (`VIRT_STORE_DIR=/data`).
        #[arg(long = "env", value_name = "KEY=VALUE", value_parser = parse_env)]
        envs: Vec<(String, String)>,
        /// Arguments for the app, after `--`.
        #[arg(last = true)]
        args: Vec<String>,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Plug {
            app,
            provider,
            output,
        } => {
            let (composed, wired) = plug(&app, &provider)?;
            std::fs::write(&output, composed)
                .with_context(|| format!("cannot write `{}`", output.display()))?;
            for interface in wired {
                println!("wired `{interface}`");
            }
            Ok(())
        }
        Command::Run {
            app,
            provider,
            dirs,
            envs,
            args,
        } => {
            let (composed, _) = plug(&app, &provider)?;
            let program = Runtime::new()?
                .compile(&composed)
                .with_context(|| format!("cannot compile `{}` with the provider", app.display()))?;
            let mut config = RunConfig::new(app.display().to_string()).args(args);
            for (host, guest) in dirs {
                config = config.dir(host, guest, Access::ReadWrite);
            }
            for (key, value) in envs {
                config = config.env(key, value);
            }
            let outcome = program.run(&config)?;
            if let Status::Trapped(trap) = &outcome.status {
                eprintln!("error: `{}` trapped: {trap}", app.display());
            }
            std::process::exit(outcome.status.code())
        }
    }
}

/// Reads both components and plugs them; returns the composed bytes and the interfaces wired.
fn plug(app: &Path, provider: &Path) -> Result<(Vec<u8>, Vec<String>)> {
    let app_bytes =
        std::fs::read(app).with_context(|| format!("cannot read `{}`", app.display()))?;
    let provider_bytes = std::fs::read(provider)
        .with_context(|| format!("cannot read provider `{}`", provider.display()))?;
    let composed = virt_store::plug(&app_bytes, &provider_bytes).with_context(|| {
        format!(
            "cannot plug `{}` into `{}`",
            provider.display(),
            app.display()
        )
    })?;
    let wired = virt_store::imports(&app_bytes)?
        .into_iter()
        .filter(|i| virt_store::is_keyvalue(i))
        .collect();
    Ok((composed, wired))
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
