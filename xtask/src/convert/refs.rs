//! `$ref`s: parsing Swagger references (local and `file#/pointer`) and writing OpenAPI 3
//! component references.
//!
//! Local `#/definitions/X` becomes `#/components/schemas/X` and `#/parameters/X` becomes
//! `#/components/parameters/X` (or is inlined, for body parameters). A reference into another
//! file (`common.json#/definitions/X`) copies that definition into `components/schemas` under
//! its own name; one into another file's `parameters` is inlined where it is used.

use super::{ConvertError, Ctx, Result};

/// Which section of a Swagger document a reference points into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    /// `definitions`
    Definition,
    /// `parameters`
    Parameter,
    /// `responses`
    Response,
}

impl RefKind {
    /// The Swagger section name.
    pub fn section(self) -> &'static str {
        match self {
            RefKind::Definition => "definitions",
            RefKind::Parameter => "parameters",
            RefKind::Response => "responses",
        }
    }
}

/// A parsed reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefTarget {
    /// The file, relative to the main document's folder; `None` for the main document.
    pub file: Option<String>,
    /// The section.
    pub kind: RefKind,
    /// The entry's name (pointer escapes decoded).
    pub name: String,
    /// The reference as written.
    pub original: String,
}

impl RefTarget {
    /// Parse `reference` as written in the file `ctx` is in.
    pub(crate) fn parse(reference: &str, ctx: &Ctx) -> Result<Self> {
        let fail = |problem: &str| ConvertError::UnresolvedRef {
            at: ctx.describe(),
            reference: reference.to_string(),
            problem: problem.to_string(),
        };
        let (file_part, pointer) = match reference.split_once('#') {
            Some((file, pointer)) => (file, pointer),
            None => return Err(fail("a reference to a whole file is not supported")),
        };
        let file = if file_part.is_empty() {
            ctx.file.clone()
        } else {
            let joined = match &ctx.file {
                Some(current) => match current.rsplit_once('/') {
                    Some((dir, _)) => format!("{dir}/{file_part}"),
                    None => file_part.to_string(),
                },
                None => file_part.to_string(),
            };
            Some(normalize_path(&joined).ok_or_else(|| fail("the file path leaves the tree"))?)
        };
        let mut segments = pointer.strip_prefix('/').unwrap_or(pointer).split('/');
        let section = segments.next().unwrap_or_default();
        let name = segments.next().map(unescape_pointer);
        let (Some(name), None) = (name, segments.next()) else {
            return Err(fail("expected #/<section>/<name>"));
        };
        let kind = match section {
            "definitions" => RefKind::Definition,
            "parameters" => RefKind::Parameter,
            "responses" => RefKind::Response,
            _ => {
                return Err(fail(
                    "only definitions, parameters and responses can be referenced",
                ));
            }
        };
        Ok(Self {
            file,
            kind,
            name,
            original: reference.to_string(),
        })
    }
}

/// `#/components/<section>/<name>` with the name pointer-escaped.
pub fn component_ref(section: &str, name: &str) -> String {
    format!("#/components/{section}/{}", escape_pointer(name))
}

/// Escape a JSON pointer segment (`~` → `~0`, `/` → `~1`).
pub fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Undo [`escape_pointer`].
pub fn unescape_pointer(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// Resolve `.` and `..` in a `/`-separated relative path; `None` if it climbs above its start
/// further than the input allows (a leading `..` is kept).
fn normalize_path(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&"..") | None => parts.push(".."),
                Some(_) => {
                    parts.pop();
                }
            },
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        return None;
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(reference: &str, file: Option<&str>) -> Result<RefTarget> {
        RefTarget::parse(reference, &Ctx::in_file(file.map(String::from), "/x"))
    }

    #[test]
    fn local_references_stay_in_their_file() {
        let t = parse("#/definitions/A.B", None).unwrap();
        assert_eq!(
            (t.file, t.kind, t.name.as_str()),
            (None, RefKind::Definition, "A.B")
        );
        let t = parse("#/definitions/Err", Some("sub/common.json")).unwrap();
        assert_eq!(t.file.as_deref(), Some("sub/common.json"));
    }

    #[test]
    fn file_references_are_relative_to_the_referring_file() {
        let t = parse("common.json#/parameters/ApiVersion", None).unwrap();
        assert_eq!(t.file.as_deref(), Some("common.json"));
        assert_eq!(t.kind, RefKind::Parameter);
        let t = parse("./x.json#/definitions/Y", Some("a/b.json")).unwrap();
        assert_eq!(t.file.as_deref(), Some("a/x.json"));
        let t = parse("../x.json#/responses/Z", Some("a/b.json")).unwrap();
        assert_eq!(t.file.as_deref(), Some("x.json"));
    }

    #[test]
    fn pointer_escapes_are_decoded_and_encoded() {
        let t = parse("#/definitions/a~1b~0c", None).unwrap();
        assert_eq!(t.name, "a/b~c");
        assert_eq!(
            component_ref("schemas", &t.name),
            "#/components/schemas/a~1b~0c"
        );
    }

    #[test]
    fn unsupported_references_are_errors() {
        for bad in [
            "common.json",
            "#/paths/x",
            "#/definitions/a/b",
            "#/definitions",
        ] {
            assert!(
                matches!(parse(bad, None), Err(ConvertError::UnresolvedRef { .. })),
                "{bad}"
            );
        }
    }
}
