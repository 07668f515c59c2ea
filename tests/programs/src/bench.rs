//! Timing for the benchmark workloads: each operation is timed inside the guest (wasi:clocks'
//! monotonic clock), so instantiation and the host's process costs stay out of per-operation
//! figures.

use std::time::Instant;

/// The latencies of one operation, reported as `OP COUNT MEDIAN_NS P99_NS TOTAL_NS`.
pub struct Samples {
    op: &'static str,
    nanos: Vec<u64>,
}

impl Samples {
    /// No samples yet of `op`.
    pub fn new(op: &'static str) -> Self {
        Self { op, nanos: Vec::new() }
    }

    /// Runs `f` once and records how long it took.
    pub fn time<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let result = f();
        self.nanos.push(start.elapsed().as_nanos() as u64);
        result
    }

    /// Prints the line the bench crate parses.
    pub fn report(mut self) {
        if self.nanos.is_empty() {
            return;
        }
        self.nanos.sort_unstable();
        let at = |q: f64| self.nanos[((self.nanos.len() - 1) as f64 * q).round() as usize];
        let total: u64 = self.nanos.iter().sum();
        println!("{} {} {} {} {}", self.op, self.nanos.len(), at(0.5), at(0.99), total);
    }
}

/// Parses `N SIZE` from the command line: operations per kind, and the value size in bytes.
pub fn workload_args(usage: &str) -> (usize, usize) {
    let args = crate::args(2, 2, usage);
    let parse = |s: &str| s.parse::<usize>().unwrap_or_else(|_| panic!("usage: {usage}"));
    (parse(&args[0]), parse(&args[1]))
}
