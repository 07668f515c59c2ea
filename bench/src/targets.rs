//! The targets the report checks each run against: the bars alone, apart from the Markdown that
//! shows them (`report.rs`).

/// Every bar of the report's "Targets" table.
pub struct Targets {
    /// A `get` through the component over one on wasmtime's in-memory host, at most.
    pub get_vs_in_memory: f64,
    /// A `set` with durability off through the component over one on the in-memory host, at most.
    pub set_vs_in_memory: f64,
    /// Any operation through the component over the engine natively, at most.
    pub wasm_vs_native: f64,
    /// Syncs per durable `set-many` call, at most.
    pub group_commit_syncs: f64,
    /// Throughput of a durable `set-many` over that of as many durable `set`s, at least.
    pub group_commit_speedup: f64,
    /// Per-operation cost in the largest store over the smallest, at most.
    pub store_growth: f64,
    /// A fresh instance's first `open`, in µs, at most, at any store size.
    pub open_micros: u64,
    /// Bytes the provider adds to an app when plugged, at most.
    pub composed_extra_bytes: usize,
}

/// The bars this project holds itself to.
pub const TARGETS: Targets = Targets {
    get_vs_in_memory: 4.0,
    set_vs_in_memory: 15.0,
    wasm_vs_native: 1.5,
    group_commit_syncs: 3.0,
    group_commit_speedup: 50.0,
    store_growth: 1.5,
    open_micros: 50,
    composed_extra_bytes: 300_000,
};
