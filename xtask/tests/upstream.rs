//! Every upstream Swagger file in `../shared/azure-rest-api-specs` converts, and every upstream
//! operation survives conversion: method, path, operation id, parameters (location, type,
//! required), the body (name, required, schema), success status codes and the schema names of
//! every response. Skipped with a message when the reference data is absent.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;
use xtask::convert::{DirLoader, convert};
use xtask::layout::{self, IDENTITY_FILE, LEDGER_FILE, SpecFile};

fn data_plane() -> Option<std::path::PathBuf> {
    testkit::shared::path(layout::SHARED_RELATIVE)
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every upstream spec file, ledger and identity, all versions.
fn upstream_files(root: &Path) -> Vec<SpecFile> {
    let mut files: Vec<SpecFile> = layout::all(root, LEDGER_FILE)
        .unwrap()
        .into_iter()
        .chain(layout::all(root, IDENTITY_FILE).unwrap())
        .map(|(f, _)| f)
        .collect();
    files.sort_by(|a, b| a.relative.cmp(&b.relative));
    files
}

/// Resolve a Swagger `$ref` (local or `file#/...`) relative to the file `base`.
fn resolve_swagger(base: &Path, doc: &Value, value: &Value) -> Value {
    let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
        return value.clone();
    };
    let (file, pointer) = reference.split_once('#').unwrap();
    let target = if file.is_empty() {
        doc.clone()
    } else {
        read(&base.parent().unwrap().join(file))
    };
    target
        .pointer(pointer)
        .unwrap_or_else(|| panic!("{reference}"))
        .clone()
}

/// Resolve an OpenAPI component reference.
fn resolve_openapi(doc: &Value, value: &Value) -> Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("{r}"))
            .clone(),
        None => value.clone(),
    }
}

/// The component name a schema references (`Some("LedgerEntry")`), or `None` when inline.
fn schema_name(schema: &Value) -> Option<String> {
    let r = schema.get("$ref")?.as_str()?;
    Some(r.rsplit('/').next().unwrap().to_string())
}

/// The comparable shape of a response body: referenced schema name, or the inline JSON.
fn body_key(schema: Option<&Value>) -> String {
    match schema {
        None => "none".to_string(),
        Some(s) => schema_name(s).unwrap_or_else(|| s.to_string()),
    }
}

fn check_operation(
    path_to_file: &Path,
    upstream: &Value,
    out: &Value,
    path: &str,
    method: &str,
    op: &Value,
) -> Result<(), String> {
    let converted = out["paths"]
        .get(path)
        .and_then(|item| item.get(method))
        .ok_or("missing in the output")?;
    let id = op["operationId"].as_str().unwrap();
    if converted["operationId"] != id {
        return Err(format!("operationId {} != {id}", converted["operationId"]));
    }

    // Parameters.
    let converted_params: Vec<Value> = converted["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| resolve_openapi(out, p))
        .collect();
    let mut seen = BTreeSet::new();
    for p in op["parameters"].as_array().into_iter().flatten() {
        let p = resolve_swagger(path_to_file, upstream, p);
        let name = p["name"].as_str().unwrap();
        let location = p["in"].as_str().unwrap();
        let required = p["required"].as_bool().unwrap_or(false) || location == "path";
        if location == "body" {
            let body = &converted["requestBody"];
            if body["x-ms-requestBody-name"] != name {
                return Err(format!("body {name}: requestBody is {body}"));
            }
            if body["required"] != required {
                return Err(format!("body {name}: required differs"));
            }
            let media = body["content"].as_object().ok_or("body without content")?;
            if media.len() != 1 || !media.contains_key("application/json") {
                return Err(format!("body {name}: content {:?}", media.keys()));
            }
            let upstream_schema = body_key(p.get("schema"));
            let out_schema = body_key(media["application/json"].get("schema"));
            if upstream_schema != out_schema {
                return Err(format!(
                    "body {name}: schema {out_schema} != {upstream_schema}"
                ));
            }
            let consumes = op
                .get("consumes")
                .or_else(|| upstream.get("consumes"))
                .and_then(|c| c.get(0))
                .and_then(Value::as_str)
                .unwrap_or("application/json");
            let real = body["x-original-content-type"]
                .as_str()
                .unwrap_or("application/json");
            if real != consumes {
                return Err(format!("body {name}: content type {real} != {consumes}"));
            }
            seen.insert(("body".to_string(), name.to_string()));
            continue;
        }
        let c = converted_params
            .iter()
            .find(|c| c["name"] == name && c["in"] == location)
            .ok_or_else(|| format!("parameter {location} {name} missing"))?;
        if c["required"] != required {
            return Err(format!(
                "parameter {name}: required {} != {required}",
                c["required"]
            ));
        }
        let upstream_type = p["type"].as_str().unwrap_or("?");
        let out_type = c["schema"]["type"].as_str().unwrap_or("?");
        let expected_type = if upstream_type == "array"
            && p.get("collectionFormat").and_then(Value::as_str) != Some("multi")
        {
            if c["x-collection-format"]
                != p.get("collectionFormat").unwrap_or(&"csv".into()).clone()
            {
                return Err(format!("parameter {name}: x-collection-format missing"));
            }
            "string"
        } else {
            upstream_type
        };
        if out_type != expected_type {
            return Err(format!(
                "parameter {name}: type {out_type} != {expected_type}"
            ));
        }
        seen.insert((location.to_string(), name.to_string()));
    }
    let non_body = converted_params.len() + usize::from(converted.get("requestBody").is_some());
    if non_body != seen.len() {
        return Err(format!("output has extra parameters: {converted_params:?}"));
    }

    // Responses: same success codes, same body schema for every status; default -> 4XX/5XX.
    let responses = op["responses"].as_object().unwrap();
    let out_responses = converted["responses"].as_object().ok_or("no responses")?;
    let upstream_success: BTreeSet<&str> = responses
        .keys()
        .map(String::as_str)
        .filter(|s| s.starts_with('2'))
        .collect();
    let out_success: BTreeSet<&str> = out_responses
        .keys()
        .map(String::as_str)
        .filter(|s| s.starts_with('2'))
        .collect();
    if upstream_success != out_success {
        return Err(format!(
            "success codes {out_success:?} != {upstream_success:?}"
        ));
    }
    for (status, response) in responses {
        let response = resolve_swagger(path_to_file, upstream, response);
        let expected = body_key(response.get("schema"));
        let targets: Vec<&str> = if status == "default" {
            vec!["4XX", "5XX"]
        } else {
            vec![status.as_str()]
        };
        for target in targets {
            let r = out_responses
                .get(target)
                .ok_or_else(|| format!("response {target} missing"))?;
            let got = body_key(r.pointer("/content/application~1json/schema"));
            if got != expected {
                return Err(format!("response {target}: {got} != {expected}"));
            }
            for header in response
                .get("headers")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                if r["headers"].get(header.0).is_none() {
                    return Err(format!("response {target}: header {} missing", header.0));
                }
            }
        }
    }
    if op.get("x-ms-pageable") != converted.get("x-ms-pageable") {
        return Err("x-ms-pageable differs".to_string());
    }
    Ok(())
}

/// No prose survives: no summaries, examples, or non-empty descriptions (property names are
/// exempt).
fn prose_left(value: &Value, at: &str, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let here = format!("{at}/{key}");
                let is_prose = matches!(key.as_str(), "summary" | "x-ms-examples" | "example")
                    || (key == "description" && child != "");
                if is_prose && !at.ends_with("/properties") {
                    found.push(here.clone());
                }
                prose_left(child, &here, found);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                prose_left(child, &format!("{at}/{i}"), found);
            }
        }
        _ => {}
    }
}

#[test]
fn every_upstream_operation_survives_conversion() {
    let Some(root) = data_plane() else { return };
    let files = upstream_files(&root);
    assert!(
        files.len() >= 7,
        "expected the five versions' files, found {files:?}"
    );
    let mut failures = Vec::new();
    let mut operations = 0;
    for file in &files {
        let upstream = read(&file.path);
        let loader = DirLoader::new(file.path.parent().unwrap());
        let out = match convert(&upstream, &loader) {
            Ok(c) => c.document,
            Err(e) => {
                failures.push(format!("{}: {e}", file.relative));
                continue;
            }
        };
        assert_eq!(out["openapi"], "3.0.3");
        assert_eq!(
            out["info"]["version"],
            file.api_version.as_str(),
            "{}",
            file.relative
        );
        for (path, item) in upstream["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                operations += 1;
                if let Err(e) = check_operation(&file.path, &upstream, &out, path, method, op) {
                    failures.push(format!(
                        "{}: {} {path} ({}): {e}",
                        file.relative,
                        method.to_uppercase(),
                        op["operationId"]
                    ));
                }
            }
        }
        let upstream_ops = upstream["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|i| i.as_object().unwrap().len())
            .sum::<usize>();
        let out_ops = out["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|i| {
                i.as_object()
                    .unwrap()
                    .keys()
                    .filter(|k| *k != "parameters")
                    .count()
            })
            .sum::<usize>();
        if upstream_ops != out_ops {
            failures.push(format!(
                "{}: {out_ops} operations, upstream {upstream_ops}",
                file.relative
            ));
        }
        for name in upstream["definitions"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|d| d.0)
        {
            if out["components"]["schemas"].get(name).is_none() {
                failures.push(format!("{}: definition {name} missing", file.relative));
            }
        }
        let mut prose = Vec::new();
        prose_left(&out, "", &mut prose);
        if !prose.is_empty() {
            failures.push(format!("{}: prose left at {prose:?}", file.relative));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        operations >= 33 + 33 + 13 + 32,
        "only {operations} operations checked"
    );
}

#[test]
fn the_default_ledger_spec_has_all_33_operations() {
    let Some(root) = data_plane() else { return };
    let file = layout::find(&root, LEDGER_FILE, layout::DEFAULT_API_VERSION).unwrap();
    let out = convert(
        &read(&file.path),
        &DirLoader::new(file.path.parent().unwrap()),
    )
    .unwrap()
    .document;
    let count: usize = out["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert_eq!(count, 33);
}

#[test]
fn external_common_json_references_are_inlined() {
    let Some(root) = data_plane() else { return };
    let file = layout::find(&root, LEDGER_FILE, "2022-05-13").unwrap();
    let conversion = convert(
        &read(&file.path),
        &DirLoader::new(file.path.parent().unwrap()),
    )
    .unwrap();
    let out = conversion.document;
    let text = out.to_string();
    assert!(
        !text.contains("common.json"),
        "an external reference survived"
    );
    // The error schema and its body came in from common.json; x-nullable became nullable.
    let schemas = &out["components"]["schemas"];
    assert!(schemas.get("ConfidentialLedgerError").is_some());
    assert_eq!(schemas["ConfidentialLedgerErrorBody"]["nullable"], true);
    // The api-version parameter was inlined where used.
    let params = out["paths"]["/app/governance/constitution"]["get"]["parameters"]
        .as_array()
        .unwrap();
    assert!(
        params
            .iter()
            .any(|p| p["name"] == "api-version" && p["in"] == "query")
    );
}

#[test]
fn the_invalid_2024_preview_schemas_are_repaired_and_reported() {
    let Some(root) = data_plane() else { return };
    let file = layout::find(&root, LEDGER_FILE, "2024-12-09-preview").unwrap();
    let conversion = convert(
        &read(&file.path),
        &DirLoader::new(file.path.parent().unwrap()),
    )
    .unwrap();
    let schemas = &conversion.document["components"]["schemas"];
    assert_eq!(schemas["ModuleDef_array"]["type"], "array");
    assert_eq!(
        schemas["RoleActionDef"],
        serde_json::json!({"type": "string"})
    );
    let notes = conversion.notes.join("\n");
    assert!(
        notes.contains("ModuleDef_array") && notes.contains("RoleActionDef"),
        "{notes}"
    );
}

#[test]
fn conversion_is_deterministic() {
    let Some(root) = data_plane() else { return };
    for file in upstream_files(&root) {
        let (first, _) = xtask::regen::convert_file(&file).unwrap();
        let (second, _) = xtask::regen::convert_file(&file).unwrap();
        assert_eq!(first, second, "{}", file.relative);
        assert!(first.ends_with("}\n") && !first.ends_with("\n\n"));
    }
}
