//! Deterministic JSON output: every object's keys sorted, two-space indentation, one trailing
//! newline. Converting the same input twice gives byte-identical files.

use serde_json::{Map, Value};

/// A copy of `value` with the keys of every object in sorted order.
///
/// The order is made explicit rather than left to `serde_json::Map`, whose iteration order
/// depends on whether some crate in the build enabled serde_json's `preserve_order` feature.
pub fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for key in keys {
                out.insert(key.clone(), sorted(&map[key]));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// The canonical text of a document: sorted keys, two-space indentation, trailing newline.
pub fn to_canonical_string(value: &Value) -> String {
    // Serializing a `Value` cannot fail: its keys are strings and it holds no non-finite floats.
    let mut text = serde_json::to_string_pretty(&sorted(value)).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_at_every_depth_and_text_ends_with_newline() {
        let value = json!({"b": {"z": 1, "a": [ {"y": 2, "x": 1} ]}, "a": true});
        let text = to_canonical_string(&value);
        assert_eq!(
            text,
            "{\n  \"a\": true,\n  \"b\": {\n    \"a\": [\n      {\n        \"x\": 1,\n        \"y\": 2\n      }\n    ],\n    \"z\": 1\n  }\n}\n"
        );
    }

    #[test]
    fn canonical_text_is_a_fixed_point() {
        let value = json!({"q": [3, 1, 2], "p": {"k": null}});
        let once = to_canonical_string(&value);
        let reparsed: Value = serde_json::from_str(&once).unwrap();
        assert_eq!(to_canonical_string(&reparsed), once);
    }
}
