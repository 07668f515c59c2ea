//! `bench`: one guest workload against four stores, side by side, in one run.
//!
//! 1. the provider, plugged into the workload (`bench/workload`) and run on the embedded
//!    wasmtime, on a directory of the host;
//! 2. wasmtime's in-memory `wasi:keyvalue@0.2.0-draft` host running the same workload unplugged
//!    (the store behind `wasmtime run -S keyvalue`);
//! 3. the engine natively, the same operations from Rust;
//! 4. SQLite natively (rusqlite, bundled): one table keyed by bucket and key.
//!
//! The guest times each call itself, so instantiation stays out of per-operation figures; the
//! native stores time the same calls the same way. Operations run one kind at a time, the four
//! stores in turn, so that all four see the same moment of a noisy machine. The report goes
//! between the markers of `docs/BENCHMARKS.md`, the chart to `docs/bench-throughput.svg`.
//!
//! A section of its own (`valkey.rs`) runs the same workload plugged with the Valkey provider
//! against a Valkey server on loopback, beside the backend's client natively and the filesystem
//! provider (`--only valkey` runs it alone).
//!
//! `cargo run --release -p bench -- --quick` (minutes) or `cargo run --release -p bench` (the
//! full matrix; long).

mod chart;
mod native;
mod report;
mod stores;
mod targets;
mod valkey;
mod wasm;
mod work;

use anyhow::{bail, Context, Result};
use clap::{Parser, ValueEnum};
use native::{EngineStore, NativeStore, Sqlite};
use report::{CaseResult, ConcurrencyRow, GroupCommit, OpenResult, Report, Side};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Barrier, Mutex};
use std::time::Instant;
use wasm::{Invocation, Program, Wasm};
use work::{op_name, parse, Results, Samples, Work, OPS};

#[derive(Parser)]
#[command(
    about = "Benchmark the provider against wasmtime's in-memory host, the engine natively, and SQLite"
)]
struct Args {
    /// Stores of 1k and 100k keys, values of 100 B and 10 KiB, fewer calls: a few minutes.
    #[arg(long)]
    quick: bool,
    /// Store sizes in keys, instead of the mode's (comma-separated).
    #[arg(long, value_delimiter = ',')]
    sizes: Option<Vec<usize>>,
    /// Value sizes in bytes, instead of the mode's (comma-separated).
    #[arg(long, value_delimiter = ',')]
    values: Option<Vec<usize>>,
    /// The report: `--quick` rewrites what lies between its `<!-- bench:quick:begin -->` and
    /// `<!-- bench:quick:end -->`, other runs the `bench:full` section; every run the
    /// `bench:valkey` one.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/BENCHMARKS.md"))]
    out: PathBuf,
    /// The chart.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/bench-throughput.svg"))]
    svg: PathBuf,
    /// Runs only this section (and rewrites only its part of the report).
    #[arg(long, value_enum)]
    only: Option<Only>,
    /// Where populated stores are kept between runs.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench-stores"))]
    stores: PathBuf,
}

/// A section that can run alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Only {
    /// The Valkey provider against the native client and the filesystem provider: between
    /// `<!-- bench:valkey:begin -->` and `<!-- bench:valkey:end -->`.
    Valkey,
}

/// How much of everything a run does.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Whether this is `--quick`.
    pub quick: bool,
    /// The command that ran.
    pub command: String,
    /// Keys in the store before a case runs.
    pub sizes: Vec<usize>,
    /// Bytes per value written.
    pub values: Vec<usize>,
    /// Calls of each single-key operation per case, durability off.
    pub count: usize,
    /// The same, durability on (syncs make them slow).
    pub durable_count: usize,
    /// Batch calls (of 100 keys) of each batch operation per case.
    pub batches: usize,
    /// Fresh instances for the open figures, per store size.
    pub opens: usize,
    /// Calls of each operation per concurrent instance, durability off and on.
    pub concurrent_count: (usize, usize),
    /// Keys per `set-many` in the group-commit comparison.
    pub group_keys: usize,
    /// `set-many` calls in the group-commit comparison.
    pub group_calls: usize,
}

impl Plan {
    fn new(args: &Args) -> Self {
        let mut plan = if args.quick {
            Plan {
                quick: true,
                command: String::new(),
                sizes: vec![1_000, 100_000],
                values: vec![100, 10 << 10],
                count: 200,
                durable_count: 50,
                batches: 2,
                opens: 20,
                concurrent_count: (100, 25),
                group_keys: 1_000,
                group_calls: 1,
            }
        } else {
            Plan {
                quick: false,
                command: String::new(),
                sizes: vec![1_000, 100_000, 1_000_000],
                values: vec![100, 10 << 10, 1 << 20],
                count: 1_000,
                durable_count: 200,
                batches: 5,
                opens: 50,
                concurrent_count: (300, 100),
                group_keys: 1_000,
                group_calls: 3,
            }
        };
        let args_given: Vec<String> = std::env::args().skip(1).collect();
        plan.command = format!(
            "cargo run --release -p bench --{}",
            args_given
                .iter()
                .map(|a| format!(" {a}"))
                .collect::<String>()
        );
        if let Some(sizes) = &args.sizes {
            plan.sizes = sizes.clone();
        }
        if let Some(values) = &args.values {
            plan.values = values.clone();
        }
        plan
    }

    /// Calls for values of `size` bytes: fewer when durable, and for big values, to bound the
    /// bytes written.
    pub fn count_for(&self, size: usize, durable: bool) -> (usize, usize) {
        let count = if durable {
            self.durable_count
        } else {
            self.count
        };
        let count = count.min((64 << 20) / size.max(1)).max(10);
        let batches = if size >= 1 << 20 { 1 } else { self.batches };
        (count, batches)
    }

    /// Full scans of a store of `keys` keys.
    fn scans_for(&self, keys: usize) -> usize {
        (10_000 / keys.max(1)).clamp(1, 5)
    }
}

/// One cell of the matrix.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    /// Keys in the store before the case.
    pub keys: usize,
    /// Bytes per value written.
    pub value: usize,
    /// Whether writes are synced.
    pub durable: bool,
    /// Calls of each single-key operation.
    pub count: usize,
    /// Batch calls of each batch operation.
    pub batches: usize,
}

/// What every phase uses.
struct Bench {
    wasm: Wasm,
    stores: stores::Stores,
    /// Makes every run's keys fresh, even on stores kept from earlier runs.
    tag: String,
    presets: BTreeMap<usize, HashMap<String, Vec<u8>>>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build; benchmark figures need `cargo run --release -p bench`");
    }
    let plan = Plan::new(&args);
    let started = Instant::now();
    let tag = format!(
        "r{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs()
    );
    let stores = stores::Stores::new(args.stores.clone())?;
    if args.only.is_some() {
        stores.preflight(&[valkey::KEYS])?;
    } else {
        stores.preflight(&plan.sizes)?;
    }
    eprintln!("bench: compiling the workloads");
    let mut bench = Bench {
        wasm: Wasm::new()?,
        stores,
        tag,
        presets: BTreeMap::new(),
    };
    let mut report = Report::new(plan.clone());
    report.sizes = composed_sizes()?;

    // First: it needs a server, whose absence had better fail the run now. Its section is
    // written at once, whatever happens to the rest of the run.
    eprintln!("bench: the Valkey provider");
    let valkey = valkey::run(&bench, &plan)?;
    let markdown = valkey.markdown();
    println!("{markdown}");
    write_between_markers(&args.out, "valkey", &markdown)?;
    if args.only == Some(Only::Valkey) {
        eprintln!(
            "bench: wrote the Valkey section of `{}` in {:.0} s",
            args.out.display(),
            started.elapsed().as_secs_f64()
        );
        return Ok(());
    }

    for &keys in &plan.sizes {
        eprintln!("bench: open, {keys} keys");
        report.opens.push(open_pass(&bench, &plan, keys)?);
        bench.presets.insert(keys, stores::in_memory_preset(keys));
        for (v, &value) in plan.values.iter().enumerate() {
            for durable in [false, true] {
                let (count, batches) = plan.count_for(value, durable);
                let case = Case {
                    keys,
                    value,
                    durable,
                    count,
                    batches,
                };
                eprintln!(
                    "bench: {case:?} ({:.0} s so far)",
                    started.elapsed().as_secs_f64()
                );
                let index = report.cases.len();
                report
                    .cases
                    .push(run_case(&bench, &plan, case, index, v == 0)?);
            }
        }
        bench.presets.remove(&keys);
    }
    eprintln!("bench: group commit");
    report.group_commit = Some(group_commit(&bench, &plan)?);
    for durable in [false, true] {
        for instances in [1, 4, 8] {
            eprintln!(
                "bench: {instances} concurrent instances, durability {}",
                if durable { "on" } else { "off" }
            );
            report
                .concurrency
                .extend(concurrency(&bench, &plan, durable, instances)?);
        }
    }
    report.populated = bench.stores.populated.lock().expect("not poisoned").clone();
    report.elapsed = started.elapsed();

    let markdown = report.markdown();
    println!("{markdown}");
    write_between_markers(
        &args.out,
        if plan.quick { "quick" } else { "full" },
        &markdown,
    )?;
    chart::throughput(&report.cases, &args.svg)
        .map_err(|e| anyhow::anyhow!("cannot draw `{}`: {e}", args.svg.display()))?;
    eprintln!(
        "bench: wrote `{}` and `{}` in {:.0} s",
        args.out.display(),
        args.svg.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Runs the workload once on the provider (op `cas` needs the draft3 build) and parses it, with
/// the instance's syncs charged to the one operation.
fn provider_run(
    bench: &Bench,
    op: &str,
    work: &Work,
    durable: bool,
    dir: &Path,
    start: Option<&(dyn Fn() + Sync)>,
) -> Result<Samples> {
    let program = if op == "cas" {
        Program::ProviderDraft3
    } else {
        Program::Provider
    };
    let outcome = bench.wasm.run(
        program,
        Invocation {
            args: work.args(&[op]),
            durable,
            data: Some(dir),
            preset: None,
            server: None,
            start,
        },
    )?;
    let mut samples = parse(&outcome.stdout, Some(outcome.syncs))?;
    samples
        .remove(op)
        .with_context(|| format!("the workload printed no `{op}` latencies"))
}

/// Opens in fresh instances: the provider's first `open` (timed in the guest) and its
/// instantiation (timed by the host), a fresh engine store and SQLite connection natively, then
/// the same on the in-memory host. The in-memory host's preset of this size is built only after
/// the others' opens: holding a million preset keys slows every fresh instance of the process
/// (instantiations too, which touch no store), which would have passed for a cost of the store's
/// size.
fn open_pass(bench: &Bench, plan: &Plan, keys: usize) -> Result<OpenResult> {
    let dir = bench.stores.engine(keys)?;
    let scratch = bench.stores.scratch()?;
    let db = scratch.path().join("kv.db");
    bench.stores.sqlite(keys, &db)?;
    let args = vec!["--ops".to_owned(), "open".to_owned()];
    let (mut provider, mut in_memory, mut engine, mut sqlite) = (
        Samples::default(),
        Samples::default(),
        Samples::default(),
        Samples::default(),
    );
    let (mut provider_inst, mut in_memory_inst) = (Samples::default(), Samples::default());
    let mut syncs = 0;
    for _ in 0..plan.opens {
        let out = bench.wasm.run(
            Program::Provider,
            Invocation {
                args: args.clone(),
                durable: true,
                data: Some(&dir),
                preset: None,
                server: None,
                start: None,
            },
        )?;
        provider.nanos.extend(
            parse(&out.stdout, None)?
                .remove("open")
                .context("no open latency")?
                .nanos,
        );
        provider_inst.nanos.push(out.instantiate.as_nanos() as u64);
        syncs += out.syncs;
        engine.nanos.extend(native::engine_opens(&dir, 1)?.nanos);
        sqlite
            .nanos
            .extend(native::sqlite_opens(&db, true, 1)?.nanos);
    }
    let preset = stores::in_memory_preset(keys);
    for _ in 0..plan.opens {
        let out = bench.wasm.run(
            Program::InMemory,
            Invocation {
                args: args.clone(),
                durable: true,
                data: None,
                preset: Some(&preset),
                server: None,
                start: None,
            },
        )?;
        in_memory.nanos.extend(
            parse(&out.stdout, None)?
                .remove("open")
                .context("no open latency")?
                .nanos,
        );
        in_memory_inst.nanos.push(out.instantiate.as_nanos() as u64);
    }
    Ok(OpenResult {
        keys,
        stores: [
            provider.stat(),
            in_memory.stat(),
            engine.stat(),
            sqlite.stat(),
        ],
        instantiate: [provider_inst.stat(), in_memory_inst.stat()],
        syncs,
    })
}

/// Rounds in which the provider, the engine and SQLite take turns at each operation, so that a
/// slow moment of the machine falls on all three.
const ROUNDS: usize = 4;

/// One case on the four stores. The in-memory host keeps nothing between instances, so it runs
/// every operation in one instance; the provider runs each round of each operation in a fresh
/// instance, whose syncs are then that operation's.
fn run_case(
    bench: &Bench,
    plan: &Plan,
    case: Case,
    index: usize,
    with_list: bool,
) -> Result<CaseResult> {
    // The provider's and the engine's new keys, and SQLite's copy and new rows.
    let new_keys = (case.count + case.batches * 100) as u64;
    let needed =
        3 * new_keys * (case.value as u64 + stores::BYTES_PER_KEY) + case.keys as u64 * 200;
    bench.stores.check_free(needed, "this case's writes")?;
    let dir = bench.stores.engine(case.keys)?;
    let scratch = bench.stores.scratch()?;
    let db = scratch.path().join("kv.db");
    bench.stores.sqlite(case.keys, &db)?;
    let work = |store: &str| Work {
        count: case.count,
        first: 0,
        size: case.value,
        prefix: format!("{}c{index}{store}:", bench.tag),
        shared: format!("{}c{index}{store}:", bench.tag),
        batch: 100,
        batches: case.batches,
        first_batch: 0,
        scans: plan.scans_for(case.keys),
    };
    // The scan does not depend on the value size: once per store size and durability.
    let ops: Vec<&str> = OPS
        .iter()
        .copied()
        .filter(|op| with_list || *op != "list")
        .collect();

    let in_memory_ops: Vec<&str> = ops.iter().copied().filter(|op| *op != "cas").collect();
    let out = bench.wasm.run(
        Program::InMemory,
        Invocation {
            args: work("m").args(&in_memory_ops),
            durable: case.durable,
            data: None,
            preset: Some(&bench.presets[&case.keys]),
            server: None,
            start: None,
        },
    )?;
    let mut in_memory = Results::new();
    for (op, samples) in parse(&out.stdout, None)? {
        in_memory.insert(op_name(&op)?, samples.stat());
    }

    let (mut provider, mut engine, mut sqlite) = (Results::new(), Results::new(), Results::new());
    let mut engine_store = EngineStore::open(&dir, case.durable)?;
    let mut sqlite_store = Sqlite::open(&db, case.durable)?;
    for op in &ops {
        let (mut p, mut n, mut s) = (Samples::default(), Samples::default(), Samples::default());
        let parts = |store: &str| work(store).split(op, ROUNDS);
        for ((pw, nw), sw) in parts("p").iter().zip(parts("n")).zip(parts("s")) {
            p.absorb(provider_run(bench, op, pw, case.durable, &dir, None)?);
            n.absorb(engine_store.run(op, &nw)?);
            s.absorb(sqlite_store.run(op, &sw)?);
        }
        provider.insert(op_name(op)?, p.stat());
        engine.insert(op_name(op)?, n.stat());
        sqlite.insert(op_name(op)?, s.stat());
    }
    // Big values would pile up in stores kept between runs.
    let cleanup = EngineStore::open(&dir, false)?;
    cleanup.delete_batch_keys(&work("p"))?;
    cleanup.delete_batch_keys(&work("n"))?;
    bench.stores.charge(
        case.keys,
        work("p").new_keys(&ops) + work("n").new_keys(&ops),
    )?;
    Ok(CaseResult {
        case,
        stores: [provider, in_memory, engine, sqlite],
    })
}

/// A durable `set-many` of `group_keys` new keys against as many durable `set`s, on the smallest
/// store: through the provider (syncs counted at the boundary), natively, and on SQLite.
fn group_commit(bench: &Bench, plan: &Plan) -> Result<GroupCommit> {
    let keys = plan.sizes[0];
    let dir = bench.stores.engine(keys)?;
    let scratch = bench.stores.scratch()?;
    let db = scratch.path().join("kv.db");
    bench.stores.sqlite(keys, &db)?;
    let work = |store: &str| Work {
        count: plan.group_keys,
        first: 0,
        size: 100,
        prefix: format!("{}g{store}:", bench.tag),
        shared: format!("{}g{store}:", bench.tag),
        batch: plan.group_keys,
        batches: plan.group_calls,
        first_batch: 0,
        scans: 1,
    };
    let mut engine = EngineStore::open(&dir, true)?;
    let mut sqlite = Sqlite::open(&db, true)?;
    let mut sides: [(Samples, Samples); 3] = Default::default();
    for (op, rounds) in [("set", ROUNDS), ("set-many", plan.group_calls)] {
        let parts = |store: &str| work(store).split(op, rounds);
        for ((pw, nw), sw) in parts("p").iter().zip(parts("n")).zip(parts("s")) {
            let samples = [
                provider_run(bench, op, pw, true, &dir, None)?,
                engine.run(op, &nw)?,
                sqlite.run(op, &sw)?,
            ];
            for (side, samples) in sides.iter_mut().zip(samples) {
                if op == "set" {
                    side.0.absorb(samples)
                } else {
                    side.1.absorb(samples)
                }
            }
        }
    }
    let [provider, native, sqlite] = sides.map(|(sets, many)| Side {
        sets: sets.stat(),
        set_syncs: sets.syncs,
        many: many.stat(),
        many_syncs: many.syncs,
    });
    bench.stores.charge(
        keys,
        work("p").new_keys(&["set", "set-many"]) + work("n").new_keys(&["set", "set-many"]),
    )?;
    Ok(GroupCommit {
        keys: plan.group_keys,
        calls: plan.group_calls,
        provider,
        native,
        sqlite,
    })
}

/// `instances` instances at once on one store directory (the smallest store, 100 B values),
/// for set, get and increment (one shared counter): the provider (one wasmtime instance per
/// thread), the engine natively (one store per thread) and SQLite (one connection per thread).
fn concurrency(
    bench: &Bench,
    plan: &Plan,
    durable: bool,
    instances: usize,
) -> Result<Vec<ConcurrencyRow>> {
    let keys = plan.sizes[0];
    let dir = bench.stores.engine(keys)?;
    let scratch = bench.stores.scratch()?;
    let db = scratch.path().join("kv.db");
    bench.stores.sqlite(keys, &db)?;
    let tag = format!(
        "{}k{instances}{}",
        bench.tag,
        if durable { "d" } else { "n" }
    );
    let work = |store: &str, thread: usize| Work {
        count: if durable {
            plan.concurrent_count.1
        } else {
            plan.concurrent_count.0
        },
        first: 0,
        first_batch: 0,
        size: 100,
        prefix: format!("{tag}{store}t{thread}:"),
        shared: format!("{tag}{store}:"),
        batch: 100,
        batches: 1,
        scans: 1,
    };
    let mut rows = Vec::new();
    for op in ["set", "get", "increment"] {
        let provider = together(instances, |t, start| {
            provider_run(
                bench,
                op,
                &work("p", t),
                durable,
                &dir,
                Some(&|| start.wait()),
            )
        })?;
        let engine = together(instances, |t, start| {
            let store = EngineStore::open(&dir, durable);
            start.wait();
            store?.run(op, &work("n", t))
        })?;
        let sqlite = together(instances, |t, start| {
            let store = Sqlite::open(&db, durable);
            start.wait();
            store?.run(op, &work("s", t))
        })?;
        rows.push(ConcurrencyRow {
            durable,
            instances,
            op: op_name(op)?,
            stores: [provider, engine, sqlite],
        });
    }
    let written = |store: &str| {
        (0..instances)
            .map(|t| work(store, t).new_keys(&["set", "increment"]))
            .sum::<usize>()
    };
    bench.stores.charge(keys, written("p") + written("n"))?;
    Ok(rows)
}

/// Threads that start together: each calls [`Start::wait`] once it is ready.
struct Start {
    barrier: Barrier,
    first: Mutex<Option<Instant>>,
}

impl Start {
    /// Waits for every thread, and notes when the first one went.
    fn wait(&self) {
        self.barrier.wait();
        let now = Instant::now();
        let mut first = self.first.lock().expect("not poisoned");
        *first = Some(first.map_or(now, |f| f.min(now)));
    }
}

/// Runs `f` on `n` threads that start together; returns the calls per second of them all, from
/// the first one's start to the last one's end, and the latencies of every call.
fn together(
    n: usize,
    f: impl Fn(usize, &Start) -> Result<Samples> + Sync,
) -> Result<(f64, work::Stat)> {
    let start = Start {
        barrier: Barrier::new(n),
        first: Mutex::new(None),
    };
    let (f, start) = (&f, &start);
    let (samples, last) = std::thread::scope(|scope| -> Result<_> {
        let threads: Vec<_> = (0..n)
            .map(|t| scope.spawn(move || f(t, start).map(|s| (s, Instant::now()))))
            .collect();
        let (mut all, mut last) = (Samples::default(), None::<Instant>);
        for thread in threads {
            let (samples, end) = thread
                .join()
                .map_err(|_| anyhow::anyhow!("a benchmark thread panicked"))??;
            all.nanos.extend(samples.nanos);
            last = Some(last.map_or(end, |l| l.max(end)));
        }
        Ok((all, last))
    })?;
    let first = start
        .first
        .lock()
        .expect("not poisoned")
        .context("no thread started")?;
    let elapsed = last.context("no thread ended")? - first;
    Ok((
        samples.nanos.len() as f64 / elapsed.as_secs_f64(),
        samples.stat(),
    ))
}

/// `(app, bytes of the app alone, bytes plugged)` for the workload and the counter example.
fn composed_sizes() -> Result<Vec<(&'static str, usize, usize)>> {
    let mut sizes = Vec::new();
    for (name, app) in [
        ("bench workload (draft3)", wasm::WORKLOAD_DRAFT3),
        ("counter example", wasm::COUNTER),
    ] {
        let composed = virt_store::plug(app, virt_store::PROVIDER)
            .with_context(|| format!("cannot plug the {name}"))?;
        sizes.push((name, app.len(), composed.len()));
    }
    Ok(sizes)
}

/// Replaces the `section` of the report at `path`: what lies between `<!-- bench:SECTION:begin -->`
/// and `<!-- bench:SECTION:end -->`.
fn write_between_markers(path: &Path, section: &str, markdown: &str) -> Result<()> {
    let begin = format!("<!-- bench:{section}:begin -->");
    let end = format!("<!-- bench:{section}:end -->");
    let doc = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    let (Some(from), Some(to)) = (doc.find(&begin), doc.find(&end)) else {
        bail!("`{}` has no `{begin}` ... `{end}` markers", path.display());
    };
    let updated = format!("{}{begin}\n{markdown}\n{}", &doc[..from], &doc[to..]);
    std::fs::write(path, updated).with_context(|| format!("cannot write `{}`", path.display()))
}
