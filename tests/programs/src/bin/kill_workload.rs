//! Utility for the kill test (`tests/harness/tests/conformance/kill.rs`): `kill_workload SEED OPS`
//! runs OPS random writes, printing `begin ...` before each and `ack ...` once it returned, so
//! that a driver that SIGKILLs the process knows which writes were acknowledged and which one,
//! at most, was in flight.
//!
//! Lines (IDs are unique per run, so a value names the write that made it):
//! - `set KEY ID SIZE`: KEY = `ID|` followed by SIZE-`ID|`.len() bytes of `x` (see `value`);
//! - `delete KEY`;
//! - `increment counter` and `cas counter` (a CAS loop adding 1), on two counters;
//! - `set-many KEY ID SIZE KEY ID SIZE`.

use test_programs::*;

const KEYS: [&str; 4] = ["r0", "r1", "r2", "r3"];

/// The value of write `id`: `id|` padded with `x` to `size` bytes, so a torn value shows.
fn value(id: &str, size: usize) -> Vec<u8> {
    let mut v = format!("{id}|").into_bytes();
    v.resize(size.max(v.len()), b'x');
    v
}

fn main() {
    let args = args(2, 2, "kill_workload SEED OPS");
    let seed: u64 = args[0].parse().expect("SEED is a number");
    let ops: u64 = args[1].parse().expect("OPS is a number");
    // xorshift: reproducible from the seed, no dependency.
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    let bucket = Bucket::<Draft3>::open_default();
    for i in 0..ops {
        let id = format!("{seed}-{i}");
        let key = KEYS[next(KEYS.len() as u64) as usize];
        // Up to 256 KiB: large values keep a write in flight long enough to be cut.
        let size = 1 << next(19);
        match next(10) {
            0..=3 => {
                println!("begin set {key} {id} {size}");
                bucket.set(key, value(&id, size));
                println!("ack set {key} {id} {size}");
            }
            4 => {
                println!("begin delete {key}");
                bucket.delete(key);
                println!("ack delete {key}");
            }
            5 | 6 => {
                println!("begin increment counter");
                bucket.increment("counter", 1);
                println!("ack increment counter");
            }
            7 | 8 => {
                println!("begin cas counter");
                let (mut cas, mut current) = bucket.cas_with_read("cas-counter");
                loop {
                    let n = current.as_deref().map_or(0, parse_counter) + 1;
                    match Draft3::swap(cas, n.to_string().as_bytes()) {
                        Ok(()) => break,
                        Err(SwapError::CasFailed(fresh, value)) => (cas, current) = (fresh, value),
                        Err(SwapError::Store(e)) => panic!("swap failed: {e:?}"),
                    }
                }
                println!("ack cas counter");
            }
            _ => {
                let other =
                    KEYS[(KEYS.iter().position(|k| *k == key).unwrap_or(0) + 1) % KEYS.len()];
                let id2 = format!("{id}b");
                println!("begin set-many {key} {id} {size} {other} {id2} {size}");
                let entries = vec![
                    (key.to_owned(), value(&id, size)),
                    (other.to_owned(), value(&id2, size)),
                ];
                bucket.set_many(&entries);
                println!("ack set-many {key} {id} {size} {other} {id2} {size}");
            }
        }
    }
}
