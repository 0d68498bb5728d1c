//! Snapshots of the generated raw clients: the full code and a compact listing of their public
//! surface (operations with method, path, parameters, body and return types; types with their
//! fields and variants), for both specs.
//!
//! Any change to `spec/*.json` or to the generator settings shows up here as a reviewable
//! diff: run `cargo xtask surface --accept` (or `cargo insta review`) after `cargo xtask regen`.
//! The ledger's snapshots are kept per ledger api-version (`name@<api-version>.snap`), so that
//! switching versions compares with that version's own reviewed snapshots.
//! With `CI=true` insta only compares and fails on a difference.

macro_rules! out_file {
    ($name:literal) => {
        include_str!(concat!(env!("OUT_DIR"), "/", $name))
    };
}

/// Runs a snapshot assertion of the ledger's generated code against the snapshot of the ledger
/// api-version the crate is generated from (`spec/manifest.json`): `name@<api-version>.snap`.
/// Switching versions with `cargo xtask regen --api-version` then compares with that version's
/// reviewed snapshots.
fn per_ledger_version(assert: impl FnOnce()) {
    insta::with_settings!({ snapshot_suffix => confidential_ledger::options::DEFAULT_API_VERSION }, {
        assert();
    });
}

#[test]
fn ledger_surface() {
    per_ledger_version(|| {
        insta::assert_snapshot!("ledger_surface", out_file!("ledger_surface.txt"))
    });
}

#[test]
fn identity_surface() {
    insta::assert_snapshot!("identity_surface", out_file!("identity_surface.txt"));
}

#[test]
fn ledger_code() {
    per_ledger_version(|| insta::assert_snapshot!("ledger_code", out_file!("ledger.rs")));
}

#[test]
fn identity_code() {
    insta::assert_snapshot!("identity_code", out_file!("identity.rs"));
}

#[test]
fn operation_tables() {
    per_ledger_version(|| {
        insta::assert_snapshot!(
            "operation_tables",
            format!(
                "{}\n{}",
                out_file!("ledger_operations.rs"),
                out_file!("identity_operations.rs")
            )
        )
    });
}
