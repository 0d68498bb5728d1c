//! `cargo xtask msrv`: the declared `rust-version` holds for every dependency.
//!
//! Toolchains cannot be downloaded where CI runs, so the minimum supported Rust version is
//! checked with what works offline, in two halves:
//!
//! - the workspace's own code: clippy's `incompatible_msrv` lint (denied in
//!   `[workspace.lints.clippy]`) flags any standard library item newer than `rust-version`;
//! - the dependencies (this module): every package of the resolved graph (`cargo metadata
//!   --format-version 1 --all-features`, which reads `Cargo.lock`) that declares a
//!   `rust-version` newer than the client crate's fails the check. A package that declares
//!   none cannot be checked and is counted.
//!
//! # Examples
//!
//! ```
//! use xtask::msrv::check;
//!
//! let metadata = serde_json::json!({
//!     "packages": [
//!         {"id": "a", "name": "confidential-ledger", "version": "0.1.0", "rust_version": "1.88"},
//!         {"id": "b", "name": "newer", "version": "2.0.0", "rust_version": "1.90"},
//!     ],
//!     "resolve": {"nodes": [{"id": "a"}, {"id": "b"}]},
//!     "workspace_members": ["a"],
//! });
//! let report = check(&metadata, "confidential-ledger").unwrap();
//! assert_eq!(report.declared, "1.88");
//! assert_eq!(report.too_new, vec![("newer 2.0.0".to_string(), "1.90".to_string())]);
//! ```

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Why the check could not run.
#[derive(Debug, thiserror::Error)]
pub enum MsrvError {
    /// `cargo metadata` could not be run or failed.
    #[error("cargo metadata failed: {0}")]
    Metadata(String),
    /// Its output is not what `--format-version 1` describes.
    #[error("unexpected cargo metadata output: {0}")]
    Format(String),
    /// The crate whose `rust-version` is the reference declares none.
    #[error("{0} declares no rust-version")]
    NoDeclaredVersion(String),
    /// A `rust-version` is not `MAJOR.MINOR[.PATCH]`.
    #[error("{package} declares rust-version {value:?}, which is not MAJOR.MINOR[.PATCH]")]
    BadVersion {
        /// The package.
        package: String,
        /// What it declares.
        value: String,
    },
}

/// The outcome of the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The reference crate's `rust-version`.
    pub declared: String,
    /// Packages (`name version`) needing a newer Rust, with the version they declare.
    pub too_new: Vec<(String, String)>,
    /// Packages checked (declaring a `rust-version`).
    pub checked: usize,
    /// Packages declaring none (not checkable).
    pub undeclared: usize,
}

/// Runs `cargo metadata` in `workspace` (offline and locked: it must not download or change
/// anything) and checks it against `reference`'s `rust-version`.
///
/// # Errors
///
/// [`MsrvError`] when cargo metadata fails or its output is not understood.
pub fn run(workspace: &Path, reference: &str) -> Result<Report, MsrvError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(workspace)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--all-features",
            "--locked",
            "--offline",
        ])
        .output()
        .map_err(|e| MsrvError::Metadata(e.to_string()))?;
    if !output.status.success() {
        return Err(MsrvError::Metadata(
            String::from_utf8_lossy(&output.stderr).trim().to_string(),
        ));
    }
    let metadata: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| MsrvError::Format(format!("not JSON: {e}")))?;
    check(&metadata, reference)
}

/// Checks parsed `cargo metadata` output against `reference`'s `rust-version`.
///
/// # Errors
///
/// [`MsrvError`] when the output lacks `packages` or `resolve`, `reference` is not among the
/// packages or declares no `rust-version`, or a version is malformed.
pub fn check(metadata: &Value, reference: &str) -> Result<Report, MsrvError> {
    let packages = metadata
        .get("packages")
        .and_then(Value::as_array)
        .ok_or_else(|| MsrvError::Format("no packages".into()))?;
    let resolved: BTreeSet<&str> = metadata
        .pointer("/resolve/nodes")
        .and_then(Value::as_array)
        .ok_or_else(|| MsrvError::Format("no resolve graph".into()))?
        .iter()
        .filter_map(|node| node.get("id").and_then(Value::as_str))
        .collect();
    let field = |package: &Value, name: &str| -> String {
        package
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let declared_text = packages
        .iter()
        .find(|p| field(p, "name") == reference)
        .ok_or_else(|| MsrvError::Format(format!("no package {reference}")))?
        .get("rust_version")
        .and_then(Value::as_str)
        .ok_or_else(|| MsrvError::NoDeclaredVersion(reference.to_string()))?
        .to_string();
    let declared = parse_version(reference, &declared_text)?;
    let mut report = Report {
        declared: declared_text,
        too_new: Vec::new(),
        checked: 0,
        undeclared: 0,
    };
    for package in packages {
        let id = field(package, "id");
        if !resolved.contains(id.as_str()) {
            continue;
        }
        let label = format!("{} {}", field(package, "name"), field(package, "version"));
        match package.get("rust_version").and_then(Value::as_str) {
            Some(text) => {
                report.checked += 1;
                if parse_version(&label, text)? > declared {
                    report.too_new.push((label, text.to_string()));
                }
            }
            None => report.undeclared += 1,
        }
    }
    report.too_new.sort();
    Ok(report)
}

/// `1.88` or `1.88.1` as `(1, 88, 1)` (patch 0 when absent).
fn parse_version(package: &str, text: &str) -> Result<(u64, u64, u64), MsrvError> {
    let bad = || MsrvError::BadVersion {
        package: package.to_string(),
        value: text.to_string(),
    };
    let mut parts = text.trim().split('.');
    let mut next = |required: bool| -> Result<u64, MsrvError> {
        match parts.next() {
            Some(p) => p.parse().map_err(|_| bad()),
            None if required => Err(bad()),
            None => Ok(0),
        }
    };
    let version = (next(true)?, next(true)?, next(false)?);
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn metadata(packages: Value, resolved: &[&str]) -> Value {
        let nodes: Vec<Value> = resolved.iter().map(|id| json!({ "id": id })).collect();
        json!({ "packages": packages, "resolve": { "nodes": nodes } })
    }

    #[test]
    fn newer_dependencies_fail_and_unresolved_or_undeclared_ones_do_not() {
        let m = metadata(
            json!([
                {"id": "me", "name": "me", "version": "1.0.0", "rust_version": "1.88"},
                {"id": "same", "name": "same", "version": "1.0.0", "rust_version": "1.88.0"},
                {"id": "patch", "name": "patch", "version": "1.0.0", "rust_version": "1.88.1"},
                {"id": "old", "name": "old", "version": "1.0.0", "rust_version": "1.70"},
                {"id": "none", "name": "none", "version": "1.0.0"},
                {"id": "unused", "name": "unused", "version": "9.0.0", "rust_version": "1.99"},
            ]),
            &["me", "same", "patch", "old", "none"],
        );
        let report = check(&m, "me").unwrap();
        assert_eq!(
            report.too_new,
            vec![("patch 1.0.0".to_string(), "1.88.1".to_string())]
        );
        assert_eq!((report.checked, report.undeclared), (4, 1));
    }

    #[test]
    fn malformed_input_is_an_error() {
        let m = metadata(
            json!([{"id": "me", "name": "me", "version": "1", "rust_version": "1.x"}]),
            &["me"],
        );
        assert!(matches!(check(&m, "me"), Err(MsrvError::BadVersion { .. })));
        let m = metadata(json!([{"id": "me", "name": "me", "version": "1"}]), &["me"]);
        assert!(matches!(
            check(&m, "me"),
            Err(MsrvError::NoDeclaredVersion(_))
        ));
        assert!(matches!(check(&json!({}), "me"), Err(MsrvError::Format(_))));
        assert!(matches!(
            check(&metadata(json!([]), &[]), "me"),
            Err(MsrvError::Format(_))
        ));
    }
}
