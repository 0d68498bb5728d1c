//! The API difference between two converted documents (the `spec/` on disk and the one
//! `regen` is about to write): operations, parameters, request bodies, responses and their
//! headers, schemas and their fields, enum values and `x-` extensions added, removed or
//! changed. `regen` prints it and records it in `spec/CHANGES.md`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};

/// Added, removed or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    /// In the new document only.
    Added,
    /// In the old document only.
    Removed,
    /// In both, different.
    Changed,
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    /// What happened.
    pub action: Action,
    /// What it happened to: `operation CreateLedgerEntry`, `field LedgerWriteResult.receipt`.
    pub subject: String,
    /// Details (`optional, $ref ReceiptContents`, `required: false -> true`), possibly empty.
    pub detail: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let action = match self.action {
            Action::Added => "added",
            Action::Removed => "removed",
            Action::Changed => "changed",
        };
        write!(f, "{action} {}", self.subject)?;
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

/// The differences from `old` to `new` (two OpenAPI documents written by the converter), in a
/// stable order: the api-version, then operations, then schemas.
///
/// # Examples
///
/// ```
/// use serde_json::json;
/// use xtask::diff::diff;
///
/// let old = json!({"info": {"version": "1"}, "paths": {
///     "/a": {"get": {"operationId": "GetA", "responses": {}}},
///     "/b": {"get": {"operationId": "GetB", "responses": {}}}}});
/// let new = json!({"info": {"version": "1"}, "paths": {
///     "/a": {"get": {"operationId": "GetA", "responses": {}}},
///     "/c": {"post": {"operationId": "MakeC", "responses": {}}}}});
/// let lines: Vec<String> = diff(&old, &new).iter().map(ToString::to_string).collect();
/// assert_eq!(lines, ["added operation MakeC: POST /c", "removed operation GetB: GET /b"]);
/// ```
pub fn diff(old: &Value, new: &Value) -> Vec<Change> {
    let mut out = Vec::new();
    let version = |d: &Value| {
        d.pointer("/info/version")
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    if version(old) != version(new) {
        out.push(Change {
            action: Action::Changed,
            subject: "api-version".to_string(),
            detail: format!(
                "{} -> {}",
                version(old).unwrap_or_default(),
                version(new).unwrap_or_default()
            ),
        });
    }
    let mut ops = Vec::new();
    let (old_ops, new_ops) = (operations(old), operations(new));
    for (id, (method, path, op)) in &new_ops {
        match old_ops.get(id) {
            None => ops.push(change(
                Action::Added,
                format!("operation {id}"),
                format!("{method} {path}"),
            )),
            Some((old_method, old_path, old_op)) => {
                if (old_method, old_path) != (method, path) {
                    ops.push(change(
                        Action::Changed,
                        format!("operation {id}"),
                        format!("{old_method} {old_path} -> {method} {path}"),
                    ));
                }
                operation_diff(id, old, old_op, new, op, &mut ops);
            }
        }
    }
    for (id, (method, path, _)) in &old_ops {
        if !new_ops.contains_key(id) {
            ops.push(change(
                Action::Removed,
                format!("operation {id}"),
                format!("{method} {path}"),
            ));
        }
    }
    ops.sort();
    out.extend(ops);

    let mut schemas = Vec::new();
    let (old_schemas, new_schemas) = (
        members(old, "/components/schemas"),
        members(new, "/components/schemas"),
    );
    for (name, schema) in &new_schemas {
        match old_schemas.get(name) {
            None => schemas.push(change(
                Action::Added,
                format!("schema {name}"),
                shape(schema),
            )),
            Some(old_schema) => schema_diff(name, old_schema, schema, &mut schemas),
        }
    }
    for (name, schema) in &old_schemas {
        if !new_schemas.contains_key(name) {
            schemas.push(change(
                Action::Removed,
                format!("schema {name}"),
                shape(schema),
            ));
        }
    }
    schemas.sort();
    out.extend(schemas);
    out
}

fn change(action: Action, subject: String, detail: String) -> Change {
    Change {
        action,
        subject,
        detail,
    }
}

const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch"];

/// Operations by operation id: (METHOD, path, operation).
fn operations(doc: &Value) -> BTreeMap<String, (String, String, &Value)> {
    let mut out = BTreeMap::new();
    for (path, item) in doc
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for method in METHODS {
            if let Some(op) = item.get(*method) {
                let id = op.get("operationId").and_then(Value::as_str).map_or_else(
                    || format!("{} {path}", method.to_uppercase()),
                    str::to_string,
                );
                out.insert(id, (method.to_uppercase(), path.clone(), op));
            }
        }
    }
    out
}

fn members<'a>(doc: &'a Value, pointer: &str) -> BTreeMap<&'a String, &'a Value> {
    doc.pointer(pointer)
        .and_then(Value::as_object)
        .map(|m| m.iter().collect())
        .unwrap_or_default()
}

/// A parameter, resolved through `#/components/parameters/...`.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap_or(value),
        None => value,
    }
}

/// Parameters by `in name`, with their comparable description.
fn parameters<'a>(doc: &'a Value, op: &'a Value) -> BTreeMap<String, &'a Value> {
    op.get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| resolve(doc, p))
        .map(|p| {
            let location = p.get("in").and_then(Value::as_str).unwrap_or("?");
            let name = p.get("name").and_then(Value::as_str).unwrap_or("?");
            (format!("{location} parameter {name}"), p)
        })
        .collect()
}

/// A short description of a schema: `$ref X`, `string`, `array of $ref X`, `object`.
fn shape(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return format!("$ref {}", r.rsplit('/').next().unwrap_or(r));
    }
    if let Some(items) = schema.get("oneOf").and_then(Value::as_array) {
        let parts: Vec<String> = items.iter().map(shape).collect();
        return format!("one of ({})", parts.join(" | "));
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("array") => format!(
            "array of {}",
            schema.get("items").map_or_else(|| "?".into(), shape)
        ),
        Some(ty) => {
            let mut s = ty.to_string();
            if let Some(format) = schema.get("format").and_then(Value::as_str) {
                s.push_str(&format!(" ({format})"));
            }
            if let Some(values) = schema.get("enum").and_then(Value::as_array) {
                s.push_str(&format!(" enum of {}", values.len()));
            }
            s
        }
        None if schema.get("additionalProperties").is_some() => "map".to_string(),
        None => "any".to_string(),
    }
}

fn extensions(v: &Value) -> BTreeMap<&String, &Value> {
    v.as_object()
        .map(|m| m.iter().filter(|(k, _)| k.starts_with("x-")).collect())
        .unwrap_or_default()
}

/// `x-` extensions added, removed or changed on `subject`.
fn extension_diff(subject: &str, old: &Value, new: &Value, out: &mut Vec<Change>) {
    let (o, n) = (extensions(old), extensions(new));
    for (k, v) in &n {
        match o.get(k) {
            None => out.push(change(
                Action::Added,
                format!("{subject} extension {k}"),
                compact(v),
            )),
            Some(ov) if ov != v => out.push(change(
                Action::Changed,
                format!("{subject} extension {k}"),
                format!("{} -> {}", compact(ov), compact(v)),
            )),
            Some(_) => {}
        }
    }
    for (k, v) in &o {
        if !n.contains_key(k) {
            out.push(change(
                Action::Removed,
                format!("{subject} extension {k}"),
                compact(v),
            ));
        }
    }
}

fn compact(v: &Value) -> String {
    v.to_string()
}

fn operation_diff(
    id: &str,
    old_doc: &Value,
    old: &Value,
    new_doc: &Value,
    new: &Value,
    out: &mut Vec<Change>,
) {
    let subject = format!("operation {id}");
    extension_diff(&subject, old, new, out);

    let (op, np) = (parameters(old_doc, old), parameters(new_doc, new));
    for (key, p) in &np {
        match op.get(key) {
            None => out.push(change(
                Action::Added,
                format!("{subject} {key}"),
                parameter_shape(p),
            )),
            Some(o) => {
                let (a, b) = (parameter_shape(o), parameter_shape(p));
                if a != b {
                    out.push(change(
                        Action::Changed,
                        format!("{subject} {key}"),
                        format!("{a} -> {b}"),
                    ));
                }
            }
        }
    }
    for (key, p) in &op {
        if !np.contains_key(key) {
            out.push(change(
                Action::Removed,
                format!("{subject} {key}"),
                parameter_shape(p),
            ));
        }
    }

    let body = |op: &Value| op.get("requestBody").map(body_shape);
    match (body(old), body(new)) {
        (None, Some(b)) => out.push(change(Action::Added, format!("{subject} request body"), b)),
        (Some(b), None) => out.push(change(
            Action::Removed,
            format!("{subject} request body"),
            b,
        )),
        (Some(a), Some(b)) if a != b => out.push(change(
            Action::Changed,
            format!("{subject} request body"),
            format!("{a} -> {b}"),
        )),
        _ => {}
    }

    let (or, nr) = (members(old, "/responses"), members(new, "/responses"));
    for (status, r) in &nr {
        match or.get(status) {
            None => out.push(change(
                Action::Added,
                format!("{subject} response {status}"),
                response_shape(r),
            )),
            Some(o) => {
                let (a, b) = (response_shape(o), response_shape(r));
                if a != b {
                    out.push(change(
                        Action::Changed,
                        format!("{subject} response {status}"),
                        format!("{a} -> {b}"),
                    ));
                }
            }
        }
    }
    for (status, r) in &or {
        if !nr.contains_key(status) {
            out.push(change(
                Action::Removed,
                format!("{subject} response {status}"),
                response_shape(r),
            ));
        }
    }
}

fn parameter_shape(p: &Value) -> String {
    let mut s = if p.get("required").and_then(Value::as_bool).unwrap_or(false) {
        "required".to_string()
    } else {
        "optional".to_string()
    };
    if let Some(schema) = p.get("schema") {
        s.push_str(&format!(", {}", shape(schema)));
        if let Some(default) = schema.get("default") {
            s.push_str(&format!(", default {default}"));
        }
    }
    for (k, v) in extensions(p) {
        s.push_str(&format!(", {k} {}", compact(v)));
    }
    s
}

fn body_shape(b: &Value) -> String {
    let mut parts = Vec::new();
    parts.push(
        if b.get("required").and_then(Value::as_bool).unwrap_or(false) {
            "required".to_string()
        } else {
            "optional".to_string()
        },
    );
    for (media, content) in b
        .get("content")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        parts.push(format!(
            "{media} {}",
            content.get("schema").map_or_else(|| "none".into(), shape)
        ));
    }
    for (k, v) in extensions(b) {
        parts.push(format!("{k} {}", compact(v)));
    }
    parts.join(", ")
}

fn response_shape(r: &Value) -> String {
    let mut parts = Vec::new();
    for (media, content) in r
        .get("content")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        parts.push(format!(
            "{media} {}",
            content.get("schema").map_or_else(|| "none".into(), shape)
        ));
    }
    if parts.is_empty() {
        parts.push("no body".to_string());
    }
    let headers: Vec<&String> = r
        .get("headers")
        .and_then(Value::as_object)
        .map(|h| h.keys().collect())
        .unwrap_or_default();
    if !headers.is_empty() {
        parts.push(format!(
            "headers {}",
            headers
                .iter()
                .map(|h| h.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    parts.join(", ")
}

/// Validation keywords and other constraints of a schema, comparable as text.
const CONSTRAINTS: &[&str] = &[
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minItems",
    "maxItems",
    "uniqueItems",
    "format",
    "default",
    "nullable",
    "readOnly",
];

fn field_shape(schema: &Value, required: bool) -> String {
    let mut s = format!(
        "{}, {}",
        if required { "required" } else { "optional" },
        shape(schema)
    );
    for k in CONSTRAINTS {
        if *k == "format" {
            continue;
        }
        if let Some(v) = schema.get(*k) {
            s.push_str(&format!(", {k} {v}"));
        }
    }
    s
}

fn schema_diff(name: &str, old: &Value, new: &Value, out: &mut Vec<Change>) {
    let subject = format!("schema {name}");
    extension_diff(&subject, old, new, out);
    let ty = |v: &Value| shape(&strip(v));
    if ty(old) != ty(new) {
        out.push(change(
            Action::Changed,
            subject.clone(),
            format!("{} -> {}", ty(old), ty(new)),
        ));
    }
    for k in CONSTRAINTS {
        let (a, b) = (old.get(*k), new.get(*k));
        if a != b {
            out.push(change(
                Action::Changed,
                format!("{subject} {k}"),
                format!(
                    "{} -> {}",
                    a.map_or("none".into(), compact),
                    b.map_or("none".into(), compact)
                ),
            ));
        }
    }

    // Enum values.
    let values = |v: &Value| -> BTreeSet<String> {
        v.get("enum")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
            .collect()
    };
    let (ov, nv) = (values(old), values(new));
    for v in nv.difference(&ov) {
        out.push(change(
            Action::Added,
            format!("enum value {name}::{v}"),
            String::new(),
        ));
    }
    for v in ov.difference(&nv) {
        out.push(change(
            Action::Removed,
            format!("enum value {name}::{v}"),
            String::new(),
        ));
    }

    // Fields.
    let required = |v: &Value| -> BTreeSet<String> {
        v.get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    };
    let (oreq, nreq) = (required(old), required(new));
    let empty = Map::new();
    let props = |v: &'_ Value| {
        v.get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_else(|| empty.clone())
    };
    let (op, np) = (props(old), props(new));
    for (field, schema) in &np {
        let now = field_shape(schema, nreq.contains(field));
        match op.get(field) {
            None => out.push(change(Action::Added, format!("field {name}.{field}"), now)),
            Some(o) => {
                let before = field_shape(o, oreq.contains(field));
                if before != now {
                    out.push(change(
                        Action::Changed,
                        format!("field {name}.{field}"),
                        format!("{before} -> {now}"),
                    ));
                }
                extension_diff(&format!("field {name}.{field}"), o, schema, out);
            }
        }
    }
    for (field, schema) in &op {
        if !np.contains_key(field) {
            out.push(change(
                Action::Removed,
                format!("field {name}.{field}"),
                field_shape(schema, oreq.contains(field)),
            ));
        }
    }
    // Maps: a changed value type.
    let map_values = |v: &Value| v.get("additionalProperties").map(shape);
    if map_values(old) != map_values(new) {
        out.push(change(
            Action::Changed,
            format!("{subject} map values"),
            format!(
                "{} -> {}",
                map_values(old).unwrap_or_else(|| "none".into()),
                map_values(new).unwrap_or_else(|| "none".into())
            ),
        ));
    }
}

/// The schema without its enum values (reported one by one).
fn strip(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("enum");
    }
    v
}

/// Render changes as a Markdown list (one `- ` line each); `- no API changes` when empty.
///
/// # Examples
///
/// ```
/// use xtask::diff::{Action, Change, markdown};
///
/// let text = markdown(&[Change { action: Action::Added, subject: "operation GetX".into(), detail: "GET /x".into() }]);
/// assert_eq!(text, "- added operation GetX: GET /x\n");
/// assert_eq!(markdown(&[]), "- no API changes\n");
/// ```
pub fn markdown(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "- no API changes\n".to_string();
    }
    changes.iter().map(|c| format!("- {c}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lines(old: &Value, new: &Value) -> Vec<String> {
        diff(old, new).iter().map(ToString::to_string).collect()
    }

    fn doc(op: Value, schemas: Value) -> Value {
        json!({
            "info": {"version": "v1"},
            "paths": {"/things/{id}": {"put": op}},
            "components": {"schemas": schemas, "parameters": {
                "Api": {"in": "query", "name": "api-version", "required": true,
                        "schema": {"type": "string"}, "x-validation": {"minLength": 1}}}}
        })
    }

    fn op() -> Value {
        json!({
            "operationId": "PutThing",
            "parameters": [{"$ref": "#/components/parameters/Api"},
                           {"in": "path", "name": "id", "required": true, "schema": {"type": "string"}}],
            "requestBody": {"required": true, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Thing"}}}},
            "responses": {"200": {"content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Thing"}}},
                "headers": {"x-ms-ccf-transaction-id": {"schema": {"type": "string"}}}}}
        })
    }

    fn schemas() -> Value {
        json!({
            "Thing": {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string", "minLength": 1},
                "kind": {"$ref": "#/components/schemas/KindKnown"}}},
            "KindKnown": {"type": "string", "enum": ["A", "B"]}
        })
    }

    #[test]
    fn identical_documents_have_no_changes() {
        let d = doc(op(), schemas());
        assert!(diff(&d, &d).is_empty());
        assert_eq!(markdown(&diff(&d, &d)), "- no API changes\n");
    }

    #[test]
    fn operation_extensions_parameters_bodies_and_headers_are_named() {
        let old = doc(op(), schemas());
        let mut changed = op();
        changed["x-ms-long-running-operation"] = json!(true);
        changed["parameters"].as_array_mut().unwrap().push(
            json!({"in": "query", "name": "wait", "schema": {"type": "boolean", "default": false}}),
        );
        changed["requestBody"]["required"] = json!(false);
        changed["responses"]["200"]["headers"] = json!({});
        changed["responses"]["503"] =
            json!({"content": {"application/json": {"schema": {"type": "object"}}}});
        let mut new = doc(changed, schemas());
        // A validation change on a shared parameter is attributed to the operation using it.
        new["components"]["parameters"]["Api"]["x-validation"] = json!({"minLength": 2});
        let got = lines(&old, &new);
        for want in [
            "added operation PutThing extension x-ms-long-running-operation: true",
            "added operation PutThing query parameter wait: optional, boolean, default false",
            "changed operation PutThing query parameter api-version: required, string, x-validation {\"minLength\":1} -> required, string, x-validation {\"minLength\":2}",
            "changed operation PutThing request body: required, application/json $ref Thing -> optional, application/json $ref Thing",
            "changed operation PutThing response 200: application/json $ref Thing, headers x-ms-ccf-transaction-id -> application/json $ref Thing",
            "added operation PutThing response 503: application/json object",
        ] {
            assert!(
                got.iter().any(|l| l == want),
                "missing `{want}` in {got:#?}"
            );
        }
        assert_eq!(got.len(), 6, "{got:#?}");
    }

    #[test]
    fn fields_enum_values_constraints_and_schemas_are_named() {
        let old = doc(op(), schemas());
        let mut s = schemas();
        s["Thing"]["required"] = json!(["name", "kind"]);
        s["Thing"]["properties"]["name"]["minLength"] = json!(3);
        s["Thing"]["properties"]["size"] = json!({"type": "integer", "format": "int64"});
        s["KindKnown"]["enum"] = json!(["A", "C"]);
        s["Extra"] = json!({"type": "object"});
        let new = doc(op(), s);
        let got = lines(&old, &new);
        for want in [
            "changed field Thing.kind: optional, $ref KindKnown -> required, $ref KindKnown",
            "changed field Thing.name: required, string, minLength 1 -> required, string, minLength 3",
            "added field Thing.size: optional, integer (int64)",
            "added enum value KindKnown::C",
            "removed enum value KindKnown::B",
            "added schema Extra: object",
        ] {
            assert!(
                got.iter().any(|l| l == want),
                "missing `{want}` in {got:#?}"
            );
        }
        assert_eq!(got.len(), 6, "{got:#?}");
    }

    #[test]
    fn a_version_change_comes_first() {
        let old = doc(op(), schemas());
        let mut new = old.clone();
        new["info"]["version"] = json!("v2");
        assert_eq!(lines(&old, &new), ["changed api-version: v1 -> v2"]);
    }
}
