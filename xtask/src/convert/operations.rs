//! Path items and operations: parameters, the body parameter as `requestBody`, `consumes`.
//!
//! The client generator accepts exactly one request content type and only plain JSON among
//! the JSON family. A JSON-family content type other than `application/json` (such as
//! `application/merge-patch+json`) is therefore written as `application/json`, with the real
//! type kept in the request body's `x-original-content-type` for the hand-written layer to set
//! on the wire.

use serde_json::{Map, Value, json};

use super::{Converter, Ctx, Result, parameters::Param, prose};

/// HTTP methods a Swagger path item may hold.
pub const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch"];

/// The media type the generator understands for a content type, and whether it differs from
/// what the service expects: JSON-family types (`+json`, `text/json`) map to
/// `application/json`.
pub fn generator_media_type(content_type: &str) -> &str {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or(content_type)
        .trim();
    if essence == "application/json" || essence == "text/json" || essence.ends_with("+json") {
        "application/json"
    } else {
        content_type
    }
}

/// Pick the one content type to declare from a `consumes`/`produces` list: plain
/// `application/json` if listed, else the first entry. Returns (declared type, original type
/// when it had to be rewritten, the other entries that were left out).
pub fn pick_media_type(list: &[String]) -> (String, Option<String>, Vec<String>) {
    let chosen = list
        .iter()
        .find(|ct| ct.as_str() == "application/json")
        .or_else(|| list.first())
        .cloned()
        .unwrap_or_else(|| "application/json".to_string());
    let declared = generator_media_type(&chosen).to_string();
    let original = (declared != chosen).then(|| chosen.clone());
    let dropped = list.iter().filter(|ct| **ct != chosen).cloned().collect();
    (declared, original, dropped)
}

/// Read a `consumes`/`produces` list from an operation, falling back to the document's, then
/// to JSON.
pub(crate) fn media_list(op: &Value, doc: &Value, key: &str, ctx: &Ctx) -> Result<Vec<String>> {
    let value = op.get(key).or_else(|| doc.get(key));
    match value {
        None => Ok(vec!["application/json".to_string()]),
        Some(Value::Array(items)) => {
            let list: Option<Vec<String>> = items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect();
            let list = list.ok_or_else(|| ctx.child(key).malformed("must list strings"))?;
            if list.is_empty() {
                Ok(vec!["application/json".to_string()])
            } else {
                Ok(list)
            }
        }
        Some(_) => Err(ctx.child(key).malformed("must be an array")),
    }
}

/// Convert a path item.
pub(crate) fn path_item(
    cx: &mut Converter<'_>,
    path: &str,
    item: &Value,
    ctx: &Ctx,
) -> Result<Value> {
    let obj = item
        .as_object()
        .ok_or_else(|| ctx.malformed("a path item must be an object"))?;
    let mut out = Map::new();
    if let Some(params) = obj.get("parameters") {
        let list = params
            .as_array()
            .ok_or_else(|| ctx.child("parameters").malformed("must be an array"))?;
        let mut converted = Vec::new();
        for (i, p) in list.iter().enumerate() {
            let at = ctx.child("parameters").child(&i.to_string());
            match cx.operation_parameter(p, &at)? {
                Param::NonBody(v) => converted.push(v),
                Param::Body { .. } => {
                    return Err(at.unsupported("a body parameter shared by a whole path item"));
                }
            }
        }
        if !converted.is_empty() {
            out.insert("parameters".to_string(), Value::Array(converted));
        }
    }
    for (key, value) in obj {
        if key == "parameters" || prose::is_prose(key) {
            continue;
        }
        if METHODS.contains(&key.as_str()) {
            out.insert(
                key.clone(),
                operation(cx, path, key, value, &ctx.child(key))?,
            );
        } else if key.starts_with("x-") {
            out.insert(key.clone(), value.clone());
        } else if key == "$ref" {
            return Err(ctx.unsupported("path items by reference"));
        } else {
            return Err(ctx.malformed(format!("unknown path item field `{key}`")));
        }
    }
    Ok(Value::Object(out))
}

/// Convert one operation.
fn operation(
    cx: &mut Converter<'_>,
    path: &str,
    method: &str,
    op: &Value,
    ctx: &Ctx,
) -> Result<Value> {
    let obj = op
        .as_object()
        .ok_or_else(|| ctx.malformed("an operation must be an object"))?;
    let operation_id = obj
        .get("operationId")
        .and_then(Value::as_str)
        .ok_or_else(|| super::ConvertError::OperationId {
            at: ctx.describe(),
            problem: format!("{} {path} has no operationId", method.to_uppercase()),
        })?
        .to_string();

    let mut out = Map::new();
    let mut params = Vec::new();
    let mut body = None;
    if let Some(list) = obj.get("parameters") {
        let list = list
            .as_array()
            .ok_or_else(|| ctx.child("parameters").malformed("must be an array"))?;
        for (i, p) in list.iter().enumerate() {
            let at = ctx.child("parameters").child(&i.to_string());
            match cx.operation_parameter(p, &at)? {
                Param::NonBody(v) => params.push(v),
                Param::Body {
                    name,
                    required,
                    schema,
                    extensions,
                } => {
                    if body.is_some() {
                        return Err(at.malformed("more than one body parameter"));
                    }
                    body = Some((name, required, schema, extensions));
                }
            }
        }
    }
    if !params.is_empty() {
        out.insert("parameters".to_string(), Value::Array(params));
    }

    if let Some((name, required, schema, extensions)) = body {
        let consumes = media_list(op, cx.main, "consumes", ctx)?;
        let (declared, original, dropped) = pick_media_type(&consumes);
        if !dropped.is_empty() {
            cx.note(
                ctx,
                format!(
                    "request content types {} not declared (the generated client sends {declared})",
                    dropped.join(", ")
                ),
            );
        }
        let mut request = Map::new();
        let mut media = Map::new();
        media.insert(declared, json!({ "schema": schema }));
        request.insert("content".to_string(), Value::Object(media));
        request.insert("required".to_string(), json!(required));
        request.insert("x-ms-requestBody-name".to_string(), json!(name));
        if let Some(original) = original {
            request.insert("x-original-content-type".to_string(), json!(original));
        }
        request.extend(extensions);
        out.insert("requestBody".to_string(), Value::Object(request));
    }

    let responses = obj
        .get("responses")
        .ok_or_else(|| ctx.malformed("an operation must have responses"))?;
    let produces = media_list(op, cx.main, "produces", ctx)?;
    out.insert(
        "responses".to_string(),
        cx.responses(&operation_id, responses, &produces, &ctx.child("responses"))?,
    );
    out.insert("operationId".to_string(), json!(operation_id));

    for (key, value) in obj {
        match key.as_str() {
            "operationId" | "parameters" | "responses" | "consumes" | "produces" | "schemes" => {}
            "tags" | "deprecated" | "security" => {
                out.insert(key.clone(), value.clone());
            }
            k if prose::is_prose(k) => {}
            k if k.starts_with("x-") => {
                out.insert(key.clone(), value.clone());
            }
            other => {
                return Err(ctx.malformed(format!("unknown operation field `{other}`")));
            }
        }
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::convert::{ConvertError, NoExternalFiles, convert};

    fn doc_with(op: Value) -> Value {
        json!({
            "swagger": "2.0", "info": {"title": "t", "version": "v"},
            "consumes": ["application/json"], "produces": ["application/json"],
            "definitions": {"Body": {"type": "object", "properties": {"a": {"type": "string"}}}},
            "paths": {"/things/{id}": {"patch": op}}
        })
    }

    #[test]
    fn media_types_map_json_family_to_json() {
        assert_eq!(
            generator_media_type("application/merge-patch+json"),
            "application/json"
        );
        assert_eq!(generator_media_type("text/json"), "application/json");
        assert_eq!(
            generator_media_type("application/octet-stream"),
            "application/octet-stream"
        );
        let (declared, original, dropped) =
            pick_media_type(&["text/json".to_string(), "application/json".to_string()]);
        assert_eq!(
            (declared.as_str(), original, dropped),
            ("application/json", None, vec!["text/json".to_string()])
        );
    }

    #[test]
    fn a_body_parameter_becomes_a_request_body() {
        let out = convert(
            &doc_with(json!({
                "operationId": "Put", "summary": "s", "description": "d",
                "x-ms-examples": {"e": {"$ref": "./examples/e.json"}},
                "parameters": [
                    {"name": "id", "in": "path", "type": "string", "required": true},
                    {"name": "thing", "in": "body", "required": true, "description": "d",
                     "schema": {"$ref": "#/definitions/Body"}}
                ],
                "responses": {"204": {"description": "none"}}
            })),
            &NoExternalFiles,
        )
        .unwrap()
        .document;
        let op = &out["paths"]["/things/{id}"]["patch"];
        assert_eq!(
            op["requestBody"],
            json!({"required": true, "x-ms-requestBody-name": "thing",
                   "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Body"}}}})
        );
        assert_eq!(op["parameters"].as_array().unwrap().len(), 1);
        for prose in ["summary", "description", "x-ms-examples"] {
            assert!(op.get(prose).is_none(), "{prose}");
        }
    }

    #[test]
    fn merge_patch_bodies_are_declared_as_json_and_marked() {
        let out = convert(
            &doc_with(json!({
                "operationId": "Patch", "consumes": ["application/merge-patch+json"],
                "parameters": [
                    {"name": "id", "in": "path", "type": "string", "required": true},
                    {"name": "patch", "in": "body", "required": true,
                     "schema": {"$ref": "#/definitions/Body"}}
                ],
                "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Body"}}}
            })),
            &NoExternalFiles,
        )
        .unwrap()
        .document;
        let body = &out["paths"]["/things/{id}"]["patch"]["requestBody"];
        assert!(body["content"].get("application/json").is_some());
        assert_eq!(body["content"].as_object().unwrap().len(), 1);
        assert_eq!(
            body["x-original-content-type"],
            "application/merge-patch+json"
        );
    }

    #[test]
    fn pageable_and_other_extensions_are_kept() {
        let out = convert(
            &doc_with(json!({
                "operationId": "List",
                "x-ms-pageable": {"nextLinkName": "nextLink", "itemName": "items"},
                "x-ms-long-running-operation": true,
                "parameters": [{"name": "id", "in": "path", "type": "string", "required": true}],
                "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Body"}}}
            })),
            &NoExternalFiles,
        )
        .unwrap()
        .document;
        let op = &out["paths"]["/things/{id}"]["patch"];
        assert_eq!(
            op["x-ms-pageable"],
            json!({"nextLinkName": "nextLink", "itemName": "items"})
        );
        assert_eq!(op["x-ms-long-running-operation"], true);
    }

    #[test]
    fn operations_need_unique_ids() {
        let missing = convert(
            &doc_with(json!({"responses": {"204": {"description": "x"}},
                             "parameters": [{"name": "id", "in": "path", "type": "string"}]})),
            &NoExternalFiles,
        )
        .unwrap_err();
        assert!(
            matches!(missing, ConvertError::OperationId { .. }),
            "{missing}"
        );

        let dup = json!({
            "swagger": "2.0", "info": {"title": "t", "version": "v"},
            "paths": {
                "/a": {"get": {"operationId": "Same", "responses": {"204": {"description": ""}}}},
                "/b": {"get": {"operationId": "Same", "responses": {"204": {"description": ""}}}}
            }
        });
        let err = convert(&dup, &NoExternalFiles).unwrap_err().to_string();
        assert!(err.contains("Same"), "{err}");
    }
}
