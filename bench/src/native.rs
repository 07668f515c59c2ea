//! The native stores: the engine from Rust, and SQLite. Each operation is timed like the guest
//! workload times it.

use crate::{Case, Results, Stat};
use anyhow::{bail, Result};
use engine::{Durability, Options, Store};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::time::{Duration, Instant};

const BATCH: usize = 100;

/// Latencies of one operation, as the guest's `Samples` collects them.
struct Samples(Vec<u64>);

impl Samples {
    fn new() -> Self {
        Samples(Vec::new())
    }

    fn time<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let result = f();
        self.0.push(start.elapsed().as_nanos() as u64);
        result
    }

    fn into_stat(mut self) -> Stat {
        self.0.sort_unstable();
        let at = |q: f64| self.0[((self.0.len() - 1) as f64 * q).round() as usize];
        Stat { n: self.0.len() as u64, median_ns: at(0.5), p99_ns: at(0.99), total_ns: self.0.iter().sum() }
    }
}

fn options(durable: bool) -> Options {
    Options { durability: if durable { Durability::Sync } else { Durability::NoSync } }
}

/// A store at `dir` holding `preset` in its default bucket, written without syncs.
pub fn populate_engine(dir: &Path, preset: &[(String, String)]) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let bucket = Store::open(dir, options(false))?.bucket("")?;
    for chunk in preset.chunks(engine::limits::MAX_BATCH_KEYS) {
        let entries: Vec<(String, Vec<u8>)> = chunk.iter().map(|(k, v)| (k.clone(), v.clone().into_bytes())).collect();
        bucket.set_many(&entries)?;
    }
    Ok(())
}

/// The workload's operations on the engine, natively.
pub fn engine(dir: &Path, case: Case) -> Result<Results> {
    let value = vec![b'v'; case.value_size];
    let keys: Vec<String> = (0..case.ops).map(|i| format!("bench:{i}")).collect();
    let mut results = Results::new();
    let mut put = |op: &str, samples: Samples| {
        results.insert(op.to_owned(), samples.into_stat());
    };

    let mut s = Samples::new();
    let bucket = s.time(|| Store::open(dir, options(case.durable)).and_then(|store| store.bucket("")))?;
    put("open", s);
    let mut s = Samples::new();
    for key in &keys {
        s.time(|| bucket.set(key, &value))?;
    }
    put("set", s);
    let mut s = Samples::new();
    for key in &keys {
        s.time(|| bucket.get(key))?;
    }
    put("get", s);
    let mut s = Samples::new();
    for key in &keys {
        s.time(|| bucket.exists(key))?;
    }
    put("exists", s);
    let mut s = Samples::new();
    for _ in 0..case.ops {
        s.time(|| bucket.increment("bench:counter", 1))?;
    }
    put("increment", s);
    let mut s = Samples::new();
    for _ in 0..case.ops {
        let swapped = s.time(|| bucket.version("bench:cas").and_then(|v| bucket.swap("bench:cas", v, &value)))?;
        if !swapped {
            bail!("an uncontended swap failed");
        }
    }
    put("cas", s);
    let mut s = Samples::new();
    s.time(|| -> Result<usize> {
        let (mut count, mut cursor) = (0, None::<String>);
        loop {
            let page = bucket.list_keys(cursor.as_deref())?;
            count += page.keys.len();
            match page.cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(count),
            }
        }
    })?;
    put("list", s);
    let mut s = Samples::new();
    for chunk in keys.chunks(BATCH) {
        let entries: Vec<(String, Vec<u8>)> = chunk.iter().map(|k| (format!("{k}:b"), value.clone())).collect();
        s.time(|| bucket.set_many(&entries))?;
    }
    put("set-many-100", s);
    let mut s = Samples::new();
    for chunk in keys.chunks(BATCH) {
        s.time(|| bucket.get_many(chunk))?;
    }
    put("get-many-100", s);
    let mut s = Samples::new();
    for key in &keys {
        s.time(|| bucket.delete(key))?;
    }
    put("delete", s);
    Ok(results)
}

/// The workload's operations on SQLite: table `kv(bucket, key, value, version)`.
pub fn sqlite(path: &Path, preset: &[(String, String)], case: Case) -> Result<Results> {
    let connect = || -> rusqlite::Result<Connection> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", if case.durable { "FULL" } else { "OFF" })?;
        conn.execute(
            "CREATE TABLE IF NOT EXISTS kv (bucket TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (bucket, key))",
            [],
        )?;
        Ok(conn)
    };
    {
        let mut conn = connect()?;
        let tx = conn.transaction()?;
        for (key, value) in preset {
            tx.execute("INSERT INTO kv VALUES ('', ?1, ?2, 1)", params![key, value.as_bytes()])?;
        }
        tx.commit()?;
    }
    const SET: &str = "INSERT INTO kv VALUES ('', ?1, ?2, 1) ON CONFLICT (bucket, key) DO UPDATE SET value = excluded.value, version = version + 1";
    let value = vec![b'v'; case.value_size];
    let keys: Vec<String> = (0..case.ops).map(|i| format!("bench:{i}")).collect();
    let mut results = Results::new();
    let mut put = |op: &str, samples: Samples| {
        results.insert(op.to_owned(), samples.into_stat());
    };

    let mut s = Samples::new();
    let mut conn = s.time(connect)?;
    put("open", s);
    let mut s = Samples::new();
    for key in &keys {
        s.time(|| conn.prepare_cached(SET)?.execute(params![key, value]))?;
    }
    put("set", s);
    let mut s = Samples::new();
    for key in &keys {
        s.time(|| {
            conn.prepare_cached("SELECT value FROM kv WHERE bucket = '' AND key = ?1")?
                .query_row([key], |row| row.get::<_, Vec<u8>>(0))
                .optional()
        })?;
    }
    put("get", s);
    let mut s = Samples::new();
    for key in &keys {
        s.time(|| conn.prepare_cached("SELECT 1 FROM kv WHERE bucket = '' AND key = ?1")?.exists([key]))?;
    }
    put("exists", s);
    let mut s = Samples::new();
    for _ in 0..case.ops {
        s.time(|| {
            conn.prepare_cached(
                "INSERT INTO kv VALUES ('', 'bench:counter', '1', 1) ON CONFLICT (bucket, key) DO UPDATE \
                 SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT), version = version + 1 RETURNING value",
            )?
            .query_row([], |row| row.get::<_, String>(0))
        })?;
    }
    put("increment", s);
    let mut s = Samples::new();
    for _ in 0..case.ops {
        let swapped = s.time(|| -> rusqlite::Result<bool> {
            let version: Option<i64> = conn
                .prepare_cached("SELECT version FROM kv WHERE bucket = '' AND key = 'bench:cas'")?
                .query_row([], |row| row.get(0))
                .optional()?;
            let changed = match version {
                Some(version) => conn
                    .prepare_cached("UPDATE kv SET value = ?1, version = version + 1 WHERE bucket = '' AND key = 'bench:cas' AND version = ?2")?
                    .execute(params![value, version])?,
                None => conn.prepare_cached("INSERT OR IGNORE INTO kv VALUES ('', 'bench:cas', ?1, 1)")?.execute([&value])?,
            };
            Ok(changed == 1)
        })?;
        if !swapped {
            bail!("an uncontended SQLite swap failed");
        }
    }
    put("cas", s);
    let mut s = Samples::new();
    s.time(|| -> rusqlite::Result<usize> {
        let (mut count, mut after) = (0, String::new());
        loop {
            let page: Vec<String> = conn
                .prepare_cached("SELECT key FROM kv WHERE bucket = '' AND key > ?1 ORDER BY key LIMIT 1000")?
                .query_map([&after], |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            count += page.len();
            match page.last() {
                Some(last) if page.len() == 1000 => after = last.clone(),
                _ => return Ok(count),
            }
        }
    })?;
    put("list", s);
    let mut s = Samples::new();
    for chunk in keys.chunks(BATCH) {
        s.time(|| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            for key in chunk {
                tx.prepare_cached(SET)?.execute(params![format!("{key}:b"), value])?;
            }
            tx.commit()
        })?;
    }
    put("set-many-100", s);
    let mut s = Samples::new();
    for chunk in keys.chunks(BATCH) {
        s.time(|| -> rusqlite::Result<Vec<Option<Vec<u8>>>> {
            let tx = conn.transaction()?;
            let mut values = Vec::with_capacity(chunk.len());
            for key in chunk {
                values.push(
                    tx.prepare_cached("SELECT value FROM kv WHERE bucket = '' AND key = ?1")?
                        .query_row([key], |row| row.get(0))
                        .optional()?,
                );
            }
            tx.commit()?;
            Ok(values)
        })?;
    }
    put("get-many-100", s);
    let mut s = Samples::new();
    for key in &keys {
        s.time(|| conn.prepare_cached("DELETE FROM kv WHERE bucket = '' AND key = ?1")?.execute([key]))?;
    }
    put("delete", s);
    Ok(results)
}

/// A durable `set-many` of `n` new keys against `n` durable `set`s, natively: syncs counted by
/// the engine, and the time of each.
pub struct GroupCommit {
    /// Keys written each way.
    pub keys: usize,
    /// Syncs and time of one `set-many` of all of them.
    pub set_many: (u64, Duration),
    /// Syncs and time of one `set` each.
    pub sets: (u64, Duration),
}

/// Measures [`GroupCommit`].
pub fn group_commit(keys: usize) -> Result<GroupCommit> {
    let dir = tempfile::tempdir()?;
    let bucket = Store::open(dir.path(), options(true))?.bucket("")?;
    let entries: Vec<(String, Vec<u8>)> = (0..keys).map(|i| (format!("many:{i}"), vec![b'v'; 100])).collect();
    let (syncs, start) = (engine::sync_count(), Instant::now());
    bucket.set_many(&entries)?;
    let set_many = (engine::sync_count() - syncs, start.elapsed());
    let (syncs, start) = (engine::sync_count(), Instant::now());
    for i in 0..keys {
        bucket.set(&format!("one:{i}"), &[b'v'; 100])?;
    }
    let sets = (engine::sync_count() - syncs, start.elapsed());
    Ok(GroupCommit { keys, set_many, sets })
}

/// The value of the key `counter` in the store at `dir`.
pub fn read_counter(dir: &Path) -> Result<u64> {
    let value = Store::open(dir, options(false))?.bucket("")?.get("counter")?.unwrap_or_default();
    Ok(String::from_utf8(value)?.parse()?)
}

/// Increments per second natively: `threads` threads, `per_thread` increments each, one key.
pub fn concurrent_increments(threads: usize, per_thread: u64) -> Result<f64> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path(), options(false))?;
    let start = Instant::now();
    std::thread::scope(|scope| -> Result<()> {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let bucket = store.bucket("")?;
                Ok(scope.spawn(move || -> Result<()> {
                    for _ in 0..per_thread {
                        bucket.increment("counter", 1)?;
                    }
                    Ok(())
                }))
            })
            .collect::<Result<_>>()?;
        for worker in workers {
            worker.join().map_err(|_| anyhow::anyhow!("a thread panicked"))??;
        }
        Ok(())
    })?;
    let rate = (threads as u64 * per_thread) as f64 / start.elapsed().as_secs_f64();
    if read_counter(dir.path())? != threads as u64 * per_thread {
        bail!("native increments were lost");
    }
    Ok(rate)
}
