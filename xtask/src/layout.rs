//! Where the Swagger files are in a `specification/confidentialledger/data-plane` folder.
//!
//! ```text
//! <service>/<stable|preview>/<api-version>/confidentialledger.json   the ledger
//! <service>/<stable|preview>/<api-version>/identityservice.json      the identity service
//! ```
//!
//! `<service>` is `ConfidentialLedger`, `ConfidentialLedgerIdentity` or (for older versions)
//! `Microsoft.ConfidentialLedger`; the api-version alone picks the file.

use std::path::{Path, PathBuf};

/// The api-version converted when none is given.
pub const DEFAULT_API_VERSION: &str = "2026-02-23";
/// File name of the ledger data-plane spec.
pub const LEDGER_FILE: &str = "confidentialledger.json";
/// File name of the identity-service spec.
pub const IDENTITY_FILE: &str = "identityservice.json";
/// The default `--from`, relative to the workspace root.
pub const DEFAULT_FROM: &str =
    "../shared/azure-rest-api-specs/specification/confidentialledger/data-plane";
/// The data-plane folder relative to the shared reference-data folder.
pub const SHARED_RELATIVE: &str =
    "azure-rest-api-specs/specification/confidentialledger/data-plane";

/// One Swagger file found in the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecFile {
    /// Its path on disk.
    pub path: PathBuf,
    /// Its path relative to the data-plane folder, with `/` separators.
    pub relative: String,
    /// Its api-version (the folder name).
    pub api_version: String,
}

/// Why a file could not be found.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    /// The folder does not exist or cannot be read.
    #[error("cannot read the spec folder {path}: {problem}")]
    Unreadable {
        /// The folder.
        path: PathBuf,
        /// Why.
        problem: String,
    },
    /// No file for that api-version.
    #[error("no {file} for api-version {api_version} under {root} (available: {available})")]
    NotFound {
        /// The file name looked for.
        file: &'static str,
        /// The api-version.
        api_version: String,
        /// The folder searched.
        root: PathBuf,
        /// The api-versions that do have the file.
        available: String,
    },
    /// More than one file for that api-version.
    #[error("more than one {file} for api-version {api_version}: {found}")]
    Ambiguous {
        /// The file name.
        file: &'static str,
        /// The api-version.
        api_version: String,
        /// The candidates.
        found: String,
    },
}

/// Every `(relative path, api-version, stable?)` of files named `file` in the tree, sorted.
pub fn all(root: &Path, file: &str) -> Result<Vec<(SpecFile, bool)>, LayoutError> {
    let unreadable = |path: &Path, e: std::io::Error| LayoutError::Unreadable {
        path: path.to_path_buf(),
        problem: e.to_string(),
    };
    let mut found = Vec::new();
    let services = std::fs::read_dir(root).map_err(|e| unreadable(root, e))?;
    for service in services {
        let service = service.map_err(|e| unreadable(root, e))?;
        for stability in ["stable", "preview"] {
            let dir = service.path().join(stability);
            let Ok(versions) = std::fs::read_dir(&dir) else {
                continue;
            };
            for version in versions.flatten() {
                let path = version.path().join(file);
                if path.is_file() {
                    let api_version = version.file_name().to_string_lossy().into_owned();
                    let relative = format!(
                        "{}/{stability}/{api_version}/{file}",
                        service.file_name().to_string_lossy()
                    );
                    found.push((
                        SpecFile {
                            path,
                            relative,
                            api_version,
                        },
                        stability == "stable",
                    ));
                }
            }
        }
    }
    found.sort_by(|a, b| a.0.relative.cmp(&b.0.relative));
    Ok(found)
}

/// The file named `file` for `api_version`.
pub fn find(root: &Path, file: &'static str, api_version: &str) -> Result<SpecFile, LayoutError> {
    let everything = all(root, file)?;
    let matching: Vec<&SpecFile> = everything
        .iter()
        .map(|(f, _)| f)
        .filter(|f| f.api_version == api_version)
        .collect();
    match matching.as_slice() {
        [one] => Ok((*one).clone()),
        [] => {
            let mut versions: Vec<&str> = everything
                .iter()
                .map(|(f, _)| f.api_version.as_str())
                .collect();
            versions.sort();
            versions.dedup();
            Err(LayoutError::NotFound {
                file,
                api_version: api_version.to_string(),
                root: root.to_path_buf(),
                available: if versions.is_empty() {
                    "none".to_string()
                } else {
                    versions.join(", ")
                },
            })
        }
        many => Err(LayoutError::Ambiguous {
            file,
            api_version: api_version.to_string(),
            found: many
                .iter()
                .map(|f| f.relative.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// The identity-service spec to pair with ledger `api_version`: the same version when there is
/// one, otherwise the newest stable identity spec (returned with a note saying so).
pub fn identity_for(
    root: &Path,
    api_version: &str,
) -> Result<(SpecFile, Option<String>), LayoutError> {
    match find(root, IDENTITY_FILE, api_version) {
        Ok(file) => Ok((file, None)),
        Err(LayoutError::NotFound { .. }) => {
            let newest = all(root, IDENTITY_FILE)?
                .into_iter()
                .filter(|(_, stable)| *stable)
                .map(|(f, _)| f)
                .max_by(|a, b| a.api_version.cmp(&b.api_version));
            match newest {
                Some(file) => {
                    let note = format!(
                        "no identity-service spec for {api_version}; using {} (the newest stable one)",
                        file.api_version
                    );
                    Ok((file, Some(note)))
                }
                None => find(root, IDENTITY_FILE, api_version).map(|f| (f, None)),
            }
        }
        Err(other) => Err(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for rel in [
            "ConfidentialLedger/stable/2026-02-23/confidentialledger.json",
            "ConfidentialLedger/preview/2026-07-31-preview/confidentialledger.json",
            "ConfidentialLedgerIdentity/stable/2026-02-23/identityservice.json",
            "Microsoft.ConfidentialLedger/stable/2022-05-13/confidentialledger.json",
            "Microsoft.ConfidentialLedger/stable/2022-05-13/identityservice.json",
        ] {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "{}").unwrap();
        }
        dir
    }

    #[test]
    fn files_are_found_by_api_version_across_service_folders() {
        let dir = tree();
        let f = find(dir.path(), LEDGER_FILE, "2022-05-13").unwrap();
        assert_eq!(
            f.relative,
            "Microsoft.ConfidentialLedger/stable/2022-05-13/confidentialledger.json"
        );
        let f = find(dir.path(), LEDGER_FILE, "2026-07-31-preview").unwrap();
        assert_eq!(
            f.relative,
            "ConfidentialLedger/preview/2026-07-31-preview/confidentialledger.json"
        );
    }

    #[test]
    fn an_unknown_version_lists_the_available_ones() {
        let dir = tree();
        let err = find(dir.path(), LEDGER_FILE, "1999-01-01")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("2022-05-13, 2026-02-23, 2026-07-31-preview"),
            "{err}"
        );
    }

    #[test]
    fn identity_falls_back_to_the_newest_stable_version_with_a_note() {
        let dir = tree();
        let (f, note) = identity_for(dir.path(), "2022-05-13").unwrap();
        assert_eq!((f.api_version.as_str(), note), ("2022-05-13", None));
        let (f, note) = identity_for(dir.path(), "2026-07-31-preview").unwrap();
        assert_eq!(f.api_version, "2026-02-23");
        assert!(note.unwrap().contains("2026-07-31-preview"));
    }

    #[test]
    fn a_missing_folder_is_reported() {
        let err = find(Path::new("/nonexistent/specs"), LEDGER_FILE, "x").unwrap_err();
        assert!(matches!(err, LayoutError::Unreadable { .. }));
    }
}
