//! Schemas: `definitions` to `components/schemas`, and the keyword differences between
//! Swagger 2.0 and OpenAPI 3.0.
//!
//! - `$ref` is rewritten (see [`super::refs`]); keywords beside a `$ref` are dropped, as
//!   OpenAPI 3.0 ignores them.
//! - `x-nullable: true` becomes `nullable: true`.
//! - A string `discriminator` becomes `{"propertyName": ...}`.
//! - `type: file` becomes a binary string.
//! - Invalid upstream schemas are repaired where the intent is plain, with a note: an object
//!   with `items` and no properties is an array; a primitive with `properties` loses them.
//! - Open enums (see [`super::enums`]) nested inside other schemas are hoisted to named
//!   components (by `x-ms-enum.name`) so every use shares one type.

use serde_json::{Map, Value, json};

use super::{Converter, Ctx, Result, enums, prose, refs};

const PRIMITIVES: &[&str] = &["string", "integer", "number", "boolean"];

impl Converter<'_> {
    /// Convert a schema found nested in another construct (property, item, parameter, body,
    /// response); open enums are hoisted to components.
    pub(crate) fn schema(&mut self, s: &Value, ctx: &Ctx) -> Result<Value> {
        let converted = self.schema_body(s, ctx)?;
        if enums::is_open_enum(&converted) {
            return self.nested_open_enum(converted, ctx);
        }
        Ok(converted)
    }

    /// Convert a schema without hoisting it (used directly for named definitions).
    pub(crate) fn schema_body(&mut self, s: &Value, ctx: &Ctx) -> Result<Value> {
        let obj = s
            .as_object()
            .ok_or_else(|| ctx.malformed("a schema must be a JSON object"))?;
        if let Some(reference) = obj.get("$ref") {
            let reference = reference
                .as_str()
                .ok_or_else(|| ctx.malformed("$ref must be a string"))?;
            return Ok(json!({ "$ref": self.schema_ref(reference, ctx)? }));
        }
        let mut out = Map::new();
        for (key, value) in obj {
            if prose::is_prose(key) {
                continue;
            }
            let child = ctx.child(key);
            match key.as_str() {
                "properties" => {
                    let props = value
                        .as_object()
                        .ok_or_else(|| child.malformed("properties must be an object"))?;
                    let mut converted = Map::new();
                    for (name, prop) in props {
                        let at = child.child(&refs::escape_pointer(name));
                        converted.insert(name.clone(), self.schema(prop, &at)?);
                    }
                    out.insert(key.clone(), Value::Object(converted));
                }
                "additionalProperties" => {
                    let converted = match value {
                        Value::Bool(_) => value.clone(),
                        other => self.schema(other, &child)?,
                    };
                    out.insert(key.clone(), converted);
                }
                "items" => {
                    if value.is_array() {
                        return Err(child.unsupported("tuple-typed items (an array of schemas)"));
                    }
                    out.insert(key.clone(), self.schema(value, &child)?);
                }
                "allOf" | "anyOf" | "oneOf" => {
                    let list = value
                        .as_array()
                        .ok_or_else(|| child.malformed("must be an array of schemas"))?;
                    let converted = list
                        .iter()
                        .enumerate()
                        .map(|(i, item)| self.schema(item, &child.child(&i.to_string())))
                        .collect::<Result<Vec<_>>>()?;
                    out.insert(key.clone(), Value::Array(converted));
                }
                "not" => {
                    out.insert(key.clone(), self.schema(value, &child)?);
                }
                "x-nullable" => {
                    if value.as_bool() == Some(true) {
                        out.insert("nullable".to_string(), Value::Bool(true));
                    }
                }
                "discriminator" => {
                    let converted = match value {
                        Value::String(name) => json!({ "propertyName": name }),
                        other => other.clone(),
                    };
                    out.insert(key.clone(), converted);
                }
                "x-ms-enum" => {
                    out.insert(key.clone(), enums::clean_x_ms_enum(value));
                }
                "type" => match value.as_str() {
                    Some("file") => {
                        out.insert("type".to_string(), json!("string"));
                        out.insert("format".to_string(), json!("binary"));
                    }
                    Some(_) => {
                        out.insert(key.clone(), value.clone());
                    }
                    None => return Err(child.malformed("type must be a single string")),
                },
                _ => {
                    out.insert(key.clone(), value.clone());
                }
            }
        }
        self.repair(&mut out, ctx)?;
        Ok(Value::Object(out))
    }

    /// Fix schemas that are invalid but whose intent is plain; note each repair.
    fn repair(&mut self, out: &mut Map<String, Value>, ctx: &Ctx) -> Result<()> {
        let ty = out.get("type").and_then(Value::as_str).map(str::to_string);
        if out.contains_key("items") {
            match ty.as_deref() {
                None | Some("array") => {}
                Some("object")
                    if !out.contains_key("properties")
                        && !out.contains_key("additionalProperties") =>
                {
                    out.insert("type".to_string(), json!("array"));
                    self.note(
                        ctx,
                        "invalid schema repaired: `type: object` with `items` is treated as an array",
                    );
                }
                Some(other) => {
                    return Err(ctx.unsupported(format!("`items` on a schema of type {other}")));
                }
            }
        }
        if let Some(ty) = ty.as_deref().filter(|t| PRIMITIVES.contains(t)) {
            let dropped: Vec<&str> = ["properties", "required", "additionalProperties"]
                .into_iter()
                .filter(|k| out.contains_key(*k))
                .collect();
            if !dropped.is_empty() {
                for key in &dropped {
                    out.remove(*key);
                }
                self.note(
                    ctx,
                    format!(
                        "invalid schema repaired: `type: {ty}` cannot have {}; dropped",
                        dropped.join(", ")
                    ),
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::convert::{NoExternalFiles, convert};

    fn convert_defs(defs: serde_json::Value) -> crate::convert::Conversion {
        let doc = json!({
            "swagger": "2.0",
            "info": {"title": "t", "version": "v"},
            "paths": {},
            "definitions": defs,
        });
        convert(&doc, &NoExternalFiles).unwrap()
    }

    #[test]
    fn definitions_become_component_schemas_with_rewritten_refs() {
        let out = convert_defs(json!({
            "A": {"type": "object", "description": "prose", "properties": {
                "b": {"$ref": "#/definitions/B", "readOnly": true, "description": "x"},
                "description": {"type": "string", "title": "kept as a property"}
            }, "required": ["b"]},
            "B": {"type": "array", "items": {"$ref": "#/definitions/C"}},
            "C": {"type": "object", "additionalProperties": {"$ref": "#/definitions/B"}},
        }))
        .document;
        let schemas = &out["components"]["schemas"];
        assert_eq!(
            schemas["A"],
            json!({"type": "object", "required": ["b"], "properties": {
                "b": {"$ref": "#/components/schemas/B"},
                "description": {"type": "string"}
            }})
        );
        assert_eq!(schemas["B"]["items"]["$ref"], "#/components/schemas/C");
        assert_eq!(
            schemas["C"]["additionalProperties"]["$ref"],
            "#/components/schemas/B"
        );
    }

    #[test]
    fn swagger_only_keywords_are_translated() {
        let out = convert_defs(json!({
            "N": {"type": "object", "x-nullable": true, "discriminator": "kind",
                  "properties": {"kind": {"type": "string"}}},
            "F": {"type": "file"},
            "M": {"type": "object", "x-nullable": false},
        }))
        .document;
        let s = &out["components"]["schemas"];
        assert_eq!(s["N"]["nullable"], true);
        assert!(s["N"].get("x-nullable").is_none());
        assert_eq!(s["N"]["discriminator"], json!({"propertyName": "kind"}));
        assert_eq!(s["F"], json!({"type": "string", "format": "binary"}));
        assert_eq!(s["M"], json!({"type": "object"}));
    }

    #[test]
    fn invalid_upstream_schemas_are_repaired_with_notes() {
        // The shapes of 2024-12-09-preview's `ModuleDef_array` and `RoleActionDef`.
        let conv = convert_defs(json!({
            "ModuleDef": {"type": "object", "properties": {"name": {"type": "string"}}},
            "ModuleDef_array": {"type": "object", "items": {"$ref": "#/definitions/ModuleDef"}},
            "RoleActionDef": {"type": "string", "required": ["roleActions"],
                              "properties": {"roleActions": {"type": "string"}}},
        }));
        let s = &conv.document["components"]["schemas"];
        assert_eq!(
            s["ModuleDef_array"],
            json!({"type": "array", "items": {"$ref": "#/components/schemas/ModuleDef"}})
        );
        assert_eq!(s["RoleActionDef"], json!({"type": "string"}));
        assert_eq!(conv.notes.len(), 2, "{:?}", conv.notes);
        assert!(conv.notes[0].contains("/definitions/ModuleDef_array"));
        assert!(conv.notes[1].contains("/definitions/RoleActionDef"));
    }

    #[test]
    fn unrepairable_schemas_are_errors() {
        let doc = json!({
            "swagger": "2.0", "info": {"title": "t", "version": "v"}, "paths": {},
            "definitions": {"X": {"type": "integer", "items": {"type": "string"}}},
        });
        let err = convert(&doc, &NoExternalFiles).unwrap_err().to_string();
        assert!(err.contains("/definitions/X"), "{err}");
    }

    #[test]
    fn a_dangling_reference_is_an_error_naming_it() {
        let doc = json!({
            "swagger": "2.0", "info": {"title": "t", "version": "v"}, "paths": {},
            "definitions": {"X": {"$ref": "#/definitions/Nope"}},
        });
        let err = convert(&doc, &NoExternalFiles).unwrap_err().to_string();
        assert!(err.contains("#/definitions/Nope"), "{err}");
    }
}
