//! Facts about each operation that the generated code does not carry but the hand-written
//! layer needs, read from the converter's extensions in `spec/*.json`: the real request
//! content type (`x-original-content-type`, merge-patch), paging (`x-ms-pageable`), response
//! headers, success statuses, the wire parameters with their locations and validation, and the
//! other `x-` extensions (long-running operations, ...) a maintainer must review.

use serde_json::Value;

/// One operation of a spec.
pub struct OperationFacts {
    /// The method name in the generated client (progenitor's snake_case of the operation id).
    pub id: String,
    /// The spec's `operationId`.
    pub operation_id: String,
    /// Upper-case HTTP method.
    pub method: String,
    /// The path template.
    pub path: String,
    /// Parameters in the spec's order.
    pub parameters: Vec<ParamFacts>,
    /// The request body, if any.
    pub body: Option<BodyFacts>,
    /// Success status codes.
    pub success_statuses: Vec<String>,
    /// Header names declared on success responses.
    pub response_headers: Vec<String>,
    /// `x-ms-pageable`: (`nextLinkName`, `itemName`).
    pub pageable: Option<(Option<String>, String)>,
    /// Every other `x-` extension of the operation (`x-ms-long-running-operation`, ...), as
    /// (name, compact JSON), sorted.
    pub extensions: Vec<(String, String)>,
}

impl OperationFacts {
    /// Whether the operation declares `x-ms-long-running-operation: true`.
    pub fn long_running(&self) -> bool {
        self.extensions
            .iter()
            .any(|(name, value)| name == "x-ms-long-running-operation" && value == "true")
    }
}

/// A non-body parameter.
pub struct ParamFacts {
    /// Wire name.
    pub name: String,
    /// `path`, `query` or `header`.
    pub location: String,
    /// Whether required.
    pub required: bool,
    /// `x-collection-format` (a delimited array passed as one string).
    pub collection_format: Option<String>,
    /// `x-validation` (the schema's validation keywords), as compact JSON.
    pub validation: Option<String>,
    /// The schema's `default`, as compact JSON.
    pub default: Option<String>,
}

/// The request body.
pub struct BodyFacts {
    /// The Swagger body parameter's name (`x-ms-requestBody-name`).
    pub name: String,
    /// The content type the service expects.
    pub content_type: String,
    /// The content type declared to the generator (always `application/json` here).
    pub declared: String,
    /// Whether required.
    pub required: bool,
}

const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch"];

/// Progenitor's method name for an operation id.
pub fn method_name(operation_id: &str) -> String {
    use heck::ToSnakeCase;
    let cleaned: String = operation_id
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    cleaned.to_snake_case()
}

/// Every operation of `spec`, sorted by method name.
pub fn operations(spec: &Value) -> Result<Vec<OperationFacts>, String> {
    let mut out = Vec::new();
    let paths = spec
        .get("paths")
        .and_then(Value::as_object)
        .ok_or("the spec has no paths")?;
    for (path, item) in paths {
        let shared = item.get("parameters").and_then(Value::as_array);
        for method in METHODS {
            let Some(op) = item.get(*method) else {
                continue;
            };
            let operation_id = op
                .get("operationId")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{method} {path}: no operationId"))?;
            let mut parameters = Vec::new();
            for p in shared.into_iter().flatten().chain(
                op.get("parameters")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten(),
            ) {
                let p = resolve(spec, p)?;
                parameters.push(ParamFacts {
                    name: str_field(p, "name")?,
                    location: str_field(p, "in")?,
                    required: p.get("required").and_then(Value::as_bool).unwrap_or(false),
                    collection_format: p
                        .get("x-collection-format")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    validation: p.get("x-validation").map(Value::to_string),
                    default: p
                        .get("schema")
                        .and_then(|s| s.get("default"))
                        .map(Value::to_string),
                });
            }
            let body = op.get("requestBody").map(|b| {
                let declared = b
                    .get("content")
                    .and_then(Value::as_object)
                    .and_then(|c| c.keys().next().cloned())
                    .unwrap_or_default();
                BodyFacts {
                    name: b
                        .get("x-ms-requestBody-name")
                        .and_then(Value::as_str)
                        .unwrap_or("body")
                        .to_string(),
                    content_type: b
                        .get("x-original-content-type")
                        .and_then(Value::as_str)
                        .map_or_else(|| declared.clone(), str::to_string),
                    declared,
                    required: b.get("required").and_then(Value::as_bool).unwrap_or(false),
                }
            });
            let mut success_statuses = Vec::new();
            let mut response_headers = Vec::new();
            if let Some(responses) = op.get("responses").and_then(Value::as_object) {
                for (status, response) in responses {
                    if !status.starts_with('2') {
                        continue;
                    }
                    success_statuses.push(status.clone());
                    if let Some(headers) = response.get("headers").and_then(Value::as_object) {
                        for name in headers.keys() {
                            if !response_headers.contains(name) {
                                response_headers.push(name.clone());
                            }
                        }
                    }
                }
            }
            response_headers.sort();
            let pageable = op.get("x-ms-pageable").map(|p| {
                (
                    p.get("nextLinkName")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    p.get("itemName")
                        .and_then(Value::as_str)
                        .unwrap_or("value")
                        .to_string(),
                )
            });
            let mut extensions: Vec<(String, String)> = op
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(k, _)| k.starts_with("x-") && *k != "x-ms-pageable")
                .map(|(k, v)| (k.clone(), v.to_string()))
                .collect();
            extensions.sort();
            out.push(OperationFacts {
                id: method_name(operation_id),
                operation_id: operation_id.to_string(),
                method: method.to_uppercase(),
                path: path.clone(),
                parameters,
                body,
                success_statuses,
                response_headers,
                pageable,
                extensions,
            });
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// Validation keywords the converter keeps on schemas.
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
    "minProperties",
    "maxProperties",
    "multipleOf",
    "default",
    "readOnly",
    "writeOnly",
];

/// The validation constraints and defaults of every schema and schema property (the generated
/// types do not show them), one line each (`Schema.field: minLength 1`), sorted.
pub fn constraints(spec: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let describe = |schema: &Value| -> Option<String> {
        let parts: Vec<String> = CONSTRAINTS
            .iter()
            .filter_map(|k| schema.get(*k).map(|v| format!("{k} {v}")))
            .chain(schema.get("items").into_iter().flat_map(|items| {
                CONSTRAINTS
                    .iter()
                    .filter_map(move |k| items.get(*k).map(|v| format!("items {k} {v}")))
            }))
            .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    };
    for (name, schema) in spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if let Some(d) = describe(schema) {
            out.push(format!("{name}: {d}"));
        }
        for (field, property) in schema
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if let Some(d) = describe(property) {
                out.push(format!("{name}.{field}: {d}"));
            }
        }
    }
    out.sort();
    out
}

fn resolve<'a>(spec: &'a Value, p: &'a Value) -> Result<&'a Value, String> {
    match p.get("$ref").and_then(Value::as_str) {
        None => Ok(p),
        Some(reference) => {
            let name = reference
                .strip_prefix("#/components/parameters/")
                .ok_or_else(|| format!("unexpected parameter reference {reference}"))?;
            spec.get("components")
                .and_then(|c| c.get("parameters"))
                .and_then(|ps| ps.get(name))
                .ok_or_else(|| format!("dangling parameter reference {reference}"))
        }
    }
}

fn str_field(v: &Value, key: &str) -> Result<String, String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| format!("parameter without {key}: {v}"))
}

/// Rust source of the `OPERATIONS` table for a generated module.
pub fn table_source(ops: &[OperationFacts]) -> String {
    let mut s = String::from(
        "/// Per-operation facts from the spec that the generated methods do not carry \
         (request content type, paging, response headers, long-running), sorted by method name.\n\
         pub const OPERATIONS: &[crate::raw::OperationFacts] = &[\n",
    );
    for op in ops {
        let opt = |v: &Option<String>| match v {
            Some(v) => format!("Some({v:?})"),
            None => "None".to_string(),
        };
        let content_type = opt(&op.body.as_ref().map(|b| b.content_type.clone()));
        let paging = match &op.pageable {
            Some((next, item)) => format!(
                "Some(crate::raw::Paging {{ next_link_name: {}, item_name: {item:?} }})",
                opt(next)
            ),
            None => "None".to_string(),
        };
        let statuses: Vec<String> = op
            .success_statuses
            .iter()
            .map(|s| format!("{s:?}"))
            .collect();
        let headers: Vec<String> = op
            .response_headers
            .iter()
            .map(|h| format!("{h:?}"))
            .collect();
        s.push_str(&format!(
            "crate::raw::OperationFacts {{ id: {:?}, operation_id: {:?}, method: {:?}, \
             path: {:?}, request_content_type: {content_type}, paging: {paging}, \
             success_statuses: &[{}], response_headers: &[{}], long_running: {} }},\n",
            op.id,
            op.operation_id,
            op.method,
            op.path,
            statuses.join(", "),
            headers.join(", "),
            op.long_running(),
        ));
    }
    s.push_str("];\n");
    s
}
