//! `wasi:keyvalue@0.2.0-draft` (wasmtime's `-S keyvalue`, wasmCloud): no CAS, an unsigned
//! `increment`, and a `u64` `list-keys` cursor.

wit_bindgen::generate!({
    world: "wasi:keyvalue/imports@0.2.0-draft",
    path: "../../wit/deps/keyvalue-0.2.0-draft",
    generate_all,
});

pub use self::wasi::keyvalue::atomics;
pub use self::wasi::keyvalue::batch;
pub use self::wasi::keyvalue::store::{self, Bucket, Error, KeyResponse};
pub use crate::{args, show, MAX_BATCH_KEYS, MAX_KEY_BYTES, MAX_PAGE_KEYS, MAX_VALUE_BYTES};

bucket_helpers!(cursor: u64, arg: u64, pass: |cursor| *cursor);
