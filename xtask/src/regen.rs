//! `cargo xtask regen`: convert the ledger and identity specs of one api-version and write
//! them to `spec/`, or compare them with `spec/` (`--check`).

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::check::{self, Stale};
use crate::convert::{self, ConvertError, DirLoader};
use crate::json::to_canonical_string;
use crate::layout::{self, LayoutError, SpecFile};

/// What to convert and where to put it.
#[derive(Debug, Clone)]
pub struct Options {
    /// The `specification/confidentialledger/data-plane` folder.
    pub from: PathBuf,
    /// The ledger api-version.
    pub api_version: String,
    /// The identity-service api-version; `None` pairs it with the ledger's (see
    /// [`layout::identity_for`]).
    pub identity_api_version: Option<String>,
    /// The folder the documents go to (`spec/`).
    pub out_dir: PathBuf,
}

/// A document ready to be written.
#[derive(Debug, Clone)]
pub struct Planned {
    /// Where it goes (`spec/ledger.json`).
    pub path: PathBuf,
    /// The Swagger file it comes from.
    pub source: SpecFile,
    /// The canonical text.
    pub contents: String,
    /// What the converter had to say.
    pub notes: Vec<String>,
}

/// Why regeneration failed.
#[derive(Debug, thiserror::Error)]
pub enum RegenError {
    /// A file could not be found in the specs tree.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// A Swagger file could not be read or parsed.
    #[error("cannot read {path}: {problem}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        problem: String,
    },
    /// A Swagger file could not be converted.
    #[error("converting {file}: {source}")]
    Convert {
        /// The file, relative to the data-plane folder.
        file: String,
        /// Why.
        source: ConvertError,
    },
    /// `spec/` could not be written.
    #[error("cannot write {path}: {problem}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        problem: String,
    },
}

/// The default `--from`: `../shared/azure-rest-api-specs/specification/confidentialledger/data-plane`
/// next to the workspace, or under `$CONFIDENTIAL_LEDGER_SHARED` when that is set (the same
/// override the test support uses for the `../shared` folder).
pub fn default_from(workspace_root: &Path) -> PathBuf {
    match std::env::var_os("CONFIDENTIAL_LEDGER_SHARED") {
        Some(shared) => PathBuf::from(shared).join(layout::SHARED_RELATIVE),
        None => workspace_root.join(layout::DEFAULT_FROM),
    }
}

/// Convert one Swagger file into its canonical OpenAPI text.
pub fn convert_file(source: &SpecFile) -> Result<(String, Vec<String>), RegenError> {
    let text = std::fs::read_to_string(&source.path).map_err(|e| RegenError::Read {
        path: source.path.clone(),
        problem: e.to_string(),
    })?;
    let swagger: Value = serde_json::from_str(&text).map_err(|e| RegenError::Read {
        path: source.path.clone(),
        problem: format!("invalid JSON: {e}"),
    })?;
    let dir = source.path.parent().unwrap_or(Path::new("."));
    let conversion =
        convert::convert(&swagger, &DirLoader::new(dir)).map_err(|e| RegenError::Convert {
            file: source.relative.clone(),
            source: e,
        })?;
    let mut document = conversion.document;
    if let Some(info) = document.get_mut("info").and_then(Value::as_object_mut) {
        info.insert("x-source".to_string(), json!(source.relative));
    }
    Ok((to_canonical_string(&document), conversion.notes))
}

/// Convert the documents `options` asks for, writing nothing.
pub fn plan(options: &Options) -> Result<Vec<Planned>, RegenError> {
    let ledger = layout::find(&options.from, layout::LEDGER_FILE, &options.api_version)?;
    let (identity, identity_note) = match &options.identity_api_version {
        Some(v) => (layout::find(&options.from, layout::IDENTITY_FILE, v)?, None),
        None => layout::identity_for(&options.from, &options.api_version)?,
    };
    let mut planned = Vec::new();
    for (name, source, extra) in [
        ("ledger.json", ledger, None),
        ("identity.json", identity, identity_note),
    ] {
        let (contents, mut notes) = convert_file(&source)?;
        notes.extend(extra);
        planned.push(Planned {
            path: options.out_dir.join(name),
            source,
            contents,
            notes,
        });
    }
    Ok(planned)
}

/// Write planned documents (only those that changed); returns the files written.
pub fn write(planned: &[Planned]) -> Result<Vec<PathBuf>, RegenError> {
    let mut written = Vec::new();
    for p in planned {
        if check::compare(&p.path, &p.contents).is_none() {
            continue;
        }
        if let Some(dir) = p.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| RegenError::Write {
                path: dir.to_path_buf(),
                problem: e.to_string(),
            })?;
        }
        std::fs::write(&p.path, &p.contents).map_err(|e| RegenError::Write {
            path: p.path.clone(),
            problem: e.to_string(),
        })?;
        written.push(p.path.clone());
    }
    Ok(written)
}

/// The planned documents that differ from the files on disk.
pub fn stale(planned: &[Planned]) -> Vec<Stale> {
    planned
        .iter()
        .filter_map(|p| check::compare(&p.path, &p.contents))
        .collect()
}
