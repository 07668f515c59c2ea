//! The benchmark's guest workload, shared by its two builds: `workload_draft`
//! (`wasi:keyvalue@0.2.0-draft`, which both wasmtime's in-memory host and the provider serve) and
//! `workload_draft3` (`0.2.0-draft3`, for compare-and-swap, which `draft` lacks).
//!
//! ```text
//! workload_draft --ops set,get --count 200 --size 100 --prefix r1: [--first 0] [--batch 100 --batches 2 --first-batch 0]
//!                [--scans 1] [--shared r1:]
//! ```
//!
//! The workload opens the default bucket, then runs the operations in the order given, timing
//! each call on its own with `std::time::Instant` (wasi:clocks' monotonic clock), so that
//! instantiation and the host's own costs stay out of the figures. For every operation it prints
//! one line, `lat OP NANOS NANOS ...`, which `bench` parses; `open` is the first
//! `store::open("")` of the instance. Single-key operations use keys `<prefix><i>` for `i` in
//! `first..first + count`; batch call `b` (from `first-batch`) uses keys `<prefix>b<j>` for the
//! `batch` values of `j` from `b * batch`; `increment` and `cas` use `<shared>counter` and
//! `<shared>cas`. A failure prints `workload: ...` to stderr and exits 1.

use std::time::Instant;

/// One version's bindings, as the workload uses them. Errors are messages.
pub trait Keyvalue {
    /// An open bucket.
    type Bucket;
    /// `store::open(identifier)`.
    fn open(identifier: &str) -> Result<Self::Bucket, String>;
    /// `bucket.get(key)`.
    fn get(bucket: &Self::Bucket, key: &str) -> Result<Option<Vec<u8>>, String>;
    /// `bucket.set(key, value)`.
    fn set(bucket: &Self::Bucket, key: &str, value: &[u8]) -> Result<(), String>;
    /// `bucket.delete(key)`.
    fn delete(bucket: &Self::Bucket, key: &str) -> Result<(), String>;
    /// `bucket.exists(key)`.
    fn exists(bucket: &Self::Bucket, key: &str) -> Result<bool, String>;
    /// `atomics::increment(bucket, key, 1)`.
    fn increment(bucket: &Self::Bucket, key: &str) -> Result<(), String>;
    /// A compare-and-swap of `key` to `value` from a fresh handle: `Ok(false)` when another
    /// writer came first. `None` when the version has no CAS.
    fn cas(bucket: &Self::Bucket, key: &str, value: &[u8]) -> Option<Result<bool, String>>;
    /// Every key, page by page; returns how many.
    fn list_all(bucket: &Self::Bucket) -> Result<usize, String>;
    /// `batch::get-many`; returns how many keys were found.
    fn get_many(bucket: &Self::Bucket, keys: &[String]) -> Result<usize, String>;
    /// `batch::set-many`.
    fn set_many(bucket: &Self::Bucket, entries: &[(String, Vec<u8>)]) -> Result<(), String>;
}

/// What the command line asks for.
struct Plan {
    ops: Vec<String>,
    count: usize,
    first: usize,
    size: usize,
    prefix: String,
    shared: String,
    batch: usize,
    batches: usize,
    first_batch: usize,
    scans: usize,
}

impl Plan {
    fn parse(args: impl Iterator<Item = String>) -> Result<Plan, String> {
        let mut plan = Plan {
            ops: Vec::new(),
            count: 100,
            first: 0,
            size: 100,
            prefix: "bench:".into(),
            shared: String::new(),
            batch: 100,
            batches: 1,
            first_batch: 0,
            scans: 1,
        };
        let mut shared = None;
        let mut args = args.peekable();
        while let Some(flag) = args.next() {
            let value = args
                .next()
                .ok_or_else(|| format!("`{flag}` needs a value"))?;
            let number = || {
                value
                    .parse::<usize>()
                    .map_err(|_| format!("`{flag} {value}`: not a number"))
            };
            match flag.as_str() {
                "--ops" => plan.ops = value.split(',').map(str::to_owned).collect(),
                "--count" => plan.count = number()?,
                "--first" => plan.first = number()?,
                "--first-batch" => plan.first_batch = number()?,
                "--size" => plan.size = number()?,
                "--batch" => plan.batch = number()?,
                "--batches" => plan.batches = number()?,
                "--scans" => plan.scans = number()?,
                "--prefix" => plan.prefix = value,
                "--shared" => shared = Some(value),
                _ => return Err(format!("unknown argument `{flag}`")),
            }
        }
        plan.shared = shared.unwrap_or_else(|| plan.prefix.clone());
        Ok(plan)
    }

    fn key(&self, i: usize) -> String {
        format!("{}{i}", self.prefix)
    }

    fn keys(&self) -> std::ops::Range<usize> {
        self.first..self.first + self.count
    }

    fn batches(&self) -> std::ops::Range<usize> {
        self.first_batch..self.first_batch + self.batches
    }

    fn batch_keys(&self, batch: usize) -> Vec<String> {
        (batch * self.batch..(batch + 1) * self.batch)
            .map(|i| format!("{}b{i}", self.prefix))
            .collect()
    }
}

/// Latencies of one operation, in nanoseconds.
struct Samples(Vec<u64>);

impl Samples {
    fn time<T>(&mut self, f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
        let start = Instant::now();
        let result = f();
        self.0
            .push(u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX));
        result
    }

    fn print(&self, op: &str) {
        let nanos: Vec<String> = self.0.iter().map(u64::to_string).collect();
        println!("lat {op} {}", nanos.join(" "));
    }
}

/// Runs the workload of the command line against `K`; exits 1 with the message on failure.
pub fn main<K: Keyvalue>() {
    if let Err(message) = Plan::parse(std::env::args().skip(1)).and_then(|plan| run::<K>(&plan)) {
        eprintln!("workload: {message}");
        std::process::exit(1);
    }
}

fn run<K: Keyvalue>(plan: &Plan) -> Result<(), String> {
    let value = vec![b'v'; plan.size];
    let mut open = Samples(Vec::new());
    let bucket = open.time(|| K::open(""))?;
    for op in &plan.ops {
        let mut s = Samples(Vec::new());
        match op.as_str() {
            "open" => s = Samples(open.0.clone()),
            // `set` makes the keys, `overwrite` (after it) writes them again.
            "set" | "overwrite" => {
                for i in plan.keys() {
                    s.time(|| K::set(&bucket, &plan.key(i), &value))?;
                }
            }
            "get" => {
                for i in plan.keys() {
                    let got = s.time(|| K::get(&bucket, &plan.key(i)))?;
                    if got.as_ref().map(Vec::len) != Some(plan.size) {
                        return Err(format!(
                            "get `{}`: expected {} bytes, got {:?}",
                            plan.key(i),
                            plan.size,
                            got.map(|v| v.len())
                        ));
                    }
                }
            }
            "exists" => {
                for i in plan.keys() {
                    if !s.time(|| K::exists(&bucket, &plan.key(i)))? {
                        return Err(format!("exists `{}`: false", plan.key(i)));
                    }
                }
            }
            "increment" => {
                let key = format!("{}counter", plan.shared);
                for _ in 0..plan.count {
                    s.time(|| K::increment(&bucket, &key))?;
                }
            }
            "cas" => {
                let key = format!("{}cas", plan.shared);
                let mut conflicts = 0;
                for _ in 0..plan.count {
                    // Each sample is one successful swap, retries included.
                    s.time(|| loop {
                        match K::cas(&bucket, &key, &value) {
                            None => {
                                return Err("this version of wasi:keyvalue has no CAS".to_owned())
                            }
                            Some(Ok(true)) => return Ok(()),
                            Some(Ok(false)) => conflicts += 1,
                            Some(Err(e)) => return Err(e),
                        }
                    })?;
                }
                println!("cas-conflicts {conflicts}");
            }
            "list" => {
                for _ in 0..plan.scans {
                    let listed = s.time(|| K::list_all(&bucket))?;
                    println!("listed {listed}");
                }
            }
            "set-many" => {
                for b in plan.batches() {
                    let entries: Vec<(String, Vec<u8>)> = plan
                        .batch_keys(b)
                        .into_iter()
                        .map(|k| (k, value.clone()))
                        .collect();
                    s.time(|| K::set_many(&bucket, &entries))?;
                }
            }
            "get-many" => {
                for b in plan.batches() {
                    let keys = plan.batch_keys(b);
                    let found = s.time(|| K::get_many(&bucket, &keys))?;
                    if found != keys.len() {
                        return Err(format!("get-many: {found} of {} keys found", keys.len()));
                    }
                }
            }
            "delete" => {
                for i in plan.keys() {
                    s.time(|| K::delete(&bucket, &plan.key(i)))?;
                }
            }
            other => return Err(format!("unknown operation `{other}`")),
        }
        s.print(op);
    }
    Ok(())
}
