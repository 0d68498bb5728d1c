//! `spec/manifest.json`: the one record of what `spec/` was generated from.
//!
//! `cargo xtask regen` writes it next to the documents; `--check` compares it like them;
//! a plain `cargo xtask regen` (no `--api-version`) regenerates exactly what it names; and the
//! SDK's build script reads the ledger's and the identity service's api-versions from it
//! (`DEFAULT_API_VERSION`), so no other file repeats them.
//!
//! ```json
//! {
//!   "errata": ["..."],
//!   "identity": { "api_version": "2026-02-23", "output": "identity.json", "source": "...", "upstream_commit": "9a69dbbfe1ad" },
//!   "ledger": { "api_version": "2026-02-23", "output": "ledger.json", "source": "...", "upstream_commit": "1c32885b4ed3" },
//!   "upstream": { "path": "specification/confidentialledger/data-plane", "repository": "Azure/azure-rest-api-specs" }
//! }
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::json::to_canonical_string;

/// The manifest's file name in `spec/`.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The upstream repository the specs come from.
pub const UPSTREAM_REPOSITORY: &str = "Azure/azure-rest-api-specs";
/// The folder of that repository `--from` points at.
pub const UPSTREAM_PATH: &str = "specification/confidentialledger/data-plane";

/// What `spec/` was generated from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Where the upstream specs live.
    pub upstream: Upstream,
    /// The ledger data-plane document (`spec/ledger.json`).
    pub ledger: Entry,
    /// The identity-service document (`spec/identity.json`).
    pub identity: Entry,
    /// The ids of the errata (`xtask/errata.json`) applied to either document.
    #[serde(default)]
    pub errata: Vec<String>,
    /// Every upstream file converted so far with a known commit, by its path: switching
    /// api-versions and back keeps the revision as long as the converted document is the same.
    #[serde(default)]
    pub known_revisions: BTreeMap<String, KnownRevision>,
}

/// The commit an upstream file was taken at, and a fingerprint of what it converted to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownRevision {
    /// The upstream commit.
    pub commit: String,
    /// [`fingerprint`] of the converted document at that commit.
    pub converted: String,
}

/// A stable fingerprint of a converted document (64-bit FNV-1a, hex): equal texts give equal
/// fingerprints on every platform and toolchain.
///
/// # Examples
///
/// ```
/// use xtask::manifest::fingerprint;
///
/// assert_eq!(fingerprint(""), "cbf29ce484222325");
/// assert_ne!(fingerprint("{}\n"), fingerprint("[]\n"));
/// ```
pub fn fingerprint(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// The upstream repository and folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upstream {
    /// `Azure/azure-rest-api-specs`.
    pub repository: String,
    /// `specification/confidentialledger/data-plane`.
    pub path: String,
}

/// One generated document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The api-version converted.
    pub api_version: String,
    /// The Swagger file, relative to the upstream folder.
    pub source: String,
    /// The upstream commit the file was taken at, when known.
    pub upstream_commit: Option<String>,
    /// The document written, relative to `spec/`.
    pub output: String,
}

/// Why the manifest could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file exists but cannot be read.
    #[error("cannot read {path}: {problem}")]
    Unreadable {
        /// The file.
        path: String,
        /// Why.
        problem: String,
    },
    /// The file is not a manifest.
    #[error(
        "{path} is not a valid manifest: {problem} (rewrite it with `cargo xtask regen --api-version V`)"
    )]
    Invalid {
        /// The file.
        path: String,
        /// Why.
        problem: String,
    },
}

impl Manifest {
    /// Parse a manifest's text.
    ///
    /// # Examples
    ///
    /// ```
    /// use xtask::manifest::Manifest;
    ///
    /// let text = r#"{
    ///   "errata": [],
    ///   "identity": {"api_version": "2026-02-23", "output": "identity.json",
    ///                "source": "ConfidentialLedgerIdentity/stable/2026-02-23/identityservice.json",
    ///                "upstream_commit": null},
    ///   "ledger": {"api_version": "2026-02-23", "output": "ledger.json",
    ///              "source": "ConfidentialLedger/stable/2026-02-23/confidentialledger.json",
    ///              "upstream_commit": "1c32885b4ed3"},
    ///   "upstream": {"path": "specification/confidentialledger/data-plane",
    ///                "repository": "Azure/azure-rest-api-specs"}
    /// }"#;
    /// let manifest = Manifest::parse(text, "manifest.json").unwrap();
    /// assert_eq!(manifest.ledger.api_version, "2026-02-23");
    /// assert!(Manifest::parse("{}", "manifest.json").is_err());
    /// ```
    pub fn parse(text: &str, path: &str) -> Result<Self, ManifestError> {
        serde_json::from_str(text).map_err(|e| ManifestError::Invalid {
            path: path.to_string(),
            problem: e.to_string(),
        })
    }

    /// Read the manifest in `spec_dir`; `Ok(None)` when there is none yet.
    ///
    /// # Examples
    ///
    /// ```
    /// let dir = std::env::temp_dir().join("xtask-manifest-doc-none");
    /// assert!(xtask::manifest::Manifest::read(&dir).unwrap().is_none());
    /// ```
    pub fn read(spec_dir: &Path) -> Result<Option<Self>, ManifestError> {
        let path = spec_dir.join(MANIFEST_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text, &path.display().to_string()).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ManifestError::Unreadable {
                path: path.display().to_string(),
                problem: e.to_string(),
            }),
        }
    }

    /// The canonical text (sorted keys, two-space indentation, final newline).
    ///
    /// # Examples
    ///
    /// ```
    /// use xtask::manifest::{Entry, Manifest, Upstream};
    ///
    /// let entry = |v: &str, out: &str| Entry {
    ///     api_version: v.into(),
    ///     source: format!("X/stable/{v}/x.json"),
    ///     upstream_commit: None,
    ///     output: out.into(),
    /// };
    /// let manifest = Manifest {
    ///     upstream: Upstream { repository: "r".into(), path: "p".into() },
    ///     ledger: entry("2026-02-23", "ledger.json"),
    ///     identity: entry("2026-02-23", "identity.json"),
    ///     errata: vec![],
    ///     known_revisions: Default::default(),
    /// };
    /// let text = manifest.to_canonical_string();
    /// assert_eq!(Manifest::parse(&text, "m").unwrap(), manifest);
    /// assert!(text.ends_with("}\n"));
    /// ```
    pub fn to_canonical_string(&self) -> String {
        // Serializing plain strings and options cannot fail.
        let value = serde_json::to_value(self).unwrap_or_default();
        to_canonical_string(&value)
    }
}
