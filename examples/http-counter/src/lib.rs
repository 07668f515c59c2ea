//! An HTTP handler on `wasi:keyvalue@0.2.0-draft3`: a hit counter, and a JSON document kept up to
//! date with compare-and-swap. Every request is a fresh instance under `wasmtime serve`, so the
//! count lives in the store, shared by all of them.
//!
//! - `GET /` or `GET /hit`: counts the hit (`increment` of `hits`), records it in the `stats`
//!   document (a CAS loop), answers the new count;
//! - `GET /count`: the count, without counting;
//! - `GET /stats`: the document, `{"hits":N,"last":"/hit"}`;
//! - anything else: `404`. A store error is a `500` with its message, never a trap.
//!
//! ```sh
//! cargo build -p http-counter --target wasm32-wasip2 --release
//! virt-store plug target/wasm32-wasip2/release/http_counter.wasm -o http.kv.wasm
//! # or: virt-store provider -o provider.wasm && wac plug --plug provider.wasm APP -o http.kv.wasm
//! mkdir -p data
//! wasmtime serve -S cli --dir ./data::/data http.kv.wasm
//! curl http://localhost:8080/hit
//! ```
//!
//! (`-S cli` gives the handler `wasi:cli`'s environment, which the provider reads its settings
//! from; `--dir` the store's directory.)

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/deps/keyvalue-0.2.0-draft3",
        world: "wasi:keyvalue/imports@0.2.0-draft3",
        generate_all,
    });
}

use bindings::wasi::keyvalue::atomics::{self, Cas, CasError};
use bindings::wasi::keyvalue::store::{self, Bucket, Error};
use wasip2::http::types::{
    Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

struct Handler;

wasip2::http::proxy::export!(Handler);

impl wasip2::exports::http::incoming_handler::Guest for Handler {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_default();
        let path = path.split('?').next().unwrap_or_default().to_owned();
        let (status, body) = match request.method() {
            Method::Get => route(&path),
            _ => (405, "only GET is served\n".to_owned()),
        };
        respond(response_out, status, body);
    }
}

const NOT_FOUND: &str = "no such page; try /hit, /count or /stats\n";

/// The status and body for a `GET` of `path`.
fn route(path: &str) -> (u16, String) {
    let result = match path {
        "/" | "/hit" => hit(path),
        "/count" => count(),
        "/stats" => stats(),
        _ => return (404, NOT_FOUND.to_owned()),
    };
    match result {
        Ok(body) => (200, body),
        // A store error is the response, never a trap: the server keeps serving.
        Err(message) => (500, format!("store error: {message}\n")),
    }
}

fn hit(path: &str) -> Result<String, String> {
    let bucket = store::open("").map_err(describe)?;
    let hits = atomics::increment(&bucket, "hits", 1).map_err(describe)?;
    record_hit(&bucket, path)?;
    Ok(format!("{hits}\n"))
}

fn count() -> Result<String, String> {
    let bucket = store::open("").map_err(describe)?;
    let hits = bucket.get("hits").map_err(describe)?;
    Ok(format!(
        "{}\n",
        hits.map_or("0".into(), |v| String::from_utf8_lossy(&v).into_owned())
    ))
}

fn stats() -> Result<String, String> {
    let bucket = store::open("").map_err(describe)?;
    let document = bucket.get("stats").map_err(describe)?;
    Ok(document.map_or_else(
        || render(0, ""),
        |d| String::from_utf8_lossy(&d).into_owned(),
    ))
}

/// Adds one hit to the `stats` document: read, change, and swap only if no other instance wrote
/// it meanwhile; otherwise start again from what that instance wrote.
fn record_hit(bucket: &Bucket, path: &str) -> Result<(), String> {
    let (mut cas, mut current) = Cas::new_with_read(bucket, "stats").map_err(describe)?;
    loop {
        let hits = current.as_deref().map_or(0, parse_hits);
        let document = render(hits + 1, path);
        match atomics::swap(cas, document.as_bytes()) {
            Ok(()) => return Ok(()),
            Err(CasError::CasFailed((fresh, value))) => (cas, current) = (fresh, value),
            Err(CasError::StoreError(e)) => return Err(describe(e)),
        }
    }
}

/// The document: `{"hits":N,"last":"PATH"}` (paths are routed ones, so no escaping is needed).
fn render(hits: u64, last: &str) -> String {
    format!("{{\"hits\":{hits},\"last\":\"{last}\"}}")
}

/// The `hits` of a document this handler wrote.
fn parse_hits(document: &[u8]) -> u64 {
    let text = String::from_utf8_lossy(document);
    text.strip_prefix("{\"hits\":")
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn respond(out: ResponseOutparam, status: u16, body: String) {
    let headers = Fields::new();
    // Both values are valid header values; a refusal would only lose the header.
    let _ = headers.set("content-type", &[b"text/plain; charset=utf-8".to_vec()]);
    let _ = headers.set("content-length", &[body.len().to_string().into_bytes()]);
    let response = OutgoingResponse::new(headers);
    let _ = response.set_status_code(status);
    let Ok(outgoing) = response.body() else {
        return;
    };
    ResponseOutparam::set(out, Ok(response));
    if let Ok(stream) = outgoing.write() {
        // `blocking_write_and_flush` takes at most 4096 bytes at a time.
        for chunk in body.as_bytes().chunks(4096) {
            if stream.blocking_write_and_flush(chunk).is_err() {
                break;
            }
        }
    }
    let _ = OutgoingBody::finish(outgoing, None);
}

fn describe(error: Error) -> String {
    match error {
        Error::NoSuchStore => "no such store".into(),
        Error::AccessDenied => "access denied".into(),
        Error::Other(message) => message,
    }
}
