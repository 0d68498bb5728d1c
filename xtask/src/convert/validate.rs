//! Checks on the converted document: every `$ref` resolves inside it, and operation ids are
//! unique (they become method names).

use std::collections::BTreeMap;

use serde_json::Value;

use super::{ConvertError, Result, operations::METHODS, refs::unescape_pointer};

/// Check a converted document.
pub fn check_document(doc: &Value) -> Result<()> {
    let mut refs = Vec::new();
    collect_refs(doc, "", &mut refs);
    for (at, reference) in refs {
        let resolves = reference
            .strip_prefix("#/components/")
            .and_then(|rest| rest.split_once('/'))
            .filter(|(_, name)| !name.contains('/'))
            .and_then(|(section, name)| {
                doc.get("components")?
                    .get(section)?
                    .get(unescape_pointer(name))
            })
            .is_some();
        if !resolves {
            return Err(ConvertError::UnresolvedRef {
                at,
                reference,
                problem: "the converted document has no such component".to_string(),
            });
        }
    }

    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            for method in METHODS {
                let Some(op) = item.get(*method) else {
                    continue;
                };
                let id = op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let here = format!("{} {path}", method.to_uppercase());
                if let Some(first) = seen.insert(id.to_string(), here.clone()) {
                    return Err(ConvertError::OperationId {
                        at: here,
                        problem: format!("operationId \"{id}\" is also used by {first}"),
                    });
                }
            }
        }
    }
    Ok(())
}

fn collect_refs(value: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if key == "$ref" {
                    if let Value::String(s) = child {
                        out.push((at.to_string(), s.clone()));
                    }
                } else {
                    collect_refs(child, &format!("{at}/{key}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                collect_refs(child, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn dangling_component_references_are_found() {
        let doc = json!({"components": {"schemas": {"A": {"$ref": "#/components/schemas/B"}}}});
        let err = check_document(&doc).unwrap_err().to_string();
        assert!(err.contains("#/components/schemas/B"), "{err}");
        let ok =
            json!({"components": {"schemas": {"A": {}, "B": {"$ref": "#/components/schemas/A"}}}});
        check_document(&ok).unwrap();
    }
}
