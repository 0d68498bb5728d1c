//! User-defined endpoints: requests to `/app/<route>` that the deployed bundle's
//! `metadata.endpoints` declare run the route's `js_function` of its `js_module`, with
//! CCF's request object and `ccf` API, and answer with the response object it returns.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::javascript::{failure_response, run_with_kv, runtime_options};
use super::{ApiError, App, Caller, read_body, with_txid};
use crate::js::engine::{Call, Run, Script, module_name};
use crate::js::limits::Limits;

/// The authentication policy that lets anyone call an endpoint.
const NO_AUTH: &str = "no_auth";

/// One route of the bundle, matched to a request.
#[derive(Debug, Clone)]
pub(crate) struct Matched {
    /// The route as the bundle names it (`/records/{id}`).
    route: String,
    /// The route's path parameters, decoded.
    params: Map<String, Value>,
    /// The method's properties (`js_module`, `js_function`, `mode`, `authn_policies`...).
    properties: Value,
}

impl Matched {
    /// Whether the route's `authn_policies` let an unauthenticated caller in.
    pub(crate) fn allows_anonymous(&self) -> bool {
        self.policies().iter().any(|p| p == NO_AUTH)
    }

    fn policies(&self) -> Vec<String> {
        self.properties
            .get("authn_policies")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether the route only reads (`readonly` and `historical` modes).
    fn readonly(&self) -> bool {
        matches!(
            self.properties.get("mode").and_then(Value::as_str),
            Some("readonly" | "historical")
        )
    }
}

/// What a request to a bundle path finds.
#[derive(Debug)]
pub(crate) enum Lookup {
    /// No route of the bundle has this path.
    NoRoute,
    /// The path is a route, but not for this method.
    NoMethod,
    /// The route and method.
    Found(Matched),
}

/// Finds the route of the deployed bundle for `method` and `path` (`/app/...`).
pub(crate) fn lookup(app: &App, method: &Method, path: &str) -> Lookup {
    let Some(relative) = path.strip_prefix("/app") else {
        return Lookup::NoRoute;
    };
    let endpoints = app.ledger.with_governance(|g| {
        g.endpoints
            .as_ref()
            .and_then(|b| b.pointer("/metadata/endpoints"))
            .cloned()
    });
    let Some(Value::Object(endpoints)) = endpoints else {
        return Lookup::NoRoute;
    };
    let mut path_found = false;
    // Exact routes before templated ones.
    let mut routes: Vec<(&String, &Value)> = endpoints.iter().collect();
    routes.sort_by_key(|(route, _)| route.contains('{'));
    for (route, methods) in routes {
        let Some(params) = match_route(route, relative) else {
            continue;
        };
        path_found = true;
        let properties = methods.as_object().and_then(|m| {
            m.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(method.as_str()))
                .map(|(_, v)| v.clone())
        });
        if let Some(properties) = properties {
            return Lookup::Found(Matched {
                route: route.clone(),
                params,
                properties,
            });
        }
    }
    if path_found {
        Lookup::NoMethod
    } else {
        Lookup::NoRoute
    }
}

/// Matches `path` against a route with `{name}` segments; answers the decoded parameters.
fn match_route(route: &str, path: &str) -> Option<Map<String, Value>> {
    let route: Vec<&str> = route.split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    if route.len() != path.len() {
        return None;
    }
    let mut params = Map::new();
    for (r, p) in route.iter().zip(&path) {
        if let Some(name) = r.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
            let value = super::decode_path_parameter(p).ok()?;
            params.insert(name.to_string(), Value::String(value));
        } else if r != p {
            return None;
        }
    }
    Some(params)
}

/// The modules of the deployed bundle, by normalised name.
fn modules(app: &App) -> HashMap<String, String> {
    app.ledger.with_governance(|g| {
        g.endpoints
            .as_ref()
            .and_then(|b| b.get("modules"))
            .and_then(Value::as_array)
            .map(|mods| {
                mods.iter()
                    .filter_map(|m| {
                        Some((
                            module_name("", m.get("name")?.as_str()?),
                            m.get("module")?.as_str()?.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default()
    })
}

/// The response object a script returned, as the prelude encodes it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Encoded {
    status_code: Option<Value>,
    #[serde(default)]
    headers: Map<String, Value>,
    kind: String,
    #[serde(default)]
    body: String,
}

fn script_error(message: impl Into<String>) -> Response {
    ApiError::internal(message).into_response()
}

/// Builds the HTTP answer from an endpoint's response object.
fn response_of(encoded: &str) -> Response {
    let encoded: Encoded = match serde_json::from_str(encoded) {
        Ok(e) => e,
        Err(e) => return script_error(format!("The endpoint's response is unreadable: {e}")),
    };
    let status = match &encoded.status_code {
        None | Some(Value::Null) => Some(StatusCode::OK),
        Some(v) => v
            .as_u64()
            .and_then(|c| u16::try_from(c).ok())
            .and_then(|c| StatusCode::from_u16(c).ok()),
    };
    let Some(status) = status else {
        return script_error("The endpoint's response has an invalid statusCode");
    };
    let Ok(body) = hex::decode(&encoded.body) else {
        return script_error("The endpoint's response body is unreadable");
    };
    let content_type = match encoded.kind.as_str() {
        "json" => Some("application/json"),
        "text" => Some("text/plain"),
        "bytes" => Some("application/octet-stream"),
        _ => None,
    };
    let mut response = (status, Body::from(body)).into_response();
    if let Some(ct) = content_type {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    for (name, value) in &encoded.headers {
        let value = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            (Ok(n), Ok(v)) => {
                response.headers_mut().insert(n, v);
            }
            _ => return script_error(format!("The endpoint's response header {name} is invalid")),
        }
    }
    response
}

/// The request object's `caller`.
fn caller_json(caller: Option<&Caller>, policies: &[String]) -> Value {
    match caller {
        None => json!({ "policy": NO_AUTH }),
        Some(c) if c.by_token => json!({
            "policy": "jwt",
            "id": c.user_id,
            "jwt": { "payload": { "oid": c.user_id } },
        }),
        Some(c) => {
            let policy = if policies.iter().any(|p| p == "user_cert") {
                "user_cert"
            } else {
                "any_cert"
            };
            json!({ "policy": policy, "id": c.user_id })
        }
    }
}

/// Whether `caller` satisfies one of the route's policies (a route without policies takes
/// any ledger user).
fn authenticated(caller: Option<&Caller>, policies: &[String]) -> bool {
    if policies.is_empty() {
        return caller.is_some();
    }
    policies.iter().any(|p| match (p.as_str(), caller) {
        (NO_AUTH, _) => true,
        ("jwt", Some(c)) => c.by_token,
        ("user_cert" | "any_cert", Some(c)) => !c.by_token,
        _ => false,
    })
}

/// Runs the matched route for `request`.
pub(crate) async fn serve(app: Arc<App>, matched: Matched, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let caller = parts.extensions.get::<Caller>().cloned();
    let policies = matched.policies();
    if !authenticated(caller.as_ref(), &policies) {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationInfo",
            format!(
                "The caller does not satisfy the endpoint's authentication policies: {}",
                policies.join(", ")
            ),
        )
        .into_response();
    }
    let body = match read_body(body, app.options.max_body_bytes).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let headers: Map<String, Value> = parts
        .headers
        .iter()
        .filter(|(name, _)| *name != header::AUTHORIZATION)
        .filter_map(|(name, value)| {
            Some((
                name.as_str().to_string(),
                Value::String(value.to_str().ok()?.to_string()),
            ))
        })
        .collect();
    let request_json = json!({
        "method": parts.method.as_str(),
        "url": parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or(""),
        "route": matched.route,
        "path": parts.uri.path(),
        "params": matched.params,
        "query": parts.uri.query().unwrap_or(""),
        "headers": headers,
        "hostname": parts.headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or(""),
        "caller": caller_json(caller.as_ref(), &policies),
    })
    .to_string();
    let properties = &matched.properties;
    let Some(module) = properties.get("js_module").and_then(Value::as_str) else {
        return script_error(format!("Route {} has no js_module", matched.route));
    };
    let Some(function) = properties.get("js_function").and_then(Value::as_str) else {
        return script_error(format!("Route {} has no js_function", matched.route));
    };
    let limits = Limits::from_options(&runtime_options(&app), None);
    let script = Script {
        modules: modules(&app),
        entry: module_name("", module),
        function: function.to_string(),
    };
    let call = Call::Endpoint {
        request: request_json,
        body: body.to_vec(),
    };
    let outcome = run_with_kv(&app, !matched.readonly(), |kv_snapshot| Run {
        script: script.clone(),
        call: call.clone(),
        kv_snapshot,
        writable: false,
        limits: limits.clone(),
    })
    .await;
    match outcome {
        Err(e) => e.into_response(),
        Ok(Err(failure)) => failure_response(&failure, &limits),
        Ok(Ok((finished, txid))) => {
            let response = response_of(finished.value.as_deref().unwrap_or("{}"));
            match txid {
                Some(id) => with_txid(response, id),
                None => response,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_with_parameters() {
        let p = match_route("/records/{id}", "/records/a%20b").unwrap();
        assert_eq!(p["id"], "a b");
        assert!(match_route("/records/{id}", "/records").is_none());
        assert!(match_route("/records", "/other").is_none());
        assert!(match_route("/a/{x}/b", "/a/1/b").is_some());
    }

    #[test]
    fn policies_decide_who_may_call() {
        let c = Caller {
            user_id: "u".into(),
            by_token: true,
            method: Method::GET,
            path: "/".into(),
        };
        let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(authenticated(Some(&c), &p(&["jwt"])));
        assert!(!authenticated(Some(&c), &p(&["user_cert"])));
        assert!(authenticated(None, &p(&["no_auth"])));
        assert!(!authenticated(None, &p(&["jwt", "user_cert"])));
        assert!(authenticated(Some(&c), &[]));
        assert!(!authenticated(None, &[]));
    }
}
