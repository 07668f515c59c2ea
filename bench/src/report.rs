//! The report: the targets, the syncs, the opens, one table per case, group commit, concurrency
//! and sizes, as Markdown.

use crate::targets::TARGETS;
use crate::work::{Results, Stat, OPS, SINGLE_KEY, WRITES};
use crate::{Case, Plan};
use std::fmt::Write as _;
use std::time::Duration;

/// The four stores, in table order.
pub const STORES: [&str; 4] = [
    "provider (wasm)",
    "wasmtime in-memory",
    "engine (native)",
    "SQLite",
];

/// One case's results, per store in [`STORES`] order.
pub struct CaseResult {
    /// The case.
    pub case: Case,
    /// Per store.
    pub stores: [Results; 4],
}

/// Opening a bucket in fresh instances, for one store size.
pub struct OpenResult {
    /// Keys in the store.
    pub keys: usize,
    /// The first `open` of a fresh instance, per store in [`STORES`] order.
    pub stores: [Stat; 4],
    /// Instantiation, timed by the host: the provider's composed workload, the in-memory one.
    pub instantiate: [Stat; 2],
    /// Syncs the provider's instances issued in all.
    pub syncs: u64,
}

/// One store's side of the group-commit comparison.
pub struct Side {
    /// One durable `set` per key.
    pub sets: Stat,
    /// Syncs of all the sets, when counted.
    pub set_syncs: Option<u64>,
    /// One durable `set-many` per call.
    pub many: Stat,
    /// Syncs of all the `set-many` calls, when counted.
    pub many_syncs: Option<u64>,
}

impl Side {
    /// Throughput of `set-many` over that of single sets: the time of all the sets over the
    /// median time of one `set-many` of as many keys.
    fn speedup(&self) -> f64 {
        self.sets.mean_ns * self.sets.n as f64 / self.many.median_ns.max(1) as f64
    }

    fn syncs_per_call(&self) -> Option<f64> {
        Some(self.many_syncs? as f64 / self.many.n.max(1) as f64)
    }
}

/// A durable `set-many` of many keys against as many `set`s.
pub struct GroupCommit {
    /// Keys per `set-many` (and sets).
    pub keys: usize,
    /// `set-many` calls timed.
    pub calls: usize,
    /// Through the component.
    pub provider: Side,
    /// The engine natively.
    pub native: Side,
    /// SQLite, one transaction per `set-many`.
    pub sqlite: Side,
}

/// One operation with some instances at once.
pub struct ConcurrencyRow {
    /// Whether writes were synced.
    pub durable: bool,
    /// Instances (threads) at once.
    pub instances: usize,
    /// The operation.
    pub op: &'static str,
    /// Calls per second of them all, and every call's latency: provider, engine, SQLite.
    pub stores: [(f64, Stat); 3],
}

/// Everything one run measured.
pub struct Report {
    plan: Plan,
    /// Per case.
    pub cases: Vec<CaseResult>,
    /// Per store size.
    pub opens: Vec<OpenResult>,
    /// The group-commit comparison.
    pub group_commit: Option<GroupCommit>,
    /// Per durability, instance count and operation.
    pub concurrency: Vec<ConcurrencyRow>,
    /// `(app, bytes alone, bytes plugged)`.
    pub sizes: Vec<(&'static str, usize, usize)>,
    /// Stores populated during the run.
    pub populated: Vec<(&'static str, usize, Duration)>,
    /// The whole run.
    pub elapsed: Duration,
}

impl Report {
    /// An empty report of a run of `plan`.
    pub fn new(plan: Plan) -> Self {
        Self {
            plan,
            cases: Vec::new(),
            opens: Vec::new(),
            group_commit: None,
            concurrency: Vec::new(),
            sizes: Vec::new(),
            populated: Vec::new(),
            elapsed: Duration::ZERO,
        }
    }

    /// The whole report.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        self.summary(&mut out);
        self.targets(&mut out);
        self.syncs(&mut out);
        self.opens(&mut out);
        self.group(&mut out);
        self.concurrency_tables(&mut out);
        self.case_tables(&mut out);
        self.composed(&mut out);
        out
    }

    fn summary(&self, out: &mut String) {
        let p = &self.plan;
        let sizes: Vec<String> = p.sizes.iter().map(|k| count(*k)).collect();
        let values: Vec<String> = p.values.iter().map(|v| bytes(*v)).collect();
        let _ = writeln!(
            out,
            "`{}`: {:.0} s in all. Stores of {} keys; values of {}; durability off and on. Per case, {} calls of \
             each single-key operation with durability off and {} with durability on (at most {} with 1 MiB values), \
             {} `set-many` and `get-many` calls of 100 keys; {} fresh instances for the opens; {} and {} calls per \
             concurrent instance (off, on).",
            p.command,
            self.elapsed.as_secs_f64(),
            sizes.join(", "),
            values.join(", "),
            p.count,
            p.durable_count,
            p.count_for(1 << 20, false).0,
            p.batches,
            p.opens,
            p.concurrent_count.0,
            p.concurrent_count.1
        );
        let mut filled: Vec<(&str, usize, usize, f64)> = Vec::new();
        for (what, keys, t) in &self.populated {
            match filled.iter_mut().find(|f| f.0 == *what && f.1 == *keys) {
                Some(f) => {
                    f.2 += 1;
                    f.3 += t.as_secs_f64();
                }
                None => filled.push((what, *keys, 1, t.as_secs_f64())),
            }
        }
        if !filled.is_empty() {
            let filled: Vec<String> = filled
                .iter()
                .map(|(what, keys, times, secs)| {
                    format!(
                        "{what} {} keys{} in {secs:.0} s",
                        count(*keys),
                        if *times > 1 {
                            format!(" ({times} times)")
                        } else {
                            String::new()
                        }
                    )
                })
                .collect();
            let _ = writeln!(
                out,
                "Stores populated natively during this run (included in the total): {}.",
                filled.join(", ")
            );
        }
        let _ = writeln!(
            out,
            "\nLatencies in µs. A store's cell is `ops/s · median · p99`; ops/s is one call at a time (the inverse of the mean). \
             The ratios are the provider's median latency over the other store's: above 1, the provider is slower.\n"
        );
    }

    fn targets(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "### Targets\n\n| target | measured | verdict |\n|---|---|---|"
        );
        let mut row = |target: &str, measured: String, met: Option<bool>| {
            let verdict = match met {
                Some(true) => "MET",
                Some(false) => "**NOT MET**",
                None => "not measured",
            };
            let _ = writeln!(out, "| {target} | {measured} | {verdict} |");
        };

        for (op, limit, durabilities, what) in [
            ("get", TARGETS.get_vs_in_memory, &[false, true][..], "get"),
            (
                "set",
                TARGETS.set_vs_in_memory,
                &[false][..],
                "set, durability off,",
            ),
        ] {
            let ratios: Vec<(f64, &Case)> = self
                .cases
                .iter()
                .filter(|c| durabilities.contains(&c.case.durable))
                .filter_map(|c| {
                    ratio(c.stores[0].get(op), c.stores[1].get(op)).map(|r| (r, &c.case))
                })
                .collect();
            let head = self
                .headline(false)
                .and_then(|c| ratio(c.stores[0].get(op), c.stores[1].get(op)));
            row(
                &format!("{what} vs the in-memory host ≤ {limit}×"),
                match head {
                    Some(h) => format!(
                        "{h:.1}× ({}); {} over {} cases",
                        self.headline_name(false),
                        range(&ratios),
                        ratios.len()
                    ),
                    None => "—".into(),
                },
                (!ratios.is_empty()).then(|| ratios.iter().all(|(r, _)| *r <= limit)),
            );
        }

        let mut native: Vec<(f64, String)> = Vec::new();
        for c in &self.cases {
            for op in OPS {
                if let Some(r) = ratio(c.stores[0].get(op), c.stores[2].get(op)) {
                    native.push((r, format!("{op}, {}", case_name(&c.case))));
                }
            }
        }
        for o in &self.opens {
            if let Some(r) = ratio(Some(&o.stores[0]), Some(&o.stores[2])) {
                native.push((r, format!("open, {} keys", count(o.keys))));
            }
        }
        let worst = native.iter().max_by(|a, b| a.0.total_cmp(&b.0));
        let bar = TARGETS.wasm_vs_native;
        let within = native.iter().filter(|(r, _)| *r <= bar).count();
        row(
            &format!("any operation, provider in wasm vs the engine native ≤ {bar}×"),
            worst.map_or("—".into(), |(r, what)| format!("worst {r:.1}× ({what}); {within} of {} (operation, case) pairs within {bar}×; median {:.2}×", native.len(), median(native.iter().map(|n| n.0)))),
            worst.map(|(r, _)| *r <= bar),
        );

        if let Some(g) = &self.group_commit {
            let side = |s: &Side| {
                format!(
                    "{} syncs per call, {:.1}× the throughput of {} durable sets",
                    opt(s.syncs_per_call(), 1),
                    s.speedup(),
                    g.keys
                )
            };
            let p = &g.provider;
            row(
                &format!(
                    "durable set-many of {} keys ≤ {} syncs and ≥ {}× the throughput of {} durable sets",
                    g.keys, TARGETS.group_commit_syncs, TARGETS.group_commit_speedup, g.keys
                ),
                format!("provider: {}; engine native: {}", side(p), side(&g.native)),
                Some(p.syncs_per_call().is_some_and(|s| s <= TARGETS.group_commit_syncs) && p.speedup() >= TARGETS.group_commit_speedup),
            );
        }

        let (small, large) = (
            self.plan.sizes.iter().min().copied(),
            self.plan.sizes.iter().max().copied(),
        );
        if let (Some(small), Some(large)) = (small, large) {
            // Durability off: with it on, every write waits for the disk, whose noise hides
            // what the store's size costs; those figures are given beside.
            let growth =
                |durable: bool| -> Vec<(f64, String)> {
                    let mut growth = Vec::new();
                    for l in self.cases.iter().filter(|c| {
                        c.case.keys == large && large != small && c.case.durable == durable
                    }) {
                        let Some(s) = self.cases.iter().find(|c| {
                            c.case.keys == small
                                && c.case.value == l.case.value
                                && c.case.durable == durable
                        }) else {
                            continue;
                        };
                        for op in OPS.iter().filter(|op| **op != "list") {
                            if let Some(r) = ratio(l.stores[0].get(op), s.stores[0].get(op)) {
                                growth.push((r, format!("{op}, {}", bytes(l.case.value))));
                            }
                        }
                    }
                    growth
                };
            let worst = |g: &[(f64, String)]| g.iter().max_by(|a, b| a.0.total_cmp(&b.0)).cloned();
            let (off, on) = (growth(false), growth(true));
            let asked = if large == 1_000_000 && small == 1_000 {
                String::new()
            } else {
                " (the target is 1M vs 1k; this run's largest)".to_owned()
            };
            let measured = match (worst(&off), worst(&on)) {
                (Some((r, what)), on_worst) => format!(
                    "durability off: worst {r:.2}× ({what}), median {:.2}× over {} (operation, case) pairs, every operation but the full scan; \
                     durability on (disk-bound): {}",
                    median(off.iter().map(|g| g.0)),
                    off.len(),
                    on_worst.map_or("—".into(), |(r, what)| format!("worst {r:.2}× ({what}), median {:.2}×", median(on.iter().map(|g| g.0))))
                ),
                (None, _) => "—".into(),
            };
            row(
                &format!(
                    "per-operation cost, {}-key store vs {}-key store ≤ {}×{asked}",
                    count(large),
                    count(small),
                    TARGETS.store_growth
                ),
                measured,
                worst(&off).map(|(r, _)| r <= TARGETS.store_growth),
            );
        }

        let opens: Vec<String> = self
            .opens
            .iter()
            .map(|o| {
                format!(
                    "{} µs at {} keys",
                    micros(o.stores[0].median_ns),
                    count(o.keys)
                )
            })
            .collect();
        let worst_open = self.opens.iter().map(|o| o.stores[0].median_ns).max();
        row(
            &format!(
                "opening a bucket in a fresh instance ≤ {} µs, whatever the store's size",
                TARGETS.open_micros
            ),
            if opens.is_empty() {
                "—".into()
            } else {
                format!(
                    "median first `open` in the guest: {} (instantiation apart: see below)",
                    opens.join(", ")
                )
            },
            worst_open.map(|ns| ns <= TARGETS.open_micros * 1000),
        );

        for durable in [false, true] {
            let Some(head) = self.headline(durable) else {
                continue;
            };
            let compared: Vec<(&str, f64)> = SINGLE_KEY
                .iter()
                .filter_map(|op| {
                    ratio(head.stores[0].get(op), head.stores[3].get(op)).map(|r| (*op, r))
                })
                .collect();
            let ahead = compared.iter().filter(|(_, r)| *r < 1.0).count();
            let all: Vec<bool> = self
                .cases
                .iter()
                .filter(|c| c.case.durable == durable)
                .flat_map(|c| {
                    SINGLE_KEY.iter().filter_map(|op| {
                        ratio(c.stores[0].get(op), c.stores[3].get(op)).map(|r| r < 1.0)
                    })
                })
                .collect();
            let list: Vec<String> = compared
                .iter()
                .map(|(op, r)| format!("{op} {r:.1}×"))
                .collect();
            row(
                &format!(
                    "single-key operations, durability {}, vs SQLite with the same settings: ahead",
                    on(durable)
                ),
                format!(
                    "ahead on {ahead} of {} ({}: {}); all cases: ahead on {} of {}",
                    compared.len(),
                    self.headline_name(durable),
                    list.join(", "),
                    all.iter().filter(|a| **a).count(),
                    all.len()
                ),
                (!compared.is_empty()).then_some(ahead == compared.len() && all.iter().all(|a| *a)),
            );
        }

        let extra: Vec<String> = self
            .sizes
            .iter()
            .map(|(name, app, plugged)| {
                format!("{:.0} KB ({name})", (plugged - app) as f64 / 1000.0)
            })
            .collect();
        let worst = self
            .sizes
            .iter()
            .map(|(_, app, plugged)| plugged - app)
            .max();
        row(
            &format!(
                "composed component beyond the app alone ≤ {} KB",
                TARGETS.composed_extra_bytes / 1000
            ),
            extra.join(", "),
            worst.map(|b| b <= TARGETS.composed_extra_bytes),
        );
    }

    fn syncs(&self, out: &mut String) {
        let Some(head) = self.headline(true) else {
            return;
        };
        let _ = writeln!(
            out,
            "\n### Syncs per durable operation\n\nCounted, not assumed: through the component, every `descriptor.sync` and `sync-data` \
             call the instance makes through `wasi:filesystem` (the host wraps both); natively, `virt_store_engine::sync_count()`. \
             {} (each operation in a fresh instance, so the instance's count is the operation's).\n",
            self.headline_name(true)
        );
        let _ = writeln!(
            out,
            "| operation | provider in wasm | engine native |\n|---|---:|---:|"
        );
        for op in WRITES {
            let cell = |r: &Results| opt(r.get(op).and_then(|s| s.syncs_per_op), 2);
            let name = if op == "set" {
                "set (new key)".to_owned()
            } else if op == "overwrite" {
                "overwrite (set of an existing key)".to_owned()
            } else if op == "set-many" {
                "set-many (per call of 100 new keys)".to_owned()
            } else {
                op.to_owned()
            };
            let _ = writeln!(
                out,
                "| {name} | {} | {} |",
                cell(&head.stores[0]),
                cell(&head.stores[2])
            );
        }
        if let Some(g) = &self.group_commit {
            let _ = writeln!(
                out,
                "| set-many (per call of {} new keys) | {} | {} |",
                g.keys,
                opt(g.provider.syncs_per_call(), 0),
                opt(g.native.syncs_per_call(), 0)
            );
        }
        let reads: Vec<String> = self
            .cases
            .iter()
            .flat_map(|c| {
                ["get", "exists", "get-many", "list"]
                    .map(|op| c.stores[0].get(op).and_then(|s| s.syncs_per_op))
            })
            .flatten()
            .filter(|s| *s > 0.0)
            .map(|s| format!("{s}"))
            .collect();
        let off: f64 = self
            .cases
            .iter()
            .filter(|c| !c.case.durable)
            .flat_map(|c| c.stores[0].values().filter_map(|s| s.syncs_per_op))
            .sum();
        let opens: u64 = self.opens.iter().map(|o| o.syncs).sum();
        let _ = writeln!(
            out,
            "\nReads issued {} syncs in every case; with durability off the provider issued {} syncs in all; fresh instances' opens issued {opens}.",
            if reads.is_empty() { "no".to_owned() } else { reads.join(", ") },
            off
        );
    }

    fn opens(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "\n### Opening a bucket in a fresh instance\n\n`open` is the first `store::open(\"\")` of a fresh instance, timed in the guest \
             (the provider opens its store then); natively, a fresh `virt_store_engine::Store` and its bucket, and a fresh SQLite connection with its pragmas. \
             Instantiation is timed by the host, apart.\n"
        );
        let _ = writeln!(out, "| keys | {} | {} | {} | {} | ×in-memory | ×native | ×SQLite | instantiate: provider | instantiate: in-memory |", STORES[0], STORES[1], STORES[2], STORES[3]);
        let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for o in &self.opens {
            let r = |i: usize| opt(ratio(Some(&o.stores[0]), Some(&o.stores[i])), 2);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                count(o.keys),
                cell(&o.stores[0]),
                cell(&o.stores[1]),
                cell(&o.stores[2]),
                cell(&o.stores[3]),
                r(1),
                r(2),
                r(3),
                cell(&o.instantiate[0]),
                cell(&o.instantiate[1])
            );
        }
    }

    fn group(&self, out: &mut String) {
        let Some(g) = &self.group_commit else { return };
        let _ = writeln!(
            out,
            "\n### Group commit: one durable `set-many` of {} new keys against {} durable `set`s\n\nOn the {}-key store, 100 B values; \
             `set-many` is the median of {} calls.\n",
            g.keys,
            g.keys,
            count(self.plan.sizes[0]),
            g.calls
        );
        let _ = writeln!(out, "| store | {} sets: ms | syncs | set-many: ms | syncs per call | set-many's throughput over the sets' |\n|---|---:|---:|---:|---:|---:|", g.keys);
        for (name, s) in [
            (STORES[0], &g.provider),
            (STORES[2], &g.native),
            ("SQLite (one transaction)", &g.sqlite),
        ] {
            let _ = writeln!(
                out,
                "| {name} | {:.0} | {} | {:.1} | {} | {:.1}× |",
                s.sets.mean_ns * s.sets.n as f64 / 1e6,
                s.set_syncs.map_or("—".into(), |n| n.to_string()),
                s.many.median_ns as f64 / 1e6,
                opt(s.syncs_per_call(), 0),
                s.speedup()
            );
        }
    }

    fn concurrency_tables(&self, out: &mut String) {
        if self.concurrency.is_empty() {
            return;
        }
        let _ = writeln!(
            out,
            "\n### Concurrent instances on one directory\n\nOn the {}-key store, 100 B values. Each instance (a wasmtime instance on its own thread; \
             natively a store per thread; for SQLite a connection per thread) makes {} calls with durability off, {} with it on; \
             `increment` hits one shared counter. \
             ops/s is all the instances' calls over the wall time from a common start (after instantiation) to the last one's end; \
             the latencies are every call's. The in-memory host is left out: each of its instances has a private copy of the data, \
             so it has no shared store to measure.\n",
            count(self.plan.sizes[0]),
            self.plan.concurrent_count.0,
            self.plan.concurrent_count.1
        );
        for durable in [false, true] {
            let rows: Vec<&ConcurrencyRow> = self
                .concurrency
                .iter()
                .filter(|r| r.durable == durable)
                .collect();
            if rows.is_empty() {
                continue;
            }
            let _ = writeln!(out, "Durability {}:\n", on(durable));
            let _ = writeln!(out, "| operation | instances | {} | {} | {} | ×native (ops/s) | ×SQLite (ops/s) |\n|---|---:|---:|---:|---:|---:|---:|", STORES[0], STORES[2], STORES[3]);
            for r in rows {
                let c = |(rate, s): &(f64, Stat)| {
                    format!(
                        "{} · {} · {}",
                        rate_fmt(*rate),
                        micros(s.median_ns),
                        micros(s.p99_ns)
                    )
                };
                let x = |i: usize| format!("{:.2}", r.stores[i].0 / r.stores[0].0.max(1e-9));
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    r.op,
                    r.instances,
                    c(&r.stores[0]),
                    c(&r.stores[1]),
                    c(&r.stores[2]),
                    x(1),
                    x(2)
                );
            }
            let _ = writeln!(out);
        }
    }

    fn case_tables(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "\n### Every case\n\nBatch rows are per call of 100 keys. `list` is one full paged scan of the store (1,000 keys a page \
             for the provider, the engine and SQLite; the in-memory host returns every key in one page), run once per store size \
             and durability before the case writes. `syncs/op` is counted as above: provider / engine.\n"
        );
        for c in &self.cases {
            let _ = writeln!(out, "#### {}\n", case_name(&c.case));
            let _ = writeln!(
                out,
                "| operation | {} | {} | {} | {} | ×in-memory | ×native | ×SQLite | syncs/op |",
                STORES[0], STORES[1], STORES[2], STORES[3]
            );
            let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            for op in OPS {
                if c.stores.iter().all(|r| r.get(op).is_none()) {
                    continue;
                }
                let cellr = |r: &Results| r.get(op).map_or("—".to_owned(), cell);
                let x = |i: usize| opt(ratio(c.stores[0].get(op), c.stores[i].get(op)), 2);
                let syncs = |r: &Results| opt(r.get(op).and_then(|s| s.syncs_per_op), 2);
                let _ = writeln!(
                    out,
                    "| {op} | {} | {} | {} | {} | {} | {} | {} | {} / {} |",
                    cellr(&c.stores[0]),
                    cellr(&c.stores[1]),
                    cellr(&c.stores[2]),
                    cellr(&c.stores[3]),
                    x(1),
                    x(2),
                    x(3),
                    syncs(&c.stores[0]),
                    syncs(&c.stores[2])
                );
            }
            let _ = writeln!(out);
        }
    }

    fn composed(&self, out: &mut String) {
        let _ = writeln!(out, "### Composed size\n\n| app | alone | plugged | added by the provider |\n|---|---:|---:|---:|");
        for (name, app, plugged) in &self.sizes {
            let _ = writeln!(
                out,
                "| {name} | {app} B | {plugged} B | {} B ({:.0} KB) |",
                plugged - app,
                (plugged - app) as f64 / 1000.0
            );
        }
    }

    /// The case of the smallest store and value with this durability.
    fn headline(&self, durable: bool) -> Option<&CaseResult> {
        let keys = *self.plan.sizes.iter().min()?;
        let value = *self.plan.values.iter().min()?;
        self.cases
            .iter()
            .find(|c| c.case.keys == keys && c.case.value == value && c.case.durable == durable)
    }

    fn headline_name(&self, durable: bool) -> String {
        self.headline(durable).map_or_else(String::new, |c| {
            format!(
                "{} keys, {}, durability {}",
                count(c.case.keys),
                bytes(c.case.value),
                on(durable)
            )
        })
    }
}

/// The provider's median over another store's.
pub fn ratio(ours: Option<&Stat>, other: Option<&Stat>) -> Option<f64> {
    let (ours, other) = (ours?, other?);
    (ours.n > 0 && other.n > 0)
        .then(|| ours.median_ns.max(1) as f64 / other.median_ns.max(1) as f64)
}

fn cell(s: &Stat) -> String {
    format!(
        "{} · {} · {}",
        rate_fmt(s.ops_per_sec()),
        micros(s.median_ns),
        micros(s.p99_ns)
    )
}

fn case_name(c: &Case) -> String {
    format!(
        "{} keys, {} values, durability {}",
        count(c.keys),
        bytes(c.value),
        on(c.durable)
    )
}

fn range(ratios: &[(f64, &Case)]) -> String {
    let min = ratios.iter().map(|r| r.0).fold(f64::INFINITY, f64::min);
    let max = ratios.iter().map(|r| r.0).fold(0.0, f64::max);
    format!("{min:.1}–{max:.1}×")
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn opt(value: Option<f64>, decimals: usize) -> String {
    value.map_or("—".to_owned(), |v| format!("{v:.decimals$}"))
}

/// Microseconds: two decimals below 10, none from 10.
pub fn micros(ns: u64) -> String {
    let us = ns as f64 / 1000.0;
    if us < 10.0 {
        format!("{us:.2}")
    } else {
        group(us.round() as u64)
    }
}

fn rate_fmt(rate: f64) -> String {
    if rate < 10.0 {
        format!("{rate:.2}")
    } else {
        group(rate.round() as u64)
    }
}

/// `1234567` as `1,234,567`.
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// A key count: `1k`, `100k`, `1M`.
pub fn count(n: usize) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

/// A byte count: `100 B`, `10 KiB`, `1 MiB`.
pub fn bytes(n: usize) -> String {
    match n {
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} B"),
    }
}

fn on(durable: bool) -> &'static str {
    if durable {
        "on"
    } else {
        "off"
    }
}
