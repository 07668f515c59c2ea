//! The `0.2.0-draft` pass of the scenario programs on both our provider and wasmtime's in-memory
//! host.
//!
//! wasmtime's `wasmtime-wasi-keyvalue` implements `wasi:keyvalue@0.2.0-draft`, and wasmtime's
//! own test program runs on it: it is the reference for that version. Each program runs twice
//! with the same preset store, the same arguments and the same assertions (its own `assert!`s):
//! composed with the provider on a fresh directory, and unplugged on the in-memory host. Both
//! must pass, except where [`DIVERGENCES`] documents why the in-memory host cannot; there the
//! program must fail, so that the table cannot outlive the difference it describes.

use virt_store_harness::artifacts::PROGRAMS;
use virt_store_harness::Output;

/// The programs this suite runs, with their arguments: the scenarios that have a `0.2.0-draft`
/// pass, run for that version, and wasmtime's own. Left out: `buckets` (the in-memory host opens
/// no named bucket), `limits` (it has no limits) and `root_missing` (it has no store directory).
const DRAFT_RUNS: &[(&str, &[&str])] = &[
    ("store_basic", &["draft"]),
    ("list_keys_paging", &["draft"]),
    ("keys_awkward", &["draft"]),
    ("batch", &["draft"]),
    ("increment", &["draft"]),
    ("draft_wasmtime_scenario", &[]),
];

/// What wasmtime's own keyvalue test (`keyvalue_main`) finds in the store when it starts.
pub(crate) const WASMTIME_SCENARIO_PRESET: &[(&str, &str)] =
    &[("hello", "world"), ("atomics_key", "5")];

/// The default bucket's contents before each program runs, on both sides; unlisted programs
/// start with an empty store.
const PRESETS: &[(&str, &[(&str, &str)])] =
    &[("draft_wasmtime_scenario", WASMTIME_SCENARIO_PRESET)];

/// A program that fails on wasmtime's in-memory host because that host differs from the provider
/// (and from what the program asserts).
struct Divergence {
    program: &'static str,
    /// The difference, as documented below.
    reason: &'static str,
    /// What the failure on the in-memory host prints (its panic message), so that the program
    /// is seen to fail for this reason and not another.
    symptom: &'static str,
}

/// The documented differences of wasmtime's in-memory host, checked against
/// `wasmtime-wasi-keyvalue` 48.0.8's source:
/// - its `list-keys` never pages: one page of every key, cursor `none`;
/// - every `open("")` starts from its own copy of the preset data, so writes through one bucket
///   handle are invisible through another;
/// - only `""` opens; every other identifier is `no-such-store`;
/// - it limits neither the length of a key nor the number of keys in a batch call;
/// - it keeps nothing between runs.
///
/// Every program listed must fail there, with its symptom; every other must pass.
const DIVERGENCES: &[Divergence] = &[
    Divergence {
        program: "store_basic",
        reason: "writes through one bucket handle are invisible through another: the program's \
                 last part opens a second handle",
        symptom: "second handle reads first handle's write",
    },
    Divergence {
        program: "keys_awkward",
        reason: "it has no key limit: an 8193-byte key is read as absent, where the provider \
                 refuses keys over 8192 bytes (the program's last part)",
        symptom: "of a 8193-byte key: expected error::other",
    },
    Divergence {
        program: "batch",
        reason: "it has no batch limit: a set-many of 10,001 keys succeeds, where the provider \
                 refuses more than 10,000 keys per call (near the program's end)",
        symptom: "set-many of 10,001 keys: expected error::other",
    },
    Divergence {
        program: "increment",
        reason: "only `\"\"` opens: the program's last part increments a counter in a named \
                 bucket",
        symptom: "expected open(\"counters\") to succeed",
    },
    Divergence {
        program: "list_keys_paging",
        reason: "its list-keys does not page: 2,500 keys come back in one page, cursor `none`, \
                 where the program asserts pages of at most 1,000",
        symptom: "a page holds 2500 keys",
    },
];

/// The preset of `program`.
fn preset(program: &str) -> &'static [(&'static str, &'static str)] {
    PRESETS
        .iter()
        .find(|(name, _)| *name == program)
        .map_or(&[], |(_, preset)| preset)
}

/// Both runs of one program.
struct Runs {
    program: &'static str,
    ours: Output,
    theirs: Output,
}

fn run_both(program: &'static str, args: &[&str]) -> Runs {
    let dir = tempfile::tempdir().unwrap();
    virt_store_harness::preset(dir.path(), preset(program)).unwrap();
    let ours = virt_store_harness::run(program, dir.path(), args, &[])
        .unwrap_or_else(|e| panic!("cannot run `{program}` through the provider: {e:?}"));
    let theirs = virt_store_harness::run_in_memory(program, preset(program), args)
        .unwrap_or_else(|e| panic!("cannot run `{program}` on the in-memory host: {e:?}"));
    Runs {
        program,
        ours,
        theirs,
    }
}

#[test]
fn draft_passes_agree_with_wasmtimes_in_memory_host() {
    let programs: Vec<&'static str> = DRAFT_RUNS.iter().map(|(name, _)| *name).collect();
    for (program, _) in DRAFT_RUNS {
        assert!(
            PROGRAMS.iter().any(|(name, _)| name == program),
            "`{program}` is listed in DRAFT_RUNS but is no test program"
        );
    }
    let listed = DIVERGENCES.iter().map(|d| &d.program);
    for program in listed.chain(PRESETS.iter().map(|(p, _)| p)) {
        assert!(
            programs.contains(program),
            "`{program}` is listed in differential.rs but not in DRAFT_RUNS"
        );
    }

    // Each program is compiled twice (plugged and not) and run twice: spread them over threads.
    let runs: Vec<Runs> = std::thread::scope(|scope| {
        let handles: Vec<_> = DRAFT_RUNS
            .iter()
            .map(|(program, args)| scope.spawn(move || run_both(program, args)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    let mut problems = Vec::new();
    for Runs {
        program,
        ours,
        theirs,
    } in &runs
    {
        if ours.status != 0 {
            problems.push(format!("`{program}` fails through the provider:\n{ours}"));
        }
        match DIVERGENCES.iter().find(|d| d.program == *program) {
            None if theirs.status != 0 => problems.push(format!(
                "`{program}` fails on wasmtime's in-memory host; if that is one of its documented \
                 differences, list it in DIVERGENCES with the reason:\n{theirs}"
            )),
            Some(Divergence { reason, .. }) if theirs.status == 0 => problems.push(format!(
                "`{program}` now passes on wasmtime's in-memory host, although DIVERGENCES says it \
                 cannot ({reason}); remove it from the table:\n{theirs}"
            )),
            Some(Divergence {
                reason, symptom, ..
            }) if !theirs.stderr.contains(symptom) => problems.push(format!(
                "`{program}` fails on wasmtime's in-memory host, but not with {symptom:?} as \
                 DIVERGENCES expects ({reason}); update the table:\n{theirs}"
            )),
            _ => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
