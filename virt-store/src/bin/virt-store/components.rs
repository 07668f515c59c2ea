//! The subcommands that work on components: `plug`, `provider`, `check` and `run`.

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use std::borrow::Cow;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use virt_store::{Package, PROVIDER, PROVIDER_VALKEY};

/// Which provider built into virt-store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// The store in a directory the runtime preopens (`VIRT_STORE_DIR`, default `/data`).
    Fs,
    /// The store on a Valkey or Redis server, over wasi:sockets (`VIRT_STORE_URL`).
    Valkey,
}

impl Backend {
    pub(crate) fn component(self) -> &'static [u8] {
        match self {
            Backend::Fs => PROVIDER,
            Backend::Valkey => PROVIDER_VALKEY,
        }
    }
}

/// `--backend` or `--provider`, for the commands that plug a provider or check an app against one.
#[derive(Args)]
pub struct ProviderArg {
    /// Use this provider component instead of one built into virt-store.
    #[arg(
        long = "provider",
        value_name = "PROVIDER.wasm",
        conflicts_with = "backend"
    )]
    pub(crate) path: Option<PathBuf>,
    /// Which provider built into virt-store: `fs` keeps the store in a directory, `valkey` on a
    /// Valkey or Redis server.
    #[arg(long, value_enum, default_value = "fs")]
    pub(crate) backend: Backend,
}

impl ProviderArg {
    /// The file given, else the provider built in for the backend.
    pub(crate) fn bytes(&self) -> Result<Cow<'static, [u8]>> {
        Ok(match &self.path {
            Some(path) => Cow::Owned(read(path, "provider")?),
            None => Cow::Borrowed(self.backend.component()),
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
        let provider = self.provider.bytes()?;
        let composed = plugged(&self.app, &app_bytes, &provider)?;
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
        // A provider with no files to hide (the Valkey one) leaves the app's preopens to the host.
        let hides = virt_store::exports(&provider)?
            .iter()
            .any(|i| virt_store::is_preopens(i));
        if let Some(preopens) = virt_store::imports(&app_bytes)?
            .into_iter()
            .find(|i| hides && virt_store::is_preopens(i))
        {
            writeln!(
                report,
                "wired `{preopens}`: the store's directory is hidden from the app"
            )?;
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

/// Write a provider component built into virt-store (for `wac plug` and `wac compose`).
#[derive(Args)]
pub struct ProviderCommand {
    /// Where to write it (stdout if omitted, unless it is a terminal).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Which one: `fs` keeps the store in a directory, `valkey` on a Valkey or Redis server.
    #[arg(long, value_enum, default_value = "fs")]
    backend: Backend,
}

impl ProviderCommand {
    pub fn exec(self) -> Result<ExitCode> {
        let output = self.output.as_deref();
        let component = self.backend.component();
        Output::new(output, "the provider component")?.write(component)?;
        if let Some(path) = output {
            println!("wrote `{}` ({} KB)", path.display(), kb(component.len()));
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
                println!();
                match check.preopens.first() {
                    Some(preopens) => println!(
                        "files: the store's directory is hidden from the app (`plug` wires its \
                         `{preopens}` to the provider, which leaves the store out)"
                    ),
                    None if check
                        .imports
                        .iter()
                        .any(|p| p.name.starts_with("wasi:filesystem@")) =>
                    {
                        println!(
                        "files: the provider keeps no store in files, so the app's preopens are \
                         the host's"
                    )
                    }
                    None => println!(
                        "files: the app imports no `wasi:filesystem/preopens`, so it opens no \
                         files, the store's included"
                    ),
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                println!("cannot plug: {e}");
                Ok(ExitCode::FAILURE)
            }
        }
    }
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

pub(crate) fn plugged(app: &Path, app_bytes: &[u8], provider: &[u8]) -> Result<Vec<u8>> {
    virt_store::plug(app_bytes, provider)
        .with_context(|| format!("cannot plug the provider into `{}`", app.display()))
}

pub(crate) fn read(path: &Path, what: &str) -> Result<Vec<u8>> {
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
