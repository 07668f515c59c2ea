//! The HTTP example under load on the real `wasmtime serve`: every request is a fresh instance of
//! the composed component, all sharing one store directory, and not one hit is lost.

use crate::wasmtime_cli::check_cli;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CLIENTS: usize = 8;
const REQUESTS_PER_CLIENT: usize = 200;

/// `wasmtime serve`, killed when dropped (also when a test fails).
struct Server {
    child: Child,
    addr: SocketAddr,
    log: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `wasmtime serve -S cli --dir DATA::/data COMPONENT` on a free loopback port and
    /// waits until it accepts connections.
    fn start(component: &Path, data: &Path, log: &Path) -> Server {
        check_cli();
        for _ in 0..5 {
            // The port is free now; if another process takes it first, start over.
            let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port();
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            let child = Command::new("wasmtime")
                .arg("serve")
                .args(["-S", "cli", "--addr", &addr.to_string(), "--dir"])
                .arg(format!("{}::/data", data.display()))
                .arg(component)
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(log).unwrap())
                .spawn()
                .unwrap();
            let mut server = Server { child, addr, log: log.to_path_buf() };
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                if let Some(status) = server.child.try_wait().unwrap() {
                    let log = std::fs::read_to_string(log).unwrap_or_default();
                    if log.contains("in use") {
                        break;
                    }
                    panic!("`wasmtime serve` exited ({status}):\n{log}");
                }
                if TcpStream::connect(addr).is_ok() {
                    return server;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            if server.child.try_wait().unwrap().is_none() {
                panic!("`wasmtime serve` did not listen on {addr} within a minute:\n{}", server.log());
            }
        }
        panic!("could not find a free loopback port for `wasmtime serve`");
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `GET path` over a connection of its own: the status and the body.
    fn get(&self, path: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(self.addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        write!(stream, "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", self.addr).unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        parse_response(&response).unwrap_or_else(|| {
            panic!("unreadable response to {path}: {:?}\n{}", String::from_utf8_lossy(&response), self.log())
        })
    }
}

/// The status and body of an HTTP/1.1 response, with a `content-length` or chunked body.
fn parse_response(response: &[u8]) -> Option<(u16, String)> {
    let text = std::str::from_utf8(response).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let chunked = head
        .lines()
        .any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding:") && l.to_ascii_lowercase().contains("chunked"));
    if !chunked {
        return Some((status, body.to_owned()));
    }
    let mut rest = body;
    let mut out = String::new();
    loop {
        let (size, after) = rest.split_once("\r\n")?;
        let size = usize::from_str_radix(size.trim(), 16).ok()?;
        if size == 0 {
            return Some((status, out));
        }
        out.push_str(after.get(..size)?);
        rest = after.get(size + 2..)?;
    }
}

#[test]
fn http_counter_under_wasmtime_serve_loses_no_hit() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let component = dir.path().join("http.kv.wasm");
    let app = std::fs::read(harness::artifacts::HTTP_COUNTER).unwrap();
    std::fs::write(&component, virt_store::plug(&app, virt_store::PROVIDER).unwrap()).unwrap();

    let server = Server::start(&component, &data, &dir.path().join("serve.log"));
    let failures: Vec<String> = std::thread::scope(|scope| {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                scope.spawn(|| {
                    (0..REQUESTS_PER_CLIENT)
                        .map(|_| server.get("/hit"))
                        .filter(|(status, _)| *status != 200)
                        .map(|(status, body)| format!("{status}: {body}"))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        clients.into_iter().flat_map(|c| c.join().unwrap()).collect()
    });
    assert!(failures.is_empty(), "{} failed requests, first: {}\n{}", failures.len(), failures[0], server.log());

    let total = CLIENTS * REQUESTS_PER_CLIENT;
    assert_eq!(server.get("/count"), (200, format!("{total}\n")));
    // The CAS-updated document counted every hit too: no update was lost to a race.
    assert_eq!(server.get("/stats"), (200, format!("{{\"hits\":{total},\"last\":\"/hit\"}}")));
    assert_eq!(server.get("/nowhere").0, 404);
    drop(server);

    // On disk, where the host's tools and the next server find it.
    let store = engine::Store::open(&data, engine::Options::default()).unwrap();
    let hits = store.bucket("").unwrap().get("hits").unwrap();
    assert_eq!(hits, Some(total.to_string().into_bytes()));
}
