//! Corrections applied to upstream Swagger files before conversion (`xtask/errata.json`).
//!
//! Upstream specs are sometimes wrong about the service (a field marked required that the
//! service omits). Each erratum names the file and api-versions it corrects, the JSON pointer
//! into the Swagger document, one edit, and why (`reason`, `evidence`: a recording or the
//! service's observed behaviour). An erratum whose target is gone, or whose edit would change
//! nothing, *no longer applies*: `regen` says so and records it in `spec/CHANGES.md`, so it can
//! be deleted once upstream is fixed.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

/// The errata file, relative to the workspace root.
pub const ERRATA_FILE: &str = "xtask/errata.json";

/// The errata file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Errata {
    /// Every erratum.
    pub errata: Vec<Erratum>,
}

/// One correction.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Erratum {
    /// A short unique id (recorded in `spec/manifest.json` when applied).
    pub id: String,
    /// The Swagger file name it corrects (`confidentialledger.json`).
    pub file: String,
    /// The api-versions it corrects.
    pub api_versions: Vec<String>,
    /// A JSON pointer into the Swagger document.
    pub pointer: String,
    /// The edit.
    pub edit: Edit,
    /// Why the upstream text is wrong.
    pub reason: String,
    /// What shows it (a recording, the service's behaviour).
    pub evidence: String,
}

/// What an erratum does at its pointer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Edit {
    /// Remove this string from the array at the pointer (a `required` list, an `enum`).
    RemoveValue(String),
    /// Replace the value at the pointer (which must exist).
    Set(Value),
    /// Delete the object member at the pointer.
    Remove,
    /// Add a member that upstream lacks: an object member (the pointer's last token names it;
    /// it must not exist yet), or an array element (the pointer ends in `/-`; an element
    /// equal to it, or with the same `name`, must not exist yet). Once upstream has it, the
    /// erratum no longer applies.
    Add(Value),
}

/// What happened to an erratum on one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It changed the document.
    Applied,
    /// It is for this file and version but changes nothing any more; the text says why.
    NoLongerApplies(String),
}

/// Why the errata file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ErrataError {
    /// The file cannot be read.
    #[error("cannot read {path}: {problem}")]
    Unreadable {
        /// The file.
        path: String,
        /// Why.
        problem: String,
    },
    /// The file is not valid.
    #[error("{path}: {problem}")]
    Invalid {
        /// The file.
        path: String,
        /// Why.
        problem: String,
    },
}

impl Errata {
    /// Parse the errata file's text, checking that ids are unique and reasons given.
    ///
    /// # Examples
    ///
    /// ```
    /// use xtask::errata::Errata;
    ///
    /// let errata = Errata::parse(r#"{"errata": [{
    ///     "id": "state-optional", "file": "confidentialledger.json",
    ///     "api_versions": ["2026-07-31-preview"],
    ///     "pointer": "/definitions/LedgerWriteResult/required",
    ///     "edit": {"remove_value": "state"},
    ///     "reason": "sent only with waitForCommit=true", "evidence": "service behaviour"
    /// }]}"#, "errata.json").unwrap();
    /// assert_eq!(errata.errata.len(), 1);
    /// assert!(Errata::parse(r#"{"errata": [{"id": "x"}]}"#, "errata.json").is_err());
    /// ```
    pub fn parse(text: &str, path: &str) -> Result<Self, ErrataError> {
        let invalid = |problem: String| ErrataError::Invalid {
            path: path.to_string(),
            problem,
        };
        let errata: Self = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let mut ids: Vec<&str> = errata.errata.iter().map(|e| e.id.as_str()).collect();
        ids.sort_unstable();
        if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
            return Err(invalid(format!("erratum id `{}` is used twice", w[0])));
        }
        for e in &errata.errata {
            if e.reason.trim().is_empty() || e.evidence.trim().is_empty() {
                return Err(invalid(format!(
                    "erratum `{}` needs a reason and evidence",
                    e.id
                )));
            }
            if !e.pointer.starts_with('/') {
                return Err(invalid(format!(
                    "erratum `{}`: pointer `{}` must start with `/`",
                    e.id, e.pointer
                )));
            }
        }
        Ok(errata)
    }

    /// Read the errata file; a missing file means no errata.
    ///
    /// # Examples
    ///
    /// ```
    /// let none = xtask::errata::Errata::read(std::path::Path::new("/nonexistent/errata.json")).unwrap();
    /// assert!(none.errata.is_empty());
    /// ```
    pub fn read(path: &Path) -> Result<Self, ErrataError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self { errata: vec![] }),
            Err(e) => Err(ErrataError::Unreadable {
                path: path.display().to_string(),
                problem: e.to_string(),
            }),
        }
    }

    /// The errata for `file` at `api_version`.
    pub fn for_file<'a>(
        &'a self,
        file: &'a str,
        api_version: &'a str,
    ) -> impl Iterator<Item = &'a Erratum> + 'a {
        self.errata
            .iter()
            .filter(move |e| e.file == file && e.api_versions.iter().any(|v| v == api_version))
    }
}

impl Erratum {
    /// Apply this erratum to `swagger`.
    ///
    /// # Examples
    ///
    /// ```
    /// use serde_json::json;
    /// use xtask::errata::{Edit, Erratum, Outcome};
    ///
    /// let erratum = Erratum {
    ///     id: "state-optional".into(),
    ///     file: "confidentialledger.json".into(),
    ///     api_versions: vec!["2026-07-31-preview".into()],
    ///     pointer: "/definitions/R/required".into(),
    ///     edit: Edit::RemoveValue("state".into()),
    ///     reason: "r".into(),
    ///     evidence: "e".into(),
    /// };
    /// let mut doc = json!({"definitions": {"R": {"required": ["id", "state"]}}});
    /// assert_eq!(erratum.apply(&mut doc), Outcome::Applied);
    /// assert_eq!(doc["definitions"]["R"]["required"], json!(["id"]));
    /// // Upstream fixed it: the erratum says it no longer applies.
    /// assert!(matches!(erratum.apply(&mut doc), Outcome::NoLongerApplies(_)));
    /// ```
    pub fn apply(&self, swagger: &mut Value) -> Outcome {
        let gone = |what: &str| Outcome::NoLongerApplies(format!("{} {what}", self.pointer));
        match &self.edit {
            Edit::RemoveValue(value) => match swagger.pointer_mut(&self.pointer) {
                None => gone("does not exist"),
                Some(Value::Array(items)) => {
                    let before = items.len();
                    items.retain(|v| v.as_str() != Some(value.as_str()));
                    if items.len() == before {
                        gone(&format!("no longer contains \"{value}\""))
                    } else {
                        Outcome::Applied
                    }
                }
                Some(_) => gone("is not an array"),
            },
            Edit::Set(value) => match swagger.pointer_mut(&self.pointer) {
                None => gone("does not exist"),
                Some(current) if current == value => gone(&format!("is already {value}")),
                Some(current) => {
                    *current = value.clone();
                    Outcome::Applied
                }
            },
            Edit::Add(value) => {
                let Some((parent, key)) = self.pointer.rsplit_once('/') else {
                    return gone("is not a member");
                };
                let key = key.replace("~1", "/").replace("~0", "~");
                match swagger.pointer_mut(parent) {
                    Some(Value::Array(items)) if key == "-" => {
                        fn named(v: &Value) -> Option<&Value> {
                            v.get("name").filter(|n| n.is_string())
                        }
                        let same = items.iter().any(|item| {
                            item == value || (named(value).is_some() && named(item) == named(value))
                        });
                        if same {
                            gone("already has it")
                        } else {
                            items.push(value.clone());
                            Outcome::Applied
                        }
                    }
                    Some(Value::Object(object)) => {
                        if object.contains_key(&key) {
                            gone("already exists")
                        } else {
                            object.insert(key, value.clone());
                            Outcome::Applied
                        }
                    }
                    _ => Outcome::NoLongerApplies(format!(
                        "{parent} is neither an object nor an array (with `/-`)"
                    )),
                }
            }
            Edit::Remove => {
                let (parent, key) = match self.pointer.rsplit_once('/') {
                    Some((parent, key)) => (parent, key.replace("~1", "/").replace("~0", "~")),
                    None => return gone("is not a member"),
                };
                let removed = swagger
                    .pointer_mut(parent)
                    .and_then(Value::as_object_mut)
                    .and_then(|object| object.remove(&key));
                match removed {
                    Some(_) => Outcome::Applied,
                    None => gone("does not exist"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn erratum(pointer: &str, edit: Edit) -> Erratum {
        Erratum {
            id: "e".into(),
            file: "confidentialledger.json".into(),
            api_versions: vec!["v".into()],
            pointer: pointer.into(),
            edit,
            reason: "r".into(),
            evidence: "e".into(),
        }
    }

    #[test]
    fn add_applies_once_then_says_upstream_has_it() {
        let mut doc = json!({"definitions": {"R": {"properties": {}}},
            "p": [{"name": "a", "in": "query"}]});
        let member = erratum(
            "/definitions/R/properties/state",
            Edit::Add(json!({"type": "string"})),
        );
        assert_eq!(member.apply(&mut doc), Outcome::Applied);
        assert_eq!(
            doc["definitions"]["R"]["properties"]["state"]["type"],
            "string"
        );
        assert!(
            matches!(member.apply(&mut doc), Outcome::NoLongerApplies(w) if w.contains("already exists"))
        );

        let element = erratum("/p/-", Edit::Add(json!({"name": "w", "in": "query"})));
        assert_eq!(element.apply(&mut doc), Outcome::Applied);
        assert_eq!(doc["p"][1]["name"], "w");
        assert!(
            matches!(element.apply(&mut doc), Outcome::NoLongerApplies(w) if w.contains("already has it"))
        );
        // Upstream adds a parameter of that name, spelt differently: still no longer applies.
        let mut upstream = json!({"p": [{"name": "w", "in": "query", "default": false}]});
        assert!(matches!(
            element.apply(&mut upstream),
            Outcome::NoLongerApplies(_)
        ));

        let nowhere = erratum("/nope/x", Edit::Add(json!(1)));
        assert!(matches!(
            nowhere.apply(&mut doc),
            Outcome::NoLongerApplies(_)
        ));
    }

    #[test]
    fn set_and_remove_apply_once_then_say_they_no_longer_apply() {
        let mut doc =
            json!({"definitions": {"R": {"properties": {"a/b": {"type": "string"}}, "x": 1}}});
        let set = erratum("/definitions/R/x", Edit::Set(json!(2)));
        assert_eq!(set.apply(&mut doc), Outcome::Applied);
        assert_eq!(doc["definitions"]["R"]["x"], 2);
        assert!(
            matches!(set.apply(&mut doc), Outcome::NoLongerApplies(w) if w.contains("already 2"))
        );

        let remove = erratum("/definitions/R/properties/a~1b", Edit::Remove);
        assert_eq!(remove.apply(&mut doc), Outcome::Applied);
        assert!(
            doc["definitions"]["R"]["properties"]
                .as_object()
                .unwrap()
                .is_empty()
        );
        assert!(
            matches!(remove.apply(&mut doc), Outcome::NoLongerApplies(w) if w.contains("does not exist"))
        );

        let gone = erratum("/definitions/Nope/required", Edit::RemoveValue("x".into()));
        assert!(matches!(gone.apply(&mut doc), Outcome::NoLongerApplies(_)));
        let not_array = erratum("/definitions/R/x", Edit::RemoveValue("x".into()));
        assert!(
            matches!(not_array.apply(&mut doc), Outcome::NoLongerApplies(w) if w.contains("not an array"))
        );
    }

    #[test]
    fn the_file_is_checked_for_duplicates_reasons_and_pointers() {
        let one = r#"{"id": "a", "file": "f.json", "api_versions": ["v"], "pointer": "/x",
                      "edit": "remove", "reason": "r", "evidence": "e"}"#;
        assert!(Errata::parse(&format!(r#"{{"errata": [{one}]}}"#), "x").is_ok());
        let twice = Errata::parse(&format!(r#"{{"errata": [{one}, {one}]}}"#), "x").unwrap_err();
        assert!(twice.to_string().contains("`a` is used twice"), "{twice}");
        let no_reason = one.replace(r#""reason": "r""#, r#""reason": " ""#);
        let err = Errata::parse(&format!(r#"{{"errata": [{no_reason}]}}"#), "x").unwrap_err();
        assert!(err.to_string().contains("needs a reason"), "{err}");
        let relative = one.replace(r#""pointer": "/x""#, r#""pointer": "x""#);
        let err = Errata::parse(&format!(r#"{{"errata": [{relative}]}}"#), "x").unwrap_err();
        assert!(err.to_string().contains("must start with `/`"), "{err}");
        let unknown_edit = one.replace(r#""edit": "remove""#, r#""edit": {"rename": "y"}"#);
        assert!(Errata::parse(&format!(r#"{{"errata": [{unknown_edit}]}}"#), "x").is_err());
    }

    #[test]
    fn the_checked_in_errata_parse_and_name_their_versions() {
        let errata = Errata::read(&crate::workspace_root().join(ERRATA_FILE)).unwrap();
        assert!(!errata.errata.is_empty());
        let preview: Vec<&Erratum> = errata
            .for_file("confidentialledger.json", "2026-07-31-preview")
            .collect();
        assert!(
            preview
                .iter()
                .any(|e| e.id == "preview-write-result-state-optional")
        );
        // The stable document carries the preview's optional write additions, so the write's
        // generated signature is the same under both versions.
        let mut stable: Vec<&str> = errata
            .for_file("confidentialledger.json", "2026-02-23")
            .map(|e| e.id.as_str())
            .collect();
        stable.sort_unstable();
        assert_eq!(
            stable,
            [
                "stable-write-result-applicationClaims",
                "stable-write-result-receipt",
                "stable-write-result-state",
                "stable-write-wait-for-commit-parameter"
            ]
        );
    }
}
