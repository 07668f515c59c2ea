//! `wasi:keyvalue@0.2.0-draft2` (upstream main): draft3's store and batch, and a CAS whose
//! handle reads the current value with `current` and whose failure carries only a fresh handle.

wit_bindgen::generate!({
    world: "wasi:keyvalue/imports@0.2.0-draft2",
    path: "../../wit/deps/keyvalue-0.2.0-draft2",
    generate_all,
});

pub use self::wasi::keyvalue::atomics::{self, Cas, CasError};
pub use self::wasi::keyvalue::batch;
pub use self::wasi::keyvalue::store::{self, Bucket, Error, KeyResponse};
pub use crate::{args, show, MAX_BATCH_KEYS, MAX_KEY_BYTES, MAX_PAGE_KEYS, MAX_VALUE_BYTES};

bucket_helpers!(cursor: String, arg: &str, pass: Option::as_deref);
