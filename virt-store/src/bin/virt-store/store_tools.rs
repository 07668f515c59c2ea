//! The subcommands that work on a store directory natively, through the engine: `list`, `get`,
//! `set`, `delete`, `export`, `import`, `inspect` and `fsck`. They use the same protocol as the
//! provider, so they are safe while apps run on the same directory.

use anyhow::{bail, Context, Result};
use clap::Args;
use engine::{Options, Store};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Which store and bucket a command works on.
#[derive(Args)]
pub struct At {
    /// The store's directory.
    #[arg(long, value_name = "DIR", default_value = crate::DEFAULT_DATA_DIR)]
    data: PathBuf,
    /// The bucket, as the app names it in `open` (`""`, the default bucket, if omitted).
    #[arg(long, short, value_name = "ID", default_value = "")]
    bucket: String,
}

pub fn list(at: &At) -> Result<ExitCode> {
    let keys = virt_store::all_keys(&existing_bucket(at)?)?;
    let mut stdout = std::io::stdout().lock();
    for key in keys {
        writeln!(stdout, "{key}")?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn get(at: &At, key: &str) -> Result<ExitCode> {
    let bucket = existing_bucket(at)?;
    let Some(value) = bucket.get(key)? else {
        eprintln!(
            "no key `{key}` in {} of `{}`",
            bucket_name(&at.bucket),
            at.data.display()
        );
        return Ok(ExitCode::FAILURE);
    };
    let mut stdout = std::io::stdout().lock();
    if stdout.is_terminal() {
        let Ok(text) = std::str::from_utf8(&value) else {
            bail!(
                "the value of `{key}` is {} bytes of binary data; redirect stdout to a file, or \
                 see it base64-encoded with `virt-store export`",
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

pub fn set(at: &At, key: &str, value: Option<String>, file: Option<&Path>) -> Result<ExitCode> {
    let value = match (value, file) {
        (Some(value), _) => value.into_bytes(),
        (None, Some(path)) if path != Path::new("-") => std::fs::read(path)
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
    let store = open_or_create(&at.data)?;
    store.bucket(&at.bucket)?.set(key, &value)?;
    Ok(ExitCode::SUCCESS)
}

pub fn delete(at: &At, keys: &[String]) -> Result<ExitCode> {
    let bucket = existing_bucket(at)?;
    for chunk in keys.chunks(engine::limits::MAX_BATCH_KEYS) {
        bucket.delete_many(chunk)?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn export(data: &Path, buckets: &[String], output: Option<&Path>) -> Result<ExitCode> {
    let store = existing_store(data)?;
    let only = (!buckets.is_empty()).then_some(buckets);
    let summary = match output {
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

pub fn import(data: &Path, input: Option<&Path>) -> Result<ExitCode> {
    let store = open_or_create(data)?;
    let summary = match input {
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
        data.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn inspect(data: &Path) -> Result<ExitCode> {
    let store = existing_store(data)?;
    println!(
        "store `{}`: {}",
        data.display(),
        engine::FORMAT_MARKER.trim_end()
    );
    let buckets = store.buckets()?;
    if buckets.is_empty() {
        println!("no buckets yet");
    }
    for id in buckets {
        let stats = store.bucket(&id)?.stats()?;
        println!(
            "{}: {} keys, {} of values, {} of keys, {} on disk; {} deleted keys remembered, {} temporary files",
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

pub fn fsck(data: &Path, repair: bool) -> Result<ExitCode> {
    let store = existing_store(data)?;
    let report = store.fsck(repair)?;
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
        if !repair {
            println!(
                "run `virt-store fsck --data {} --repair` to fix them",
                data.display()
            );
        }
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Opens a store that must exist already: reading commands never create one.
fn existing_store(data: &Path) -> Result<Store> {
    if !data.join(engine::FORMAT_FILE).is_file() {
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
            engine::FORMAT_FILE
        );
    }
    Ok(Store::open(data, Options::default())?)
}

fn existing_bucket(at: &At) -> Result<engine::Bucket> {
    let store = existing_store(&at.data)?;
    engine::validate_bucket_id(&at.bucket)?;
    if !store.bucket_dir(&at.bucket).is_dir() {
        let buckets: Vec<String> = store.buckets()?.iter().map(|b| bucket_name(b)).collect();
        bail!(
            "there is no {} in `{}` (it has {})",
            bucket_name(&at.bucket),
            at.data.display(),
            if buckets.is_empty() {
                "none".to_owned()
            } else {
                buckets.join(", ")
            }
        );
    }
    Ok(store.bucket(&at.bucket)?)
}

fn open_or_create(data: &Path) -> Result<Store> {
    std::fs::create_dir_all(data)
        .with_context(|| format!("cannot create the store directory `{}`", data.display()))?;
    Ok(Store::open(data, Options::default())?)
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
