//! Generates the raw clients from `spec/*.json` into `OUT_DIR`.
//!
//! For each spec `<name>` (`ledger`, `identity`) it writes:
//!
//! - `<name>.rs`: progenitor's client and types, formatted with prettyplease;
//! - `<name>_operations.rs`: the `OPERATIONS` table of facts the methods do not carry
//!   (merge-patch content type, paging, response headers);
//! - `<name>_surface.txt`: a compact listing of the public surface, for snapshot tests.
//!
//! The generator settings live in `build/generator.rs` and nowhere else. `spec/` is written by
//! `cargo xtask regen`; the generated code is never edited or checked in.
//!
//! It also reads `spec/manifest.json` (what `spec/` was generated from) and hands the crate its
//! api-versions as `CONFIDENTIAL_LEDGER_API_VERSION` and
//! `CONFIDENTIAL_LEDGER_IDENTITY_API_VERSION` (`ClientOptions`'s defaults), failing the build
//! when a document and the manifest disagree.

#[path = "build/manifest.rs"]
mod manifest;

#[path = "build/facts.rs"]
mod facts;
#[path = "build/generator.rs"]
mod generator;
#[path = "build/surface.rs"]
mod surface;

use std::path::{Path, PathBuf};

/// The specs and the module each becomes under `confidential_ledger::generated`.
const SPECS: &[(&str, &str)] = &[
    ("ledger", "spec/ledger.json"),
    ("identity", "spec/identity.json"),
];

fn main() {
    println!("cargo:rerun-if-changed=build");
    let out_dir = match std::env::var_os("OUT_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => fail("OUT_DIR is not set (run through cargo)"),
    };
    println!("cargo:rerun-if-changed={}", manifest::PATH);
    let versions = match manifest::api_versions(Path::new(manifest::PATH)) {
        Ok(v) => v,
        Err(e) => fail(&format!("{}: {e}", manifest::PATH)),
    };
    for (name, path) in SPECS {
        println!("cargo:rerun-if-changed={path}");
        let expected = versions.for_spec(name);
        if let Err(e) = generate(name, Path::new(path), expected, &out_dir) {
            fail(&format!("{path}: {e}"));
        }
    }
    println!(
        "cargo:rustc-env=CONFIDENTIAL_LEDGER_API_VERSION={}",
        versions.ledger
    );
    println!(
        "cargo:rustc-env=CONFIDENTIAL_LEDGER_IDENTITY_API_VERSION={}",
        versions.identity
    );
}

fn generate(
    name: &str,
    spec_path: &Path,
    expected_version: &str,
    out_dir: &Path,
) -> Result<(), String> {
    let text = std::fs::read_to_string(spec_path)
        .map_err(|e| format!("cannot read ({e}); run `cargo xtask regen` to create it"))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("invalid JSON: {e}"))?;
    manifest::check_version(&value, expected_version)?;
    let spec: openapiv3::OpenAPI = serde_json::from_value(value.clone())
        .map_err(|e| format!("not an OpenAPI 3.0 document: {e}"))?;

    let tokens = generator::generate(&spec).map_err(|e| format!("progenitor: {e}"))?;
    let file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("generated code does not parse: {e}"))?;
    write(
        out_dir,
        &format!("{name}.rs"),
        &prettyplease::unparse(&file),
    )?;

    let ops = facts::operations(&value)?;
    let table = facts::table_source(&ops);
    let table: syn::File =
        syn::parse_str(&table).map_err(|e| format!("operation table does not parse: {e}"))?;
    write(
        out_dir,
        &format!("{name}_operations.rs"),
        &prettyplease::unparse(&table),
    )?;

    let listing = surface::listing(name, &file, &ops, &facts::constraints(&value))?;
    write(out_dir, &format!("{name}_surface.txt"), &listing)
}

fn write(dir: &Path, file: &str, contents: &str) -> Result<(), String> {
    let path = dir.join(file);
    std::fs::write(&path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn fail(message: &str) -> ! {
    eprintln!("error: generating the raw clients: {message}");
    std::process::exit(1);
}
