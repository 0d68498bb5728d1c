//! Snapshots of the generated raw clients: the full code and a compact listing of their public
//! surface (operations with method, path, parameters, body and return types; types with their
//! fields and variants), for both specs.
//!
//! Any change to `spec/*.json` or to the generator settings shows up here as a reviewable
//! diff: run `cargo insta review` (or accept the `.snap.new` files) after `cargo xtask regen`.
//! With `CI=true` insta only compares and fails on a difference.

macro_rules! out_file {
    ($name:literal) => {
        include_str!(concat!(env!("OUT_DIR"), "/", $name))
    };
}

#[test]
fn ledger_surface() {
    insta::assert_snapshot!("ledger_surface", out_file!("ledger_surface.txt"));
}

#[test]
fn identity_surface() {
    insta::assert_snapshot!("identity_surface", out_file!("identity_surface.txt"));
}

#[test]
fn ledger_code() {
    insta::assert_snapshot!("ledger_code", out_file!("ledger.rs"));
}

#[test]
fn identity_code() {
    insta::assert_snapshot!("identity_code", out_file!("identity.rs"));
}

#[test]
fn operation_tables() {
    insta::assert_snapshot!(
        "operation_tables",
        format!(
            "{}\n{}",
            out_file!("ledger_operations.rs"),
            out_file!("identity_operations.rs")
        )
    );
}
