//! `virt-store run`: plug and run a command app on the embedded wasmtime (the `run` feature,
//! on by default; without it the CLI compiles no runtime).

use crate::components::{plugged, read, Backend, ProviderArg};
use crate::store_tools::StoreDir;
use anyhow::{bail, Context, Result};
use clap::Args;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use virt_store::{Access, RunConfig, Runtime, Status};

/// Where the store's directory appears inside the app: the provider's default root.
const GUEST_DATA_DIR: &str = "/data";

/// Plug the provider into a command app and run it on the embedded wasmtime; the exit code is
/// the app's (134 if it trapped).
#[derive(Args)]
// The store tools' `--data`, but for `run` its help says where the app finds it.
#[command(mut_arg("data", |data| data.help(
    "The host directory of the store, created if missing; the provider sees it at `/data`, \
     the app does not"
)))]
pub struct RunCommand {
    /// The application component (a command: it exports `wasi:cli/run`).
    app: PathBuf,
    #[command(flatten)]
    store: StoreDir,
    /// Keep the store on this Valkey or Redis server instead (`redis://HOST:PORT`): plugs the
    /// Valkey provider, and lets the app's component connect to that address and nowhere else.
    #[arg(long = "store", value_name = "URL", conflicts_with = "data")]
    server: Option<String>,
    /// Also give the app a host directory, read-write, at a guest path (`./in::/in`); a bare
    /// `DIR` appears at the same path.
    #[arg(long = "dir", value_name = "HOST::GUEST", value_parser = parse_dir)]
    dirs: Vec<(PathBuf, String)>,
    /// Set an environment variable for the app (`VIRT_STORE_SYNC=off`).
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = parse_env)]
    envs: Vec<(String, String)>,
    #[command(flatten)]
    provider: ProviderArg,
    /// Arguments for the app, after `--`.
    #[arg(last = true)]
    args: Vec<String>,
}

impl RunCommand {
    pub fn exec(self) -> Result<ExitCode> {
        if let Some(url) = self.server.clone() {
            return self.exec_on_server(url);
        }
        if self.provider.backend == Backend::Valkey {
            bail!(
                "`--backend valkey` keeps the store on a server: pass `--store redis://HOST:PORT`"
            );
        }
        let (app, data) = (&self.app, &self.store.data);
        if let Some((host, _)) = self.dirs.iter().find(|(_, guest)| guest == GUEST_DATA_DIR) {
            bail!(
                "`--dir {}::{GUEST_DATA_DIR}` would hide the store's directory; use `--data {}` instead",
                host.display(),
                host.display()
            );
        }
        let preopens: Vec<(PathBuf, String)> =
            std::iter::once((data.to_path_buf(), GUEST_DATA_DIR.to_owned()))
                .chain(self.dirs.iter().cloned())
                .collect();
        virt_store::check_preopens(&preopens, &self.envs).context("refusing to run")?;
        let app_bytes = read(app, "app")?;
        let composed = plugged(app, &app_bytes, &self.provider.bytes()?)?;
        std::fs::create_dir_all(data)
            .with_context(|| format!("cannot create the data directory `{}`", data.display()))?;
        eprintln!(
            "virt-store: the store is in `{}` (at {GUEST_DATA_DIR} for the provider, hidden from the app)",
            data.display()
        );
        let config = RunConfig::new(app.display().to_string())
            .args(self.args)
            .dir(data, GUEST_DATA_DIR, Access::ReadWrite);
        run(app, &composed, config, self.dirs, self.envs)
    }

    /// `run --store URL`: the Valkey provider, `VIRT_STORE_URL` set for it, and TCP to the
    /// server's addresses only.
    fn exec_on_server(self, url: String) -> Result<ExitCode> {
        let app = &self.app;
        let server = virt_store_valkey::ServerUrl::parse(&url)?;
        let addrs: Vec<SocketAddr> = (server.host.as_str(), server.port)
            .to_socket_addrs()
            .with_context(|| format!("cannot resolve the host of `{server}`"))?
            .collect();
        if let Some((key, _)) = self.envs.iter().find(|(key, _)| key == "VIRT_STORE_URL") {
            bail!("`--env {key}=...` and `--store` both name the server; keep `--store`");
        }
        let app_bytes = read(app, "app")?;
        let provider = match &self.provider.path {
            Some(_) => self.provider.bytes()?,
            None => Backend::Valkey.component().into(),
        };
        let composed = plugged(app, &app_bytes, &provider)?;
        eprintln!("virt-store: the store is on `{server}`");
        let config = RunConfig::new(app.display().to_string())
            .args(self.args)
            .env("VIRT_STORE_URL", url)
            .tcp_to(addrs)
            // A name (`localhost`) is resolved inside the component too.
            .name_lookup(server.host.parse::<std::net::IpAddr>().is_err());
        run(app, &composed, config, self.dirs, self.envs)
    }
}

/// Compiles `composed` (cached) and runs it with `config` plus the app's own directories and
/// environment; the exit code is the app's.
fn run(
    app: &Path,
    composed: &[u8],
    mut config: RunConfig,
    dirs: Vec<(PathBuf, String)>,
    envs: Vec<(String, String)>,
) -> Result<ExitCode> {
    let runtime = match code_cache() {
        // A cache that cannot be set up costs a compile, not the run.
        Some(dir) => Runtime::with_cache(dir).or_else(|_| Runtime::new())?,
        None => Runtime::new()?,
    };
    let program = runtime
        .compile(composed)
        .with_context(|| format!("cannot compile `{}` with the provider", app.display()))?;
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
    // Exit codes are 0..=255 everywhere this runs; wasi:cli's exit carries at most that.
    Ok(ExitCode::from(outcome.status.code().clamp(0, 255) as u8))
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

/// Where `run` keeps compiled code between runs, so that only the first run of a component pays
/// for compiling it: `$VIRT_STORE_CACHE_DIR` (empty: no cache), else `$XDG_CACHE_HOME/virt-store`,
/// else `$HOME/.cache/virt-store`.
fn code_cache() -> Option<PathBuf> {
    let dir = match std::env::var_os("VIRT_STORE_CACHE_DIR") {
        Some(dir) if dir.is_empty() => return None,
        Some(dir) => PathBuf::from(dir),
        None => match std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
            Some(dir) => PathBuf::from(dir).join("virt-store"),
            None => PathBuf::from(std::env::var_os("HOME")?).join(".cache/virt-store"),
        },
    };
    std::fs::create_dir_all(&dir).ok()?;
    // wasmtime wants an absolute path.
    dir.canonicalize().ok()
}
