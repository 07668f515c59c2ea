//! The report: one table per case, the concurrency and group-commit figures, and the targets.

use crate::native::GroupCommit;
use crate::{Case, Results, Stat, STORES};
use std::fmt::Write as _;
use std::time::Duration;

const OPS: [&str; 10] = ["open", "set", "get", "exists", "increment", "cas", "list", "set-many-100", "get-many-100", "delete"];
const SINGLE_KEY: [&str; 6] = ["set", "get", "exists", "increment", "cas", "delete"];

/// Everything one run measured.
pub struct Report {
    quick: bool,
    cases: Vec<(Case, [Results; 4])>,
    concurrency: Vec<(usize, f64, f64)>,
    group_commit: Option<GroupCommit>,
    sizes: (usize, usize),
    elapsed: Duration,
}

impl Report {
    pub fn new(quick: bool) -> Self {
        Self { quick, cases: Vec::new(), concurrency: Vec::new(), group_commit: None, sizes: (0, 0), elapsed: Duration::ZERO }
    }

    pub fn case(&mut self, case: Case, results: [Results; 4]) {
        self.cases.push((case, results));
    }

    pub fn concurrency(&mut self, rows: Vec<(usize, f64, f64)>) {
        self.concurrency = rows;
    }

    pub fn group_commit(&mut self, group_commit: GroupCommit) {
        self.group_commit = Some(group_commit);
    }

    pub fn composed_size(&mut self, sizes: (usize, usize)) {
        self.sizes = sizes;
    }

    pub fn elapsed(&mut self, elapsed: Duration) {
        self.elapsed = elapsed;
    }

    pub fn cases(&self) -> &[(Case, [Results; 4])] {
        &self.cases
    }

    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let mode = if self.quick { "`--quick`" } else { "full" };
        let _ = writeln!(out, "Run: {mode}, {:.0} s. Latencies in µs, median (p99); ratios are the provider's median over the other store's.\n", self.elapsed.as_secs_f64());
        self.targets(&mut out);
        for (case, results) in &self.cases {
            let _ = writeln!(
                out,
                "\n#### {} keys in the store, {} values, durability {}, {} operations of each kind\n",
                case.store_keys,
                bytes(case.value_size),
                if case.durable { "on" } else { "off" },
                case.ops
            );
            let _ = writeln!(out, "| operation | {} | provider ops/s | {} | {} | {} | ×in-memory | ×native | ×SQLite |", STORES[0], STORES[1], STORES[2], STORES[3]);
            let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            for op in OPS {
                let cell = |r: &Results| r.get(op).map_or("—".to_owned(), |s| format!("{} ({})", micros(s.median_ns), micros(s.p99_ns)));
                let ops = results[0].get(op).map_or("—".to_owned(), |s| format!("{:.0}", s.ops_per_sec()));
                let ratio = |i: usize| ratio(results[0].get(op), results[i].get(op)).map_or("—".to_owned(), |r| format!("{r:.2}"));
                let _ = writeln!(
                    out,
                    "| {op} | {} | {ops} | {} | {} | {} | {} | {} | {} |",
                    cell(&results[0]), cell(&results[1]), cell(&results[2]), cell(&results[3]), ratio(1), ratio(2), ratio(3)
                );
            }
        }
        let _ = writeln!(out, "\n#### Concurrent instances incrementing one key (durability off)\n");
        let _ = writeln!(out, "| instances | provider (wasm) increments/s | engine (native, threads) increments/s |");
        let _ = writeln!(out, "|---:|---:|---:|");
        for (instances, wasm, native) in &self.concurrency {
            let _ = writeln!(out, "| {instances} | {wasm:.0} | {native:.0} |");
        }
        out
    }

    fn targets(&self, out: &mut String) {
        let _ = writeln!(out, "| target | measured | |\n|---|---|---|");
        let mut row = |target: &str, measured: String, met: Option<bool>| {
            let verdict = match met {
                Some(true) => "met",
                Some(false) => "**not met**",
                None => "not measured",
            };
            let _ = writeln!(out, "| {target} | {measured} | {verdict} |");
        };
        let small = self.find(|c| !c.durable && c.value_size == 100, true);
        for (op, limit) in [("get", 4.0), ("set", 15.0)] {
            let r = small.and_then(|(_, r)| ratio(r[0].get(op), r[1].get(op)));
            row(
                &format!("{op}{} vs the in-memory host ≤ {limit}×", if op == "set" { ", durability off," } else { "" }),
                r.map_or("—".into(), |r| format!("{r:.1}×")),
                r.map(|r| r <= limit),
            );
        }
        let worst = self
            .cases
            .iter()
            .flat_map(|(case, r)| OPS.iter().filter_map(move |op| ratio(r[0].get(*op), r[2].get(*op)).map(|x| (x, *op, case))))
            .max_by(|a, b| a.0.total_cmp(&b.0));
        row(
            "any operation, provider in wasm vs the engine native ≤ 1.5×",
            worst.map_or("—".into(), |(x, op, c)| format!("worst {x:.1}× ({op}, {} keys, {}, durability {})", c.store_keys, bytes(c.value_size), on(c.durable))),
            worst.map(|(x, _, _)| x <= 1.5),
        );
        if let Some(g) = &self.group_commit {
            let speedup = g.sets.1.as_secs_f64() / g.set_many.1.as_secs_f64();
            row(
                &format!("durable set-many of {} keys ≤ 3 syncs and ≥ 50× the throughput of {} durable sets (engine, native)", g.keys, g.keys),
                format!("{} syncs ({:.0} ms); the sets: {} syncs ({:.0} ms); {speedup:.1}×", g.set_many.0, ms(g.set_many.1), g.sets.0, ms(g.sets.1)),
                Some(g.set_many.0 <= 3 && speedup >= 50.0),
            );
        }
        let large = self.find(|c| !c.durable && c.value_size == 100, false);
        if let (Some((small_case, s)), Some((large_case, l))) = (small, large) {
            let worst = ["get", "set", "exists", "delete"]
                .iter()
                .filter_map(|op| ratio(l[0].get(*op), s[0].get(*op)).map(|r| (r, *op)))
                .max_by(|a, b| a.0.total_cmp(&b.0));
            row(
                &format!("per-operation cost, {}-key store vs {}-key store ≤ 1.5× (the issue asks 1M vs 1k)", large_case.store_keys, small_case.store_keys),
                worst.map_or("—".into(), |(r, op)| format!("worst {r:.2}× ({op})")),
                worst.map(|(r, _)| r <= 1.5),
            );
        }
        let opens: Vec<(usize, u64)> = self.cases.iter().filter_map(|(c, r)| r[0].get("open").map(|s| (c.store_keys, s.median_ns))).collect();
        let worst_open = opens.iter().map(|(_, ns)| *ns).max();
        row(
            "opening a bucket in a fresh instance ≤ 50 µs, whatever the store's size",
            worst_open.map_or("—".into(), |ns| format!("at most {} µs over {} runs, stores of {} keys", micros(ns), opens.len(), sizes(&opens))),
            worst_open.map(|ns| ns <= 50_000),
        );
        for durable in [false, true] {
            let case = self.find(|c| c.durable == durable && c.value_size == 100, true);
            let (ahead, total) = case.map_or((0, 0), |(_, r)| {
                let compared: Vec<bool> = SINGLE_KEY.iter().filter_map(|op| ratio(r[0].get(*op), r[3].get(*op)).map(|x| x <= 1.0)).collect();
                (compared.iter().filter(|a| **a).count(), compared.len())
            });
            row(
                &format!("single-key operations, durability {}, vs SQLite with the same settings: ahead", on(durable)),
                format!("provider (wasm) ahead on {ahead} of {total}"),
                (total > 0).then_some(ahead == total),
            );
        }
        let (app, composed) = self.sizes;
        let extra = composed.saturating_sub(app);
        row(
            "composed component beyond the app alone ≤ 300 KB",
            format!("{} KB (counter example: {} KB alone, {} KB plugged)", extra / 1024, app / 1024, composed / 1024),
            Some(extra <= 300 * 1024),
        );
    }

    /// The case matching `filter` with the smallest (or largest) store.
    fn find(&self, filter: impl Fn(&Case) -> bool, smallest: bool) -> Option<(&Case, &[Results; 4])> {
        let matching = self.cases.iter().filter(|(c, _)| filter(c));
        let pick = if smallest { matching.min_by_key(|(c, _)| c.store_keys) } else { matching.max_by_key(|(c, _)| c.store_keys) };
        pick.map(|(c, r)| (c, r))
    }
}

fn ratio(ours: Option<&Stat>, other: Option<&Stat>) -> Option<f64> {
    let (ours, other) = (ours?, other?);
    Some(ours.median_ns.max(1) as f64 / other.median_ns.max(1) as f64)
}

fn micros(ns: u64) -> String {
    let us = ns as f64 / 1000.0;
    if us < 10.0 { format!("{us:.2}") } else { format!("{us:.0}") }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn bytes(n: usize) -> String {
    match n {
        n if n >= 1 << 20 => format!("{} MiB", n >> 20),
        n if n >= 1024 => format!("{} KiB", n >> 10),
        n => format!("{n} B"),
    }
}

fn on(durable: bool) -> &'static str {
    if durable { "on" } else { "off" }
}

fn sizes(opens: &[(usize, u64)]) -> String {
    let mut sizes: Vec<usize> = opens.iter().map(|(s, _)| *s).collect();
    sizes.sort_unstable();
    sizes.dedup();
    sizes.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(" and ")
}
