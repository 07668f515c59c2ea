//! The subcommands that work on components: `plug`, `provider`, `check` and `run`.

use anyhow::{bail, Context, Result};
use std::borrow::Cow;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use virt_store::{Access, Package, RunConfig, Runtime, Status, PROVIDER};

/// Where the store's directory appears inside the app: the provider's default root.
const GUEST_DATA_DIR: &str = "/data";

pub fn plug(app: &Path, output: Option<&Path>, provider: Option<&Path>) -> Result<ExitCode> {
    let out = Output::new(output, "the composed component")?;
    let app_bytes = read(app, "app")?;
    let provider_bytes = provider_bytes(provider)?;
    let composed = plugged(app, &app_bytes, &provider_bytes)?;
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
    if let Some(preopens) = virt_store::imports(&app_bytes)?
        .into_iter()
        .find(|i| virt_store::is_preopens(i))
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

pub fn provider(output: Option<&Path>) -> Result<ExitCode> {
    Output::new(output, "the provider component")?.write(PROVIDER)?;
    if let Some(path) = output {
        println!("wrote `{}` ({} KB)", path.display(), kb(PROVIDER.len()));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn check(app: &Path, provider: Option<&Path>) -> Result<ExitCode> {
    let app_bytes = read(app, "app")?;
    let provider_bytes = provider_bytes(provider)?;
    let check = virt_store::check(&app_bytes, &provider_bytes)
        .with_context(|| format!("cannot read the imports of `{}`", app.display()))?;
    println!("`{}` imports:", app.display());
    print_packages(&check.imports);
    println!();
    if check.keyvalue_versions.is_empty() {
        println!("wasi:keyvalue: none imported, so there is nothing to plug");
    } else {
        let needed = check.keyvalue_versions.join(", ");
        let missing: Vec<&String> = check
            .keyvalue_versions
            .iter()
            .filter(|v| !check.provided_versions.contains(v))
            .collect();
        if missing.is_empty() {
            println!("wasi:keyvalue: needs {needed}; the provider serves it");
        } else {
            let missing: Vec<&str> = missing.iter().map(|v| v.as_str()).collect();
            println!(
                "wasi:keyvalue: needs {needed}; the provider lacks {} (it serves {})",
                missing.join(", "),
                check.provided_versions.join(", ")
            );
        }
    }
    match &check.plugged {
        Ok(imports) => {
            println!();
            println!("after `virt-store plug`, the component imports from the host:");
            print_packages(imports);
            println!();
            match check.preopens.first() {
                Some(preopens) => println!("files: the store's directory is hidden from the app (`plug` wires its `{preopens}` to the provider, which leaves the store out)"),
                None => println!("files: the app imports no `wasi:filesystem/preopens`, so it opens no files, the store's included"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!();
            println!("cannot plug: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

pub fn run(
    app: &Path,
    data: &Path,
    dirs: Vec<(PathBuf, String)>,
    envs: Vec<(String, String)>,
    provider: Option<&Path>,
    args: Vec<String>,
) -> Result<ExitCode> {
    if let Some((host, _)) = dirs.iter().find(|(_, guest)| guest == GUEST_DATA_DIR) {
        bail!(
            "`--dir {}::{GUEST_DATA_DIR}` would hide the store's directory; use `--data {}` instead",
            host.display(),
            host.display()
        );
    }
    let preopens: Vec<(PathBuf, String)> =
        std::iter::once((data.to_path_buf(), GUEST_DATA_DIR.to_owned()))
            .chain(dirs.iter().cloned())
            .collect();
    virt_store::check_preopens(&preopens, &envs).context("refusing to run")?;
    let app_bytes = read(app, "app")?;
    let provider_bytes = provider_bytes(provider)?;
    let composed = plugged(app, &app_bytes, &provider_bytes)?;
    std::fs::create_dir_all(data)
        .with_context(|| format!("cannot create the data directory `{}`", data.display()))?;
    eprintln!(
        "virt-store: the store is in `{}` (at {GUEST_DATA_DIR} for the provider, hidden from the app)",
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
        .args(args)
        .dir(data, GUEST_DATA_DIR, Access::ReadWrite);
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

fn provider_bytes(path: Option<&Path>) -> Result<Cow<'static, [u8]>> {
    Ok(match path {
        Some(path) => Cow::Owned(read(path, "provider")?),
        None => Cow::Borrowed(PROVIDER),
    })
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
        println!("  {:width$}  {}", package.name, package.interfaces.join(", "));
    }
}

fn kb(bytes: usize) -> usize {
    bytes.div_ceil(1024)
}
