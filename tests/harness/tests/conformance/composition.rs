//! What plugging produces, and what it refuses.

use virt_store::{imports, is_keyvalue, plug, PlugError};
use virt_store_harness::artifacts::PROGRAMS;

#[test]
fn every_composed_program_imports_filesystem_and_no_keyvalue() {
    for (program, _) in PROGRAMS {
        let composed = virt_store_harness::composed(program).unwrap();
        let imports = imports(&composed).unwrap();
        let keyvalue: Vec<&String> = imports.iter().filter(|i| is_keyvalue(i)).collect();
        assert!(
            keyvalue.is_empty(),
            "`{program}` still imports {keyvalue:?}"
        );
        assert!(
            imports.iter().any(|i| i.starts_with("wasi:filesystem/")),
            "`{program}` imports no `wasi:filesystem` interface: {imports:?}"
        );
    }
}

#[test]
fn every_keyvalue_version_the_provider_serves_is_plugged_by_some_program() {
    // The test above checks every program; this one checks that every version is among them.
    for version in ["0.2.0-draft3", "0.2.0-draft2", "0.2.0-draft"] {
        let importers: Vec<&str> = PROGRAMS
            .iter()
            .filter(|(_, path)| {
                let app = std::fs::read(path).unwrap();
                imports(&app)
                    .unwrap()
                    .iter()
                    .any(|i| is_keyvalue(i) && i.ends_with(&format!("@{version}")))
            })
            .map(|(program, _)| *program)
            .collect();
        assert!(
            !importers.is_empty(),
            "no test program imports `wasi:keyvalue/*@{version}`"
        );
        for program in importers {
            let composed = virt_store_harness::composed(program).unwrap();
            let left: Vec<String> = imports(&composed)
                .unwrap()
                .into_iter()
                .filter(|i| is_keyvalue(i))
                .collect();
            assert!(left.is_empty(), "`{program}` still imports {left:?}");
        }
    }
}

#[test]
fn plug_refuses_an_app_without_keyvalue_imports() {
    // The provider itself imports WASI but no keyvalue.
    let err = plug(virt_store::PROVIDER, virt_store::PROVIDER).unwrap_err();
    assert!(matches!(err, PlugError::NoKeyvalueImport { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("imports no `wasi:keyvalue` interface"),
        "{message}"
    );
    assert!(
        message.contains("`wasi:filesystem/"),
        "lists what it imports: {message}"
    );
}

#[test]
fn plug_refuses_a_keyvalue_version_the_provider_lacks() {
    let app =
        wat::parse_str(r#"(component (import "wasi:keyvalue/store@0.1.0" (instance)))"#).unwrap();
    let err = plug(&app, virt_store::PROVIDER).unwrap_err();
    match &err {
        PlugError::Unmatched { unmatched, offered } => {
            assert_eq!(unmatched, &["wasi:keyvalue/store@0.1.0"]);
            assert!(
                offered
                    .iter()
                    .any(|e| e == "wasi:keyvalue/store@0.2.0-draft3"),
                "{offered:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string()
            .contains("would still import `wasi:keyvalue/store@0.1.0`"),
        "{err}"
    );
}

#[test]
fn plug_refuses_spins_draft2_with_what_to_do() {
    // Spin 3's SDK: `get-many: func(...) -> result<list<tuple<string, option<list<u8>>>>, error>`.
    let spin = virt_store_harness::app_importing_draft2_get_many("(tuple string (option $bytes))");
    let err = plug(&spin, virt_store::PROVIDER).unwrap_err();
    assert!(matches!(err, PlugError::SpinDraft2), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the app imports Spin's variant of draft2 (get-many returning \
         list<tuple<string, option<list<u8>>>>), which the provider does not serve; rebuild the \
         app against upstream wasi:keyvalue@0.2.0-draft2 or draft3"
    );
}

#[test]
fn plug_serves_upstream_draft2_get_many() {
    // Upstream: `get-many: func(...) -> result<list<option<tuple<string, list<u8>>>>, error>`.
    let upstream = virt_store_harness::app_importing_draft2_get_many("(option $pair)");
    let composed = plug(&upstream, virt_store::PROVIDER).unwrap();
    let imports = imports(&composed).unwrap();
    assert!(!imports.iter().any(|i| is_keyvalue(i)), "{imports:?}");
}
