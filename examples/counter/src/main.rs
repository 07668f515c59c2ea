//! A command app on `wasi:keyvalue@0.2.0-draft3`: counts its runs and keeps notes.
//!
//! - `counter` counts this run (`increment`), records it in a run log updated with
//!   compare-and-swap, and prints the notes;
//! - `counter note TEXT...` adds a note (`set-many` of the note and its index);
//! - `counter forget` deletes every note (`list-keys`, `delete-many`).
//!
//! Plugged with the virt-store provider, everything persists in the preopened `/data`.

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/deps/keyvalue-0.2.0-draft3",
        world: "wasi:keyvalue/imports@0.2.0-draft3",
        generate_all,
    });
}

use bindings::wasi::keyvalue::atomics::{self, Cas, CasError};
use bindings::wasi::keyvalue::batch;
use bindings::wasi::keyvalue::store::{self, Bucket, Error};

fn main() {
    if let Err(message) = run(std::env::args().skip(1).collect()) {
        eprintln!("counter: {message}");
        std::process::exit(1);
    }
}

fn run(args: Vec<String>) -> Result<(), String> {
    let bucket = store::open("").map_err(describe)?;
    match args.first().map(String::as_str) {
        None => {
            let visits = atomics::increment(&bucket, "visits", 1).map_err(describe)?;
            println!("run #{visits}");
            log_run(&bucket, visits)?;
            print_notes(&bucket)
        }
        Some("note") if args.len() > 1 => {
            let text = args[1..].join(" ");
            let number = atomics::increment(&bucket, "notes:count", 1).map_err(describe)?;
            let key = format!("note:{number:06}");
            batch::set_many(&bucket, &[(key.clone(), text.into_bytes())]).map_err(describe)?;
            println!("saved {key}");
            Ok(())
        }
        Some("forget") => {
            let notes = note_keys(&bucket)?;
            batch::delete_many(&bucket, &notes).map_err(describe)?;
            bucket.delete("notes:count").map_err(describe)?;
            println!("forgot {} notes", notes.len());
            Ok(())
        }
        _ => Err("usage: counter | counter note TEXT... | counter forget".into()),
    }
}

/// Appends this run to `runs` (a comma-separated log) with a CAS loop, so concurrent runs
/// never overwrite each other's entries.
fn log_run(bucket: &Bucket, visit: i64) -> Result<(), String> {
    let (mut cas, mut current) = Cas::new_with_read(bucket, "runs").map_err(describe)?;
    loop {
        let mut log = current
            .map(|v| String::from_utf8_lossy(&v).into_owned())
            .unwrap_or_default();
        if !log.is_empty() {
            log.push(',');
        }
        log.push_str(&visit.to_string());
        match atomics::swap(cas, log.as_bytes()) {
            Ok(()) => {
                println!("runs so far: {log}");
                return Ok(());
            }
            Err(CasError::CasFailed((fresh, value))) => (cas, current) = (fresh, value),
            Err(CasError::StoreError(e)) => return Err(describe(e)),
        }
    }
}

fn note_keys(bucket: &Bucket) -> Result<Vec<String>, String> {
    let mut keys = Vec::new();
    let mut cursor = None;
    loop {
        let page = bucket.list_keys(cursor.as_deref()).map_err(describe)?;
        keys.extend(page.keys.into_iter().filter(|k| k.starts_with("note:")));
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    keys.sort();
    Ok(keys)
}

fn print_notes(bucket: &Bucket) -> Result<(), String> {
    let keys = note_keys(bucket)?;
    if keys.is_empty() {
        println!("no notes yet (add one: counter note TEXT)");
    }
    for entry in batch::get_many(bucket, &keys)
        .map_err(describe)?
        .into_iter()
        .flatten()
    {
        println!("{}: {}", entry.0, String::from_utf8_lossy(&entry.1));
    }
    Ok(())
}

fn describe(e: Error) -> String {
    match e {
        Error::NoSuchStore => "no such store".into(),
        Error::AccessDenied => "access denied".into(),
        Error::Other(message) => message,
    }
}
