//! Real process kills: the composed `kill_workload` runs on the real `wasmtime run` and is
//! SIGKILLed at random moments, again and again, on one store. After every kill the store must
//! hold every acknowledged write (or the one write in flight, all or nothing), no torn value, no
//! internal file as a key, nothing `fsck` calls damage, and the next run must get on with it.
//!
//! `KILLS=1000 cargo test -p virt-store-harness --test conformance kill -- --nocapture` for the documented
//! figure (docs/RELIABILITY.md); CI runs 40.

use crate::wasmtime_cli::check_cli;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub(crate) const REGISTERS: [&str; 4] = ["r0", "r1", "r2", "r3"];
pub(crate) const COUNTERS: [(&str, &str); 2] = [("increment", "counter"), ("cas", "cas-counter")];

/// What the store must hold: each register's value, each counter's count.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Model {
    pub(crate) registers: BTreeMap<String, Option<Vec<u8>>>,
    pub(crate) counters: BTreeMap<String, u64>,
}

/// The value `kill_workload` writes for write `id` of `size` bytes.
fn value(id: &str, size: usize) -> Vec<u8> {
    let mut v = format!("{id}|").into_bytes();
    v.resize(size.max(v.len()), b'x');
    v
}

/// What one operation line (`set r1 ID SIZE`, ...) does to the model.
fn apply(model: &mut Model, op: &str) {
    let words: Vec<&str> = op.split(' ').collect();
    match words[..] {
        ["set", key, id, size] => {
            model
                .registers
                .insert(key.into(), Some(value(id, size.parse().unwrap())));
        }
        ["delete", key] => {
            model.registers.insert(key.into(), None);
        }
        ["set-many", k1, id1, s1, k2, id2, s2] => {
            model
                .registers
                .insert(k1.into(), Some(value(id1, s1.parse().unwrap())));
            model
                .registers
                .insert(k2.into(), Some(value(id2, s2.parse().unwrap())));
        }
        [kind, _] => {
            let (_, key) = COUNTERS
                .iter()
                .find(|(k, _)| *k == kind)
                .unwrap_or_else(|| panic!("unknown op `{op}`"));
            *model.counters.entry((*key).into()).or_default() += 1;
        }
        _ => panic!("unknown op `{op}`"),
    }
}

/// The store as the host reads it, in the model's terms.
fn read(data: &Path) -> Model {
    let store =
        virt_store_engine::Store::open(data, virt_store_engine::Options::default()).unwrap();
    let bucket = store.bucket("").unwrap();
    let mut model = Model::default();
    for key in REGISTERS {
        let value = bucket
            .get(key)
            .unwrap_or_else(|e| panic!("reading `{key}` after a kill: {e}"));
        model.registers.insert(key.into(), value);
    }
    for (_, key) in COUNTERS {
        let value = bucket.get(key).unwrap().unwrap_or_else(|| b"0".to_vec());
        model.counters.insert(
            key.into(),
            String::from_utf8(value).unwrap().parse().unwrap(),
        );
    }
    // Only the workload's keys are listed: no temporary or internal file shows as a key.
    let mut listed = Vec::new();
    let mut cursor = None;
    loop {
        let page = bucket.list_keys(cursor.as_deref()).unwrap();
        listed.extend(page.keys);
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    listed.sort();
    let mut expected: Vec<String> = model
        .registers
        .iter()
        .filter(|(_, v)| v.is_some())
        .map(|(k, _)| k.clone())
        .collect();
    expected.extend(
        COUNTERS
            .iter()
            .filter(|(_, k)| bucket.exists(k).unwrap())
            .map(|(_, k)| k.to_string()),
    );
    expected.sort();
    assert_eq!(listed, expected, "list-keys after a kill");
    let report = store.fsck(false).unwrap();
    assert!(report.problems.is_empty(), "fsck after a kill: {report:?}");
    model
}

fn short(model: &Model) -> String {
    let registers: Vec<String> = model
        .registers
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                v.as_ref()
                    .map_or("none".into(), |v| String::from_utf8_lossy(
                        &v[..v.len().min(24)]
                    )
                    .into_owned())
            )
        })
        .collect();
    format!("{registers:?} {:?}", model.counters)
}

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_write() {
    check_cli();
    let kills: usize = std::env::var("KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(40);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let composed = dir.path().join("kill_workload.kv.wasm");
    std::fs::write(
        &composed,
        &*virt_store_harness::composed("kill_workload").unwrap(),
    )
    .unwrap();
    let (seed, mut random) = clock_seeded_random();
    eprintln!("kill test: {kills} kills, delays from seed {seed}");

    let mut model = read(&data);
    let (mut acked, mut in_flight_seen, mut mid_write) = (0, 0, 0);
    let started = Instant::now();
    for run in 0..kills {
        let mut child = Command::new("wasmtime")
            .args(["run", "--env", "VIRT_STORE_SYNC=off", "--dir"])
            .arg(format!("{}::/data", data.display()))
            .arg(&composed)
            .arg(run.to_string())
            .arg("1000000")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut out = String::new();
            let _ = stdout.read_to_string(&mut out);
            out
        });
        std::thread::sleep(Duration::from_millis(150 + random(500)));
        child.kill().unwrap();
        child.wait().unwrap();
        let out = reader.join().unwrap();

        let (ops, in_flight) = replay(run, &out, &mut model);
        acked += ops;
        let found = read(&data);
        if check_found(run, &model, in_flight.as_deref(), &found) {
            in_flight_seen += 1;
        }
        if in_flight.is_some() {
            mid_write += 1;
        }
        model = found;
    }
    // Nothing is wedged: a run to the end finishes, and its writes are there.
    let status = Command::new("wasmtime")
        .args(["run", "--dir"])
        .arg(format!("{}::/data", data.display()))
        .arg(&composed)
        .args(["999999", "50"])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(
        status.success(),
        "a run after {kills} kills failed: {status}"
    );
    read(&data);
    eprintln!(
        "kill test: {kills} kills in {:.0} s, {acked} acknowledged writes checked, {mid_write} kills with a write in flight ({in_flight_seen} of them had landed), 0 losses",
        started.elapsed().as_secs_f64()
    );
}

/// Applies to `model` every write that run `run`'s output `out` acknowledged; returns how many,
/// and the write in flight when the run ended (begun, never acknowledged), if any.
pub(crate) fn replay(run: usize, out: &str, model: &mut Model) -> (usize, Option<String>) {
    // Complete lines only: a line cut by the kill was never printed.
    let complete = &out[..out.rfind('\n').map_or(0, |i| i + 1)];
    let (mut acked, mut in_flight) = (0, None);
    for line in complete.lines() {
        if let Some(op) = line.strip_prefix("begin ") {
            in_flight = Some(op.to_owned());
        } else if let Some(op) = line.strip_prefix("ack ") {
            assert_eq!(
                in_flight.as_deref(),
                Some(op),
                "run {run}: an ack without its begin"
            );
            apply(model, op);
            acked += 1;
            in_flight = None;
        }
    }
    (acked, in_flight)
}

/// Fails unless `found` is the acknowledged state `model`, or that state with the write
/// `in_flight` done (all of it, per key for set-many); true if it was done.
pub(crate) fn check_found(
    run: usize,
    model: &Model,
    in_flight: Option<&str>,
    found: &Model,
) -> bool {
    if found == model {
        return false;
    }
    let op = in_flight.unwrap_or_else(|| {
        panic!("run {run}: no write in flight, yet the store differs from the acknowledged writes:\n expected {}\n found    {}", short(model), short(found))
    });
    let mut after = model.clone();
    apply(&mut after, op);
    let allowed = |key: &str, a: &Option<Vec<u8>>| {
        Some(a) == model.registers.get(key) || Some(a) == after.registers.get(key)
    };
    let counters_ok = found
        .counters
        .iter()
        .all(|(k, n)| Some(n) == model.counters.get(k) || Some(n) == after.counters.get(k));
    assert!(
        found.registers.iter().all(|(k, v)| allowed(k, v)) && counters_ok,
        "run {run}: with `{op}` in flight, the store holds neither the acknowledged state nor that write:\n acknowledged {}\n with it      {}\n found        {}",
        short(model),
        short(&after),
        short(found)
    );
    true
}

/// A xorshift generator seeded from the clock, for delays (`random(n)` is below `n`); and its seed.
pub(crate) fn clock_seeded_random() -> (u64, impl FnMut(u64) -> u64) {
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut rng = seed;
    let random = move |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    (seed, random)
}
