//! Linearizability across processes: P processes × N random operations (get, set, delete,
//! increment, CAS swap) on a few keys of one store, each recording when it called and when it
//! returned. A checker in the manner of Wing & Gong and Porcupine (histories partitioned per key,
//! a depth-first search over orders consistent with real time, memoised on the set of operations
//! placed and the state reached) must find, for each key, a sequential order that a plain
//! variable would produce. The checker itself is tested on histories known to be bad.
//!
//! The same workers and checker also run over the Valkey backend (`virt-store-valkey`, the
//! storage of the Valkey provider) on a real valkey-server: the same histories, through the
//! other backend.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use virt_store_engine::{Durability, Options, Store};

/// An operation and what it returned.
#[derive(Clone, Debug, PartialEq)]
enum Op {
    Get(Option<String>),
    Set(String),
    Delete,
    /// `increment` by 1, and the value it returned.
    Increment(i64),
    /// A CAS handle read `expected`, then `swap` to `new` succeeded or not.
    Cas {
        expected: Option<String>,
        new: String,
        ok: bool,
    },
}

/// One operation of one process: called at `call`, returned at `ret` (nanoseconds).
#[derive(Clone, Debug)]
struct Event {
    call: u64,
    ret: u64,
    op: Op,
}

/// The sequential model of one key: the state after `op`, or `None` if `op` could not have
/// returned what it did from `state`.
fn step(state: &Option<String>, op: &Op) -> Option<Option<String>> {
    match op {
        Op::Get(seen) => (seen == state).then(|| state.clone()),
        Op::Set(value) => Some(Some(value.clone())),
        Op::Delete => Some(None),
        Op::Increment(returned) => {
            let current: i64 = state.as_deref().map_or(Some(0), |s| s.parse().ok())?;
            (current + 1 == *returned).then(|| Some(returned.to_string()))
        }
        Op::Cas {
            expected,
            new,
            ok: true,
        } => (state == expected).then(|| Some(new.clone())),
        Op::Cas {
            expected,
            ok: false,
            ..
        } => (state != expected).then(|| state.clone()),
    }
}

/// Whether the history of one key is linearizable from an absent key.
fn linearizable(events: &[Event]) -> bool {
    let words = events.len().div_ceil(64);
    let mut seen = HashSet::new();
    search(events, &mut vec![0u64; words], 0, &None, &mut seen)
}

fn search(
    events: &[Event],
    placed: &mut Vec<u64>,
    count: usize,
    state: &Option<String>,
    seen: &mut HashSet<(Vec<u64>, Option<String>)>,
) -> bool {
    if count == events.len() {
        return true;
    }
    if !seen.insert((placed.clone(), state.clone())) {
        return false;
    }
    let is_placed = |placed: &[u64], i: usize| placed[i / 64] & (1 << (i % 64)) != 0;
    // Only an operation called before every unplaced one returned can come next.
    let horizon = (0..events.len())
        .filter(|&i| !is_placed(placed, i))
        .map(|i| events[i].ret)
        .min()
        .unwrap_or(u64::MAX);
    for i in 0..events.len() {
        if is_placed(placed, i) || events[i].call > horizon {
            continue;
        }
        if let Some(next) = step(state, &events[i].op) {
            placed[i / 64] |= 1 << (i % 64);
            if search(events, placed, count + 1, &next, seen) {
                return true;
            }
            placed[i / 64] &= !(1 << (i % 64));
        }
    }
    false
}

fn ev(call: u64, ret: u64, op: Op) -> Event {
    Event { call, ret, op }
}

fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

#[test]
fn the_checker_accepts_what_a_variable_could_do() {
    // A read overlapping a write may see either side.
    for seen in [None, s("a")] {
        assert!(linearizable(&[
            ev(0, 10, Op::Set("a".into())),
            ev(1, 2, Op::Get(seen))
        ]));
    }
    // Two overlapping increments returning 1 and 2 in either order of return.
    assert!(linearizable(&[
        ev(0, 10, Op::Increment(2)),
        ev(1, 5, Op::Increment(1))
    ]));
    // A failed CAS needs a write somewhere in its interval.
    assert!(linearizable(&[
        ev(0, 1, Op::Set("a".into())),
        ev(
            2,
            10,
            Op::Cas {
                expected: s("a"),
                new: "c".into(),
                ok: false
            }
        ),
        ev(3, 4, Op::Set("b".into())),
    ]));
}

#[test]
fn the_checker_rejects_known_bad_histories() {
    // A stale read: the write returned before the read began.
    assert!(!linearizable(&[
        ev(0, 1, Op::Set("a".into())),
        ev(2, 3, Op::Get(None))
    ]));
    // A lost increment: two increments both returned 1.
    assert!(!linearizable(&[
        ev(0, 10, Op::Increment(1)),
        ev(1, 11, Op::Increment(1))
    ]));
    // Two swaps from the same read both succeeded.
    assert!(!linearizable(&[
        ev(0, 1, Op::Set("a".into())),
        ev(
            2,
            10,
            Op::Cas {
                expected: s("a"),
                new: "b".into(),
                ok: true
            }
        ),
        ev(
            3,
            11,
            Op::Cas {
                expected: s("a"),
                new: "c".into(),
                ok: true
            }
        ),
    ]));
    // A swap failed with no write anywhere near it.
    assert!(!linearizable(&[
        ev(0, 1, Op::Set("a".into())),
        ev(
            2,
            3,
            Op::Cas {
                expected: s("a"),
                new: "b".into(),
                ok: false
            }
        )
    ]));
    // A value nobody wrote, and a read of a deleted key.
    assert!(!linearizable(&[ev(0, 1, Op::Get(s("ghost")))]));
    assert!(!linearizable(&[
        ev(0, 1, Op::Set("a".into())),
        ev(2, 3, Op::Delete),
        ev(4, 5, Op::Get(s("a")))
    ]));
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

const REGISTERS: [&str; 2] = ["r0", "r1"];
const COUNTER: &str = "c0";

/// Worker entry point: does nothing unless run by the test below. Writes its history as lines
/// `key call ret op args` to the file named in the spec.
#[test]
fn history_worker() {
    let Ok(spec) = std::env::var("ENGINE_HISTORY_WORKER") else {
        return;
    };
    let [dir, out, process, ops, start]: [&str; 5] = spec
        .split('|')
        .collect::<Vec<_>>()
        .try_into()
        .expect("worker spec");
    let (process, ops, start): (u64, u64, u64) = (
        process.parse().unwrap(),
        ops.parse().unwrap(),
        start.parse().unwrap(),
    );
    // Every process starts at the same instant, so that their operations overlap.
    while now() < start {
        std::hint::spin_loop();
    }
    let bucket = open_kv(dir);
    let mut rng = (process + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut random = move |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let text = |v: Option<Vec<u8>>| v.map(|v| String::from_utf8(v).unwrap());
    let mut lines = String::new();
    for i in 0..ops {
        let unique = format!("p{process}-{i}");
        let (key, call, line) = if random(3) == 0 {
            let call = now();
            let line = match random(3) {
                0 => format!("get {}", show(&text(bucket.get(COUNTER)))),
                1 => format!("increment {}", bucket.increment(COUNTER, 1)),
                _ => {
                    let next = |value: Option<&str>| {
                        (value.map_or(0, |v| v.parse::<i64>().unwrap()) + 1).to_string()
                    };
                    let (expected, new, ok) = bucket.cas(COUNTER, &next);
                    format!("cas {} {new} {ok}", show(&text(expected)))
                }
            };
            (COUNTER, call, line)
        } else {
            let key = REGISTERS[random(2) as usize];
            let call = now();
            let line = match random(4) {
                0 => format!("get {}", show(&text(bucket.get(key)))),
                1 => {
                    bucket.set(key, unique.as_bytes());
                    format!("set {unique}")
                }
                2 => {
                    bucket.delete(key);
                    "delete".to_owned()
                }
                _ => {
                    let (value, _, ok) = bucket.cas(key, &|_| unique.clone());
                    format!("cas {} {unique} {ok}", show(&text(value)))
                }
            };
            (key, call, line)
        };
        lines.push_str(&format!("{key} {call} {} {line}\n", now()));
    }
    std::fs::write(out, lines).unwrap();
}

/// What a worker does to a store, on either backend.
trait Kv {
    fn get(&self, key: &str) -> Option<Vec<u8>>;
    fn set(&self, key: &str, value: &[u8]);
    fn delete(&self, key: &str);
    fn increment(&self, key: &str, delta: i64) -> i64;
    /// Reads `key` with its version, then swaps in `new(value read)`: the value read, the value
    /// offered, and whether the swap won.
    fn cas(
        &self,
        key: &str,
        new: &dyn Fn(Option<&str>) -> String,
    ) -> (Option<Vec<u8>>, String, bool);
}

macro_rules! impl_kv {
    ($bucket:ty) => {
        impl Kv for $bucket {
            fn get(&self, key: &str) -> Option<Vec<u8>> {
                <$bucket>::get(self, key).unwrap()
            }
            fn set(&self, key: &str, value: &[u8]) {
                <$bucket>::set(self, key, value).unwrap()
            }
            fn delete(&self, key: &str) {
                <$bucket>::delete(self, key).unwrap()
            }
            fn increment(&self, key: &str, delta: i64) -> i64 {
                <$bucket>::increment(self, key, delta).unwrap()
            }
            fn cas(
                &self,
                key: &str,
                new: &dyn Fn(Option<&str>) -> String,
            ) -> (Option<Vec<u8>>, String, bool) {
                let (version, value) = self.read_versioned(key).unwrap();
                let offered = new(value.as_deref().map(|v| std::str::from_utf8(v).unwrap()));
                let ok = self.swap(key, version, offered.as_bytes()).unwrap();
                (value, offered, ok)
            }
        }
    };
}

impl_kv!(virt_store_engine::Bucket);
impl_kv!(virt_store_valkey::Bucket);

fn parse(line: &str) -> (String, Event) {
    let words: Vec<&str> = line.split(' ').collect();
    let value = |w: &str| (w != "-").then(|| w.to_owned());
    let op = match words[3..] {
        ["get", v] => Op::Get(value(v)),
        ["set", v] => Op::Set(v.to_owned()),
        ["delete"] => Op::Delete,
        ["increment", n] => Op::Increment(n.parse().unwrap()),
        ["cas", expected, new, ok] => Op::Cas {
            expected: value(expected),
            new: new.to_owned(),
            ok: ok == "true",
        },
        _ => panic!("bad history line `{line}`"),
    };
    (
        words[0].to_owned(),
        Event {
            call: words[1].parse().unwrap(),
            ret: words[2].parse().unwrap(),
            op,
        },
    )
}

/// The default bucket of the store `spec` names: a directory, or a `redis://` server.
fn open_kv(spec: &str) -> Box<dyn Kv> {
    if spec.starts_with("redis://") {
        let store = virt_store_valkey::Store::open(spec, Default::default()).unwrap();
        return Box::new(store.bucket("").unwrap());
    }
    let options = Options {
        durability: Durability::NoSync,
    };
    Box::new(
        Store::open(Path::new(spec), options)
            .unwrap()
            .bucket("")
            .unwrap(),
    )
}

#[test]
fn histories_of_concurrent_processes_are_linearizable() {
    histories_are_linearizable(|_, dir| dir.display().to_string());
}

/// The same workers and checker, each round on a fresh database of one real valkey-server.
#[test]
fn histories_through_the_valkey_backend_are_linearizable() {
    let server = virt_store_test_servers::Server::start_with(
        virt_store_test_servers::Kind::Valkey,
        &["--databases", "64"],
    );
    histories_are_linearizable(|round, _| format!("{}/{}", server.url(), round + 1));
}

/// Rounds of 4 worker processes, each round on the store `store(round, a temporary directory)`
/// names (a directory, or a server's URL).
fn histories_are_linearizable(store: impl Fn(usize, &Path) -> String) {
    let processes = 4;
    let ops: usize = std::env::var("LINEARIZABILITY_OPS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let rounds: usize = std::env::var("LINEARIZABILITY_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5);
    let exe = std::env::current_exe().unwrap();
    let (mut checked, mut overlapping) = (0, 0);
    for round in 0..rounds {
        let dir = tempfile::tempdir().unwrap();
        let start = now() + 300_000_000;
        let children: Vec<_> = (0..processes)
            .map(|p| {
                let out = dir.path().join(format!("history-{p}"));
                Command::new(&exe)
                    .args(["--exact", "history_worker", "--test-threads", "1"])
                    .env(
                        "ENGINE_HISTORY_WORKER",
                        format!(
                            "{}|{}|{}|{ops}|{start}",
                            store(round, dir.path()),
                            out.display(),
                            round * processes + p
                        ),
                    )
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut child in children {
            assert!(child.wait().unwrap().success(), "a worker process failed");
        }
        let mut per_key: BTreeMap<String, Vec<Event>> = BTreeMap::new();
        for p in 0..processes {
            for line in std::fs::read_to_string(dir.path().join(format!("history-{p}")))
                .unwrap()
                .lines()
            {
                let (key, event) = parse(line);
                per_key.entry(key).or_default().push(event);
            }
        }
        for events in per_key.values() {
            overlapping += events
                .iter()
                .filter(|a| {
                    events
                        .iter()
                        .any(|b| !std::ptr::eq(*a, b) && a.call < b.ret && b.call < a.ret)
                })
                .count();
        }
        for (key, events) in &per_key {
            assert!(
                linearizable(events),
                "round {round}: the history of `{key}` is not linearizable: {events:#?}"
            );
            checked += events.len();
        }
        // The counter ends at the number of increments and successful swaps acknowledged.
        let counted = per_key[COUNTER]
            .iter()
            .filter(|e| matches!(e.op, Op::Increment(_) | Op::Cas { ok: true, .. }))
            .count();
        let stored: usize = open_kv(&store(round, dir.path()))
            .get(COUNTER)
            .map_or(0, |v| String::from_utf8(v).unwrap().parse().unwrap());
        assert_eq!(
            stored, counted,
            "round {round}: the counter lost or invented an update"
        );
    }
    eprintln!(
        "linearizability: {checked} operations checked in {rounds} rounds of {processes} processes, {overlapping} of them overlapping another on the same key, 0 violations"
    );
}
