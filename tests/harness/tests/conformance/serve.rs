//! The HTTP example on the real `wasmtime serve`: every request is a fresh instance of the
//! composed component, all of them sharing one store directory, and not one hit is lost.
//!
//! The client is a few lines of HTTP/1.1 over `TcpStream`, one request per connection, so that
//! the test needs nothing but the `wasmtime` CLI (`scripts/test` installs it).

use crate::wasmtime_cli::check_cli;
use anyhow::{anyhow, Context, Result};
use std::collections::BTreeSet;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CLIENTS: usize = 8;
const REQUESTS_PER_CLIENT: usize = 200;
/// How long `wasmtime serve` may take to compile the component and listen.
const STARTUP: Duration = Duration::from_secs(60);
/// How long one request may wait, queued behind the others on a loaded machine.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Attempts at a free port: another process may take the one we picked before wasmtime binds it.
const PORT_ATTEMPTS: usize = 5;

/// `wasmtime serve` on a loopback port, killed when dropped (also when a test fails).
pub(crate) struct Server {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `wasmtime serve -S cli [--dir DATA::/data] COMPONENT` on a free loopback port, with
    /// its stderr in `log`, and waits until it listens.
    fn start(component: &Path, data: Option<&Path>, log: &Path) -> Server {
        let dirs: Vec<(&Path, &str)> = data.map(|data| (data, "/data")).into_iter().collect();
        Server::start_with_dirs(component, &dirs, log)
    }

    /// Like [`Server::start`], with a `--dir HOST::GUEST` for each of `dirs`.
    fn start_with_dirs(component: &Path, dirs: &[(&Path, &str)], log: &Path) -> Server {
        Server::start_with(component, dirs, &[], log)
    }

    /// Like [`Server::start_with_dirs`], with more of `wasmtime serve`'s options (`-S
    /// inherit-network`).
    pub(crate) fn start_with(
        component: &Path,
        dirs: &[(&Path, &str)],
        options: &[&str],
        log: &Path,
    ) -> Server {
        check_cli();
        for _ in 0..PORT_ATTEMPTS {
            let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                .and_then(|listener| listener.local_addr())
                .expect("cannot bind a loopback port")
                .port();
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            let mut command = Command::new("wasmtime");
            command.args(["serve", "-S", "cli", "--addr", &addr.to_string()]);
            command.args(options);
            for (host, guest) in dirs {
                command
                    .arg("--dir")
                    .arg(format!("{}::{guest}", host.display()));
            }
            let stderr = File::create(log).expect("cannot create the server's log");
            let child = command
                .arg(component)
                .stdout(Stdio::null())
                .stderr(stderr)
                .spawn()
                .expect("cannot start `wasmtime serve`");
            let mut server = Server {
                child,
                addr,
                log: log.to_path_buf(),
            };
            // What wasmtime prints once it listens: proof that the port is its, not another's.
            let listening = format!("Serving HTTP on http://{addr}/");
            let deadline = Instant::now() + STARTUP;
            loop {
                let log = server.log();
                if log.contains(&listening) {
                    return server;
                }
                if let Some(status) = server
                    .child
                    .try_wait()
                    .expect("cannot poll `wasmtime serve`")
                {
                    if log.contains("Address already in use") {
                        break;
                    }
                    panic!("`wasmtime serve` exited ({status}) before listening:\n{log}");
                }
                assert!(
                    Instant::now() < deadline,
                    "`wasmtime serve` did not say {listening:?} within {STARTUP:?}; its stderr:\n{log}"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("`wasmtime serve` found no free loopback port in {PORT_ATTEMPTS} attempts");
    }

    /// What the server has written to stderr so far.
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `GET path` over a connection of its own: the status and the body.
    fn get(&self, path: &str) -> Result<(u16, String)> {
        let mut stream = TcpStream::connect(self.addr)
            .with_context(|| format!("cannot connect to {} for `GET {path}`", self.addr))?;
        stream.set_read_timeout(Some(REQUEST_TIMEOUT))?;
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .with_context(|| format!("cannot send `GET {path}`"))?;
        let mut response = Vec::new();
        stream
            .read_to_end(&mut response)
            .with_context(|| format!("no complete response to `GET {path}`"))?;
        parse_response(&response).with_context(|| {
            format!(
                "unreadable response to `GET {path}`: {:?}",
                String::from_utf8_lossy(&response)
            )
        })
    }

    /// Like [`Server::get`], but panics with the server's log unless the request succeeds.
    #[track_caller]
    fn get_ok(&self, path: &str) -> (u16, String) {
        self.get(path)
            .unwrap_or_else(|e| panic!("{e:#}\n--- wasmtime serve's stderr\n{}", self.log()))
    }
}

/// The status and body of an HTTP/1.1 response read to the end of its connection, whose body is
/// delimited by the end, a `content-length` or chunked transfer-encoding.
fn parse_response(response: &[u8]) -> Result<(u16, String)> {
    let text = std::str::from_utf8(response).context("the response is not UTF-8")?;
    let (head, body) = text.split_once("\r\n\r\n").context("no end of headers")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .with_context(|| format!("bad status line {status_line:?}"))?;
    let header = |name: &str| {
        lines.clone().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    };
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        return Ok((status, dechunk(body)?));
    }
    match header("content-length") {
        Some(length) => {
            let length: usize = length.parse().context("bad content-length")?;
            let body = body
                .get(..length)
                .context("body shorter than its content-length")?;
            Ok((status, body.to_owned()))
        }
        None => Ok((status, body.to_owned())),
    }
}

/// The body of a chunked message: `SIZE[;ext]\r\nDATA\r\n` chunks up to one of size 0.
fn dechunk(mut rest: &str) -> Result<String> {
    let mut body = String::new();
    loop {
        let (size, after) = rest.split_once("\r\n").context("truncated chunk size")?;
        let size = size.split(';').next().unwrap_or_default().trim();
        let size =
            usize::from_str_radix(size, 16).map_err(|_| anyhow!("bad chunk size {size:?}"))?;
        if size == 0 {
            return Ok(body);
        }
        body.push_str(after.get(..size).context("truncated chunk")?);
        rest = after
            .get(size..)
            .and_then(|r| r.strip_prefix("\r\n"))
            .context("chunk without its CRLF")?;
    }
}

/// The example app with the provider plugged in, written to `dir/http.kv.wasm`.
/// Sends `GET /hit` 200 times from each of 8 clients at once, spread over `servers`, and checks
/// that every hit was answered 200 with a count of its own, 1 to 1600.
pub(crate) fn hit_from_every_client(servers: &[&Server]) {
    let started = Instant::now();
    let responses: Vec<Result<(u16, String)>> = std::thread::scope(|scope| {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|client| {
                scope.spawn(move || {
                    (0..REQUESTS_PER_CLIENT)
                        // Each client goes to every server in turn.
                        .map(|i| servers[(client + i) % servers.len()].get("/hit"))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        clients
            .into_iter()
            .flat_map(|client| client.join().expect("a client thread panicked"))
            .collect()
    });
    let elapsed = started.elapsed();

    let total = CLIENTS * REQUESTS_PER_CLIENT;
    let mut counts = BTreeSet::new();
    let mut failures = Vec::new();
    for response in responses {
        match response {
            Ok((200, body)) => {
                counts.insert(body);
            }
            Ok((status, body)) => failures.push(format!("{status}: {body}")),
            Err(e) => failures.push(format!("{e:#}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} `GET /hit` failed; the first: {}\n--- wasmtime serve's stderr\n{}",
        failures.len(),
        failures[0],
        servers
            .iter()
            .map(|s| s.log())
            .collect::<Vec<_>>()
            .join("\n---\n")
    );
    // `increment` is linearizable: every hit was told a count of its own, 1 to `total`.
    let expected: BTreeSet<String> = (1..=total).map(|n| format!("{n}\n")).collect();
    assert!(
        counts == expected,
        "the hits were told {} distinct counts, not each of 1 to {total}",
        counts.len()
    );

    eprintln!(
        "serve: {total} hits from {CLIENTS} clients over {} servers in {elapsed:.2?} ({:.0} requests/s)",
        servers.len(),
        total as f64 / elapsed.as_secs_f64()
    );
}

/// After [`hit_from_every_client`]: `/count` and `/stats` say 1600 (the CAS loop behind
/// `/stats` lost no update to a race between instances either); returns 1600.
pub(crate) fn check_totals(server: &Server) -> usize {
    let total = CLIENTS * REQUESTS_PER_CLIENT;
    let count = server.get_ok("/count");
    let stats = server.get_ok("/stats");
    eprintln!("serve: /count {count:?}, /stats {stats:?}");
    assert_eq!(count, (200, format!("{total}\n")));
    assert_eq!(
        stats,
        (200, format!("{{\"hits\":{total},\"last\":\"/hit\"}}"))
    );
    total
}

pub(crate) fn composed_http_counter(dir: &Path) -> PathBuf {
    composed_http_counter_with(dir, virt_store::PROVIDER)
}

/// The HTTP example with `provider` plugged in, written into `dir`.
pub(crate) fn composed_http_counter_with(dir: &Path, provider: &[u8]) -> PathBuf {
    let app = std::fs::read(virt_store_harness::artifacts::HTTP_COUNTER).unwrap();
    let composed = virt_store::plug(&app, provider).unwrap();
    let path = dir.join("http.kv.wasm");
    std::fs::write(&path, composed).unwrap();
    path
}

#[test]
fn http_counter_under_wasmtime_serve_loses_no_hit() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let component = composed_http_counter(dir.path());
    let server = Server::start(&component, Some(&data), &dir.path().join("serve.log"));

    hit_from_every_client(&[&server]);
    let total = check_totals(&server);
    assert_eq!(server.get_ok("/nowhere").0, 404);
    drop(server);

    // On disk, where the host's tools and the next server find it.
    let store =
        virt_store_engine::Store::open(&data, virt_store_engine::Options::default()).unwrap();
    let hits = store.bucket("").unwrap().get("hits").unwrap();
    assert_eq!(hits.as_deref(), Some(total.to_string().as_bytes()));
}

#[test]
fn http_counter_answers_store_errors_with_500_and_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let component = composed_http_counter(dir.path());
    // No `--dir`: the provider finds no `/data`.
    let server = Server::start(&component, None, &dir.path().join("serve.log"));
    for path in ["/hit", "/count", "/stats", "/hit"] {
        let (status, body) = server.get_ok(path);
        // A trap would end the connection, or answer without the store's message.
        assert!(
            status == 500 && body.starts_with("store error: ") && body.contains("/data"),
            "`GET {path}` without a store directory answered {status}: {body:?}\n\
             --- wasmtime serve's stderr\n{}",
            server.log()
        );
    }
}

#[test]
fn hidden_store_http_under_wasmtime_serve_sees_no_store() {
    let dir = tempfile::tempdir().unwrap();
    let (data, public) = (dir.path().join("data"), dir.path().join("pub"));
    std::fs::create_dir(&data).unwrap();
    std::fs::create_dir(&public).unwrap();
    let app = std::fs::read(virt_store_harness::artifacts::HIDDEN_STORE_HTTP).unwrap();
    let component = dir.path().join("hidden.kv.wasm");
    std::fs::write(
        &component,
        virt_store::plug(&app, virt_store::PROVIDER).unwrap(),
    )
    .unwrap();
    let dirs = [
        (data.as_path(), "/data"),
        (public.as_path(), "/pub"),
        (data.as_path(), "/alias"),
    ];
    let server = Server::start_with_dirs(&component, &dirs, &dir.path().join("serve.log"));
    // Each request is a fresh instance: each gets its preopens from the provider anew.
    for run in 1..=2 {
        let (status, body) = server.get_ok("/probe?hidden=/data,/alias,/pub/../data&visible=/pub");
        assert_eq!(
            status,
            200,
            "{body}\n--- wasmtime serve's stderr\n{}",
            server.log()
        );
        assert!(body.contains("hidden /alias: list: NotFound"), "{body}");
        assert!(body.ends_with(&format!("probe-runs: {run}\n")), "{body}");
    }
    // The handler reports what it could reach, so the probe itself is seen to work.
    let (status, body) = server.get_ok("/probe?hidden=/pub");
    assert_eq!(
        (status, body.as_str()),
        (500, "list under hidden `/pub` succeeded: 0 entries\n")
    );
    drop(server);
    assert!(data.join("virt-store-format").is_file());
    assert!(!data.join("intruder").exists());
}

#[test]
fn the_test_client_reads_sized_chunked_and_close_delimited_bodies() {
    let sized = b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\n42\n";
    assert_eq!(parse_response(sized).unwrap(), (200, "42\n".into()));
    let chunked = b"HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n\
                    6;ext=1\r\nstore \r\n6\r\nerror\n\r\n0\r\n\r\n";
    assert_eq!(
        parse_response(chunked).unwrap(),
        (500, "store error\n".into())
    );
    let until_close = b"HTTP/1.1 404 Not Found\r\n\r\nnone";
    assert_eq!(parse_response(until_close).unwrap(), (404, "none".into()));
    assert!(parse_response(b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\nshort").is_err());
    assert!(parse_response(b"garbage").is_err());
}
