//! [`export_json_lines`] and [`import_json_lines`], behind `virt-store export` and `import`: a
//! store as JSON lines, one key per line.
//!
//! ```text
//! {"bucket":"","key":"greeting","value":"hello"}
//! {"bucket":"images","key":"logo","base64":"iVBORw0KGgo="}
//! ```
//!
//! `bucket` is the identifier the app passes to `open` (`""` is the default bucket). A value that
//! is valid UTF-8 is written as `value`, any other as `base64` (standard alphabet, padded). Export
//! is deterministic: buckets sorted, keys sorted by their bytes. Import reads the same lines (any
//! field order, blank lines allowed), checks all of them against the engine's limits before it
//! writes anything, then writes each bucket with `set-many` calls.

use crate::stores::{AnyBucket, AnyStore, StoreError};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use thiserror::Error;
use virt_store_engine::limits::{MAX_BATCH_KEYS, MAX_KEY_BYTES, MAX_VALUE_BYTES};

/// An error exporting or importing a store.
#[derive(Debug, Error)]
pub enum TransferError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A bucket asked for by name is not in the store.
    #[error("there is no bucket `{id}` in the store; `virt-store inspect` lists the buckets")]
    NoSuchBucket {
        /// The identifier asked for.
        id: String,
    },
    /// Reading the input or writing the output failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// A line of the input is not a valid entry; nothing was imported.
    #[error("line {line}: {reason}; nothing was imported")]
    Line {
        /// The line number, from 1.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
}

/// Keys whose values an export holds in memory at once.
const EXPORT_CHUNK: usize = 64;

/// What an export or import covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    /// Buckets exported or imported.
    pub buckets: usize,
    /// Keys exported or imported.
    pub keys: usize,
}

/// Writes every key of `buckets` (all of the store's when `None`) to `out` as JSON lines.
///
/// A key deleted between listing and reading is left out.
pub fn export_json_lines(
    store: &AnyStore,
    buckets: Option<&[String]>,
    out: &mut impl Write,
) -> Result<Summary, TransferError> {
    let present = store.buckets()?;
    let ids = match buckets {
        Some(ids) => {
            let mut ids = ids.to_vec();
            ids.sort();
            ids.dedup();
            // Checked before any output; opening a missing bucket would create it.
            if let Some(missing) = ids.iter().find(|id| !present.contains(id)) {
                return Err(TransferError::NoSuchBucket {
                    id: missing.clone(),
                });
            }
            ids
        }
        None => present,
    };
    let mut summary = Summary::default();
    for id in ids {
        let bucket = store.bucket(&id)?;
        let keys = all_keys(&bucket)?;
        // Values may be 32 MiB each: read a few at a time, not a whole batch's worth.
        for chunk in keys.chunks(EXPORT_CHUNK) {
            for (key, value) in chunk.iter().zip(bucket.get_many(chunk)?) {
                let Some(value) = value else { continue };
                let text = std::str::from_utf8(&value).ok();
                let encoded = text.is_none().then(|| BASE64.encode(&value));
                let line = Line {
                    bucket: id.as_str(),
                    key: key.as_str(),
                    value: text,
                    base64: encoded.as_deref(),
                };
                // One write a line, as `out` may be unbuffered.
                let mut json = serde_json::to_vec(&line).map_err(std::io::Error::from)?;
                json.push(b'\n');
                out.write_all(&json)?;
                summary.keys += 1;
            }
        }
        summary.buckets += 1;
    }
    Ok(summary)
}

/// Every key of `bucket`, sorted by bytes, read page by page.
pub fn all_keys(bucket: &AnyBucket) -> Result<Vec<String>, StoreError> {
    let mut keys = Vec::new();
    let mut cursor = None;
    loop {
        let page = bucket.list_keys(cursor.as_deref())?;
        keys.extend(page.keys);
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    keys.sort();
    Ok(keys)
}

/// Reads JSON lines as [`export_json_lines`] writes them and sets every key in `store`.
///
/// The whole input is read and checked first: a bad line is an error naming it, and then nothing
/// is written. A key that appears twice takes its last value.
pub fn import_json_lines(
    store: &AnyStore,
    input: &mut impl BufRead,
) -> Result<Summary, TransferError> {
    let mut buckets: BTreeMap<String, BTreeMap<String, Vec<u8>>> = BTreeMap::new();
    let mut line = String::new();
    let mut number = 0;
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            break;
        }
        number += 1;
        if line.trim().is_empty() {
            continue;
        }
        let (bucket, key, value) = entry(&line).map_err(|reason| TransferError::Line {
            line: number,
            reason,
        })?;
        buckets.entry(bucket).or_default().insert(key, value);
    }
    let mut summary = Summary::default();
    for (id, entries) in buckets {
        let bucket = store.bucket(&id)?;
        let entries: Vec<(String, Vec<u8>)> = entries.into_iter().collect();
        for chunk in entries.chunks(MAX_BATCH_KEYS) {
            bucket.set_many(chunk)?;
        }
        summary.buckets += 1;
        summary.keys += entries.len();
    }
    Ok(summary)
}

/// One line of an export. `S` is `&str` to write a line and `String` to read one.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line<S> {
    bucket: S,
    key: S,
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    value: Option<S>,
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    base64: Option<S>,
}

/// Reads an optional field that, when given, must be a string: `null` is not "no value".
fn not_null<'de, D: Deserializer<'de>, S: Deserialize<'de>>(
    field: D,
) -> Result<Option<S>, D::Error> {
    S::deserialize(field).map(Some)
}

/// Parses and checks one line: `(bucket, key, value)`.
fn entry(line: &str) -> Result<(String, String, Vec<u8>), String> {
    let line = line.trim();
    // serde reads a JSON array into a struct too, by position; a line is an object.
    if !line.starts_with('{') {
        return Err("expected `{` (every line is one JSON object of strings)".into());
    }
    let Line {
        bucket,
        key,
        value,
        base64,
    } = serde_json::from_str::<Line<String>>(line).map_err(json_reason)?;
    let value = match (value, base64) {
        (Some(text), None) => text.into_bytes(),
        (None, Some(encoded)) => BASE64
            .decode(encoded)
            .map_err(|_| "`base64` is not valid standard base64")?,
        (Some(_), Some(_)) => return Err("both `value` and `base64` given; give one".into()),
        (None, None) => return Err("`value` or `base64` is missing".into()),
    };
    virt_store_engine::validate_bucket_id(&bucket).map_err(|e| e.to_string())?;
    if key.len() > MAX_KEY_BYTES {
        return Err(format!(
            "the key is {} bytes; the limit is {MAX_KEY_BYTES}",
            key.len()
        ));
    }
    if value.len() > MAX_VALUE_BYTES {
        return Err(format!(
            "the value is {} bytes; the limit is {MAX_VALUE_BYTES}",
            value.len()
        ));
    }
    Ok((bucket, key, value))
}

/// serde_json's message, with only the column of its position: each line is parsed alone, so its
/// "line 1" would contradict the line number the error gives.
fn json_reason(error: serde_json::Error) -> String {
    let message = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    match message.strip_suffix(&position) {
        Some(message) => format!("{message} (column {})", error.column()),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn store() -> (tempfile::TempDir, AnyStore) {
        let dir = tempfile::tempdir().unwrap();
        let options = virt_store_engine::Options {
            durability: virt_store_engine::Durability::NoSync,
        };
        let store = virt_store_engine::Store::open(dir.path(), options).unwrap();
        (dir, AnyStore::Dir(store))
    }

    #[test]
    fn exporting_a_missing_bucket_is_refused_and_creates_nothing() {
        let (_dir, store) = store();
        store.bucket("here").unwrap().set("k", b"v").unwrap();
        let mut out = Vec::new();
        let err = export_json_lines(
            &store,
            Some(&["here".to_owned(), "typo".to_owned()]),
            &mut out,
        )
        .unwrap_err();
        assert!(
            matches!(err, TransferError::NoSuchBucket { ref id } if id == "typo"),
            "{err}"
        );
        assert!(out.is_empty(), "nothing is written before the check");
        assert_eq!(store.buckets().unwrap(), ["here"]);
    }

    #[test]
    fn base64_is_rfc_4648_standard_padded_and_canonical() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(BASE64.encode(plain.as_bytes()), encoded);
            assert_eq!(BASE64.decode(encoded).unwrap(), plain.as_bytes());
        }
        // Unpadded, stray padding, nonzero bits after the last byte (a second spelling of a
        // value), whitespace, and the URL-safe alphabet.
        for bad in [
            "Zg", "Zg=", "Zg=a", "Z===", "Zh==", "Zm9v=", "Zm 9", "Zg==Zg==", "-_8=",
        ] {
            assert!(BASE64.decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_lines_are_refused_by_number_and_nothing_is_written() {
        let (_dir, store) = store();
        let good = r#"{"bucket":"","key":"a","value":"1"}"#;
        for (bad, reason) in [
            (
                r#"{"bucket":"","key":"k"}"#,
                "`value` or `base64` is missing",
            ),
            (
                r#"{"bucket":"","key":"k","value":null}"#,
                "invalid type: null, expected a string",
            ),
            (
                r#"{"bucket":"","key":"k","value":"v","base64":"AA=="}"#,
                "both `value` and `base64` given",
            ),
            (
                r#"{"bucket":"","key":"k","key":"j","value":"v"}"#,
                "duplicate field `key`",
            ),
            (r#"{"bucket":"","value":"v"}"#, "missing field `key`"),
            (
                r#"{"bucket":"","key":"k","value":1}"#,
                "invalid type: integer `1`, expected a string",
            ),
            (
                r#"{"bucket":"","key":"k","value":"v","extra":"x"}"#,
                "unknown field `extra`",
            ),
            (
                r#"{"bucket":"","key":"k","base64":"A"}"#,
                "not valid standard base64",
            ),
            (r#"{"bucket":"Bad","key":"k","value":"v"}"#, "Bad"),
            (
                r#"{"bucket":"","key":"\ud800","value":"v"}"#,
                "unexpected end of hex escape",
            ),
            (
                r#"{"bucket":"","key":"\ud800\u0041","value":"v"}"#,
                "lone leading surrogate",
            ),
            (
                r#"{"bucket":"","key":"\udc00","value":"v"}"#,
                "lone leading surrogate",
            ),
            (
                r#"{"bucket":"","key":"k","value":"v"} trailing"#,
                "trailing characters (column 37)",
            ),
            (
                r#"{"bucket":"","key":"k","value":"v"#,
                "EOF while parsing a string (column 33)",
            ),
            (r#"["bucket"]"#, "expected `{`"),
            (r#"["","k","v",null]"#, "expected `{`"),
        ] {
            let input = format!("{good}\n\n{bad}\n");
            let err = import_json_lines(&store, &mut input.as_bytes()).unwrap_err();
            let message = err.to_string();
            assert!(message.starts_with("line 3: "), "{message}");
            assert!(message.contains(reason), "{bad}: {message}");
            assert!(
                !message.contains("line 1"),
                "serde_json's own line number is left out: {message}"
            );
        }
        let long = format!(
            r#"{{"bucket":"","key":"{}","value":"v"}}"#,
            "k".repeat(MAX_KEY_BYTES + 1)
        );
        let err = import_json_lines(&store, &mut long.as_bytes()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("line 1: the key is 8193 bytes; the limit is 8192"),
            "{err}"
        );
        assert!(store.buckets().unwrap().is_empty(), "nothing was written");
    }

    #[test]
    fn export_writes_one_object_a_line_in_field_order() {
        let (_dir, store) = store();
        let bucket = store.bucket("").unwrap();
        bucket
            .set("q\"\\/\n\u{1}\u{1f}", "é\t\r\u{8}\u{c}\u{7f}😀".as_bytes())
            .unwrap();
        bucket.set("empty", b"").unwrap();
        store
            .bucket("img")
            .unwrap()
            .set("logo", &[0x89, b'P', b'N', b'G', 0xff])
            .unwrap();
        let mut out = Vec::new();
        assert_eq!(
            export_json_lines(&store, None, &mut out).unwrap(),
            Summary {
                buckets: 2,
                keys: 3
            }
        );
        let expected = concat!(
            r#"{"bucket":"","key":"empty","value":""}"#,
            "\n",
            r#"{"bucket":"","key":"q\"\\/\n\u0001\u001f","value":"é\t\r\b\f"#,
            "\u{7f}😀\"}\n",
            r#"{"bucket":"img","key":"logo","base64":"iVBOR/8="}"#,
            "\n",
        );
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn reads_escapes_and_any_field_order() {
        let (_dir, store) = store();
        let input =
            r#" { "value" : "tab\there \u00e9 \ud83d\ude00 \/" , "key":"k\n", "bucket":"b-1" } "#;
        assert_eq!(
            import_json_lines(&store, &mut input.as_bytes()).unwrap(),
            Summary {
                buckets: 1,
                keys: 1
            }
        );
        let value = store.bucket("b-1").unwrap().get("k\n").unwrap().unwrap();
        assert_eq!(String::from_utf8(value).unwrap(), "tab\there é 😀 /");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn export_import_export_is_identical(
            entries in proptest::collection::vec(
                (
                    prop::sample::select(vec!["", "a", "other-1"]),
                    ".{0,12}",
                    proptest::collection::vec(any::<u8>(), 0..40),
                ),
                0..20,
            )
        ) {
            let (_a, first) = store();
            for (bucket, key, value) in &entries {
                first.bucket(bucket).unwrap().set(key, value).unwrap();
            }
            let mut exported = Vec::new();
            export_json_lines(&first, None, &mut exported).unwrap();
            let (_b, second) = store();
            import_json_lines(&second, &mut exported.as_slice()).unwrap();
            let mut again = Vec::new();
            export_json_lines(&second, None, &mut again).unwrap();
            prop_assert_eq!(&exported, &again);
            let mut expected = BTreeMap::new();
            for (bucket, key, value) in entries {
                expected.insert((bucket.to_owned(), key), value);
            }
            for ((bucket, key), value) in expected {
                let stored = second.bucket(&bucket).unwrap().get(&key).unwrap();
                prop_assert_eq!(stored, Some(value));
            }
        }
    }
}
