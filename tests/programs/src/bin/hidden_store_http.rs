//! `hidden_store` as an HTTP handler, for `wasmtime serve`: `GET /probe?hidden=/data&visible=/pub`
//! (paths comma-separated) answers 200 with the report and the run count when every hidden path
//! is out of reach and every visible one usable, and 500 with what went wrong otherwise.
//! `main` does nothing: this program is for `wasmtime serve` only.

#[path = "hidden_store/probe.rs"]
mod probe;

use test_programs::*;
use wasip2::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

struct Handler;

wasip2::http::proxy::export!(Handler);

impl wasip2::exports::http::incoming_handler::Guest for Handler {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_default();
        let (status, body) = match answer(&path) {
            Ok(body) => (200, body),
            Err(e) => (500, format!("{e}\n")),
        };
        let headers = Fields::new();
        let response = OutgoingResponse::new(headers);
        let _ = response.set_status_code(status);
        let Ok(outgoing) = response.body() else {
            return;
        };
        ResponseOutparam::set(response_out, Ok(response));
        if let Ok(stream) = outgoing.write() {
            for chunk in body.as_bytes().chunks(4096) {
                if stream.blocking_write_and_flush(chunk).is_err() {
                    break;
                }
            }
        }
        let _ = OutgoingBody::finish(outgoing, None);
    }
}

fn answer(path: &str) -> Result<String, String> {
    let query = path
        .strip_prefix("/probe?")
        .ok_or("ask for /probe?hidden=DIR,...&visible=DIR,...")?;
    let mut words = Vec::new();
    for pair in query.split('&') {
        let (key, value) = pair
            .split_once('=')
            .ok_or(format!("`{pair}` is not KEY=VALUE"))?;
        words.push(key.to_owned());
        words.extend(
            value
                .split(',')
                .filter(|v| !v.is_empty())
                .map(str::to_owned),
        );
    }
    let (hidden, visible) = probe::parse(words)?;
    let mut report = probe::probe(&hidden, &visible)?;
    let bucket = Bucket::<Draft3>::try_open("").map_err(|e| format!("open: {e:?}"))?;
    let runs = bucket
        .try_increment("probe-runs", 1)
        .map_err(|e| format!("increment: {e:?}"))?;
    report.push_str(&format!("probe-runs: {runs}\n"));
    Ok(report)
}

fn main() {}
