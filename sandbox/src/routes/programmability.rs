//! Programmability: user-defined functions, the user-defined endpoints bundle and the
//! JavaScript runtime options, stored like a real ledger stores them; `:execute` runs a
//! function in the embedded engine.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::javascript::{log_failure, run_with_kv, runtime_options};
use super::{
    ApiError, App, Caller, PathParam, QueryMap, json, json_body, page, read_body, validate_name,
    with_txid,
};
use crate::access::Action;
use crate::js::engine::{Call, Failure, Run, Script};
use crate::js::limits::Limits;
use crate::ledger::default_runtime_options;
use crate::storage::record::GovOp;

fn function_not_found(id: &str) -> ApiError {
    ApiError::not_found(
        "FunctionNotFound",
        format!("User-defined function {id} was not found"),
    )
}

fn function_json(id: &str, code: &str) -> Value {
    json!({ "code": code, "id": id })
}

/// `GET /app/userDefinedFunctions`
pub(super) async fn list_functions(
    State(app): State<Arc<App>>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    app.authorize(&caller, Action::ProgrammabilityRead)?;
    let all: Vec<Value> = app.ledger.with_governance(|g| {
        g.functions
            .iter()
            .map(|(id, code)| function_json(id, code))
            .collect()
    });
    let (items, next) = page(
        &all,
        query.skip()?,
        app.options.page_size,
        "/app/userDefinedFunctions",
        query.api_version(),
        &[],
    );
    let mut body = Map::new();
    body.insert("functions".into(), Value::Array(items));
    if let Some(n) = next {
        body.insert("nextLink".into(), Value::String(n));
    }
    Ok(json(StatusCode::OK, &Value::Object(body)))
}

/// `GET /app/userDefinedFunctions/{functionId}`
pub(super) async fn get_function(
    State(app): State<Arc<App>>,
    caller: Caller,
    PathParam(id): PathParam,
) -> Result<Response, ApiError> {
    app.authorize(&caller, Action::ProgrammabilityRead)?;
    match app
        .ledger
        .with_governance(|g| g.functions.get(&id).cloned())
    {
        Some(code) => Ok(json(StatusCode::OK, &function_json(&id, &code))),
        None => Err(function_not_found(&id)),
    }
}

#[derive(Deserialize)]
struct FunctionIn {
    code: String,
}

/// `PUT /app/userDefinedFunctions/{functionId}`: 201 when created, 200 when replaced.
pub(super) async fn put_function(
    State(app): State<Arc<App>>,
    caller: Caller,
    PathParam(id): PathParam,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    app.authorize(&caller, Action::ProgrammabilityWrite)?;
    validate_name("functionId", &id, 256)?;
    if id.contains(':') {
        return Err(ApiError::invalid_input(
            "A function id must not contain ':'",
        ));
    }
    let input: FunctionIn = json_body(&app, &headers, body).await?;
    let mut created = false;
    let code = input.code.clone();
    let fid = id.clone();
    let txid = app
        .ledger
        .govern(|g| {
            created = !g.functions.contains_key(&fid);
            Ok::<_, ApiError>(GovOp::SetFunction { id: fid, code })
        })
        .await??;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(with_txid(
        json(status, &function_json(&id, &input.code)),
        txid,
    ))
}

/// `DELETE /app/userDefinedFunctions/{functionId}`
pub(super) async fn delete_function(
    State(app): State<Arc<App>>,
    caller: Caller,
    PathParam(id): PathParam,
) -> Result<Response, ApiError> {
    app.authorize(&caller, Action::ProgrammabilityWrite)?;
    let txid = app
        .ledger
        .govern(|g| {
            if g.functions.contains_key(&id) {
                Ok(GovOp::RemoveFunction { id: id.clone() })
            } else {
                Err(function_not_found(&id))
            }
        })
        .await??;
    Ok(with_txid(StatusCode::NO_CONTENT.into_response(), txid))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ExecuteIn {
    #[serde(default)]
    arguments: Vec<String>,
    exported_function_name: Option<String>,
    runtime_options: Option<Value>,
}

/// `POST /app/userDefinedFunctions/{functionId}:execute`: runs the function's exported
/// function (`main` unless `exportedFunctionName` says otherwise) with the string
/// `arguments`, under the ledger's runtime options overridden by the call's own. Answers
/// `200` with `status` `Succeeded` and `result.returnValue`, or `Failed` and `error.message`.
pub(super) async fn execute_function(
    State(app): State<Arc<App>>,
    caller: Caller,
    PathParam(target): PathParam,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let Some(id) = target.strip_suffix(":execute") else {
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "UnsupportedHttpVerb",
            format!(
                "POST is not allowed on /app/userDefinedFunctions/{target}; use {target}:execute"
            ),
        ));
    };
    app.authorize(&caller, Action::Execute)?;
    let Some(code) = app.ledger.with_governance(|g| g.functions.get(id).cloned()) else {
        return Err(function_not_found(id));
    };
    let bytes = read_body(body, app.options.max_body_bytes).await?;
    let input: ExecuteIn = if bytes.iter().all(u8::is_ascii_whitespace) {
        ExecuteIn::default()
    } else {
        if let Some(ct) = headers.get(axum::http::header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
            if ct.split(';').next().unwrap_or("").trim() != "application/json" {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "UnsupportedContentType",
                    format!("Content type '{ct}' is not supported; send application/json"),
                ));
            }
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::invalid_input(format!("Invalid request body: {e}")))?
    };
    if let Some(o) = &input.runtime_options
        && !o.is_object()
    {
        return Err(ApiError::invalid_input("runtimeOptions must be an object"));
    }
    let limits = Limits::from_options(&runtime_options(&app), input.runtime_options.as_ref());
    let module = format!("{}.js", id.replace('/', "_"));
    let script = Script {
        modules: [(module.clone(), code)].into_iter().collect(),
        entry: module,
        function: input
            .exported_function_name
            .clone()
            .unwrap_or_else(|| "main".into()),
    };
    let call = Call::Function {
        arguments: input.arguments,
    };
    // Standalone functions read and write the ledger's application tables (the service's
    // documentation of simple user-defined functions).
    let outcome = run_with_kv(&app, true, |kv_snapshot| Run {
        script: script.clone(),
        call: call.clone(),
        kv_snapshot,
        writable: false,
        limits: limits.clone(),
    })
    .await?;
    let mut txid = None;
    let body = match outcome {
        Ok((finished, written)) => {
            txid = written;
            let mut result = Map::new();
            if let Some(v) = finished.value {
                result.insert("returnValue".into(), Value::String(v));
            }
            json!({ "status": "Succeeded", "result": result })
        }
        Err(Failure::Host(why)) => return Err(ApiError::internal(why)),
        Err(failure) => {
            log_failure(&failure, &limits);
            let message = match (&failure, limits.return_exception_details) {
                (Failure::Exception { message, trace }, true) => match trace {
                    Some(t) => format!("{message}\n{t}"),
                    None => message.clone(),
                },
                (Failure::Exception { .. }, false) => "Exception thrown while executing.".into(),
                (f, _) => f.to_string(),
            };
            json!({ "status": "Failed", "error": { "message": message } })
        }
    };
    let response = json(StatusCode::OK, &body);
    Ok(match txid {
        Some(id) => with_txid(response, id),
        None => response,
    })
}

fn empty_bundle() -> Value {
    json!({ "metadata": { "endpoints": {} }, "modules": [] })
}

/// `GET /app/userDefinedEndpoints`
pub(super) async fn get_endpoints(
    State(app): State<Arc<App>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    app.authorize(&caller, Action::ProgrammabilityRead)?;
    let bundle = app
        .ledger
        .with_governance(|g| g.endpoints.clone())
        .unwrap_or_else(empty_bundle);
    Ok(json(StatusCode::OK, &bundle))
}

/// Checks the shape of a bundle: `metadata.endpoints` an object of path -> method -> object,
/// `modules` an array of `{name, module}` strings.
fn check_bundle(bundle: &Value) -> Result<(), ApiError> {
    let bad = |m: &str| Err(ApiError::invalid_input(format!("Invalid bundle: {m}")));
    let Some(endpoints) = bundle
        .pointer("/metadata/endpoints")
        .and_then(Value::as_object)
    else {
        return bad("metadata.endpoints must be an object");
    };
    for (path, methods) in endpoints {
        let Some(methods) = methods.as_object() else {
            return bad(&format!("endpoint {path} must map methods to properties"));
        };
        if methods.values().any(|p| !p.is_object()) {
            return bad(&format!("the methods of endpoint {path} must be objects"));
        }
    }
    let Some(modules) = bundle.get("modules").and_then(Value::as_array) else {
        return bad("modules must be an array");
    };
    for m in modules {
        if !(m.get("name").is_some_and(Value::is_string)
            && m.get("module").is_some_and(Value::is_string))
        {
            return bad("each module needs string fields name and module");
        }
    }
    Ok(())
}

/// Stores each route's methods in upper case, as the service answers them (`get` -> `GET`).
fn uppercase_methods(bundle: &mut Value) {
    if let Some(endpoints) = bundle
        .pointer_mut("/metadata/endpoints")
        .and_then(Value::as_object_mut)
    {
        for methods in endpoints.values_mut() {
            if let Some(m) = methods.as_object_mut() {
                *m = std::mem::take(m)
                    .into_iter()
                    .map(|(k, v)| (k.to_ascii_uppercase(), v))
                    .collect();
            }
        }
    }
}

/// `PUT /app/userDefinedEndpoints`: 201, no body.
pub(super) async fn put_endpoints(
    State(app): State<Arc<App>>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    app.authorize(&caller, Action::ProgrammabilityWrite)?;
    let mut bundle: Value = json_body(&app, &headers, body).await?;
    check_bundle(&bundle)?;
    uppercase_methods(&mut bundle);
    let txid = app
        .ledger
        .govern(|_| Ok::<_, ApiError>(GovOp::SetEndpoints { bundle }))
        .await??;
    Ok(with_txid(StatusCode::CREATED.into_response(), txid))
}

/// `GET /app/userDefinedEndpoints/modules?module_name=`
pub(super) async fn get_module(
    State(app): State<Arc<App>>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    app.authorize(&caller, Action::ProgrammabilityRead)?;
    let Some(name) = query.get("module_name").or_else(|| query.get("moduleName")) else {
        return Err(ApiError::invalid_query("module_name", "is required"));
    };
    let found = app.ledger.with_governance(|g| {
        g.endpoints
            .as_ref()
            .and_then(|b| b.get("modules"))
            .and_then(Value::as_array)
            .and_then(|mods| {
                mods.iter()
                    .find(|m| m.get("name").and_then(Value::as_str) == Some(name))
                    .cloned()
            })
    });
    match found {
        Some(m) => Ok(json(StatusCode::OK, &m)),
        None => Err(ApiError::not_found(
            "ModuleNotFound",
            format!("Module {name} was not found"),
        )),
    }
}

/// `GET /app/userDefinedEndpoints/runtimeOptions`
pub(super) async fn get_runtime_options(
    State(app): State<Arc<App>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    app.authorize(&caller, Action::ProgrammabilityRead)?;
    let options = app.ledger.with_governance(|g| g.runtime_options.clone());
    Ok(json(StatusCode::OK, &options))
}

/// The runtime options and whether each is a flag (else a non-negative integer).
const RUNTIME_OPTIONS: [(&str, bool); 6] = [
    ("log_exception_details", true),
    ("max_cached_interpreters", false),
    ("max_execution_time_ms", false),
    ("max_heap_bytes", false),
    ("max_stack_bytes", false),
    ("return_exception_details", true),
];

/// `PATCH /app/userDefinedEndpoints/runtimeOptions` (merge patch; `null` restores a default).
pub(super) async fn patch_runtime_options(
    State(app): State<Arc<App>>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    app.authorize(&caller, Action::ProgrammabilityWrite)?;
    let patch: Value = json_body(&app, &headers, body).await?;
    let Some(patch) = patch.as_object() else {
        return Err(ApiError::invalid_input(
            "The runtime options must be a JSON object",
        ));
    };
    let defaults = default_runtime_options();
    for (key, value) in patch {
        let Some((_, flag)) = RUNTIME_OPTIONS.iter().find(|(k, _)| k == key) else {
            return Err(ApiError::invalid_input(format!(
                "Unknown runtime option {key}"
            )));
        };
        let ok = value.is_null()
            || if *flag {
                value.is_boolean()
            } else {
                value.is_u64()
            };
        if !ok {
            let kind = if *flag {
                "a boolean"
            } else {
                "a non-negative integer"
            };
            return Err(ApiError::invalid_input(format!(
                "Runtime option {key} must be {kind}"
            )));
        }
    }
    let txid = app
        .ledger
        .govern(|g| {
            let mut options = g.runtime_options.clone();
            if let Some(obj) = options.as_object_mut() {
                for (key, value) in patch {
                    let value = if value.is_null() {
                        defaults[key].clone()
                    } else {
                        value.clone()
                    };
                    obj.insert(key.clone(), value);
                }
            }
            Ok::<_, ApiError>(GovOp::SetRuntimeOptions { options })
        })
        .await??;
    let options = app.ledger.with_governance(|g| g.runtime_options.clone());
    Ok(with_txid(json(StatusCode::OK, &options), txid))
}
