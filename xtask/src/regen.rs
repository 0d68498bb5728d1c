//! `cargo xtask regen`: convert the ledger and identity specs of one api-version, write them to
//! `spec/` with `spec/manifest.json` (what they were generated from) and record the API
//! difference in `spec/CHANGES.md`; or, with `--check`, compare them with `spec/`.
//!
//! Which api-versions: `--api-version` (and `--identity-api-version`) when given, otherwise
//! those the manifest names, otherwise [`layout::DEFAULT_API_VERSION`] (a first run only).
//! So `regen --api-version V` switches, and a later plain `regen` or `regen --check` stays on V.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::check::{self, Stale};
use crate::convert::{self, ConvertError, DirLoader};
use crate::diff::{self, Change};
use crate::errata::{Errata, ErrataError, Outcome};
use crate::json::to_canonical_string;
use crate::layout::{self, LayoutError, SpecFile};
use crate::manifest::{self, Entry, KnownRevision, Manifest, ManifestError, Upstream};

/// The changelog's file name in `spec/`.
pub const CHANGES_FILE: &str = "CHANGES.md";

/// What to convert and where to put it.
#[derive(Debug, Clone)]
pub struct Options {
    /// The `specification/confidentialledger/data-plane` folder.
    pub from: PathBuf,
    /// The ledger api-version; `None`: the manifest's (or the default on a first run).
    pub api_version: Option<String>,
    /// The identity-service api-version; `None`: the manifest's when the ledger's is not
    /// being changed, else paired with the ledger's (see [`layout::identity_for`]).
    pub identity_api_version: Option<String>,
    /// The upstream commit of the ledger file (`None`: kept from the manifest when the
    /// document does not change, else asked of git when `from` is a checkout).
    pub upstream_revision: Option<String>,
    /// The same for the identity file.
    pub identity_upstream_revision: Option<String>,
    /// The folder the documents go to (`spec/`).
    pub out_dir: PathBuf,
    /// The errata file (`xtask/errata.json`).
    pub errata: PathBuf,
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

/// What an erratum did to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErratumReport {
    /// The erratum's id.
    pub id: String,
    /// The file, relative to the data-plane folder.
    pub file: String,
    /// What happened.
    pub outcome: Outcome,
}

/// The API difference of one document.
#[derive(Debug, Clone)]
pub struct DocumentChanges {
    /// `ledger.json` or `identity.json`.
    pub output: String,
    /// The api-version on disk (`None`: no document yet).
    pub previous_version: Option<String>,
    /// The api-version planned.
    pub version: String,
    /// The differences (empty when unchanged or on a first run).
    pub changes: Vec<Change>,
}

/// Everything one run would write.
#[derive(Debug, Clone)]
pub struct Plan {
    /// `ledger.json` and `identity.json`.
    pub documents: Vec<Planned>,
    /// The manifest.
    pub manifest: Manifest,
    /// Where the manifest goes.
    pub manifest_path: PathBuf,
    /// What each erratum did.
    pub errata: Vec<ErratumReport>,
    /// The API difference against `spec/` on disk, per document.
    pub changes: Vec<DocumentChanges>,
    /// Things worth telling the maintainer (revision unknown, ...).
    pub notes: Vec<String>,
}

/// Why regeneration failed.
#[derive(Debug, thiserror::Error)]
pub enum RegenError {
    /// A file could not be found in the specs tree.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// The manifest could not be read.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The errata file could not be read.
    #[error(transparent)]
    Errata(#[from] ErrataError),
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

/// Convert one Swagger file into its canonical OpenAPI text, without errata.
pub fn convert_file(source: &SpecFile) -> Result<(String, Vec<String>), RegenError> {
    let (text, notes, _) = convert_with_errata(source, &Errata { errata: vec![] })?;
    Ok((text, notes))
}

/// Convert one Swagger file into its canonical OpenAPI text, applying the errata for it.
pub fn convert_with_errata(
    source: &SpecFile,
    errata: &Errata,
) -> Result<(String, Vec<String>, Vec<ErratumReport>), RegenError> {
    let text = std::fs::read_to_string(&source.path).map_err(|e| RegenError::Read {
        path: source.path.clone(),
        problem: e.to_string(),
    })?;
    let mut swagger: Value = serde_json::from_str(&text).map_err(|e| RegenError::Read {
        path: source.path.clone(),
        problem: format!("invalid JSON: {e}"),
    })?;
    let file_name = source
        .path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut reports = Vec::new();
    for erratum in errata.for_file(&file_name, &source.api_version) {
        reports.push(ErratumReport {
            id: erratum.id.clone(),
            file: source.relative.clone(),
            outcome: erratum.apply(&mut swagger),
        });
    }
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
    Ok((to_canonical_string(&document), conversion.notes, reports))
}

/// The last upstream commit of `source` when its folder is a git checkout.
fn git_revision(source: &SpecFile) -> Option<String> {
    let dir = source.path.parent()?;
    let file = source.path.file_name()?;
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["log", "-1", "--format=%H", "--"])
        .arg(file)
        .output()
        .ok()?;
    let rev = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !rev.is_empty()).then_some(rev)
}

/// Convert the documents `options` asks for and work out the manifest and the API difference,
/// writing nothing.
pub fn plan(options: &Options) -> Result<Plan, RegenError> {
    let previous = Manifest::read(&options.out_dir)?;
    let errata = Errata::read(&options.errata)?;
    let api_version = options
        .api_version
        .clone()
        .or_else(|| previous.as_ref().map(|m| m.ledger.api_version.clone()))
        .unwrap_or_else(|| layout::DEFAULT_API_VERSION.to_string());
    let ledger = layout::find(&options.from, layout::LEDGER_FILE, &api_version)?;
    let identity_version = options.identity_api_version.clone().or_else(|| {
        // Keep the manifest's identity version unless the ledger's is being switched.
        previous
            .as_ref()
            .filter(|m| m.ledger.api_version == api_version)
            .map(|m| m.identity.api_version.clone())
    });
    let (identity, identity_note) = match identity_version {
        Some(v) => (
            layout::find(&options.from, layout::IDENTITY_FILE, &v)?,
            None,
        ),
        None => layout::identity_for(&options.from, &api_version)?,
    };

    let mut documents = Vec::new();
    let mut reports = Vec::new();
    let mut changes = Vec::new();
    let mut notes = Vec::new();
    let mut entries = Vec::new();
    let mut known_revisions = previous
        .as_ref()
        .map(|m| m.known_revisions.clone())
        .unwrap_or_default();
    for (name, source, extra, revision) in [
        (
            "ledger.json",
            ledger,
            None,
            options.upstream_revision.clone(),
        ),
        (
            "identity.json",
            identity,
            identity_note,
            options.identity_upstream_revision.clone(),
        ),
    ] {
        let (contents, mut doc_notes, errata_reports) = convert_with_errata(&source, &errata)?;
        doc_notes.extend(extra);
        let path = options.out_dir.join(name);
        let on_disk = std::fs::read_to_string(&path).ok();
        let unchanged = on_disk.as_deref() == Some(contents.as_str());
        let previous_entry = previous.as_ref().map(|m| {
            if name == "ledger.json" {
                &m.ledger
            } else {
                &m.identity
            }
        });
        let fingerprint = manifest::fingerprint(&contents);
        let upstream_commit = revision.or_else(|| {
            previous_entry
                .filter(|e| unchanged && e.source == source.relative)
                .and_then(|e| e.upstream_commit.clone())
                .or_else(|| {
                    known_revisions
                        .get(&source.relative)
                        .filter(|k| k.converted == fingerprint)
                        .map(|k| k.commit.clone())
                })
                .or_else(|| git_revision(&source))
        });
        if let Some(commit) = &upstream_commit {
            known_revisions.insert(
                source.relative.clone(),
                KnownRevision {
                    commit: commit.clone(),
                    converted: fingerprint,
                },
            );
        }
        if upstream_commit.is_none() {
            notes.push(format!(
                "{}: upstream revision unknown (pass --upstream-revision <commit> to record it)",
                source.relative
            ));
        }
        let old: Option<Value> = on_disk
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok());
        let new: Value = serde_json::from_str(&contents).unwrap_or(Value::Null);
        changes.push(DocumentChanges {
            output: name.to_string(),
            previous_version: old
                .as_ref()
                .and_then(|o| o.pointer("/info/version"))
                .and_then(Value::as_str)
                .map(str::to_string),
            version: source.api_version.clone(),
            changes: old
                .as_ref()
                .map(|o| diff::diff(o, &new))
                .unwrap_or_default(),
        });
        entries.push(Entry {
            api_version: source.api_version.clone(),
            source: source.relative.clone(),
            upstream_commit,
            output: name.to_string(),
        });
        reports.extend(errata_reports);
        documents.push(Planned {
            path,
            source,
            contents,
            notes: doc_notes,
        });
    }
    let mut applied: Vec<String> = reports
        .iter()
        .filter(|r| r.outcome == Outcome::Applied)
        .map(|r| r.id.clone())
        .collect();
    applied.sort();
    applied.dedup();
    let (Some(identity), Some(ledger)) = (entries.pop(), entries.pop()) else {
        unreachable!("two documents are planned")
    };
    Ok(Plan {
        documents,
        manifest: Manifest {
            upstream: Upstream {
                repository: manifest::UPSTREAM_REPOSITORY.to_string(),
                path: manifest::UPSTREAM_PATH.to_string(),
            },
            ledger,
            identity,
            errata: applied,
            known_revisions,
        },
        manifest_path: options.out_dir.join(manifest::MANIFEST_FILE),
        errata: reports,
        changes,
        notes,
    })
}

impl Plan {
    /// Every file `--check` compares: the documents and the manifest.
    pub fn files(&self) -> Vec<(PathBuf, String)> {
        let mut files: Vec<(PathBuf, String)> = self
            .documents
            .iter()
            .map(|p| (p.path.clone(), p.contents.clone()))
            .collect();
        files.push((
            self.manifest_path.clone(),
            self.manifest.to_canonical_string(),
        ));
        files
    }

    /// The planned files that differ from those on disk.
    pub fn stale(&self) -> Vec<Stale> {
        self.files()
            .iter()
            .filter_map(|(path, contents)| check::compare(path, contents))
            .collect()
    }

    /// Errata that no longer apply, as text.
    pub fn errata_not_applying(&self) -> Vec<String> {
        self.errata
            .iter()
            .filter_map(|r| match &r.outcome {
                Outcome::NoLongerApplies(why) => Some(format!(
                    "erratum `{}` no longer applies to {}: {why}; delete it from xtask/errata.json once upstream is confirmed fixed",
                    r.id, r.file
                )),
                Outcome::Applied => None,
            })
            .collect()
    }

    /// The API difference as printed by `regen` and recorded in `spec/CHANGES.md`: one
    /// Markdown section, or `None` when no document changes.
    pub fn changelog_section(&self) -> Option<String> {
        let documents_change = self
            .documents
            .iter()
            .any(|p| check::compare(&p.path, &p.contents).is_some());
        if !documents_change {
            return None;
        }
        let versions: Vec<String> = self
            .changes
            .iter()
            .map(|c| {
                let name = c.output.trim_end_matches(".json");
                match &c.previous_version {
                    Some(p) if *p != c.version => format!("{name} {p} -> {}", c.version),
                    _ => format!("{name} {}", c.version),
                }
            })
            .collect();
        let mut s = format!("## {}\n\n", versions.join(", "));
        for entry in [&self.manifest.ledger, &self.manifest.identity] {
            s.push_str(&format!(
                "Source: `{}` (upstream {})\n",
                entry.source,
                entry
                    .upstream_commit
                    .as_deref()
                    .unwrap_or("revision unknown")
            ));
        }
        for doc in &self.changes {
            s.push_str(&format!("\n### {}\n\n", doc.output));
            if doc.previous_version.is_none() {
                s.push_str("- first generation: no previous document to compare with\n");
            } else {
                s.push_str(&diff::markdown(&doc.changes));
            }
        }
        if !self.errata.is_empty() {
            s.push_str("\n### errata\n\n");
            for r in &self.errata {
                match &r.outcome {
                    Outcome::Applied => {
                        s.push_str(&format!("- applied `{}` to `{}`\n", r.id, r.file))
                    }
                    Outcome::NoLongerApplies(why) => s.push_str(&format!(
                        "- NO LONGER APPLIES: `{}` on `{}`: {why}\n",
                        r.id, r.file
                    )),
                }
            }
        }
        Some(s)
    }

    /// Write the planned files that changed and, when the API changed, add a section to
    /// `spec/CHANGES.md`; returns the files written.
    pub fn write(&self) -> Result<Vec<PathBuf>, RegenError> {
        let section = self.changelog_section();
        let mut written = Vec::new();
        for (path, contents) in self.files() {
            if check::compare(&path, &contents).is_none() {
                continue;
            }
            write_file(&path, &contents)?;
            written.push(path);
        }
        if let Some(section) = section {
            let dir = self.manifest_path.parent().unwrap_or(Path::new("."));
            let path = dir.join(CHANGES_FILE);
            let existing = std::fs::read_to_string(&path).unwrap_or_default();
            write_file(&path, &add_section(&existing, &section))?;
            written.push(path);
        }
        Ok(written)
    }
}

fn write_file(path: &Path, contents: &str) -> Result<(), RegenError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| RegenError::Write {
            path: dir.to_path_buf(),
            problem: e.to_string(),
        })?;
    }
    std::fs::write(path, contents).map_err(|e| RegenError::Write {
        path: path.to_path_buf(),
        problem: e.to_string(),
    })
}

/// The changelog's heading, written when the file is new.
pub const CHANGES_HEADER: &str = "# Changes to the generated API\n\n\
Written by `cargo xtask regen`, newest first: one section per run that changed `spec/`, with the \
api-versions, the upstream sources and every operation, parameter, body, response, field, enum \
value and extension added, removed or changed, and the errata applied (or no longer applying). \
Review it with the snapshot diffs (`tests/snapshots/`) before committing.\n";

/// `existing` changelog text with `section` inserted as the newest (after the heading).
///
/// # Examples
///
/// ```
/// use xtask::regen::{add_section, CHANGES_HEADER};
///
/// let one = add_section("", "## a\n");
/// assert!(one.starts_with(CHANGES_HEADER) && one.ends_with("## a\n"));
/// let two = add_section(&one, "## b\n");
/// assert!(two.find("## b").unwrap() < two.find("## a").unwrap());
/// ```
pub fn add_section(existing: &str, section: &str) -> String {
    let (head, rest) = match existing.find("\n## ") {
        Some(i) => (&existing[..=i], &existing[i + 1..]),
        None if existing.trim().is_empty() => (CHANGES_HEADER, ""),
        None => (existing, ""),
    };
    let mut out = head.trim_end().to_string();
    out.push_str("\n\n");
    out.push_str(section.trim_end());
    out.push('\n');
    if !rest.is_empty() {
        out.push('\n');
        out.push_str(rest);
    }
    out
}
