//! The workload on `wasi:keyvalue@0.2.0-draft3`, the provider's own version: the same operations,
//! and compare-and-swap.

wit_bindgen::generate!({
    world: "wasi:keyvalue/imports@0.2.0-draft3",
    path: "../../wit/deps/keyvalue-0.2.0-draft3",
    generate_all,
});

use wasi::keyvalue::atomics::{self, Cas, CasError};
use wasi::keyvalue::batch;
use wasi::keyvalue::store::{self, Bucket, Error};

struct Draft3;

fn describe(e: Error) -> String {
    format!("{e:?}")
}

impl bench_workload::Keyvalue for Draft3 {
    type Bucket = Bucket;

    fn open(identifier: &str) -> Result<Bucket, String> {
        store::open(identifier).map_err(describe)
    }

    fn get(bucket: &Bucket, key: &str) -> Result<Option<Vec<u8>>, String> {
        bucket.get(key).map_err(describe)
    }

    fn set(bucket: &Bucket, key: &str, value: &[u8]) -> Result<(), String> {
        bucket.set(key, value).map_err(describe)
    }

    fn delete(bucket: &Bucket, key: &str) -> Result<(), String> {
        bucket.delete(key).map_err(describe)
    }

    fn exists(bucket: &Bucket, key: &str) -> Result<bool, String> {
        bucket.exists(key).map_err(describe)
    }

    fn increment(bucket: &Bucket, key: &str) -> Result<(), String> {
        atomics::increment(bucket, key, 1)
            .map(drop)
            .map_err(describe)
    }

    fn cas(bucket: &Bucket, key: &str, value: &[u8]) -> Option<Result<bool, String>> {
        let cas = match Cas::new(bucket, key) {
            Ok(cas) => cas,
            Err(e) => return Some(Err(describe(e))),
        };
        Some(match atomics::swap(cas, value) {
            Ok(()) => Ok(true),
            Err(CasError::CasFailed(_)) => Ok(false),
            Err(CasError::StoreError(e)) => Err(describe(e)),
        })
    }

    fn list_all(bucket: &Bucket) -> Result<usize, String> {
        let (mut count, mut cursor) = (0, None::<String>);
        loop {
            let page = bucket.list_keys(cursor.as_deref()).map_err(describe)?;
            count += page.keys.len();
            match page.cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(count),
            }
        }
    }

    fn get_many(bucket: &Bucket, keys: &[String]) -> Result<usize, String> {
        Ok(batch::get_many(bucket, keys)
            .map_err(describe)?
            .iter()
            .flatten()
            .count())
    }

    fn set_many(bucket: &Bucket, entries: &[(String, Vec<u8>)]) -> Result<(), String> {
        batch::set_many(bucket, entries).map_err(describe)
    }
}

fn main() {
    bench_workload::main::<Draft3>()
}
