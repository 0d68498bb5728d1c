//! Users (`/app/ledgerUsers` with several roles, legacy `/app/users` with one) and
//! user-defined roles (`/app/roles`).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::versions::recorded_semantics;
use super::{
    ApiError, App, Caller, PathParam, QueryMap, after_legacy_users, json, json_body, page,
    with_txid,
};
use crate::access::{Action, BUILTIN_ROLES, builtin_role};
use crate::storage::record::{GovOp, RoleDef};

fn user_not_found(user_id: &str) -> ApiError {
    ApiError::not_found("UserNotFound", format!("User {user_id} was not found"))
}

/// Checks a user id: non-empty, at most 256 characters, no control characters.
pub(crate) fn validate_user_id(user_id: &str) -> Result<(), ApiError> {
    if user_id.trim().is_empty() || user_id.len() > 256 || user_id.chars().any(char::is_control) {
        return Err(ApiError::invalid_input(
            "A user id must be 1 to 256 characters without control characters",
        ));
    }
    Ok(())
}

/// Canonical role names: built-in names in their usual spelling unless a user-defined role has
/// exactly that name; duplicates removed.
fn canonical_roles(
    roles: &[String],
    custom: &BTreeMap<String, Vec<String>>,
) -> Result<Vec<String>, ApiError> {
    let mut out: Vec<String> = Vec::new();
    for r in roles {
        let r = r.trim();
        if r.is_empty() || r.len() > 128 {
            return Err(ApiError::invalid_input(
                "Role names must be 1 to 128 characters",
            ));
        }
        let name = if custom.contains_key(r) {
            r.to_string()
        } else {
            builtin_role(r).map_or_else(|| r.to_string(), str::to_string)
        };
        if !out.contains(&name) {
            out.push(name);
        }
    }
    Ok(out)
}

fn ledger_user_json(user_id: &str, roles: &[String]) -> Value {
    json!({ "assignedRoles": roles, "userId": user_id })
}

/// The single role a legacy call reports: the most privileged built-in role, else the first.
fn legacy_role(roles: &[String]) -> String {
    BUILTIN_ROLES
        .iter()
        .find(|b| roles.iter().any(|r| r == *b))
        .map(|b| b.to_string())
        .or_else(|| roles.first().cloned())
        .unwrap_or_default()
}

fn legacy_user_json(user_id: &str, roles: &[String]) -> Value {
    json!({ "assignedRole": legacy_role(roles), "userId": user_id })
}

/// `GET /app/ledgerUsers`
pub(super) async fn list_ledger_users(
    State(app): State<Arc<App>>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    app.authorize(&caller, Action::UsersRead)?;
    let users: Vec<Value> = app.ledger.with_governance(|g| {
        g.users
            .iter()
            .map(|(id, roles)| ledger_user_json(id, roles))
            .collect()
    });
    Ok(users_page(&app, &query, &users, "/app/ledgerUsers"))
}

fn users_page(app: &App, query: &QueryMap, users: &[Value], path: &str) -> Response {
    let skip = match query.skip() {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let (items, next) = page(
        users,
        skip,
        app.options.page_size,
        path,
        query.api_version(),
        &[],
    );
    let mut body = Map::new();
    body.insert("ledgerUsers".into(), Value::Array(items));
    if let Some(n) = next {
        body.insert("nextLink".into(), Value::String(n));
    }
    json(StatusCode::OK, &Value::Object(body))
}

/// `GET /app/ledgerUsers/{userId}`
pub(super) async fn get_ledger_user(
    State(app): State<Arc<App>>,
    caller: Caller,
    PathParam(user_id): PathParam,
) -> Result<Response, ApiError> {
    app.authorize(&caller, Action::UsersRead)?;
    let roles = app
        .ledger
        .with_governance(|g| g.users.get(&user_id).cloned());
    match roles {
        Some(roles) => Ok(json(StatusCode::OK, &ledger_user_json(&user_id, &roles))),
        None => Err(user_not_found(&user_id)),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RolesPatch {
    #[serde(default, alias = "assigned_roles")]
    assigned_roles: Option<Vec<String>>,
}

/// `PATCH /app/ledgerUsers/{userId}` (merge patch): creates the user, or updates their roles:
/// before api-version 2026-02-23 the given roles are added to the user's (as the recordings
/// show), from 2026-02-23 on they replace them (merge-patch replaces arrays; the spec decides).
pub(super) async fn patch_ledger_user(
    State(app): State<Arc<App>>,
    caller: Caller,
    PathParam(user_id): PathParam,
    query: QueryMap,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    app.authorize(&caller, Action::UsersWrite)?;
    validate_user_id(&user_id)?;
    let patch: RolesPatch = json_body(&app, &headers, body).await?;
    let adds = recorded_semantics(query.api_version());
    let id = user_id.clone();
    let result = app
        .ledger
        .govern(|g| {
            let roles = match (&patch.assigned_roles, g.users.get(&id)) {
                (Some(r), Some(existing)) if adds => {
                    let mut all = existing.clone();
                    all.extend(r.iter().cloned());
                    canonical_roles(&all, &g.roles)?
                }
                (Some(r), _) => canonical_roles(r, &g.roles)?,
                (None, Some(existing)) => existing.clone(),
                (None, None) => {
                    return Err(ApiError::invalid_input(
                        "assignedRoles is required to create a user",
                    ));
                }
            };
            if roles.is_empty() {
                return Err(ApiError::invalid_input(
                    "assignedRoles must name at least one role",
                ));
            }
            Ok(GovOp::SetUser { user_id: id, roles })
        })
        .await??;
    let roles = app
        .ledger
        .with_governance(|g| g.users.get(&user_id).cloned())
        .unwrap_or_default();
    Ok(with_txid(
        json(StatusCode::OK, &ledger_user_json(&user_id, &roles)),
        result,
    ))
}

/// Removes a user; an absent user is `404 UserNotFound`, or (with `absent_ok`) a removal
/// that changes nothing, answered `204` like any other.
async fn remove_user(app: &App, user_id: String, absent_ok: bool) -> Result<Response, ApiError> {
    let id = app
        .ledger
        .govern(|g| {
            if absent_ok || g.users.contains_key(&user_id) {
                Ok(GovOp::RemoveUser {
                    user_id: user_id.clone(),
                })
            } else {
                Err(user_not_found(&user_id))
            }
        })
        .await??;
    Ok(with_txid(StatusCode::NO_CONTENT.into_response(), id))
}

/// `DELETE /app/ledgerUsers/{userId}`: before api-version 2026-02-23 deleting an absent user
/// answers `204` (recorded); from 2026-02-23 on, `404 UserNotFound`.
pub(super) async fn delete_ledger_user(
    State(app): State<Arc<App>>,
    caller: Caller,
    PathParam(user_id): PathParam,
    query: QueryMap,
) -> Result<Response, ApiError> {
    app.authorize(&caller, Action::UsersWrite)?;
    remove_user(&app, user_id, recorded_semantics(query.api_version())).await
}

/// From api-version 2024-08-22-preview on, legacy user calls answer `301
/// ApiVersionRedirect` with `Location: /ledgerUsers` (the path the recorded client followed)
/// and no transaction id.
fn legacy_redirect(app: &App, query: &QueryMap) -> Result<(), ApiError> {
    if app.options.legacy_users_redirect && after_legacy_users(query.api_version()) {
        let mut redirect = ApiError::new(
            StatusCode::MOVED_PERMANENTLY,
            "ApiVersionRedirect",
            "For API version greater than 2024-08-22-preview, please use the new API at /ledgerUsers",
        );
        redirect.location = Some("/ledgerUsers");
        return Err(redirect);
    }
    Ok(())
}

/// `GET /app/users`
pub(super) async fn list_legacy_users(
    State(app): State<Arc<App>>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    legacy_redirect(&app, &query)?;
    app.authorize(&caller, Action::UsersRead)?;
    let users: Vec<Value> = app.ledger.with_governance(|g| {
        g.users
            .iter()
            .map(|(id, roles)| legacy_user_json(id, roles))
            .collect()
    });
    Ok(users_page(&app, &query, &users, "/app/users"))
}

/// `GET /app/users/{userId}`
pub(super) async fn get_legacy_user(
    State(app): State<Arc<App>>,
    caller: Caller,
    query: QueryMap,
    PathParam(user_id): PathParam,
) -> Result<Response, ApiError> {
    legacy_redirect(&app, &query)?;
    app.authorize(&caller, Action::UsersRead)?;
    let roles = app
        .ledger
        .with_governance(|g| g.users.get(&user_id).cloned());
    match roles {
        Some(roles) => Ok(json(StatusCode::OK, &legacy_user_json(&user_id, &roles))),
        None => Err(user_not_found(&user_id)),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RolePatch {
    #[serde(default, alias = "assigned_role")]
    assigned_role: Option<String>,
}

/// `PATCH /app/users/{userId}` (merge patch `{"assignedRole": ...}`).
pub(super) async fn patch_legacy_user(
    State(app): State<Arc<App>>,
    caller: Caller,
    query: QueryMap,
    PathParam(user_id): PathParam,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    legacy_redirect(&app, &query)?;
    app.authorize(&caller, Action::UsersWrite)?;
    validate_user_id(&user_id)?;
    let patch: RolePatch = json_body(&app, &headers, body).await?;
    let id = user_id.clone();
    let txid = app
        .ledger
        .govern(|g| {
            let roles = match (&patch.assigned_role, g.users.get(&id)) {
                (Some(r), _) => match builtin_role(r) {
                    Some(b) => vec![b.to_string()],
                    None => {
                        return Err(ApiError::invalid_input(format!(
                            "assignedRole must be one of {}",
                            BUILTIN_ROLES.join(", ")
                        )));
                    }
                },
                (None, Some(existing)) => existing.clone(),
                (None, None) => {
                    return Err(ApiError::invalid_input(
                        "assignedRole is required to create a user",
                    ));
                }
            };
            Ok(GovOp::SetUser { user_id: id, roles })
        })
        .await??;
    let roles = app
        .ledger
        .with_governance(|g| g.users.get(&user_id).cloned())
        .unwrap_or_default();
    Ok(with_txid(
        json(StatusCode::OK, &legacy_user_json(&user_id, &roles)),
        txid,
    ))
}

/// `DELETE /app/users/{userId}`
pub(super) async fn delete_legacy_user(
    State(app): State<Arc<App>>,
    caller: Caller,
    query: QueryMap,
    PathParam(user_id): PathParam,
) -> Result<Response, ApiError> {
    legacy_redirect(&app, &query)?;
    app.authorize(&caller, Action::UsersWrite)?;
    remove_user(&app, user_id, false).await
}

/// A role as sent: camelCase or snake_case field names.
#[derive(Deserialize)]
struct RoleIn {
    #[serde(rename = "roleName", alias = "role_name")]
    role_name: String,
    #[serde(default, rename = "roleActions", alias = "role_actions")]
    role_actions: Vec<String>,
}

#[derive(Deserialize)]
struct RolesIn {
    roles: Vec<RoleIn>,
}

fn role_json(name: &str, actions: &[String]) -> Value {
    json!({ "roleActions": actions, "roleName": name })
}

/// A role as the recordings show it (before 2026-02-23): snake_case.
fn recorded_role_json(name: &str, actions: &[String]) -> Value {
    json!({ "role_actions": actions, "role_name": name })
}

/// A `200` whose body is the JSON string `message`, as recorded for role writes.
fn json_string(message: &str) -> Response {
    json(StatusCode::OK, &Value::String(message.to_string()))
}

fn role_name(query: &QueryMap) -> Result<String, ApiError> {
    match query.get("roleName").or_else(|| query.get("role_name")) {
        Some(n) if !n.trim().is_empty() => Ok(n.to_string()),
        _ => Err(ApiError::invalid_query("roleName", "is required")),
    }
}

fn role_not_found(name: &str) -> ApiError {
    ApiError::not_found("RoleNotFound", format!("Role {name} was not found"))
}

/// `GET /app/roles?roleName=`: `{"roles": [{"role_actions", "role_name"}]}` before
/// api-version 2026-02-23 (recorded), `{"role": [{"roleActions", "roleName"}]}` from then on
/// (spec).
pub(super) async fn get_role(
    State(app): State<Arc<App>>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    app.authorize(&caller, Action::RolesRead)?;
    let name = role_name(&query)?;
    let actions = app.ledger.with_governance(|g| g.roles.get(&name).cloned());
    let Some(actions) = actions else {
        return Err(role_not_found(&name));
    };
    let body = if recorded_semantics(query.api_version()) {
        json!({ "roles": [recorded_role_json(&name, &actions)] })
    } else {
        json!({ "role": [role_json(&name, &actions)] })
    };
    Ok(json(StatusCode::OK, &body))
}

async fn set_roles(
    app: &App,
    query: &QueryMap,
    headers: &HeaderMap,
    body: Body,
    must_exist: bool,
) -> Result<Response, ApiError> {
    let input: RolesIn = json_body(app, headers, body).await?;
    if input.roles.is_empty() {
        return Err(ApiError::invalid_input(
            "roles must contain at least one role",
        ));
    }
    let mut defs = Vec::new();
    for r in input.roles {
        let name = r.role_name.trim().to_string();
        if name.is_empty() || name.len() > 128 {
            return Err(ApiError::invalid_input(
                "roleName must be 1 to 128 characters",
            ));
        }
        if BUILTIN_ROLES.contains(&name.as_str()) {
            return Err(ApiError::invalid_input(format!(
                "{name} is a built-in role and cannot be redefined"
            )));
        }
        if r.role_actions.iter().any(|a| a.trim().is_empty()) {
            return Err(ApiError::invalid_input(
                "roleActions must not contain empty actions",
            ));
        }
        defs.push(RoleDef {
            name,
            actions: r.role_actions,
        });
    }
    let echo: Vec<Value> = defs
        .iter()
        .map(|d| role_json(&d.name, &d.actions))
        .collect();
    let id = app
        .ledger
        .govern(|g| {
            if must_exist
                && let Some(missing) = defs.iter().find(|d| !g.roles.contains_key(&d.name))
            {
                return Err(role_not_found(&missing.name));
            }
            Ok(GovOp::SetRoles { roles: defs })
        })
        .await??;
    let response = if !recorded_semantics(query.api_version()) {
        json(StatusCode::OK, &json!({ "roles": echo }))
    } else if must_exist {
        json_string("Role replaced successfully.")
    } else {
        json_string("Role added successfully.")
    };
    Ok(with_txid(response, id))
}

/// `PUT /app/roles`: creates or replaces roles.
pub(super) async fn put_roles(
    State(app): State<Arc<App>>,
    caller: Caller,
    query: QueryMap,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    app.authorize(&caller, Action::RolesWrite)?;
    set_roles(&app, &query, &headers, body, false).await
}

/// `PATCH /app/roles`: replaces the actions of existing roles.
pub(super) async fn patch_roles(
    State(app): State<Arc<App>>,
    caller: Caller,
    query: QueryMap,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    app.authorize(&caller, Action::RolesWrite)?;
    set_roles(&app, &query, &headers, body, true).await
}

/// `DELETE /app/roles?roleName=`
pub(super) async fn delete_role(
    State(app): State<Arc<App>>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    app.authorize(&caller, Action::RolesWrite)?;
    let name = role_name(&query)?;
    let id = app
        .ledger
        .govern(|g| {
            if g.roles.contains_key(&name) {
                Ok(GovOp::RemoveRole { name: name.clone() })
            } else {
                Err(role_not_found(&name))
            }
        })
        .await??;
    let response = if recorded_semantics(query.api_version()) {
        json_string(&format!("Role {name} deleted successfully."))
    } else {
        StatusCode::NO_CONTENT.into_response()
    };
    Ok(with_txid(response, id))
}
