//! The coverage gate on the crate itself: every operation of `spec/*.json` is wrapped by the
//! client (called from `src/`) or listed in `xtask/coverage.json` as deliberately not wrapped,
//! with the reason; every response field of a wrapped operation is listed as surfaced in the
//! public models or as deliberately hidden, with the reason. A failure names each gap and
//! what to do about it.
//!
//! The gate reads the converted documents; the operations it sees are checked against the
//! tables the build generated from them, so the gate and the compiled client cannot disagree
//! about what exists.

use std::collections::BTreeSet;
use std::path::PathBuf;

use confidential_ledger::raw::OperationFacts;
use confidential_ledger::raw::{identity, ledger};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn spec(name: &str) -> serde_json::Value {
    let path = root().join("spec").join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_operation_and_response_field_is_wrapped_surfaced_or_listed_with_a_reason() {
    let gaps = xtask::coverage::check(
        &root().join("spec"),
        &root().join(xtask::coverage::COVERAGE_FILE),
        &root().join("src"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let listed: Vec<String> = gaps.iter().map(|g| format!("  - {g}")).collect();
    assert!(
        gaps.is_empty(),
        "the client does not cover the generated API ({} gaps):\n{}",
        gaps.len(),
        listed.join("\n")
    );
}

#[test]
fn the_gate_sees_exactly_the_generated_operations() {
    for (name, table) in [
        ("ledger", ledger::OPERATIONS),
        ("identity", identity::OPERATIONS),
    ] {
        let compiled: BTreeSet<&str> = table.iter().map(|op: &OperationFacts| op.id).collect();
        let document = spec(name);
        let seen = xtask::coverage::operations(&document);
        let seen: BTreeSet<&str> = seen.keys().map(String::as_str).collect();
        assert_eq!(seen, compiled, "{name}");
        assert!(!compiled.is_empty(), "{name}");
    }
}

#[test]
fn the_default_api_versions_are_the_manifests() {
    let manifest = xtask::manifest::Manifest::read(&root().join("spec"))
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("spec/manifest.json is missing: run `cargo xtask regen`"));
    let options = confidential_ledger::ClientOptions::default();
    assert_eq!(
        confidential_ledger::options::DEFAULT_API_VERSION,
        manifest.ledger.api_version
    );
    assert_eq!(options.api_version, manifest.ledger.api_version);
    assert_eq!(options.identity_api_version, manifest.identity.api_version);
    use ledger::ClientInfo;
    assert_eq!(
        <ledger::Client as ClientInfo<confidential_ledger::raw::HookState>>::api_version(),
        manifest.ledger.api_version
    );
}
