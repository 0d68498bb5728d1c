//! Open enums: `x-ms-enum.modelAsString: true` means the service may send values the spec does
//! not list (the examples already use a role `Writer`), so a closed Rust enum would fail to
//! deserialize them.
//!
//! An open enum named `X` becomes two components:
//!
//! ```json
//! "X":      {"oneOf": [{"$ref": "#/components/schemas/XKnown"},
//!                      {"title": "XOther", "type": "string"}],
//!            "x-ms-enum": {"modelAsString": true, "name": "..."}},
//! "XKnown": {"type": "string", "enum": ["A", "B"]}
//! ```
//!
//! which the client generator turns into `enum X { Known(XKnown), Other(String) }` (untagged:
//! a listed value deserializes as `Known`, anything else as `Other`) and a closed
//! `enum XKnown { A, B }` holding the listed values. The variant names come from the common
//! prefix of `XKnown` and `XOther`.
//!
//! Enums without `modelAsString: true` stay closed.

use serde_json::{Map, Value, json};

use super::{Converter, Ctx, Result, refs};

/// The component name of an open enum's listed values.
pub fn known_name(name: &str) -> String {
    format!("{name}Known")
}

/// The title (variant naming device) of an open enum's catch-all string.
pub fn other_title(name: &str) -> String {
    format!("{name}Other")
}

/// Keep only the structural parts of `x-ms-enum` (`name`, `modelAsString`); value descriptions
/// are prose and the values themselves are in `enum`.
pub fn clean_x_ms_enum(value: &Value) -> Value {
    let mut out = Map::new();
    for key in ["name", "modelAsString"] {
        if let Some(v) = value.get(key) {
            out.insert(key.to_string(), v.clone());
        }
    }
    Value::Object(out)
}

/// Whether a converted schema is an open enum.
pub fn is_open_enum(schema: &Value) -> bool {
    schema.get("enum").is_some()
        && schema
            .get("x-ms-enum")
            .and_then(|e| e.get("modelAsString"))
            .and_then(Value::as_bool)
            == Some(true)
}

/// Split a converted open enum into (the open schema, the schema of its known values), or
/// `None` when `schema` is not an open enum.
pub fn split_open_enum(name: &str, schema: &Value) -> Option<(Value, Value)> {
    if !is_open_enum(schema) {
        return None;
    }
    let obj = schema.as_object()?;
    let ty = obj.get("type").cloned().unwrap_or_else(|| json!("string"));
    let mut known = Map::new();
    let mut open = Map::new();
    for (key, value) in obj {
        match key.as_str() {
            "type" | "enum" | "format" => {
                known.insert(key.clone(), value.clone());
            }
            _ => {
                open.insert(key.clone(), value.clone());
            }
        }
    }
    known.insert("type".to_string(), ty.clone());
    open.insert(
        "oneOf".to_string(),
        json!([
            { "$ref": refs::component_ref("schemas", &known_name(name)) },
            { "title": other_title(name), "type": ty },
        ]),
    );
    Some((Value::Object(open), Value::Object(known)))
}

impl Converter<'_> {
    /// An open enum nested in another schema: hoisted to a component named by
    /// `x-ms-enum.name` (shared by every use), or left inline as a `oneOf` when it has no name.
    pub(crate) fn nested_open_enum(&mut self, converted: Value, ctx: &Ctx) -> Result<Value> {
        let name = converted
            .get("x-ms-enum")
            .and_then(|e| e.get("name"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let Some(name) = name else {
            // Unnamed: an inline untagged enum of the listed values and any string.
            let mut open = Map::new();
            let mut known = Map::new();
            if let Value::Object(obj) = &converted {
                for (key, value) in obj {
                    match key.as_str() {
                        "type" | "enum" | "format" => known.insert(key.clone(), value.clone()),
                        _ => open.insert(key.clone(), value.clone()),
                    };
                }
            }
            let ty = known
                .get("type")
                .cloned()
                .unwrap_or_else(|| json!("string"));
            open.insert(
                "oneOf".to_string(),
                json!([Value::Object(known), { "type": ty }]),
            );
            return Ok(Value::Object(open));
        };
        let Some((open, known)) = split_open_enum(&name, &converted) else {
            return Ok(converted);
        };
        let origin = format!("x-ms-enum \"{name}\" at {}", ctx.describe());
        self.add_schema(&known_name(&name), known, origin.clone())?;
        self.add_schema(&name, open, origin)?;
        Ok(json!({ "$ref": refs::component_ref("schemas", &name) }))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::convert::{ConvertError, NoExternalFiles, convert};

    fn doc(defs: serde_json::Value) -> serde_json::Value {
        json!({"swagger": "2.0", "info": {"title": "t", "version": "v"}, "paths": {},
               "definitions": defs})
    }

    #[test]
    fn a_model_as_string_enum_becomes_known_values_or_any_string() {
        let out = convert(
            &doc(json!({"Role": {
                "type": "string", "enum": ["Reader", "Administrator"], "description": "d",
                "x-ms-enum": {"name": "RoleName", "modelAsString": true,
                              "values": [{"name": "Reader", "value": "Reader", "description": "r"}]}
            }})),
            &NoExternalFiles,
        )
        .unwrap()
        .document;
        let s = &out["components"]["schemas"];
        assert_eq!(
            s["Role"],
            json!({
                "oneOf": [
                    {"$ref": "#/components/schemas/RoleKnown"},
                    {"title": "RoleOther", "type": "string"}
                ],
                "x-ms-enum": {"name": "RoleName", "modelAsString": true}
            })
        );
        assert_eq!(
            s["RoleKnown"],
            json!({"type": "string", "enum": ["Reader", "Administrator"]})
        );
    }

    #[test]
    fn closed_enums_stay_closed() {
        let out = convert(
            &doc(json!({"Closed": {"type": "string", "enum": ["a", "b"],
                                   "x-ms-enum": {"name": "Closed", "modelAsString": false}},
                        "Plain": {"type": "string", "enum": ["x"]}})),
            &NoExternalFiles,
        )
        .unwrap()
        .document;
        let s = &out["components"]["schemas"];
        assert_eq!(s["Closed"]["enum"], json!(["a", "b"]));
        assert!(s["Closed"].get("oneOf").is_none());
        assert_eq!(s["Plain"], json!({"type": "string", "enum": ["x"]}));
        assert!(s.get("ClosedKnown").is_none());
    }

    #[test]
    fn nested_open_enums_are_hoisted_by_name_and_shared() {
        let inline = json!({"type": "string", "enum": ["on", "off"],
                            "x-ms-enum": {"name": "Switch", "modelAsString": true}});
        let out = convert(
            &doc(json!({
                "A": {"type": "object", "properties": {"s": inline.clone()}},
                "B": {"type": "array", "items": inline},
            })),
            &NoExternalFiles,
        )
        .unwrap()
        .document;
        let s = &out["components"]["schemas"];
        assert_eq!(
            s["A"]["properties"]["s"]["$ref"],
            "#/components/schemas/Switch"
        );
        assert_eq!(s["B"]["items"]["$ref"], "#/components/schemas/Switch");
        assert_eq!(s["SwitchKnown"]["enum"], json!(["on", "off"]));
        assert!(s["Switch"]["oneOf"].is_array());
    }

    #[test]
    fn unnamed_nested_open_enums_stay_inline() {
        let out = convert(
            &doc(json!({"A": {"type": "object", "properties": {"s": {
                "type": "string", "enum": ["on"], "x-ms-enum": {"modelAsString": true}}}}})),
            &NoExternalFiles,
        )
        .unwrap()
        .document;
        assert_eq!(
            out["components"]["schemas"]["A"]["properties"]["s"],
            json!({"oneOf": [{"type": "string", "enum": ["on"]}, {"type": "string"}],
                   "x-ms-enum": {"modelAsString": true}})
        );
    }

    #[test]
    fn a_hoisted_enum_clashing_with_a_different_definition_is_an_error() {
        let err = convert(
            &doc(json!({
                "Switch": {"type": "object"},
                "A": {"type": "object", "properties": {"s": {"type": "string", "enum": ["on"],
                      "x-ms-enum": {"name": "Switch", "modelAsString": true}}}},
            })),
            &NoExternalFiles,
        )
        .unwrap_err();
        assert!(
            matches!(err, ConvertError::NameCollision { ref name, .. } if name == "Switch"),
            "{err}"
        );
    }
}
