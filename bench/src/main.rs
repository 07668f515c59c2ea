//! `bench`: the same workload against four stores, side by side, in one run.
//!
//! 1. the provider, plugged into the workload and run on the embedded wasmtime (`virt-store run`);
//! 2. wasmtime's in-memory `wasi:keyvalue@0.2.0-draft` host, running the draft build of the
//!    workload (the store behind `wasmtime run -S keyvalue`);
//! 3. the engine natively, the same operations from Rust;
//! 4. SQLite natively (rusqlite, bundled): one table keyed by bucket and key, with a version
//!    column for compare-and-swap; WAL with `synchronous=FULL` when durable, `OFF` when not.
//!
//! The guest workloads (`tests/programs/src/bin/bench_workload*.rs`) time each operation inside
//! the guest; the native ones time the same calls the same way. Results go to stdout and between
//! the markers of `docs/BENCHMARKS.md`. Run with `cargo run --release -p bench [-- --quick]`.

mod chart;
mod native;
mod report;

use anyhow::{bail, Context, Result};
use clap::Parser;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Latencies of one operation.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stat {
    /// Operations timed.
    pub n: u64,
    /// Median latency.
    pub median_ns: u64,
    /// 99th percentile latency.
    pub p99_ns: u64,
    /// Sum of all latencies.
    pub total_ns: u64,
}

impl Stat {
    /// Operations per second, from the total time.
    pub fn ops_per_sec(&self) -> f64 {
        self.n as f64 * 1e9 / self.total_ns.max(1) as f64
    }
}

/// One store's results: operation name to latencies.
pub type Results = BTreeMap<String, Stat>;

/// The four stores, in table order.
pub const STORES: [&str; 4] = ["provider (wasm)", "wasmtime in-memory", "engine (native)", "SQLite"];

#[derive(Parser)]
#[command(about = "Benchmark the provider against wasmtime's in-memory host, the engine natively, and SQLite")]
struct Args {
    /// Smaller stores, values and counts: a few minutes.
    #[arg(long)]
    quick: bool,
    /// Where to write the report (between its `<!-- bench:begin -->` and `<!-- bench:end -->`).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/BENCHMARKS.md"))]
    out: PathBuf,
}

/// One cell of the matrix.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    /// Keys in the store before the workload runs.
    pub store_keys: usize,
    /// Bytes per value.
    pub value_size: usize,
    /// Whether writes are synced.
    pub durable: bool,
    /// Operations of each kind.
    pub ops: usize,
}

fn main() -> Result<()> {
    let args = Args::parse();
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build; benchmark figures need `cargo run --release -p bench`");
    }
    let (store_sizes, value_sizes, ops): (&[usize], &[usize], usize) = if args.quick {
        (&[1_000, 20_000], &[100, 10_240], 200)
    } else {
        (&[1_000, 100_000], &[100, 10_240, 1 << 20], 1_000)
    };
    let started = Instant::now();
    let mut report = report::Report::new(args.quick);
    for &store_keys in store_sizes {
        for &value_size in value_sizes {
            // 1 MiB values: the per-op cost is the copy; a small store and few ops say it.
            let (store_keys, ops) = if value_size >= 1 << 20 { (store_keys.min(1_000), ops.min(50)) } else { (store_keys, ops) };
            for durable in [false, true] {
                let case = Case { store_keys, value_size, durable, ops };
                eprintln!("bench: {case:?}");
                let results = run_case(case)?;
                report.case(case, results);
            }
        }
    }
    eprintln!("bench: concurrency");
    report.concurrency(concurrency(if args.quick { 200 } else { 500 })?);
    eprintln!("bench: group commit");
    report.group_commit(native::group_commit(1_000)?);
    report.composed_size(composed_size()?);
    report.elapsed(started.elapsed());
    let markdown = report.markdown();
    println!("{markdown}");
    write_between_markers(&args.out, &markdown)?;
    let svg = args.out.with_file_name("bench-throughput.svg");
    chart::throughput(report.cases(), &svg).map_err(|e| anyhow::anyhow!("cannot draw `{}`: {e}", svg.display()))?;
    eprintln!("bench: wrote {} and {}", args.out.display(), svg.display());
    Ok(())
}

/// Runs one case on the four stores, each on a fresh copy of the same preset data.
fn run_case(case: Case) -> Result<[Results; 4]> {
    let preset: Vec<(String, String)> = (0..case.store_keys).map(|i| (format!("pre:{i}"), "p".repeat(case.value_size.min(100)))).collect();
    let work = tempfile::tempdir()?;

    let ours_dir = work.path().join("ours");
    native::populate_engine(&ours_dir, &preset)?;
    let sync = if case.durable { "on" } else { "off" };
    let size = case.value_size.to_string();
    let ops = case.ops.to_string();
    let output = harness::run("bench_workload", &ours_dir, &[&ops, &size], &[("VIRT_STORE_SYNC", sync)])?;
    let ours = parse(&output)?;

    let preset_refs: Vec<(&str, &str)> = preset.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let output = harness::run_in_memory("bench_workload_draft", &preset_refs, &[&ops, &size])?;
    let in_memory = parse(&output)?;

    let native_dir = work.path().join("native");
    native::populate_engine(&native_dir, &preset)?;
    let engine = native::engine(&native_dir, case)?;

    let sqlite = native::sqlite(&work.path().join("kv.sqlite"), &preset, case)?;
    Ok([ours, in_memory, engine, sqlite])
}

/// Parses the workload's `OP COUNT MEDIAN_NS P99_NS TOTAL_NS` lines.
fn parse(output: &harness::Output) -> Result<Results> {
    if output.status != 0 {
        bail!("the workload failed: {output}");
    }
    let mut results = Results::new();
    for line in output.stdout.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        if let [op, n, median, p99, total] = fields[..] {
            let number = |s: &str| s.parse::<u64>().with_context(|| format!("bad line `{line}`"));
            results.insert(op.to_owned(), Stat { n: number(n)?, median_ns: number(median)?, p99_ns: number(p99)?, total_ns: number(total)? });
        }
    }
    Ok(results)
}

/// Increments per second with 1, 4 and 8 instances of the component incrementing one key in
/// one directory at once, and natively with as many threads.
fn concurrency(per_instance: u64) -> Result<Vec<(usize, f64, f64)>> {
    let mut rows = Vec::new();
    for instances in [1usize, 4, 8] {
        let dir = tempfile::tempdir()?;
        native::populate_engine(dir.path(), &[])?;
        let count = per_instance.to_string();
        let start = Instant::now();
        std::thread::scope(|scope| -> Result<()> {
            let runs: Vec<_> = (0..instances)
                .map(|_| scope.spawn(|| harness::run("increment_loop", dir.path(), &["counter", &count], &[("VIRT_STORE_SYNC", "off")])))
                .collect();
            for run in runs {
                let output = run.join().map_err(|_| anyhow::anyhow!("an instance panicked"))??;
                if output.status != 0 {
                    bail!("increment_loop failed: {output}");
                }
            }
            Ok(())
        })?;
        let wasm = (instances as u64 * per_instance) as f64 / start.elapsed().as_secs_f64();
        let total = native::read_counter(dir.path())?;
        if total != instances as u64 * per_instance {
            bail!("{instances} instances × {per_instance} increments left the counter at {total}");
        }
        let native = native::concurrent_increments(instances, per_instance)?;
        rows.push((instances, wasm, native));
    }
    Ok(rows)
}

/// Bytes the provider adds to an app: the counter example plugged, minus the example alone.
fn composed_size() -> Result<(usize, usize)> {
    let app = std::fs::read(harness::artifacts::COUNTER)?;
    let composed = virt_store::plug(&app, virt_store::PROVIDER)?;
    Ok((app.len(), composed.len()))
}

fn write_between_markers(path: &Path, markdown: &str) -> Result<()> {
    const BEGIN: &str = "<!-- bench:begin -->";
    const END: &str = "<!-- bench:end -->";
    let doc = std::fs::read_to_string(path).with_context(|| format!("cannot read `{}`", path.display()))?;
    let (Some(begin), Some(end)) = (doc.find(BEGIN), doc.find(END)) else {
        bail!("`{}` has no `{BEGIN}` ... `{END}` markers", path.display());
    };
    let updated = format!("{}{BEGIN}\n{markdown}\n{}", &doc[..begin], &doc[end..]);
    std::fs::write(path, updated).with_context(|| format!("cannot write `{}`", path.display()))
}
