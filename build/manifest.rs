//! `spec/manifest.json`, as far as the build needs it: the api-version of each document
//! (written by `cargo xtask regen`, which owns the format: `xtask/src/manifest.rs`).

use std::path::Path;

use serde_json::Value;

/// The manifest, relative to the package root.
pub const PATH: &str = "spec/manifest.json";

/// The api-versions the manifest names.
pub struct ApiVersions {
    /// The ledger's (`ledger.api_version`).
    pub ledger: String,
    /// The identity service's (`identity.api_version`).
    pub identity: String,
}

impl ApiVersions {
    /// The version of spec `name` (`ledger` or `identity`).
    pub fn for_spec(&self, name: &str) -> &str {
        if name == "identity" {
            &self.identity
        } else {
            &self.ledger
        }
    }
}

/// Read the api-versions from the manifest at `path`.
pub fn api_versions(path: &Path) -> Result<ApiVersions, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read ({e}); run `cargo xtask regen` to create it"))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| format!("invalid JSON: {e}"))?;
    let version = |spec: &str| -> Result<String, String> {
        let v = value
            .get(spec)
            .and_then(|s| s.get("api_version"))
            .and_then(Value::as_str)
            .ok_or_else(|| format!("no {spec}.api_version"))?;
        // The value becomes a compile-time string: keep it to what api-versions look like.
        if v.is_empty()
            || !v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        {
            return Err(format!("{spec}.api_version {v:?} is not an api-version"));
        }
        Ok(v.to_string())
    };
    Ok(ApiVersions {
        ledger: version("ledger")?,
        identity: version("identity")?,
    })
}

/// Fail unless the document's `info.version` is the manifest's.
pub fn check_version(spec: &Value, expected: &str) -> Result<(), String> {
    match spec.pointer("/info/version").and_then(Value::as_str) {
        Some(v) if v == expected => Ok(()),
        found => Err(format!(
            "info.version is {found:?} but {PATH} says {expected:?}; run `cargo xtask regen` \
             (`cargo xtask regen --check` names what differs)"
        )),
    }
}
