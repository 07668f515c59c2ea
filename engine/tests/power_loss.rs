//! Simulated power loss: workloads run on a store opened on `sim::SimFs`, which
//! keeps written bytes apart from synced ones; the process dies after each filesystem call in
//! turn, the power goes, and the store that a reboot finds must keep every acknowledged write
//! (durability on), hold every key at its old or its new value, never show a torn value or an
//! internal file, wedge no key, and be clean for `fsck`.
//!
//! Two sweeps: every workload of at most 3 operations on 2 keys (as CrashMonkey's ACE does), and
//! longer random workloads on 4 keys. Each runs twice: the default durability
//! (`Durability::Sync`) on the per-directory model of the simulated filesystem, where each
//! directory's sync stands alone, and `Durability::SyncJournal` on the journal model (ext4),
//! which is what that mode relies on. `POWER_LOSS_SEEDS=N` tries more random losses per point.

use std::collections::BTreeMap;

mod sim;

use std::sync::Arc;

use sim::{Loss, SimFs};
use virt_store_engine::{Bucket, Durability, Options, Store};

/// The store's directory: the simulated filesystem's root, as a `--dir` preopen would be.
const ROOT: &str = "/sim";

#[derive(Clone, Debug)]
enum Op {
    Set(&'static str, String),
    Delete(&'static str),
    Increment(&'static str),
    SetMany(Vec<(&'static str, String)>),
    /// A compare-and-swap from a fresh read (uncontended, so it succeeds unless the crash cuts it).
    Swap(&'static str, String),
}

type Model = BTreeMap<&'static str, Option<String>>;

/// What `op` does to the model; `None` if the engine refuses it (increment of a non-number).
fn apply(model: &Model, op: &Op) -> Option<Model> {
    let mut next = model.clone();
    match op {
        Op::Set(k, v) | Op::Swap(k, v) => {
            next.insert(k, Some(v.clone()));
        }
        Op::Delete(k) => {
            next.insert(k, None);
        }
        Op::Increment(k) => {
            let n: i64 = match next.get(k).cloned().flatten() {
                None => 0,
                Some(v) => v.parse().ok()?,
            };
            next.insert(k, Some((n + 1).to_string()));
        }
        Op::SetMany(entries) => {
            for (k, v) in entries {
                next.insert(k, Some(v.clone()));
            }
        }
    }
    Some(next)
}

fn run(bucket: &Bucket, op: &Op) -> virt_store_engine::Result<()> {
    match op {
        Op::Set(k, v) => bucket.set(k, v.as_bytes()),
        Op::Delete(k) => bucket.delete(k),
        Op::Increment(k) => bucket.increment(k, 1).map(|_| ()),
        Op::SetMany(entries) => {
            let entries: Vec<(String, Vec<u8>)> = entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone().into_bytes()))
                .collect();
            bucket.set_many(&entries)
        }
        Op::Swap(k, v) => {
            let (version, _) = bucket.read_versioned(k)?;
            bucket.swap(k, version, v.as_bytes()).map(|_| ())
        }
    }
}

fn options(durability: Durability) -> Options {
    Options { durability }
}

/// Opens the simulated store, as a fresh process would.
fn open(sim: &Arc<SimFs>, durability: Durability) -> virt_store_engine::Result<Store> {
    Store::open_on(sim.clone(), ROOT, options(durability))
}

/// The filesystem model a durability mode is tested on: each directory's sync on its own for
/// every mode but the one that relies on a journal.
fn filesystem(durability: Durability) -> Arc<SimFs> {
    match durability {
        Durability::SyncJournal => SimFs::new_journaled(ROOT),
        _ => SimFs::new(ROOT),
    }
}

/// What a workload starts from.
#[derive(Clone, Copy, Debug)]
enum Start {
    /// An empty store.
    Empty,
    /// The format-1 fixture (`fixtures/format1/`), written by the format-1 engine: the first
    /// write converts its bucket and each write its key.
    Format1,
}

impl Start {
    /// The values of the keys the workloads touch, before they run.
    fn model(self) -> Model {
        match self {
            Start::Empty => Model::new(),
            Start::Format1 => [
                ("hundred", Some("h".repeat(100))),
                ("counter", Some("21".to_owned())),
            ]
            .into_iter()
            .collect(),
        }
    }

    /// Keys that no workload touches and that must stay listed.
    fn untouched(self) -> &'static [&'static str] {
        match self {
            Start::Empty => &[],
            Start::Format1 => &["", "empty", "big", "overwritten"],
        }
    }
}

/// Copies the directory `from` of the real filesystem to `to` in the simulated one, with the
/// empty `tmp/` of each bucket that git does not keep.
fn load(sim: &SimFs, from: &std::path::Path, to: &std::path::Path) {
    use virt_store_engine::FileSystem;
    sim.create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            load(sim, &entry.path(), &target);
        } else {
            sim.write_new(&target, &std::fs::read(entry.path()).unwrap(), true)
                .unwrap();
        }
    }
    if to.parent().and_then(std::path::Path::file_name) == Some("buckets".as_ref()) {
        sim.create_dir_all(&to.join("tmp")).unwrap();
    }
}

/// A fresh simulated store, set up and fully synced.
fn setup(durability: Durability, start: Start) -> Arc<SimFs> {
    let sim = filesystem(durability);
    match start {
        Start::Empty => drop(open(&sim, durability).unwrap().bucket("").unwrap()),
        Start::Format1 => load(
            &sim,
            std::path::Path::new(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/format1"
            )),
            std::path::Path::new(ROOT),
        ),
    }
    sim.sync_everything();
    sim
}

/// Runs `ops` with the process dying after `crash_after` calls (never, if `None`). Returns the
/// simulated filesystem, how many operations were acknowledged, and the calls made.
fn execute(
    ops: &[Op],
    crash_after: Option<u64>,
    durability: Durability,
    start: Start,
) -> (Arc<SimFs>, usize, u64) {
    let sim = setup(durability, start);
    let start = sim.calls();
    if let Some(n) = crash_after {
        sim.crash_after(n);
    }
    let mut acked = 0;
    if let Ok(bucket) = open(&sim, durability).and_then(|s| s.bucket("")) {
        for op in ops {
            match run(&bucket, op) {
                Ok(()) => acked += 1,
                Err(_) if sim.crashed() => break,
                // A refusal (increment of a non-number) is an answer, not a crash.
                Err(_) => acked += 1,
            }
        }
    }
    let calls = sim.calls() - start;
    (sim, acked, calls)
}

/// Checks the store a reboot finds after `acked` of `ops` were acknowledged.
fn check(
    after: &Arc<SimFs>,
    ops: &[Op],
    acked: usize,
    durability: Durability,
    start: Start,
    context: &str,
) {
    let mut model = start.model();
    for op in &ops[..acked] {
        if let Some(next) = apply(&model, op) {
            model = next;
        }
    }
    let in_flight = ops.get(acked).and_then(|op| apply(&model, op));
    if let Start::Format1 = start {
        // What a format-1 provider relies on to refuse a converted bucket: no `tmp/` means a
        // marker that says 2, at every instant a power loss can show.
        use virt_store_engine::FileSystem;
        let bucket = std::path::Path::new(ROOT).join("buckets/_default");
        let marker = after
            .read(&std::path::Path::new(ROOT).join("virt-store-format"), 100)
            .unwrap();
        assert!(
            after.kind(&bucket.join("tmp")).is_ok()
                || marker == virt_store_engine::FORMAT_MARKER.as_bytes(),
            "{context}: a bucket without tmp/ in a store whose marker says {:?}",
            String::from_utf8_lossy(&marker)
        );
    }
    let store =
        open(after, durability).unwrap_or_else(|e| panic!("{context}: reopening failed: {e}"));
    let bucket = store.bucket("").unwrap();
    let keys: Vec<&'static str> = ops
        .iter()
        .flat_map(|op| match op {
            Op::Set(k, _) | Op::Delete(k) | Op::Increment(k) | Op::Swap(k, _) => vec![*k],
            Op::SetMany(e) => e.iter().map(|(k, _)| *k).collect(),
        })
        .chain(start.model().into_keys())
        .collect();
    let mut listed_expected = Vec::new();
    for key in &keys {
        let found = bucket
            .get(key)
            .unwrap_or_else(|e| panic!("{context}: `{key}` unreadable after the power loss: {e}"));
        let found = found.map(|v| String::from_utf8(v).unwrap());
        let old = model.get(key).cloned().flatten();
        // The write in flight may have reached the key, whole; a batch that names a key twice
        // may have reached either of its values (a batch is per key, not atomic).
        let mut new: Vec<Option<String>> = in_flight
            .iter()
            .map(|m| m.get(key).cloned().flatten())
            .collect();
        if let Some(Op::SetMany(entries)) = ops.get(acked) {
            new.extend(
                entries
                    .iter()
                    .filter(|(k, _)| k == key)
                    .map(|(_, v)| Some(v.clone())),
            );
        }
        assert!(
            found == old || new.contains(&found),
            "{context}: `{key}` is {found:?}; acknowledged {old:?}, in flight {new:?}"
        );
        if found.is_some() {
            listed_expected.push(key.to_string());
        }
    }
    listed_expected.extend(start.untouched().iter().map(|k| k.to_string()));
    listed_expected.sort();
    listed_expected.dedup();
    let mut listed = bucket.list_keys(None).unwrap().keys;
    listed.sort();
    assert_eq!(listed, listed_expected, "{context}: list-keys");
    let report = store.fsck(false).unwrap();
    assert!(
        report.problems.is_empty(),
        "{context}: fsck after the power loss: {report:?}"
    );
    // No key is wedged: each takes a new write.
    for key in &keys {
        bucket
            .set(key, b"after")
            .unwrap_or_else(|e| panic!("{context}: `{key}` is wedged: {e}"));
    }
}

fn losses() -> Vec<Loss> {
    let seeds: u64 = std::env::var("POWER_LOSS_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    std::iter::once(Loss::Strict)
        .chain((1..=seeds).map(Loss::Random))
        .collect()
}

/// Crashes `ops` after each of its calls in turn, under each kind of loss; returns the states
/// checked.
fn sweep(ops: &[Op], durability: Durability) -> usize {
    sweep_from(ops, durability, Start::Empty)
}

fn sweep_from(ops: &[Op], durability: Durability, start: Start) -> usize {
    let (_, acked, calls) = execute(ops, None, durability, start);
    assert_eq!(acked, ops.len());
    let mut states = 0;
    for point in 0..=calls {
        let (sim, acked, _) = execute(ops, Some(point), durability, start);
        for loss in losses() {
            let after = sim.power_loss(loss);
            check(
                &after,
                ops,
                acked,
                durability,
                start,
                &format!("{ops:?} from {start:?} crashed after call {point}, {loss:?}"),
            );
            states += 1;
        }
    }
    states
}

#[test]
fn every_workload_of_three_operations_on_two_keys_survives_a_power_loss_at_every_call() {
    // `a` moves between values in a file of its own (200 bytes: too large for a name), in a
    // batch's shared file, in its pointer's name, and deleted; `b` holds small values.
    let alphabet = [
        Op::Set("a", "A".repeat(200)),
        Op::Set("b", "7".into()),
        Op::Delete("a"),
        Op::Increment("b"),
        Op::SetMany(vec![("a", "M".repeat(200)), ("b", "40".into())]),
        Op::Swap("a", "S".into()),
    ];
    let mut workloads: Vec<Vec<Op>> = Vec::new();
    for x in &alphabet {
        workloads.push(vec![x.clone()]);
        for y in &alphabet {
            workloads.push(vec![x.clone(), y.clone()]);
            for z in &alphabet {
                workloads.push(vec![x.clone(), y.clone(), z.clone()]);
            }
        }
    }
    for durability in [Durability::Sync, Durability::SyncJournal] {
        let states: usize = workloads.iter().map(|ops| sweep(ops, durability)).sum();
        eprintln!(
            "power loss (ACE, {durability:?}): {} workloads, {states} crash states checked, 0 violations",
            workloads.len()
        );
    }
}

#[test]
fn random_workloads_survive_a_power_loss_at_every_call() {
    let keys = ["k0", "k1", "k2", "k3"];
    let mut rng: u64 = 0x2545_f491_4f6c_dd1d;
    let mut random = move |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    let workloads: u64 = std::env::var("POWER_LOSS_WORKLOADS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let mut states = 0;
    for w in 0..workloads {
        let ops: Vec<Op> = (0..8)
            .map(|i| {
                let key = keys[random(4) as usize];
                let other = keys[random(4) as usize];
                match random(6) {
                    // Every other one too large for a name.
                    0 | 1 => Op::Set(key, format!("w{w}-{i}{}", "-".repeat(i % 2 * 200))),
                    2 => Op::Delete(key),
                    3 => Op::Increment(key),
                    4 => Op::SetMany(vec![
                        (key, format!("m{w}-{i}{}", "-".repeat(200))),
                        (other, format!("n{w}-{i}")),
                    ]),
                    _ => Op::Swap(key, format!("s{w}-{i}")),
                }
            })
            .collect();
        states += sweep(&ops, Durability::Sync);
        states += sweep(&ops, Durability::SyncJournal);
    }
    eprintln!("power loss (random, Sync and SyncJournal): {workloads} workloads of 8 operations, {states} crash states checked, 0 violations");
}

/// With durability off, a power loss may lose acknowledged writes and tear value files; what it
/// must not do is panic, return a torn value, or leave damage that `fsck --repair` cannot fix.
#[test]
fn without_syncing_a_power_loss_is_detected_and_repaired() {
    let ops = vec![
        Op::Set("a", "first".into()),
        Op::Set("b", "1".into()),
        Op::Increment("b"),
        Op::SetMany(vec![("a", "second".into()), ("c", "third".into())]),
        Op::Delete("b"),
        Op::Set("a", "last".into()),
    ];
    let written: Vec<&str> = vec!["first", "second", "third", "last", "1", "2"];
    let (_, _, calls) = execute(&ops, None, Durability::NoSync, Start::Empty);
    let mut states = 0;
    for point in 0..=calls {
        let (sim, _, _) = execute(&ops, Some(point), Durability::NoSync, Start::Empty);
        for loss in losses() {
            let after = sim.power_loss(loss);
            let Ok(store) = open(&after, Durability::NoSync) else {
                panic!("reopening failed")
            };
            let bucket = store.bucket("").unwrap();
            for key in ["a", "b", "c"] {
                if let Ok(Some(v)) = bucket.get(key) {
                    let v = String::from_utf8(v).unwrap();
                    assert!(
                        written.contains(&v.as_str()),
                        "`{key}` holds {v:?}, which was never written whole"
                    );
                }
            }
            store.fsck(true).unwrap();
            assert!(
                store.fsck(false).unwrap().problems.is_empty(),
                "fsck --repair left problems"
            );
            for key in ["a", "b", "c"] {
                assert!(bucket.get(key).is_ok(), "`{key}` unreadable after repair");
            }
            states += 1;
        }
    }
    eprintln!("power loss without syncing: {states} crash states checked");
}

/// Converting a format-1 store as it is written is safe against a power loss at every call:
/// every workload of up to 2 operations on two keys the format-1 engine wrote, the first of which
/// converts the bucket (marker, then `tmp/`) and each write its key.
#[test]
fn converting_a_format1_store_survives_a_power_loss_at_every_call() {
    let alphabet = [
        Op::Set("hundred", "H".into()),
        Op::Increment("counter"),
        Op::Delete("hundred"),
        Op::SetMany(vec![("hundred", "M".repeat(200)), ("counter", "5".into())]),
        Op::Swap("hundred", "S".into()),
        Op::Set("counter", "C".repeat(200)),
    ];
    let mut workloads: Vec<Vec<Op>> = Vec::new();
    for x in &alphabet {
        workloads.push(vec![x.clone()]);
        for y in &alphabet {
            workloads.push(vec![x.clone(), y.clone()]);
        }
    }
    for durability in [Durability::Sync, Durability::SyncJournal] {
        let states: usize = workloads
            .iter()
            .map(|ops| sweep_from(ops, durability, Start::Format1))
            .sum();
        eprintln!(
            "power loss (format-1 store, {durability:?}): {} workloads, {states} crash states checked, 0 violations",
            workloads.len()
        );
    }
}

/// The journal mode relies on the journal: on a filesystem where each directory's sync stands
/// alone, it loses acknowledged writes, which is why it is not the default and why the sweeps
/// test it on the journal model only. (The same batch under the default mode keeps them.)
#[test]
fn the_journal_mode_loses_writes_where_each_directory_syncs_alone() {
    let batch = Op::SetMany(vec![("a", "1".into()), ("b", "2".into())]);
    let lost = |durability: Durability| {
        let sim = SimFs::new(ROOT);
        open(&sim, durability).unwrap().bucket("").unwrap();
        sim.sync_everything();
        let bucket = open(&sim, durability).unwrap().bucket("").unwrap();
        run(&bucket, &Op::Set("a", "0".into())).unwrap();
        run(&bucket, &Op::Set("b", "0".into())).unwrap();
        run(&bucket, &batch).unwrap();
        let after = sim.power_loss(Loss::Strict);
        let bucket = open(&after, durability).unwrap().bucket("").unwrap();
        ["a", "b"]
            .into_iter()
            .zip(["1", "2"])
            .filter(|(k, v)| bucket.get(k).unwrap().as_deref() != Some(v.as_bytes()))
            .count()
    };
    assert_eq!(lost(Durability::Sync), 0);
    assert!(
        lost(Durability::SyncJournal) > 0,
        "the per-directory model does not tell the modes apart"
    );
}

/// A compare-and-swap renames the pointer its handle saw and does nothing else first: the name is
/// the test, so no listing is needed (the simulated filesystem counts every call). On a crash
/// before or after that one rename, the sweeps above hold it to the same rules as any write.
#[test]
fn a_swap_is_the_one_rename_of_the_pointer_its_handle_saw() {
    let sim = filesystem(Durability::NoSync);
    let bucket = open(&sim, Durability::NoSync).unwrap().bucket("").unwrap();
    bucket.set("k", b"first").unwrap();
    let (handle, value) = bucket.read_versioned("k").unwrap();
    assert_eq!(value, Some(b"first".to_vec()));
    let calls = sim.calls();
    assert!(bucket.swap("k", handle.clone(), b"second").unwrap());
    assert_eq!(sim.calls() - calls, 1, "one rename");
    // Stale now: the same one call, which finds the name gone.
    let calls = sim.calls();
    assert!(!bucket.swap("k", handle, b"stale").unwrap());
    assert_eq!(sim.calls() - calls, 1, "one failed rename");
    assert_eq!(bucket.get("k").unwrap(), Some(b"second".to_vec()));
    // A handle on an absent key: a swap creates the key unless another write made it first.
    let absent = bucket.version("new").unwrap();
    assert!(bucket.swap("new", absent.clone(), b"made").unwrap());
    assert!(!bucket.swap("new", absent, b"again").unwrap());
    assert_eq!(bucket.get("new").unwrap(), Some(b"made".to_vec()));
}
