//! Maintainer tasks for the confidential-ledger workspace.
//!
//! The one task is `cargo xtask regen [--from DIR] [--api-version V] [--identity-api-version V]
//! [--upstream-revision REV] [--check]`: it converts Azure's Swagger 2.0 descriptions of the Confidential Ledger data plane
//! (an `azure-rest-api-specs` checkout's `specification/confidentialledger/data-plane` folder)
//! into the OpenAPI 3.0.3 documents `spec/ledger.json` and `spec/identity.json` that the SDK's
//! build script feeds to progenitor, records their provenance in `spec/manifest.json` and the
//! API difference in `spec/CHANGES.md`.
//!
//! - [`layout`] finds the Swagger files of an api-version in the specs tree.
//! - [`convert`] turns one Swagger 2.0 document into OpenAPI 3.0.3 (structure only, no prose).
//! - [`json`] writes documents deterministically (sorted keys, 2-space indent, final newline).
//! - [`errata`] applies the checked-in corrections (`xtask/errata.json`) to upstream files.
//! - [`manifest`] reads and writes `spec/manifest.json`, the record of what was generated.
//! - [`diff`] lists the API differences between two converted documents.
//! - [`coverage`] is the gate: every generated operation wrapped by the client or listed as
//!   deliberately not, every response field surfaced or listed as deliberately hidden.
//! - [`regen`] ties these together and writes `spec/` or, with `--check`, compares it.
//! - [`check`] compares planned documents with the files on disk and names the stale ones.
//! - [`surface`] (`cargo xtask surface [--accept]`) diffs the build's generated code against the
//!   snapshots, and accepts them, without compiling the client.
//! - [`modules`] (`cargo xtask modules [--check]`) builds the dependency graph of the client's
//!   `src/` modules and fails on a cycle between top-level modules.
//! - [`msrv`] (`cargo xtask msrv`) fails when a dependency declares a newer `rust-version`
//!   than the client crate.
//! - [`cli`] parses the command line.

pub mod check;
pub mod cli;
pub mod convert;
pub mod coverage;
pub mod diff;
pub mod errata;
pub mod json;
pub mod layout;
pub mod manifest;
pub mod modules;
pub mod msrv;
pub mod regen;
pub mod surface;

use std::path::PathBuf;

/// The workspace root (the directory holding the top-level `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    match manifest.parent() {
        Some(parent) => parent.to_path_buf(),
        None => manifest,
    }
}
