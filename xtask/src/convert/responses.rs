//! Responses: `schema` + `produces` become `content`; response `headers` get a `schema`; the
//! `default` response becomes explicit `4XX` and `5XX` responses.
//!
//! The generator treats `default` as a possible *success* and then finds two success types next
//! to a typed `200`, so every Azure operation (each has a `default` error) would make it panic.
//! Status ranges express what `default` means for these services: any error.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{
    ConvertError, Converter, Ctx, Result, operations::pick_media_type, parameters, prose,
    refs::RefKind, refs::RefTarget,
};

/// The status ranges a `default` response is expanded into.
pub const DEFAULT_EXPANDS_TO: &[&str] = &["4XX", "5XX"];

impl Converter<'_> {
    /// Convert an operation's `responses`.
    pub(crate) fn responses(
        &mut self,
        operation_id: &str,
        responses: &Value,
        produces: &[String],
        ctx: &Ctx,
    ) -> Result<Value> {
        let obj = responses
            .as_object()
            .ok_or_else(|| ctx.malformed("responses must be an object"))?;
        let (media, _, _) = pick_media_type(produces);
        let mut out = Map::new();
        let mut default = None;
        for (status, response) in obj {
            if status.starts_with("x-") {
                out.insert(status.clone(), response.clone());
                continue;
            }
            let at = ctx.child(status);
            let converted = self.response(response, &media, &at)?;
            if status == "default" {
                default = Some(converted);
            } else if is_status(status) {
                out.insert(status.clone(), converted);
            } else {
                return Err(at.malformed(format!("`{status}` is not a status code")));
            }
        }
        if let Some(default) = default {
            for range in DEFAULT_EXPANDS_TO {
                if !out.contains_key(*range) {
                    let mut response = default.clone();
                    if let Value::Object(map) = &mut response {
                        map.insert("x-default-response".to_string(), json!(true));
                    }
                    out.insert(range.to_string(), response);
                }
            }
        }
        check_one_body_per_kind(operation_id, &out)?;
        Ok(Value::Object(out))
    }

    /// Convert one response object (resolving `#/responses/...` references).
    fn response(&mut self, response: &Value, media: &str, ctx: &Ctx) -> Result<Value> {
        if let Some(reference) = response.get("$ref") {
            let reference = reference
                .as_str()
                .ok_or_else(|| ctx.malformed("$ref must be a string"))?;
            let target = RefTarget::parse(reference, ctx)?;
            if target.kind != RefKind::Response {
                return Err(ConvertError::UnresolvedRef {
                    at: ctx.describe(),
                    reference: reference.to_string(),
                    problem: "a response must reference #/responses/...".to_string(),
                });
            }
            let resolved = self.resolve(&target, ctx)?;
            if resolved.get("$ref").is_some() {
                return Err(ctx.unsupported(format!("{reference} is itself a reference")));
            }
            let inner = Ctx::in_file(target.file.clone(), format!("/responses/{}", target.name));
            return self.response(&resolved, media, &inner);
        }
        let obj = response
            .as_object()
            .ok_or_else(|| ctx.malformed("a response must be an object"))?;
        let mut out = Map::new();
        // Required by OpenAPI 3; prose is not kept.
        out.insert("description".to_string(), json!(""));
        for (key, value) in obj {
            let at = ctx.child(key);
            match key.as_str() {
                "schema" => {
                    let schema = self.schema(value, &at)?;
                    out.insert(
                        "content".to_string(),
                        json!({ media: { "schema": schema } }),
                    );
                }
                "headers" => {
                    let headers = value
                        .as_object()
                        .ok_or_else(|| at.malformed("headers must be an object"))?;
                    let mut converted = Map::new();
                    for (name, header) in headers {
                        converted.insert(name.clone(), self.header(header, &at.child(name))?);
                    }
                    out.insert("headers".to_string(), Value::Object(converted));
                }
                k if prose::is_prose(k) => {}
                k if k.starts_with("x-") => {
                    out.insert(key.clone(), value.clone());
                }
                other => return Err(ctx.malformed(format!("unknown response field `{other}`"))),
            }
        }
        Ok(Value::Object(out))
    }

    /// A response header: its type keywords move into a `schema`.
    fn header(&mut self, header: &Value, ctx: &Ctx) -> Result<Value> {
        let obj = header
            .as_object()
            .ok_or_else(|| ctx.malformed("a header must be an object"))?;
        let mut schema = Map::new();
        for key in parameters::SCHEMA_KEYWORDS {
            if let Some(v) = obj.get(*key) {
                schema.insert(key.to_string(), v.clone());
            }
        }
        let mut out = parameters::extensions(header);
        out.insert(
            "schema".to_string(),
            self.schema(&Value::Object(schema), &ctx.child("schema"))?,
        );
        Ok(Value::Object(out))
    }
}

/// `100`..`599` or a range `1XX`..`5XX`.
fn is_status(status: &str) -> bool {
    let bytes = status.as_bytes();
    bytes.len() == 3
        && (b'1'..=b'5').contains(&bytes[0])
        && ((bytes[1].is_ascii_digit() && bytes[2].is_ascii_digit())
            || (bytes[1] == b'X' && bytes[2] == b'X'))
}

/// Which kind of outcome a status is, as the generator sees it.
fn kind_of(status: &str) -> Option<&'static str> {
    match status.as_bytes().first() {
        Some(b'2') => Some("success"),
        Some(b'4') | Some(b'5') => Some("error"),
        _ if status == "101" => Some("success"),
        _ => None,
    }
}

/// The generator needs all success responses to share one body (or all to have none), and the
/// same for error responses.
fn check_one_body_per_kind(operation_id: &str, responses: &Map<String, Value>) -> Result<()> {
    let mut bodies: BTreeMap<&'static str, Vec<(&str, Value)>> = BTreeMap::new();
    for (status, response) in responses {
        if let Some(kind) = kind_of(status) {
            let body = response.get("content").cloned().unwrap_or(Value::Null);
            bodies.entry(kind).or_default().push((status, body));
        }
    }
    for (kind, list) in bodies {
        let first = &list[0].1;
        if list.iter().any(|(_, body)| body != first) {
            let statuses: Vec<&str> = list.iter().map(|(s, _)| *s).collect();
            return Err(ConvertError::MixedResponseBodies {
                operation: operation_id.to_string(),
                kind,
                statuses: statuses.join(", "),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::is_status;
    use crate::convert::{ConvertError, NoExternalFiles, convert};

    fn responses_of(responses: Value) -> Result<Value, ConvertError> {
        let doc = json!({
            "swagger": "2.0", "info": {"title": "t", "version": "v"},
            "produces": ["application/json"],
            "definitions": {
                "Thing": {"type": "object"},
                "Other": {"type": "object", "properties": {"x": {"type": "string"}}},
                "Error": {"type": "object", "properties": {"code": {"type": "string"}}}
            },
            "responses": {"Shared": {"description": "d", "schema": {"$ref": "#/definitions/Error"}}},
            "paths": {"/t": {"put": {"operationId": "Op", "responses": responses}}}
        });
        convert(&doc, &NoExternalFiles)
            .map(|c| c.document["paths"]["/t"]["put"]["responses"].clone())
    }

    #[test]
    fn default_becomes_explicit_error_ranges() {
        let r = responses_of(json!({
            "200": {"description": "ok", "schema": {"$ref": "#/definitions/Thing"}},
            "default": {"description": "err", "schema": {"$ref": "#/definitions/Error"}}
        }))
        .unwrap();
        assert!(r.get("default").is_none());
        let error = json!({"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}});
        for range in ["4XX", "5XX"] {
            assert_eq!(r[range]["content"], error, "{range}");
            assert_eq!(r[range]["x-default-response"], true);
        }
        assert_eq!(
            r["200"],
            json!({"description": "", "content":
                   {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}})
        );
    }

    #[test]
    fn explicit_error_codes_are_kept_beside_the_ranges() {
        let r = responses_of(json!({
            "200": {"description": "ok"},
            "503": {"description": "rolled back", "x-ms-error-response": true,
                    "schema": {"$ref": "#/definitions/Error"}},
            "default": {"$ref": "#/responses/Shared"}
        }))
        .unwrap();
        assert_eq!(r["503"]["x-ms-error-response"], true);
        assert_eq!(r["503"]["content"], r["5XX"]["content"]);
        assert_eq!(
            r["4XX"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/Error"
        );
    }

    #[test]
    fn response_headers_get_a_schema() {
        let r = responses_of(json!({
            "200": {"description": "ok", "schema": {"$ref": "#/definitions/Thing"},
                    "headers": {"x-ms-ccf-transaction-id": {"type": "string", "description": "d"}}}
        }))
        .unwrap();
        assert_eq!(
            r["200"]["headers"],
            json!({"x-ms-ccf-transaction-id": {"schema": {"type": "string"}}})
        );
    }

    #[test]
    fn success_codes_sharing_a_body_are_fine_and_empty_ones_too() {
        responses_of(json!({
            "200": {"description": "", "schema": {"$ref": "#/definitions/Thing"}},
            "201": {"description": "", "schema": {"$ref": "#/definitions/Thing"}},
        }))
        .unwrap();
        responses_of(json!({"201": {"description": ""}, "204": {"description": ""}})).unwrap();
    }

    #[test]
    fn success_codes_with_different_bodies_are_refused_by_name() {
        for responses in [
            json!({"200": {"description": "", "schema": {"$ref": "#/definitions/Thing"}},
                   "202": {"description": ""}}),
            json!({"200": {"description": "", "schema": {"$ref": "#/definitions/Thing"}},
                   "201": {"description": "", "schema": {"$ref": "#/definitions/Other"}}}),
        ] {
            match responses_of(responses) {
                Err(ConvertError::MixedResponseBodies {
                    operation, kind, ..
                }) => {
                    assert_eq!((operation.as_str(), kind), ("Op", "success"));
                }
                other => panic!("expected a refusal, got {other:?}"),
            }
        }
    }

    #[test]
    fn error_codes_with_different_bodies_are_refused() {
        let err = responses_of(json!({
            "200": {"description": ""},
            "409": {"description": "", "schema": {"$ref": "#/definitions/Thing"}},
            "default": {"description": "", "schema": {"$ref": "#/definitions/Error"}}
        }))
        .unwrap_err();
        assert!(
            matches!(err, ConvertError::MixedResponseBodies { kind: "error", .. }),
            "{err}"
        );
    }

    #[test]
    fn status_codes_are_validated() {
        for ok in ["200", "4XX", "599", "101"] {
            assert!(is_status(ok), "{ok}");
        }
        for bad in ["20", "2xx", "600", "abc", "default"] {
            assert!(!is_status(bad), "{bad}");
        }
    }
}
