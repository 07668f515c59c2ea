//! What the workload does, in the guest and natively alike: the operations, their keys and
//! counts, and the statistics of their latencies.

use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;

/// The operations of a case, in the order they run (a full scan first, before the case writes).
pub const OPS: [&str; 10] = [
    "list",
    "set",
    "overwrite",
    "get",
    "exists",
    "increment",
    "cas",
    "set-many",
    "get-many",
    "delete",
];

/// The single-key operations.
pub const SINGLE_KEY: [&str; 7] = [
    "get",
    "set",
    "overwrite",
    "delete",
    "exists",
    "increment",
    "cas",
];

/// The operations that write.
pub const WRITES: [&str; 6] = ["set", "overwrite", "delete", "increment", "cas", "set-many"];

/// One run of some operations: the workload's command line, which the native stores follow too.
#[derive(Clone, Debug)]
pub struct Work {
    /// Calls of each single-key operation.
    pub count: usize,
    /// The index of the first single key.
    pub first: usize,
    /// Bytes per value written.
    pub size: usize,
    /// Prefix of every key written (fresh keys: each run has its own).
    pub prefix: String,
    /// Prefix of the counter and CAS keys, shared by concurrent instances.
    pub shared: String,
    /// Keys per batch call.
    pub batch: usize,
    /// Batch calls of each batch operation.
    pub batches: usize,
    /// The index of the first batch call.
    pub first_batch: usize,
    /// Full `list-keys` scans.
    pub scans: usize,
}

impl Work {
    /// The workload's arguments for `ops`.
    pub fn args(&self, ops: &[&str]) -> Vec<String> {
        let mut args = vec!["--ops".to_owned(), ops.join(",")];
        for (flag, value) in [
            ("--count", self.count.to_string()),
            ("--first", self.first.to_string()),
            ("--size", self.size.to_string()),
            ("--prefix", self.prefix.clone()),
            ("--shared", self.shared.clone()),
            ("--batch", self.batch.to_string()),
            ("--batches", self.batches.to_string()),
            ("--first-batch", self.first_batch.to_string()),
            ("--scans", self.scans.to_string()),
        ] {
            args.push(flag.to_owned());
            args.push(value);
        }
        args
    }

    /// The single keys' indices.
    pub fn keys(&self) -> std::ops::Range<usize> {
        self.first..self.first + self.count
    }

    /// The batch calls' indices.
    pub fn batch_calls(&self) -> std::ops::Range<usize> {
        self.first_batch..self.first_batch + self.batches
    }

    /// `op`'s calls split into `rounds` parts (fewer if there are fewer calls), so that stores
    /// can take turns; a scan is not split.
    pub fn split(&self, op: &str, rounds: usize) -> Vec<Work> {
        let (total, batch) = match op {
            "list" => return vec![self.clone()],
            "set-many" | "get-many" => (self.batches, true),
            _ => (self.count, false),
        };
        let rounds = rounds.clamp(1, total.max(1));
        (0..rounds)
            .map(|r| {
                let (from, to) = (total * r / rounds, total * (r + 1) / rounds);
                let mut part = self.clone();
                if batch {
                    part.first_batch = self.first_batch + from;
                    part.batches = to - from;
                } else {
                    part.first = self.first + from;
                    part.count = to - from;
                }
                part
            })
            .collect()
    }

    /// The `i`th single key.
    pub fn key(&self, i: usize) -> String {
        format!("{}{i}", self.prefix)
    }

    /// The keys of batch call `b`.
    pub fn batch_keys(&self, b: usize) -> Vec<String> {
        (b * self.batch..(b + 1) * self.batch)
            .map(|i| format!("{}b{i}", self.prefix))
            .collect()
    }

    /// The counter's key.
    pub fn counter(&self) -> String {
        format!("{}counter", self.shared)
    }

    /// The CAS key.
    pub fn cas_key(&self) -> String {
        format!("{}cas", self.shared)
    }

    /// Keys this work creates when it runs `ops` (what a store grows by).
    pub fn new_keys(&self, ops: &[&str]) -> usize {
        ops.iter()
            .map(|op| match *op {
                "set" => self.count,
                "set-many" => self.batch * self.batches,
                "increment" | "cas" => 1,
                _ => 0,
            })
            .sum()
    }
}

/// Latencies of one operation, and the syncs it issued.
#[derive(Clone, Debug, Default)]
pub struct Samples {
    /// One latency per call, in nanoseconds.
    pub nanos: Vec<u64>,
    /// Syncs issued by all the calls, when counted.
    pub syncs: Option<u64>,
}

impl Samples {
    /// Adds `other`'s calls and syncs to these.
    pub fn absorb(&mut self, other: Samples) {
        let empty = self.nanos.is_empty() && self.syncs.is_none();
        self.syncs = if empty {
            other.syncs
        } else {
            self.syncs.zip(other.syncs).map(|(a, b)| a + b)
        };
        self.nanos.extend(other.nanos);
    }

    /// The summary.
    pub fn stat(&self) -> Stat {
        let mut sorted = self.nanos.clone();
        sorted.sort_unstable();
        let at = |q: f64| {
            sorted
                .get(((sorted.len().max(1) - 1) as f64 * q).round() as usize)
                .copied()
                .unwrap_or(0)
        };
        let n = sorted.len();
        let total: u64 = sorted.iter().sum();
        Stat {
            n,
            median_ns: at(0.5),
            p99_ns: at(0.99),
            mean_ns: total as f64 / n.max(1) as f64,
            syncs_per_op: self.syncs.map(|s| s as f64 / n.max(1) as f64),
        }
    }
}

/// The summary of one operation's latencies.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stat {
    /// Calls timed.
    pub n: usize,
    /// Median latency.
    pub median_ns: u64,
    /// 99th percentile latency (nearest rank).
    pub p99_ns: u64,
    /// Mean latency.
    pub mean_ns: f64,
    /// Syncs per call, when counted.
    pub syncs_per_op: Option<f64>,
}

impl Stat {
    /// Calls per second, one at a time: the inverse of the mean latency.
    pub fn ops_per_sec(&self) -> f64 {
        1e9 / self.mean_ns.max(1.0)
    }
}

/// Operation name to latencies, for one store.
pub type Results = BTreeMap<&'static str, Stat>;

/// Parses the workload's `lat OP NANOS...` lines; `syncs` (the instance's, when counted) is
/// charged to the single operation of the run.
pub fn parse(stdout: &str, syncs: Option<u64>) -> Result<BTreeMap<String, Samples>> {
    let mut samples = BTreeMap::new();
    for line in stdout.lines() {
        let mut fields = line.split(' ');
        if fields.next() != Some("lat") {
            continue;
        }
        let op = fields.next().context("a `lat` line without an operation")?;
        let nanos = fields
            .map(|f| {
                f.parse::<u64>()
                    .with_context(|| format!("bad latency `{f}` for `{op}`"))
            })
            .collect::<Result<Vec<_>>>()?;
        samples.insert(op.to_owned(), Samples { nanos, syncs: None });
    }
    if let Some(syncs) = syncs {
        if samples.len() != 1 {
            bail!(
                "syncs can be charged only to a run of one operation, not {:?}",
                samples.keys().collect::<Vec<_>>()
            );
        }
        samples.values_mut().for_each(|s| s.syncs = Some(syncs));
    }
    Ok(samples)
}

/// The `op` of [`OPS`] (or `open`) as a `'static` name.
pub fn op_name(op: &str) -> Result<&'static str> {
    OPS.iter()
        .chain(&["open"])
        .find(|o| **o == op)
        .copied()
        .with_context(|| format!("unknown operation `{op}`"))
}
