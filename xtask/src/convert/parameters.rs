//! Non-body parameters: Swagger 2.0 keeps the type keywords on the parameter itself; OpenAPI 3
//! moves them into a `schema`.
//!
//! Delimited arrays (`collectionFormat` `csv`, the Swagger default, or `ssv`/`tsv`/`pipes`)
//! become plain strings with `x-collection-format` and `x-array-items` recording the original
//! shape: the caller joins the values (with `,` for csv). `multi` arrays become exploded form
//! arrays. Path parameters are always required.
//!
//! Validation keywords on a parameter's own schema (`minLength`, `pattern`, `minimum`, ...) move
//! into the parameter's `x-validation` object: the client generator would otherwise make a
//! validated newtype per operation for each of them (34 `XxxApiVersion` types for the
//! `api-version: minLength 1` every operation shares). The service validates its inputs; the
//! constraints stay in the spec as data.

use serde_json::{Map, Value, json};

use super::{ConvertError, Converter, Ctx, Result, prose, refs::RefKind, refs::RefTarget};

/// Keywords that describe a non-body parameter's value and move into its `schema`.
pub(crate) const SCHEMA_KEYWORDS: &[&str] = &[
    "type",
    "format",
    "items",
    "default",
    "enum",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "multipleOf",
    "x-nullable",
    "x-ms-enum",
];

/// Validation keywords moved from a parameter's schema into `x-validation`.
pub(crate) const VALIDATION_KEYWORDS: &[&str] = &[
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
];

/// A converted operation parameter.
pub(crate) enum Param {
    /// A parameter object or `$ref` for the operation's `parameters`.
    NonBody(Value),
    /// The body, to become the `requestBody`.
    Body {
        name: String,
        required: bool,
        schema: Value,
        extensions: Map<String, Value>,
    },
}

impl Converter<'_> {
    /// Convert an entry of an operation's (or path item's) `parameters`.
    pub(crate) fn operation_parameter(&mut self, p: &Value, ctx: &Ctx) -> Result<Param> {
        if let Some(reference) = p.get("$ref") {
            let reference = reference
                .as_str()
                .ok_or_else(|| ctx.malformed("$ref must be a string"))?;
            let target = RefTarget::parse(reference, ctx)?;
            if target.kind != RefKind::Parameter {
                return Err(ConvertError::UnresolvedRef {
                    at: ctx.describe(),
                    reference: reference.to_string(),
                    problem: "a parameter must reference #/parameters/...".to_string(),
                });
            }
            let resolved = self.resolve(&target, ctx)?;
            if resolved.get("$ref").is_some() {
                return Err(ctx.unsupported(format!("{reference} is itself a reference")));
            }
            let is_body = resolved.get("in").and_then(Value::as_str) == Some("body");
            if target.file.is_none() && !is_body {
                // A global parameter of this document: already in components/parameters.
                return Ok(Param::NonBody(json!({
                    "$ref": super::refs::component_ref("parameters", &target.name)
                })));
            }
            // Body parameters and parameters of other files are inlined, converted in the
            // context of the file that defines them.
            let inner = Ctx::in_file(target.file.clone(), format!("/parameters/{}", target.name));
            return self.operation_parameter(&resolved, &inner);
        }
        match p.get("in").and_then(Value::as_str) {
            Some("body") => {
                let name = p
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| ctx.malformed("body parameter without a name"))?
                    .to_string();
                let schema = p
                    .get("schema")
                    .ok_or_else(|| ctx.malformed("body parameter without a schema"))?;
                let schema = self.schema(schema, &ctx.child("schema"))?;
                let required = p.get("required").and_then(Value::as_bool).unwrap_or(false);
                Ok(Param::Body {
                    name,
                    required,
                    schema,
                    extensions: extensions(p),
                })
            }
            _ => Ok(Param::NonBody(self.non_body_parameter(p, ctx)?)),
        }
    }

    /// Convert a path, query or header parameter.
    pub(crate) fn non_body_parameter(&mut self, p: &Value, ctx: &Ctx) -> Result<Value> {
        let obj = p
            .as_object()
            .ok_or_else(|| ctx.malformed("a parameter must be a JSON object"))?;
        if obj.contains_key("$ref") {
            return Err(ctx.unsupported("a global parameter that is itself a reference"));
        }
        let name = obj
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| ctx.malformed("parameter without a name"))?;
        let location = obj
            .get("in")
            .and_then(Value::as_str)
            .ok_or_else(|| ctx.malformed("parameter without `in`"))?;
        match location {
            "path" | "query" | "header" => {}
            "formData" => return Err(ctx.unsupported("formData parameters")),
            other => return Err(ctx.malformed(format!("unknown parameter location `{other}`"))),
        }
        let required = location == "path"
            || obj
                .get("required")
                .and_then(Value::as_bool)
                .unwrap_or(false);

        let mut out = Map::new();
        out.insert("name".to_string(), json!(name));
        out.insert("in".to_string(), json!(location));
        out.insert("required".to_string(), json!(required));
        if let Some(v) = obj.get("allowEmptyValue") {
            out.insert("allowEmptyValue".to_string(), v.clone());
        }
        out.extend(extensions(p));

        let mut swagger_schema = Map::new();
        for key in SCHEMA_KEYWORDS {
            if let Some(v) = obj.get(*key) {
                swagger_schema.insert(key.to_string(), v.clone());
            }
        }
        let is_array = swagger_schema.get("type").and_then(Value::as_str) == Some("array");
        let schema = if is_array {
            let format = obj
                .get("collectionFormat")
                .and_then(Value::as_str)
                .unwrap_or("csv");
            let array = self.schema(&Value::Object(swagger_schema), &ctx.child("schema"))?;
            match format {
                "multi" => {
                    if location != "query" {
                        return Err(ctx.unsupported("collectionFormat multi outside the query"));
                    }
                    out.insert("style".to_string(), json!("form"));
                    out.insert("explode".to_string(), json!(true));
                    array
                }
                "csv" | "ssv" | "tsv" | "pipes" => {
                    out.insert("x-collection-format".to_string(), json!(format));
                    if let Some(items) = array.get("items") {
                        out.insert("x-array-items".to_string(), items.clone());
                    }
                    json!({ "type": "string" })
                }
                other => return Err(ctx.unsupported(format!("collectionFormat `{other}`"))),
            }
        } else {
            self.schema(&Value::Object(swagger_schema), &ctx.child("schema"))?
        };
        let mut schema = schema;
        let mut validation = Map::new();
        if let Value::Object(map) = &mut schema {
            for key in VALIDATION_KEYWORDS {
                if let Some(v) = map.remove(*key) {
                    validation.insert(key.to_string(), v);
                }
            }
        }
        if !validation.is_empty() {
            out.insert("x-validation".to_string(), Value::Object(validation));
        }
        out.insert("schema".to_string(), schema);
        Ok(Value::Object(out))
    }
}

/// The `x-` extensions of an object, without prose and without those that moved into the schema.
pub(crate) fn extensions(obj: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(obj) = obj.as_object() {
        for (key, value) in obj {
            if key.starts_with("x-")
                && !prose::is_prose(key)
                && !SCHEMA_KEYWORDS.contains(&key.as_str())
            {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::{Value, json};

    use crate::convert::{NoExternalFiles, convert};

    fn op_doc(params: Value, globals: Value) -> Value {
        json!({
            "swagger": "2.0", "info": {"title": "t", "version": "v"},
            "parameters": globals,
            "paths": {"/items/{id}": {"post": {
                "operationId": "Op", "parameters": params,
                "responses": {"204": {"description": "none"}}
            }}}
        })
    }

    #[test]
    fn type_keywords_move_into_a_schema_and_prose_is_dropped() {
        let out = convert(
            &op_doc(
                json!([
                    {"name": "id", "in": "path", "type": "string", "description": "d",
                     "x-ms-skip-url-encoding": true},
                    {"name": "n", "in": "query", "type": "integer", "format": "int64",
                     "minimum": 1, "required": false},
                    {"name": "h", "in": "header", "type": "string", "required": true},
                ]),
                json!({}),
            ),
            &NoExternalFiles,
        )
        .unwrap()
        .document;
        let params = &out["paths"]["/items/{id}"]["post"]["parameters"];
        assert_eq!(
            params[0],
            json!({"name": "id", "in": "path", "required": true,
                   "x-ms-skip-url-encoding": true, "schema": {"type": "string"}})
        );
        assert_eq!(
            params[1],
            json!({"name": "n", "in": "query", "required": false,
                   "schema": {"type": "integer", "format": "int64"},
                   "x-validation": {"minimum": 1}})
        );
        assert_eq!(params[2]["in"], "header");
        assert_eq!(params[2]["required"], true);
    }

    #[test]
    fn parameter_validation_moves_out_of_the_schema() {
        let out = convert(
            &op_doc(
                json!([
                    {"name": "id", "in": "path", "type": "string", "pattern": "^[a-z]+$"},
                    {"name": "api-version", "in": "query", "type": "string", "minLength": 1,
                     "required": true},
                ]),
                json!({}),
            ),
            &NoExternalFiles,
        )
        .unwrap()
        .document;
        let params = &out["paths"]["/items/{id}"]["post"]["parameters"];
        assert_eq!(params[0]["schema"], json!({"type": "string"}));
        assert_eq!(params[0]["x-validation"], json!({"pattern": "^[a-z]+$"}));
        assert_eq!(
            params[1],
            json!({"name": "api-version", "in": "query", "required": true,
                   "schema": {"type": "string"}, "x-validation": {"minLength": 1}})
        );
    }

    #[test]
    fn csv_arrays_become_strings_that_remember_their_shape() {
        let out = convert(
            &op_doc(
                json!([
                    {"name": "id", "in": "path", "type": "string"},
                    {"name": "tags", "in": "query", "type": "array", "items": {"type": "string"},
                     "collectionFormat": "csv"},
                    {"name": "implicit", "in": "query", "type": "array", "items": {"type": "integer"}},
                    {"name": "many", "in": "query", "type": "array", "items": {"type": "string"},
                     "collectionFormat": "multi"},
                ]),
                json!({}),
            ),
            &NoExternalFiles,
        )
        .unwrap()
        .document;
        let params = &out["paths"]["/items/{id}"]["post"]["parameters"];
        assert_eq!(
            params[1],
            json!({"name": "tags", "in": "query", "required": false,
                   "schema": {"type": "string"},
                   "x-collection-format": "csv", "x-array-items": {"type": "string"}})
        );
        assert_eq!(params[2]["x-collection-format"], "csv");
        assert_eq!(params[2]["x-array-items"], json!({"type": "integer"}));
        assert_eq!(params[3]["schema"]["type"], "array");
        assert_eq!(params[3]["explode"], true);
    }

    #[test]
    fn global_parameters_become_components_and_external_ones_are_inlined() {
        let doc = op_doc(
            json!([
                {"$ref": "#/parameters/Id"},
                {"$ref": "common.json#/parameters/ApiVersion"},
            ]),
            json!({"Id": {"name": "id", "in": "path", "required": true, "type": "string"}}),
        );
        let mut files = BTreeMap::new();
        files.insert(
            "common.json".to_string(),
            json!({"parameters": {"ApiVersion": {"name": "api-version", "in": "query",
                    "required": true, "type": "string", "description": "d"}}}),
        );
        let out = convert(&doc, &files).unwrap().document;
        let params = &out["paths"]["/items/{id}"]["post"]["parameters"];
        assert_eq!(params[0], json!({"$ref": "#/components/parameters/Id"}));
        assert_eq!(
            params[1],
            json!({"name": "api-version", "in": "query", "required": true,
                   "schema": {"type": "string"}})
        );
        assert_eq!(
            out["components"]["parameters"]["Id"],
            json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}})
        );
    }

    #[test]
    fn chained_parameter_references_are_refused_not_followed_forever() {
        let doc = op_doc(
            json!([{"$ref": "#/parameters/A"}]),
            json!({"A": {"$ref": "#/parameters/A"}}),
        );
        let err = convert(&doc, &NoExternalFiles).unwrap_err().to_string();
        assert!(err.contains("itself a reference"), "{err}");
    }

    #[test]
    fn form_data_is_refused_clearly() {
        let err = convert(
            &op_doc(
                json!([{"name": "id", "in": "path", "type": "string"},
                       {"name": "f", "in": "formData", "type": "string"}]),
                json!({}),
            ),
            &NoExternalFiles,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("formData"), "{err}");
    }
}
