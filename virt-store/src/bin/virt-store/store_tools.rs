//! The subcommands that work on a store natively: `list`, `get`, `set`, `delete`, `export`,
//! `import` and `inspect`, on a directory (`--data`, through the engine) or a Valkey or Redis
//! server (`--store redis://...`, through the Valkey backend); and `fsck`, on a directory. They
//! use the same protocol as the providers, so they are safe while apps run on the same store.

use anyhow::{bail, Context, Result};
use clap::Args;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use virt_store::{AnyBucket, AnyStore};
use virt_store_engine::{Options, Store};

/// `--data`: the store's directory, for `fsck` and `run`.
#[derive(Args)]
pub struct StoreDir {
    /// The store's directory.
    #[arg(long, value_name = "DIR", default_value = "data")]
    pub data: PathBuf,
}

impl StoreDir {
    /// Opens a store that must exist already: reading commands never create one.
    fn existing(&self) -> Result<Store> {
        let data = &self.data;
        if !data.join(virt_store_engine::FORMAT_FILE).is_file() {
            if !data.is_dir() {
                bail!(
                    "there is no store at `{}`: the directory does not exist (pass `--data DIR`, or \
                     create the store with `virt-store run`, `set` or `import`)",
                    data.display()
                );
            }
            bail!(
                "`{}` is not a virt-store store (it has no `{}` file); pass the directory that the \
                 app had preopened at /data",
                data.display(),
                virt_store_engine::FORMAT_FILE
            );
        }
        Ok(Store::open(data, Options::default())?)
    }
}

/// `--data` or `--store`: a store directory, or a store on a Valkey or Redis server.
#[derive(Args)]
pub struct StoreArg {
    #[command(flatten)]
    dir: StoreDir,
    /// A store on a Valkey or Redis server instead of a directory:
    /// `redis://[user:password@]host[:port][/db]`, as the Valkey provider's `VIRT_STORE_URL`.
    #[arg(long, value_name = "URL", conflicts_with = "data")]
    store: Option<String>,
}

impl StoreArg {
    /// Opens a store that must exist already: reading commands never create one (a server is
    /// always there; its buckets are checked by the commands).
    fn existing(&self) -> Result<AnyStore> {
        match &self.store {
            Some(url) => Ok(AnyStore::Server(server(url)?)),
            None => Ok(AnyStore::Dir(self.dir.existing()?)),
        }
    }

    fn open_or_create(&self) -> Result<AnyStore> {
        if let Some(url) = &self.store {
            return Ok(AnyStore::Server(server(url)?));
        }
        let data = &self.dir.data;
        std::fs::create_dir_all(data)
            .with_context(|| format!("cannot create the store directory `{}`", data.display()))?;
        Ok(AnyStore::Dir(Store::open(data, Options::default())?))
    }

    /// The store as messages name it: the directory, or the server (password hidden).
    fn name(&self) -> String {
        match &self.store {
            Some(url) => virt_store_valkey::ServerUrl::parse(url)
                .map(|url| url.to_string())
                .unwrap_or_else(|_| url.clone()),
            None => self.dir.data.display().to_string(),
        }
    }
}

fn server(url: &str) -> Result<virt_store_valkey::Store> {
    Ok(virt_store_valkey::Store::open(
        url,
        virt_store_valkey::Options::default(),
    )?)
}

/// `--data`/`--store` and `--bucket`: which store and bucket a command works on.
#[derive(Args)]
pub struct At {
    #[command(flatten)]
    store: StoreArg,
    /// The bucket, as the app names it in `open` (`""`, the default bucket, if omitted).
    #[arg(long, short, value_name = "ID", default_value = "")]
    bucket: String,
}

impl At {
    fn existing_bucket(&self) -> Result<AnyBucket> {
        let store = self.store.existing()?;
        virt_store_engine::validate_bucket_id(&self.bucket)?;
        let buckets = store.buckets()?;
        if !buckets.contains(&self.bucket) {
            let buckets: Vec<String> = buckets.iter().map(|b| bucket_name(b)).collect();
            bail!(
                "there is no {} in `{}` (it has {})",
                bucket_name(&self.bucket),
                self.store.name(),
                if buckets.is_empty() {
                    "none".to_owned()
                } else {
                    buckets.join(", ")
                }
            );
        }
        Ok(store.bucket(&self.bucket)?)
    }
}

/// List the keys of a bucket, sorted, one per line.
#[derive(Args)]
pub struct ListCommand {
    #[command(flatten)]
    at: At,
}

impl ListCommand {
    pub fn exec(self) -> Result<ExitCode> {
        let keys = virt_store::all_keys(&self.at.existing_bucket()?)?;
        let mut stdout = std::io::stdout().lock();
        for key in keys {
            writeln!(stdout, "{key}")?;
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Print a key's value (exactly its bytes when not to a terminal).
#[derive(Args)]
pub struct GetCommand {
    #[command(flatten)]
    at: At,
    /// The key.
    key: String,
}

impl GetCommand {
    pub fn exec(self) -> Result<ExitCode> {
        let key = &self.key;
        let Some(value) = self.at.existing_bucket()?.get(key)? else {
            eprintln!(
                "no key `{key}` in {} of `{}`",
                bucket_name(&self.at.bucket),
                self.at.store.name()
            );
            return Ok(ExitCode::FAILURE);
        };
        let mut stdout = std::io::stdout().lock();
        if stdout.is_terminal() {
            let Ok(text) = std::str::from_utf8(&value) else {
                bail!(
                    "the value of `{key}` is {} bytes of binary data; redirect stdout to a file, \
                     or see it base64-encoded with `virt-store export`",
                    value.len()
                );
            };
            // A terminal gets a final newline; a pipe gets the exact bytes.
            writeln!(stdout, "{}", text.strip_suffix('\n').unwrap_or(text))?;
        } else {
            stdout.write_all(&value)?;
        }
        stdout.flush()?;
        Ok(ExitCode::SUCCESS)
    }
}

/// Set a key to VALUE, to the contents of `--file`, or to standard input.
#[derive(Args)]
pub struct SetCommand {
    #[command(flatten)]
    at: At,
    /// The key.
    key: String,
    /// The value, as UTF-8 text.
    #[arg(conflicts_with = "file")]
    value: Option<String>,
    /// Read the value from this file (`-` for standard input).
    #[arg(long)]
    file: Option<PathBuf>,
}

impl SetCommand {
    pub fn exec(self) -> Result<ExitCode> {
        let value = match (self.value, self.file) {
            (Some(value), _) => value.into_bytes(),
            (None, Some(path)) if path != Path::new("-") => std::fs::read(&path)
                .with_context(|| format!("cannot read the value from `{}`", path.display()))?,
            (None, _) => {
                if std::io::stdin().is_terminal() {
                    eprintln!("reading the value from standard input (end it with Ctrl-D)");
                }
                let mut value = Vec::new();
                std::io::stdin()
                    .read_to_end(&mut value)
                    .context("cannot read the value from standard input")?;
                value
            }
        };
        let store = self.at.store.open_or_create()?;
        store.bucket(&self.at.bucket)?.set(&self.key, &value)?;
        Ok(ExitCode::SUCCESS)
    }
}

/// Delete keys (deleting an absent key is not an error, as in `wasi:keyvalue`).
#[derive(Args)]
pub struct DeleteCommand {
    #[command(flatten)]
    at: At,
    /// The keys.
    #[arg(required = true)]
    keys: Vec<String>,
}

impl DeleteCommand {
    pub fn exec(self) -> Result<ExitCode> {
        let bucket = self.at.existing_bucket()?;
        for chunk in self.keys.chunks(virt_store_engine::limits::MAX_BATCH_KEYS) {
            bucket.delete_many(chunk)?;
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Write every key of the store (or of the `--bucket`s given) as JSON lines.
#[derive(Args)]
pub struct ExportCommand {
    #[command(flatten)]
    store: StoreArg,
    /// Only this bucket (repeatable; `""` is the default bucket).
    #[arg(long = "bucket", value_name = "ID")]
    buckets: Vec<String>,
    /// Write to this file instead of stdout.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

impl ExportCommand {
    pub fn exec(self) -> Result<ExitCode> {
        let store = self.store.existing()?;
        let only = (!self.buckets.is_empty()).then_some(self.buckets.as_slice());
        let summary = match &self.output {
            Some(path) => {
                let file = std::fs::File::create(path)
                    .with_context(|| format!("cannot create `{}`", path.display()))?;
                let mut out = std::io::BufWriter::new(file);
                let summary = virt_store::export_json_lines(&store, only, &mut out)?;
                out.flush()
                    .with_context(|| format!("cannot write `{}`", path.display()))?;
                summary
            }
            None => {
                let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                let summary = virt_store::export_json_lines(&store, only, &mut out)?;
                out.flush()?;
                summary
            }
        };
        eprintln!(
            "exported {} keys from {} buckets",
            summary.keys, summary.buckets
        );
        Ok(ExitCode::SUCCESS)
    }
}

/// Read JSON lines as `export` writes them and set every key (creates the store if needed).
#[derive(Args)]
pub struct ImportCommand {
    #[command(flatten)]
    store: StoreArg,
    /// The file to read (`-` or omitted: standard input).
    input: Option<PathBuf>,
}

impl ImportCommand {
    pub fn exec(self) -> Result<ExitCode> {
        let store = self.store.open_or_create()?;
        let summary = match &self.input {
            Some(path) if path != Path::new("-") => {
                let file = std::fs::File::open(path)
                    .with_context(|| format!("cannot open `{}`", path.display()))?;
                virt_store::import_json_lines(&store, &mut std::io::BufReader::new(file))
                    .with_context(|| format!("cannot import `{}`", path.display()))?
            }
            _ => virt_store::import_json_lines(&store, &mut std::io::stdin().lock())
                .context("cannot import standard input")?,
        };
        println!(
            "imported {} keys into {} buckets of `{}`",
            summary.keys,
            summary.buckets,
            self.store.name()
        );
        Ok(ExitCode::SUCCESS)
    }
}

/// Describe the store: format, buckets, key counts and sizes.
#[derive(Args)]
pub struct InspectCommand {
    #[command(flatten)]
    store: StoreArg,
}

impl InspectCommand {
    pub fn exec(self) -> Result<ExitCode> {
        let store = match self.store.existing()? {
            AnyStore::Dir(store) => store,
            AnyStore::Server(server) => return inspect_server(&server),
        };
        println!(
            "store `{}`: virt-store format {}",
            self.store.name(),
            store.format_version()?
        );
        let buckets = store.buckets()?;
        if buckets.is_empty() {
            println!("no buckets yet");
        }
        for id in buckets {
            let bucket = store.bucket(&id)?;
            let stats = bucket.stats()?;
            // A format-1 bucket is converted on its first write, and its keys as they are written.
            let format = match (bucket.is_format1(), stats.format1_keys) {
                (true, _) => "format 1 (converted on its first write)".to_owned(),
                (false, 0) => "format 2".to_owned(),
                (false, old) => format!(
                    "format 2, {old} of its keys still in format 1 (converted as they are written)"
                ),
            };
            println!(
                "{}: {} keys, {} of values, {} of keys, {} on disk; {} deleted keys remembered, {} temporary files; {format}",
                bucket_name(&id),
                stats.keys,
                size(stats.value_bytes),
                size(stats.key_bytes),
                size(stats.disk_bytes),
                stats.tombstones,
                stats.temps
            );
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// `inspect --store`: the buckets on the server and their key counts (docs/VALKEY.md has the
/// layout to read further with `valkey-cli`).
fn inspect_server(server: &virt_store_valkey::Store) -> Result<ExitCode> {
    println!(
        "store `{}`: virt-store keys under `{}` (docs/VALKEY.md)",
        server.url(),
        virt_store_valkey::KEY_PREFIX
    );
    let buckets = server.buckets()?;
    if buckets.is_empty() {
        println!("no buckets yet");
    }
    for id in buckets {
        let keys = server.bucket(&id)?.key_count()?;
        println!("{}: {keys} keys", bucket_name(&id));
    }
    Ok(ExitCode::SUCCESS)
}

/// Verify every entry of the store and sweep what crashed writers left; exits 1 when a
/// problem remains.
#[derive(Args)]
pub struct FsckCommand {
    #[command(flatten)]
    store: StoreDir,
    /// Fix what can be fixed safely (see docs/FORMAT.md).
    #[arg(long)]
    repair: bool,
}

impl FsckCommand {
    pub fn exec(self) -> Result<ExitCode> {
        let report = self.store.existing()?.fsck(self.repair)?;
        for problem in &report.problems {
            let state = if problem.repaired {
                "repaired"
            } else {
                "found"
            };
            println!("{state}: `{}`: {}", problem.path.display(), problem.kind);
        }
        let remaining = report.problems.iter().filter(|p| !p.repaired).count();
        println!(
            "checked {} keys in {} buckets: {} problems, {} repaired, {} leftovers of crashed writers swept",
            report.keys_checked,
            report.buckets,
            report.problems.len(),
            report.problems.len() - remaining,
            report.swept
        );
        if remaining > 0 {
            if !self.repair {
                println!(
                    "run `virt-store fsck --data {} --repair` to fix them",
                    self.store.data.display()
                );
            }
            return Ok(ExitCode::FAILURE);
        }
        Ok(ExitCode::SUCCESS)
    }
}

fn bucket_name(id: &str) -> String {
    if id.is_empty() {
        "the default bucket".to_owned()
    } else {
        format!("bucket `{id}`")
    }
}

fn size(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.1} KiB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MiB", bytes as f64 / 1_048_576.0),
    }
}
