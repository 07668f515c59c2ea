//! The native stores: the engine from Rust, and SQLite. Each runs the workload's operations on
//! the same keys, timing each call as the guest does.

use crate::work::{Samples, Work};
use anyhow::{bail, Context, Result};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::time::{Duration, Instant};
use virt_store_engine::{Durability, Options, Store};

/// A store the workload's operations run on natively.
pub trait NativeStore {
    /// Runs `op` as `work` says, one timed call at a time.
    fn run(&mut self, op: &str, work: &Work) -> Result<Samples>;
}

fn time<T>(nanos: &mut Vec<u64>, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let start = Instant::now();
    let result = f();
    nanos.push(u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX));
    result
}

/// Engine options for a durability setting.
pub fn options(durable: bool) -> Options {
    Options {
        durability: if durable {
            Durability::Sync
        } else {
            Durability::NoSync
        },
    }
}

/// The engine on a directory, as the provider uses it.
pub struct EngineStore {
    bucket: virt_store_engine::Bucket,
}

impl EngineStore {
    /// Opens the default bucket of the store at `dir`.
    pub fn open(dir: &Path, durable: bool) -> Result<Self> {
        let bucket = Store::open(dir, options(durable))?.bucket("")?;
        Ok(Self { bucket })
    }
}

impl EngineStore {
    /// Deletes the keys of `work`'s batch calls, to free their space (they stay as tombstones).
    pub fn delete_batch_keys(&self, work: &Work) -> Result<()> {
        for b in work.batch_calls() {
            self.bucket.delete_many(&work.batch_keys(b))?;
        }
        Ok(())
    }
}

impl NativeStore for EngineStore {
    fn run(&mut self, op: &str, work: &Work) -> Result<Samples> {
        let bucket = &self.bucket;
        let value = vec![b'v'; work.size];
        let mut nanos = Vec::new();
        let syncs = virt_store_engine::sync_count();
        match op {
            "set" => {
                for i in work.keys() {
                    time(&mut nanos, || Ok(bucket.set(&work.key(i), &value)?))?;
                }
            }
            "get" => {
                for i in work.keys() {
                    let got = time(&mut nanos, || Ok(bucket.get(&work.key(i))?))?;
                    if got.map(|v| v.len()) != Some(work.size) {
                        bail!("engine: get `{}` did not return the value set", work.key(i));
                    }
                }
            }
            "exists" => {
                for i in work.keys() {
                    if !time(&mut nanos, || Ok(bucket.exists(&work.key(i))?))? {
                        bail!("engine: `{}` does not exist", work.key(i));
                    }
                }
            }
            "increment" => {
                for _ in 0..work.count {
                    time(&mut nanos, || Ok(bucket.increment(&work.counter(), 1)?))?;
                }
            }
            "cas" => {
                let key = work.cas_key();
                for _ in 0..work.count {
                    time(&mut nanos, || loop {
                        let version = bucket.version(&key)?;
                        if bucket.swap(&key, version, &value)? {
                            return Ok(());
                        }
                    })?;
                }
            }
            "list" => {
                for _ in 0..work.scans {
                    time(&mut nanos, || {
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
                }
            }
            "set-many" => {
                for b in work.batch_calls() {
                    let entries: Vec<(String, Vec<u8>)> = work
                        .batch_keys(b)
                        .into_iter()
                        .map(|k| (k, value.clone()))
                        .collect();
                    time(&mut nanos, || Ok(bucket.set_many(&entries)?))?;
                }
            }
            "get-many" => {
                for b in work.batch_calls() {
                    let keys = work.batch_keys(b);
                    let values = time(&mut nanos, || Ok(bucket.get_many(&keys)?))?;
                    if values.iter().flatten().count() != keys.len() {
                        bail!("engine: get-many did not find every key set-many wrote");
                    }
                }
            }
            "delete" => {
                for i in work.keys() {
                    time(&mut nanos, || Ok(bucket.delete(&work.key(i))?))?;
                }
            }
            other => bail!("unknown operation `{other}`"),
        }
        Ok(Samples {
            nanos,
            syncs: Some(virt_store_engine::sync_count() - syncs),
        })
    }
}

/// Opens the engine's default bucket `n` times, each time as a fresh store (what a fresh
/// provider instance does on its first `open`).
pub fn engine_opens(dir: &Path, n: usize) -> Result<Samples> {
    let mut nanos = Vec::new();
    for _ in 0..n {
        time(&mut nanos, || {
            Ok(Store::open_deferred(
                std::sync::Arc::new(virt_store_engine::StdFs),
                dir,
                options(true),
            )
            .bucket("")?)
        })?;
    }
    Ok(Samples { nanos, syncs: None })
}

/// SQLite: one table keyed by bucket and key (Spin's layout), with a version column for CAS.
pub struct Sqlite {
    conn: Connection,
}

const CREATE: &str =
    "CREATE TABLE IF NOT EXISTS kv (bucket TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, \
                      version INTEGER NOT NULL, PRIMARY KEY (bucket, key))";
const SET: &str = "INSERT INTO kv VALUES ('', ?1, ?2, 1) ON CONFLICT (bucket, key) DO UPDATE SET value = excluded.value, version = version + 1";
const GET: &str = "SELECT value FROM kv WHERE bucket = '' AND key = ?1";

impl Sqlite {
    /// Opens (creating if need be) the database at `path`: WAL, and `synchronous=FULL` when
    /// durable, `OFF` when not.
    pub fn open(path: &Path, durable: bool) -> Result<Self> {
        let conn =
            Connection::open(path).with_context(|| format!("cannot open `{}`", path.display()))?;
        conn.busy_timeout(Duration::from_secs(60))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", if durable { "FULL" } else { "OFF" })?;
        conn.execute(CREATE, [])?;
        Ok(Self { conn })
    }

    /// Fills the table with `keys` keys `pre:<i>` of `value` bytes each, in one transaction.
    pub fn populate(&mut self, keys: usize, value: &[u8]) -> Result<()> {
        let tx = self.conn.transaction()?;
        for i in 0..keys {
            tx.prepare_cached("INSERT INTO kv VALUES ('', ?1, ?2, 1)")?
                .execute(params![format!("pre:{i}"), value])?;
        }
        tx.commit()?;
        self.conn
            .pragma_update(None, "wal_checkpoint", "TRUNCATE")?;
        Ok(())
    }
}

impl NativeStore for Sqlite {
    fn run(&mut self, op: &str, work: &Work) -> Result<Samples> {
        let conn = &mut self.conn;
        let value = vec![b'v'; work.size];
        let mut nanos = Vec::new();
        match op {
            "set" => {
                for i in work.keys() {
                    time(&mut nanos, || {
                        Ok(conn
                            .prepare_cached(SET)?
                            .execute(params![work.key(i), value])?)
                    })?;
                }
            }
            "get" => {
                for i in work.keys() {
                    let got = time(&mut nanos, || {
                        Ok(conn
                            .prepare_cached(GET)?
                            .query_row([work.key(i)], |r| r.get::<_, Vec<u8>>(0))
                            .optional()?)
                    })?;
                    if got.map(|v| v.len()) != Some(work.size) {
                        bail!("SQLite: get `{}` did not return the value set", work.key(i));
                    }
                }
            }
            "exists" => {
                for i in work.keys() {
                    let found = time(&mut nanos, || {
                        Ok(conn
                            .prepare_cached("SELECT 1 FROM kv WHERE bucket = '' AND key = ?1")?
                            .exists([work.key(i)])?)
                    })?;
                    if !found {
                        bail!("SQLite: `{}` does not exist", work.key(i));
                    }
                }
            }
            "increment" => {
                let key = work.counter();
                for _ in 0..work.count {
                    time(&mut nanos, || {
                        Ok(conn
                            .prepare_cached(
                                "INSERT INTO kv VALUES ('', ?1, '1', 1) ON CONFLICT (bucket, key) DO UPDATE \
                                 SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT), version = version + 1 RETURNING value",
                            )?
                            .query_row([&key], |r| r.get::<_, String>(0))?)
                    })?;
                }
            }
            "cas" => {
                // A version read, then an update conditional on it: what `cas.new` then `swap` do.
                let key = work.cas_key();
                for _ in 0..work.count {
                    time(&mut nanos, || loop {
                        let version: Option<i64> = conn
                            .prepare_cached(
                                "SELECT version FROM kv WHERE bucket = '' AND key = ?1",
                            )?
                            .query_row([&key], |r| r.get(0))
                            .optional()?;
                        let changed = match version {
                            Some(v) => conn
                                .prepare_cached("UPDATE kv SET value = ?1, version = version + 1 WHERE bucket = '' AND key = ?2 AND version = ?3")?
                                .execute(params![value, key, v])?,
                            None => conn.prepare_cached("INSERT OR IGNORE INTO kv VALUES ('', ?1, ?2, 1)")?.execute(params![key, value])?,
                        };
                        if changed == 1 {
                            return Ok(());
                        }
                    })?;
                }
            }
            "list" => {
                for _ in 0..work.scans {
                    time(&mut nanos, || {
                        let (mut count, mut after) = (0, String::new());
                        loop {
                            let page: Vec<String> = conn
                                .prepare_cached("SELECT key FROM kv WHERE bucket = '' AND key > ?1 ORDER BY key LIMIT 1000")?
                                .query_map([&after], |r| r.get(0))?
                                .collect::<rusqlite::Result<_>>()?;
                            count += page.len();
                            match page.last() {
                                Some(last) if page.len() == 1000 => after = last.clone(),
                                _ => return Ok(count),
                            }
                        }
                    })?;
                }
            }
            "set-many" => {
                for b in work.batch_calls() {
                    let keys = work.batch_keys(b);
                    time(&mut nanos, || {
                        let tx = conn.transaction()?;
                        for key in &keys {
                            tx.prepare_cached(SET)?.execute(params![key, value])?;
                        }
                        Ok(tx.commit()?)
                    })?;
                }
            }
            "get-many" => {
                for b in work.batch_calls() {
                    let keys = work.batch_keys(b);
                    let found = time(&mut nanos, || {
                        let tx = conn.transaction()?;
                        let mut found = 0;
                        for key in &keys {
                            found += tx
                                .prepare_cached(GET)?
                                .query_row([key], |r| r.get::<_, Vec<u8>>(0))
                                .optional()?
                                .is_some() as usize;
                        }
                        tx.commit()?;
                        Ok(found)
                    })?;
                    if found != keys.len() {
                        bail!("SQLite: get-many did not find every key set-many wrote");
                    }
                }
            }
            "delete" => {
                for i in work.keys() {
                    time(&mut nanos, || {
                        Ok(conn
                            .prepare_cached("DELETE FROM kv WHERE bucket = '' AND key = ?1")?
                            .execute([work.key(i)])?)
                    })?;
                }
            }
            other => bail!("unknown operation `{other}`"),
        }
        Ok(Samples { nanos, syncs: None })
    }
}

/// Opens the database at `path` `n` times, each a fresh connection with the pragmas set.
pub fn sqlite_opens(path: &Path, durable: bool, n: usize) -> Result<Samples> {
    let mut nanos = Vec::new();
    for _ in 0..n {
        time(&mut nanos, || Sqlite::open(path, durable))?;
    }
    Ok(Samples { nanos, syncs: None })
}
