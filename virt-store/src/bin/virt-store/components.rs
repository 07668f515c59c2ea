//! The subcommands that work on components: `plug`, `provider`, `check` and `run`.

use crate::store_tools::StoreDir;
use anyhow::{bail, Context, Result};
use clap::Args;
use std::borrow::Cow;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use virt_store::{Access, Package, RunConfig, Runtime, Status, PROVIDER};

/// Where the store's directory appears inside the app: the provider's default root.
const GUEST_DATA_DIR: &str = "/data";

/// `--provider`, for the commands that plug a provider or check an app against one.
#[derive(Args)]
pub struct ProviderArg {
    /// Use this provider component instead of the one built into virt-store.
    #[arg(long = "provider", value_name = "PROVIDER.wasm")]
    path: Option<PathBuf>,
}

impl ProviderArg {
    /// The file given, else the provider built in.
    fn bytes(&self) -> Result<Cow<'static, [u8]>> {
        Ok(match &self.path {
            Some(path) => Cow::Owned(read(path, "provider")?),
            None => Cow::Borrowed(PROVIDER),
        })
    }
}

/// Plug the provider into the app's `wasi:keyvalue` imports and write the composed component.
#[derive(Args)]
pub struct PlugCommand {
    /// The application component.
    app: PathBuf,
    /// Where to write the composed component (stdout if omitted, unless it is a terminal).
    #[arg(short, long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    provider: ProviderArg,
}

impl PlugCommand {
    pub fn exec(self) -> Result<ExitCode> {
        let output = self.output.as_deref();
        let out = Output::new(output, "the composed component")?;
        let app_bytes = read(&self.app, "app")?;
        let composed = plugged(&self.app, &app_bytes, &self.provider.bytes()?)?;
        let wired = virt_store::imports(&app_bytes)?
            .into_iter()
            .filter(|i| virt_store::is_keyvalue(i));
        // The component may be on stdout: the report goes to stderr then.
        let mut report: Box<dyn Write> = match output {
            Some(_) => Box::new(std::io::stdout()),
            None => Box::new(std::io::stderr()),
        };
        for interface in wired {
            writeln!(report, "wired `{interface}`")?;
        }
        out.write(&composed)?;
        if let Some(path) = output {
            writeln!(
                report,
                "wrote `{}` ({} KB; the app alone: {} KB)",
                path.display(),
                kb(composed.len()),
                kb(app_bytes.len())
            )?;
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Write the provider component built into virt-store (for `wac plug` and `wac compose`).
#[derive(Args)]
pub struct ProviderCommand {
    /// Where to write it (stdout if omitted, unless it is a terminal).
    #[arg(short, long)]
    output: Option<PathBuf>,
}

impl ProviderCommand {
    pub fn exec(self) -> Result<ExitCode> {
        let output = self.output.as_deref();
        Output::new(output, "the provider component")?.write(PROVIDER)?;
        if let Some(path) = output {
            println!("wrote `{}` ({} KB)", path.display(), kb(PROVIDER.len()));
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Show what an app imports, which `wasi:keyvalue` versions it needs, whether the provider
/// serves them, and what the composed component will import from the host.
#[derive(Args)]
pub struct CheckCommand {
    /// The application component.
    app: PathBuf,
    #[command(flatten)]
    provider: ProviderArg,
}

impl CheckCommand {
    pub fn exec(self) -> Result<ExitCode> {
        let app = &self.app;
        let app_bytes = read(app, "app")?;
        let check = virt_store::check(&app_bytes, &self.provider.bytes()?)
            .with_context(|| format!("cannot read the imports of `{}`", app.display()))?;
        println!("`{}` imports:", app.display());
        print_packages(&check.imports);
        println!();
        if check.keyvalue_versions.is_empty() {
            println!("wasi:keyvalue: none imported, so there is nothing to plug");
        } else {
            let needed = check.keyvalue_versions.join(", ");
            let missing: Vec<&str> = check
                .keyvalue_versions
                .iter()
                .filter(|v| !check.provided_versions.contains(v))
                .map(|v| v.as_str())
                .collect();
            if missing.is_empty() {
                println!("wasi:keyvalue: needs {needed}; the provider serves it");
            } else {
                println!(
                    "wasi:keyvalue: needs {needed}; the provider lacks {} (it serves {})",
                    missing.join(", "),
                    check.provided_versions.join(", ")
                );
            }
        }
        println!();
        match &check.plugged {
            Ok(imports) => {
                println!("after `virt-store plug`, the component imports from the host:");
                print_packages(imports);
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                println!("cannot plug: {e}");
                Ok(ExitCode::FAILURE)
            }
        }
    }
}

/// Plug the provider into a command app and run it on the embedded wasmtime; the exit code is
/// the app's (134 if it trapped).
#[derive(Args)]
// The store tools' `--data`, but for `run` its help says where the app finds it.
#[command(mut_arg("data", |data| data.help(
    "The host directory of the store, created if missing; the app sees it at `/data`"
)))]
pub struct RunCommand {
    /// The application component (a command: it exports `wasi:cli/run`).
    app: PathBuf,
    #[command(flatten)]
    store: StoreDir,
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
        let (app, data) = (&self.app, &self.store.data);
        if let Some((host, _)) = self.dirs.iter().find(|(_, guest)| guest == GUEST_DATA_DIR) {
            bail!(
                "`--dir {}::{GUEST_DATA_DIR}` would hide the store's directory; use `--data {}` instead",
                host.display(),
                host.display()
            );
        }
        let app_bytes = read(app, "app")?;
        let composed = plugged(app, &app_bytes, &self.provider.bytes()?)?;
        std::fs::create_dir_all(data)
            .with_context(|| format!("cannot create the data directory `{}`", data.display()))?;
        eprintln!(
            "virt-store: the store is in `{}` (the app sees it at {GUEST_DATA_DIR})",
            data.display()
        );
        let runtime = match code_cache() {
            // A cache that cannot be set up costs a compile, not the run.
            Some(dir) => Runtime::with_cache(dir).or_else(|_| Runtime::new())?,
            None => Runtime::new()?,
        };
        let program = runtime
            .compile(&composed)
            .with_context(|| format!("cannot compile `{}` with the provider", app.display()))?;
        let mut config = RunConfig::new(app.display().to_string())
            .args(self.args)
            .dir(data, GUEST_DATA_DIR, Access::ReadWrite);
        for (host, guest) in self.dirs {
            config = config.dir(host, guest, Access::ReadWrite);
        }
        for (key, value) in self.envs {
            config = config.env(key, value);
        }
        let outcome = program.run(&config)?;
        if let Status::Trapped(trap) = &outcome.status {
            eprintln!("error: `{}` trapped: {trap}", app.display());
        }
        // Exit codes are 0..=255 everywhere this runs; wasi:cli's exit carries at most that.
        Ok(ExitCode::from(outcome.status.code().clamp(0, 255) as u8))
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

/// Where a component goes: a file, or stdout when that is not a terminal.
struct Output<'a> {
    path: Option<&'a Path>,
}

impl<'a> Output<'a> {
    /// Refuses before any work is done if the component would go to a terminal.
    fn new(path: Option<&'a Path>, what: &str) -> Result<Self> {
        if path.is_none() && std::io::stdout().is_terminal() {
            bail!("refusing to write {what} to a terminal; pass `-o FILE.wasm` or redirect stdout");
        }
        Ok(Self { path })
    }

    fn write(&self, bytes: &[u8]) -> Result<()> {
        match self.path {
            Some(path) => std::fs::write(path, bytes)
                .with_context(|| format!("cannot write `{}`", path.display())),
            None => {
                let mut stdout = std::io::stdout().lock();
                stdout.write_all(bytes)?;
                Ok(stdout.flush()?)
            }
        }
    }
}

fn plugged(app: &Path, app_bytes: &[u8], provider: &[u8]) -> Result<Vec<u8>> {
    virt_store::plug(app_bytes, provider)
        .with_context(|| format!("cannot plug the provider into `{}`", app.display()))
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read the {what} `{}`", path.display()))
}

fn print_packages(packages: &[Package]) {
    if packages.is_empty() {
        println!("  nothing");
    }
    let width = packages.iter().map(|p| p.name.len()).max().unwrap_or(0);
    for package in packages {
        println!(
            "  {:width$}  {}",
            package.name,
            package.interfaces.join(", ")
        );
    }
}

fn kb(bytes: usize) -> usize {
    bytes.div_ceil(1024)
}
