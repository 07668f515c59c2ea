//! The native stores: the engine from Rust, SQLite, and the Valkey backend's client. Each runs the workload's operations on
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
        let syncs = virt_store_engine::sync_count();
        let nanos = run_bucket(&self.bucket, "engine", op, work)?;
        Ok(Samples {
            nanos,
            syncs: Some(virt_store_engine::sync_count() - syncs),
        })
    }
}

/// The operations of a bucket of the engine or of the Valkey backend, which share their names.
trait BucketOps {
    fn set(&self, key: &str, value: &[u8]) -> Result<()>;
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>>;
    fn exists(&self, key: &str) -> Result<bool>;
    fn increment(&self, key: &str) -> Result<()>;
    /// A version read, then a swap conditional on it (what `cas.new` then `swap` do): whether
    /// it swapped.
    fn cas(&self, key: &str, value: &[u8]) -> Result<bool>;
    /// One page of keys: how many, and the next cursor.
    fn list_page(&self, cursor: Option<&str>) -> Result<(usize, Option<String>)>;
    fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<()>;
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>>;
    fn delete(&self, key: &str) -> Result<()>;
}

/// Implements [`BucketOps`] for a bucket type whose methods have the engine's names.
macro_rules! bucket_ops {
    ($bucket:ty) => {
        impl BucketOps for $bucket {
            fn set(&self, key: &str, value: &[u8]) -> Result<()> {
                Ok(<$bucket>::set(self, key, value)?)
            }
            fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
                Ok(<$bucket>::get(self, key)?)
            }
            fn exists(&self, key: &str) -> Result<bool> {
                Ok(<$bucket>::exists(self, key)?)
            }
            fn increment(&self, key: &str) -> Result<()> {
                <$bucket>::increment(self, key, 1)?;
                Ok(())
            }
            fn cas(&self, key: &str, value: &[u8]) -> Result<bool> {
                let version = <$bucket>::version(self, key)?;
                Ok(<$bucket>::swap(self, key, version, value)?)
            }
            fn list_page(&self, cursor: Option<&str>) -> Result<(usize, Option<String>)> {
                let page = <$bucket>::list_keys(self, cursor)?;
                Ok((page.keys.len(), page.cursor))
            }
            fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<()> {
                Ok(<$bucket>::set_many(self, entries)?)
            }
            fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
                Ok(<$bucket>::get_many(self, keys)?)
            }
            fn delete(&self, key: &str) -> Result<()> {
                Ok(<$bucket>::delete(self, key)?)
            }
        }
    };
}

bucket_ops!(virt_store_engine::Bucket);
bucket_ops!(virt_store_valkey::Bucket);

/// Runs `op` as `work` says on `bucket` (of the store called `what` in errors), one timed call
/// at a time; returns each call's latency.
fn run_bucket(bucket: &impl BucketOps, what: &str, op: &str, work: &Work) -> Result<Vec<u64>> {
    let value = vec![b'v'; work.size];
    let mut nanos = Vec::new();
    match op {
        // `set` makes the keys, `overwrite` (after it) writes them again.
        "set" | "overwrite" => {
            for i in work.keys() {
                time(&mut nanos, || bucket.set(&work.key(i), &value))?;
            }
        }
        "get" => {
            for i in work.keys() {
                let got = time(&mut nanos, || bucket.get(&work.key(i)))?;
                if got.map(|v| v.len()) != Some(work.size) {
                    bail!("{what}: get `{}` did not return the value set", work.key(i));
                }
            }
        }
        "exists" => {
            for i in work.keys() {
                if !time(&mut nanos, || bucket.exists(&work.key(i)))? {
                    bail!("{what}: `{}` does not exist", work.key(i));
                }
            }
        }
        "increment" => {
            for _ in 0..work.count {
                time(&mut nanos, || bucket.increment(&work.counter()))?;
            }
        }
        "cas" => {
            let key = work.cas_key();
            for _ in 0..work.count {
                time(&mut nanos, || loop {
                    if bucket.cas(&key, &value)? {
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
                        let (keys, next) = bucket.list_page(cursor.as_deref())?;
                        count += keys;
                        match next {
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
                time(&mut nanos, || bucket.set_many(&entries))?;
            }
        }
        "get-many" => {
            for b in work.batch_calls() {
                let keys = work.batch_keys(b);
                let values = time(&mut nanos, || bucket.get_many(&keys))?;
                if values.iter().flatten().count() != keys.len() {
                    bail!("{what}: get-many did not find every key set-many wrote");
                }
            }
        }
        "delete" => {
            for i in work.keys() {
                time(&mut nanos, || bucket.delete(&work.key(i)))?;
            }
        }
        other => bail!("unknown operation `{other}`"),
    }
    Ok(nanos)
}

/// The Valkey backend natively: `virt_store_valkey`'s client on the server the Valkey provider
/// uses, one connection.
pub struct ValkeyStore {
    bucket: virt_store_valkey::Bucket,
}

impl ValkeyStore {
    /// Connects to the server at `url` and takes its default bucket.
    pub fn open(url: &str) -> Result<Self> {
        let bucket = virt_store_valkey::Store::open(url, Default::default())
            .with_context(|| format!("cannot connect to `{url}`"))?
            .bucket("")?;
        Ok(Self { bucket })
    }

    /// Fills the default bucket with `keys` keys `pre:<i>` of `value`, 100 keys a `set-many`.
    pub fn populate(&self, keys: usize, value: &[u8]) -> Result<()> {
        let indices: Vec<usize> = (0..keys).collect();
        for chunk in indices.chunks(100) {
            let entries: Vec<(String, Vec<u8>)> = chunk
                .iter()
                .map(|i| (format!("pre:{i}"), value.to_vec()))
                .collect();
            self.bucket.set_many(&entries)?;
        }
        Ok(())
    }
}

impl NativeStore for ValkeyStore {
    fn run(&mut self, op: &str, work: &Work) -> Result<Samples> {
        let nanos = run_bucket(&self.bucket, "Valkey", op, work)?;
        Ok(Samples { nanos, syncs: None })
    }
}

/// A fresh client's first call, timed in two parts: connecting (with its handshake) and taking
/// the default bucket, then a `get` of `key`, which must hold `size` bytes.
pub fn valkey_first_call(url: &str, key: &str, size: usize) -> Result<(u64, u64)> {
    let (mut open, mut get) = (Vec::new(), Vec::new());
    let store = time(&mut open, || ValkeyStore::open(url))?;
    let got = time(&mut get, || Ok(store.bucket.get(key)?))?;
    if got.map(|v| v.len()) != Some(size) {
        bail!("Valkey: get `{key}` did not return the preset value");
    }
    Ok((open[0], get[0]))
}

/// The same for the engine: a fresh store's bucket (as [`engine_opens`]), then a `get`.
pub fn engine_first_call(dir: &Path, key: &str, size: usize) -> Result<(u64, u64)> {
    let (mut open, mut get) = (Vec::new(), Vec::new());
    let bucket = time(&mut open, || {
        Ok(Store::open_deferred(
            std::sync::Arc::new(virt_store_engine::StdFs),
            dir,
            options(true),
        )
        .bucket("")?)
    })?;
    let got = time(&mut get, || Ok(bucket.get(key)?))?;
    if got.map(|v| v.len()) != Some(size) {
        bail!("engine: get `{key}` did not return the preset value");
    }
    Ok((open[0], get[0]))
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
            "set" | "overwrite" => {
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
