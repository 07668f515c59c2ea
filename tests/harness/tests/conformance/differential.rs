//! Every `draft_*` program on both our provider and wasmtime's in-memory host.
//!
//! wasmtime's `wasmtime-wasi-keyvalue` implements `wasi:keyvalue@0.2.0-draft`, and wasmtime's
//! own test program runs on it: it is the reference for that version. Each program runs twice
//! with the same preset store and the same assertions (its own `assert!`s): composed with the
//! provider on a fresh directory, and unplugged on the in-memory host. Both must pass, except
//! where [`DIVERGENCES`] documents why the in-memory host cannot; there the program must fail,
//! so that the table cannot outlive the difference it describes.

use harness::artifacts::PROGRAMS;
use harness::Output;

/// The programs this suite runs: those written against `wasi:keyvalue@0.2.0-draft`.
const PREFIX: &str = "draft_";

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
/// - it keeps nothing between runs.
///
/// Every program listed must fail there, with its symptom; every other must pass.
const DIVERGENCES: &[Divergence] = &[
    Divergence {
        program: "draft_batch",
        reason: "it has no batch limit: a set-many of 10,001 keys succeeds, where the provider \
                 refuses more than 10,000 keys per call (the program's last part)",
        symptom: "set-many of 10,001 keys: expected error::other",
    },
    Divergence {
        program: "draft_store",
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

fn run_both(program: &'static str) -> Runs {
    let dir = tempfile::tempdir().unwrap();
    harness::preset(dir.path(), preset(program)).unwrap();
    let ours = harness::run(program, dir.path(), &[], &[])
        .unwrap_or_else(|e| panic!("cannot run `{program}` through the provider: {e:?}"));
    let theirs = harness::run_in_memory(program, preset(program), &[])
        .unwrap_or_else(|e| panic!("cannot run `{program}` on the in-memory host: {e:?}"));
    Runs {
        program,
        ours,
        theirs,
    }
}

#[test]
fn draft_programs_agree_with_wasmtimes_in_memory_host() {
    let programs: Vec<&'static str> = PROGRAMS
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| name.starts_with(PREFIX))
        .collect();
    assert!(
        programs.contains(&"draft_wasmtime_scenario"),
        "no `draft_wasmtime_scenario` among {programs:?}"
    );
    let listed = DIVERGENCES.iter().map(|d| &d.program);
    for program in listed.chain(PRESETS.iter().map(|(p, _)| p)) {
        assert!(
            programs.contains(program),
            "`{program}` is listed in differential.rs but is no `{PREFIX}*` test program"
        );
    }

    // Each program is compiled twice (plugged and not) and run twice: spread them over threads.
    let runs: Vec<Runs> = std::thread::scope(|scope| {
        let handles: Vec<_> = programs
            .iter()
            .map(|program| scope.spawn(move || run_both(program)))
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
