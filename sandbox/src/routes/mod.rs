//! The HTTP API: the ledger endpoint's routes (2026-02-23 and the older calls that remain),
//! and the identity endpoint.

mod collections;
pub(crate) mod error;
mod governance;
pub(crate) mod identity;
mod javascript;
mod programmability;
mod transactions;
mod user_endpoints;
mod users;
mod versions;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http_body_util::BodyExt;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::Notify;

use crate::access::{self, Action};
use crate::faults::{FaultAction, Faults, default_code};
use crate::identity::Generation;
use crate::ledger::Ledger;
use crate::options::SandboxOptions;
use crate::tls::NodeCertResolver;
use crate::token::TokenIssuer;
use crate::{SandboxError, TransactionId};
pub(crate) use error::ApiError;

/// Response header carrying the transaction id.
pub(crate) const TXID_HEADER: &str = "x-ms-ccf-transaction-id";

/// Api versions the ledger endpoint accepts.
pub(crate) const API_VERSIONS: [&str; 9] = [
    "0.1-preview",
    "2022-04-20-preview",
    "2022-05-13",
    "2023-01-18-preview",
    "2024-01-26-preview",
    "2024-08-22-preview",
    "2024-12-09-preview",
    "2026-02-23",
    "2026-07-31-preview",
];

/// The first api version whose `/app/users` answers `301 ApiVersionRedirect` (the January
/// 2025 recordings show it at 2024-08-22-preview itself).
const FIRST_REDIRECTED_USERS_VERSION: &str = "2024-08-22";

/// Characters percent-encoded in query values of `nextLink`s (`:` and `,` stay readable).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b':')
    .remove(b',');

/// The connection a request arrived on.
#[derive(Clone, Debug)]
pub(crate) struct ConnInfo {
    /// Fingerprint of the client certificate, if one was presented.
    pub(crate) fingerprint: Option<String>,
    /// Closes the connection without answering.
    pub(crate) kill: Arc<Notify>,
    /// Set once a request from a ledger user arrived on the connection: the connection limit
    /// then spares it.
    pub(crate) trusted: Arc<std::sync::atomic::AtomicBool>,
}

/// Counts `Loading` answers per historical query.
#[derive(Debug)]
pub(crate) struct LoadingTracker {
    responses: u32,
    counts: Mutex<HashMap<String, u32>>,
}

impl LoadingTracker {
    pub(crate) fn new(responses: u32) -> Self {
        LoadingTracker {
            responses,
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// Whether the query named `key` should still answer `Loading` (and counts it).
    pub(crate) fn is_loading(&self, key: String) -> bool {
        if self.responses == 0 {
            return false;
        }
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if counts.len() > 100_000 {
            counts.clear();
        }
        let count = counts.entry(key).or_insert(0);
        if *count < self.responses {
            *count += 1;
            true
        } else {
            false
        }
    }
}

/// Everything the handlers share.
pub(crate) struct App {
    pub(crate) ledger: Arc<Ledger>,
    pub(crate) tokens: TokenIssuer,
    pub(crate) faults: Faults,
    pub(crate) loading: LoadingTracker,
    pub(crate) options: SandboxOptions,
    pub(crate) resolver: Arc<NodeCertResolver>,
    pub(crate) data_dir: PathBuf,
    pub(crate) control_secret: String,
    /// The storage-fault switch of the ledger writer.
    pub(crate) storage_faults: crate::StorageFaults,
    rotation: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

/// File names of the exported certificates in the data directory.
pub(crate) const SERVICE_CERT_FILE: &str = "service_cert.pem";

impl App {
    pub(crate) fn new(
        ledger: Arc<Ledger>,
        options: SandboxOptions,
        resolver: Arc<NodeCertResolver>,
        data_dir: PathBuf,
        storage_faults: crate::StorageFaults,
    ) -> App {
        let (token_key, control_secret) =
            ledger.with_identity(|id| (id.token_key.clone(), id.control_secret.clone()));
        App {
            tokens: TokenIssuer::new(token_key),
            faults: Faults::default(),
            loading: LoadingTracker::new(options.loading_responses),
            control_secret,
            storage_faults,
            ledger,
            options,
            resolver,
            data_dir,
            rotation: tokio::sync::Mutex::new(()),
        }
    }

    /// Rotates the service identity and starts presenting the new node certificate.
    pub(crate) async fn rotate(&self) -> Result<Arc<Generation>, SandboxError> {
        let _one_at_a_time = self.rotation.lock().await;
        let generation = self.ledger.rotate_identity().await?;
        self.resolver.update(&generation)?;
        crate::fsutil::write_atomic(
            &self.data_dir.join(SERVICE_CERT_FILE),
            generation.service_cert_pem.as_bytes(),
            0o644,
        )?;
        tracing::info!(
            generation = generation.index,
            "rotated the service identity"
        );
        Ok(generation)
    }

    /// Checks that `caller` may do `action`.
    pub(crate) fn authorize(&self, caller: &Caller, action: Action) -> Result<(), ApiError> {
        let not_allowed = |why: String| {
            ApiError::new(
                StatusCode::FORBIDDEN,
                "NotAllowed",
                format!(
                    "Not allowed to call {} {}. {why}",
                    caller.method, caller.path
                ),
            )
        };
        let allowed = self.ledger.with_governance(|g| {
            g.users
                .get(&caller.user_id)
                .map(|roles| access::allows(roles, &g.roles, action))
        });
        match allowed {
            None => Err(not_allowed(format!(
                "The caller {} is not a user of this ledger; an administrator must add it (PATCH /app/ledgerUsers/{{userId}}).",
                caller.user_id
            ))),
            Some(false) => Err(not_allowed(format!(
                "The roles of {} do not grant {}.",
                caller.user_id,
                action.name()
            ))),
            Some(true) => Ok(()),
        }
    }
}

/// An authenticated caller: a bearer token's object id or a client certificate's fingerprint.
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    pub(crate) user_id: String,
    /// Whether the caller presented a bearer token (else a client certificate).
    pub(crate) by_token: bool,
    method: Method,
    path: String,
}

fn unauthenticated(message: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationInfo",
        message,
    )
}

impl FromRequestParts<Arc<App>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        // Already authenticated by `require_user`.
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let by_token = parts.headers.contains_key(header::AUTHORIZATION);
        let user_id = match parts.headers.get(header::AUTHORIZATION) {
            Some(value) => {
                let value = value
                    .to_str()
                    .map_err(|_| unauthenticated("The Authorization header is not valid text"))?;
                let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
                if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
                    return Err(unauthenticated(
                        "The Authorization header must be 'Bearer <token>'",
                    ));
                }
                app.tokens
                    .verify(token.trim())
                    .map_err(|e| unauthenticated(format!("Invalid authentication credentials: {e}")))?
            }
            None => parts
                .extensions
                .get::<ConnInfo>()
                .and_then(|c| c.fingerprint.clone())
                .ok_or_else(|| {
                    unauthenticated(
                        "Missing authentication credentials: present a client certificate or an Authorization: Bearer token",
                    )
                })?,
        };
        Ok(Caller {
            user_id,
            by_token,
            method: parts.method.clone(),
            path: parts.uri.path().to_string(),
        })
    }
}

/// One path parameter, decoded as the service decodes them; an undecodable one is a 400 in
/// the service's shape.
///
/// CCF matches routes against the raw (still percent-encoded) path, then decodes each
/// parameter with its URL decoding: `%XX` sequences, and `+` as a space. So `a+b` names the
/// user `a b` and `a%2Bb` the user `a+b`; `%2F` is a `/` inside the parameter.
#[derive(Clone, Debug)]
pub(crate) struct PathParam(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for PathParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let template = parts.extensions.get::<MatchedPath>();
        if let Some(raw) = template.and_then(|t| raw_parameter(t.as_str(), parts.uri.path())) {
            return decode_path_parameter(raw).map(PathParam);
        }
        match axum::extract::Path::<String>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(PathParam(value)),
            Err(e) => Err(ApiError::invalid_input(format!(
                "Invalid path: {}",
                e.body_text()
            ))),
        }
    }
}

/// The raw segment of `path` where the route `template` has its parameter (`{name}`).
fn raw_parameter<'a>(template: &str, path: &'a str) -> Option<&'a str> {
    let template: Vec<&str> = template.split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    if template.len() != path.len() {
        return None;
    }
    template
        .iter()
        .zip(path)
        .find(|(t, _)| t.starts_with('{') && t.ends_with('}'))
        .map(|(_, raw)| raw)
}

/// CCF's decoding of a path parameter: `+` is a space, `%XX` a byte (a `%` not followed by
/// two hex digits stays as it is); the result must be UTF-8.
pub(crate) fn decode_path_parameter(raw: &str) -> Result<String, ApiError> {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(std::borrow::Cow::into_owned)
        .map_err(|_| ApiError::invalid_input("Invalid path: a path parameter is not UTF-8"))
}

/// The decoded query parameters of a request.
#[derive(Clone, Debug, Default)]
pub(crate) struct QueryMap(Vec<(String, String)>);

impl QueryMap {
    pub(crate) fn parse(query: Option<&str>) -> Self {
        QueryMap(
            form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The value of `name` (the first one), if present.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The api version (already checked by the middleware).
    pub(crate) fn api_version(&self) -> &str {
        self.get("api-version").unwrap_or("2026-02-23")
    }

    /// The `collectionId` parameter, default `subledger:0`.
    pub(crate) fn collection(&self) -> Result<String, ApiError> {
        match self.get("collectionId") {
            None => Ok(crate::ledger::DEFAULT_COLLECTION.to_string()),
            Some(c) => validate_name("collectionId", c, 256).map(str::to_string),
        }
    }

    /// A transaction id parameter; a malformed one cannot name a transaction.
    pub(crate) fn transaction_id(&self, name: &str) -> Result<Option<TransactionId>, ApiError> {
        self.get(name)
            .map(|v| {
                v.parse().map_err(|_| {
                    ApiError::invalid_transaction_id(format!(
                        "Transaction ID '{v}' in query parameter '{name}' is not of the form <view>.<seqno>"
                    ))
                })
            })
            .transpose()
    }

    /// A boolean parameter (absent = false).
    pub(crate) fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name) {
            None => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(ApiError::invalid_query(
                name,
                format!("'{v}' is not true or false"),
            )),
        }
    }

    /// A non-negative integer parameter (absent = 0).
    pub(crate) fn skip(&self) -> Result<usize, ApiError> {
        match self.get("skip") {
            None => Ok(0),
            Some(v) => v
                .parse()
                .map_err(|_| ApiError::invalid_query("skip", format!("'{v}' is not a number"))),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryMap {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(QueryMap::parse(parts.uri.query()))
    }
}

/// Checks a name-like value: non-empty, at most `max` bytes, no control characters.
pub(crate) fn validate_name<'a>(
    what: &str,
    value: &'a str,
    max: usize,
) -> Result<&'a str, ApiError> {
    if value.is_empty() || value.len() > max || value.chars().any(char::is_control) {
        return Err(ApiError::invalid_query(
            what,
            format!("must be 1 to {max} characters without control characters"),
        ));
    }
    Ok(value)
}

/// A `nextLink`: `path?api-version=..&<params in order>`.
pub(crate) fn next_link(path: &str, api_version: &str, params: &[(&str, String)]) -> String {
    let mut link = format!(
        "{path}?api-version={}",
        utf8_percent_encode(api_version, QUERY_VALUE)
    );
    for (k, v) in params {
        link.push('&');
        link.push_str(k);
        link.push('=');
        link.push_str(&utf8_percent_encode(v, QUERY_VALUE).to_string());
    }
    link
}

/// A JSON response.
pub(crate) fn json(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Adds the transaction id header.
pub(crate) fn with_txid(mut response: Response, id: TransactionId) -> Response {
    if let Ok(v) = HeaderValue::from_str(&id.to_string()) {
        response.headers_mut().insert(TXID_HEADER, v);
    }
    response
}

/// A page of a simple list: items `[skip, skip + page)` and the link to the next page.
pub(crate) fn page<T: Clone>(
    items: &[T],
    skip: usize,
    page_size: usize,
    path: &str,
    api_version: &str,
    params: &[(&str, String)],
) -> (Vec<T>, Option<String>) {
    let start = skip.min(items.len());
    let end = start.saturating_add(page_size).min(items.len());
    let next = (end < items.len()).then(|| {
        let mut p = params.to_vec();
        p.push(("skip", end.to_string()));
        next_link(path, api_version, &p)
    });
    (items[start..end].to_vec(), next)
}

/// Reads a request body of at most `max` bytes.
pub(crate) async fn read_body(body: Body, max: usize) -> Result<Bytes, ApiError> {
    match http_body_util::Limited::new(body, max).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestBodyTooLarge",
            format!("The request body is larger than {max} bytes"),
        )),
        Err(e) => Err(ApiError::invalid_input(format!(
            "Cannot read the request body: {e}"
        ))),
    }
}

/// Parses a JSON body; `application/json` and `application/merge-patch+json` are accepted
/// (and a missing content type).
pub(crate) async fn json_body<T: DeserializeOwned>(
    app: &App,
    headers: &HeaderMap,
    body: Body,
) -> Result<T, ApiError> {
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
        let essence = ct.split(';').next().unwrap_or("").trim();
        if essence != "application/json" && essence != "application/merge-patch+json" {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UnsupportedContentType",
                format!("Content type '{essence}' is not supported; send application/json"),
            ));
        }
    }
    let bytes = read_body(body, app.options.max_body_bytes).await?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::invalid_input(format!("Invalid request body: {e}")))
}

/// Whether `version` redirects legacy single-role user calls (2024-08-22-preview and later).
pub(crate) fn after_legacy_users(version: &str) -> bool {
    let date = version.get(..10).unwrap_or("");
    date.len() == 10 && date.as_bytes()[4] == b'-' && date >= FIRST_REDIRECTED_USERS_VERSION
}

/// Adds `x-ms-ccf-transaction-id` (the latest transaction) to answers that lack it, except
/// redirects: the recorded `301 ApiVersionRedirect` answers carry none.
async fn transaction_id_header(
    State(app): State<Arc<App>>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    if !response.headers().contains_key(TXID_HEADER) && !response.status().is_redirection() {
        response = with_txid(response, app.ledger.latest());
    }
    response
}

/// Authenticates every request before routing, so that callers who are not ledger users
/// cannot tell which paths exist: without valid credentials every path answers the same
/// `401`, and with credentials of a principal that is not a ledger user the same `403`.
async fn require_user(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    // A user-defined endpoint whose `authn_policies` include `no_auth` is open to anyone.
    let open = |parts: &Parts| {
        matches!(
            user_endpoints::lookup(&app, &parts.method, parts.uri.path()),
            user_endpoints::Lookup::Found(m) if m.allows_anonymous()
        )
    };
    let caller = match Caller::from_request_parts(&mut parts, &app).await {
        Ok(c) => c,
        Err(_) if open(&parts) => return next.run(Request::from_parts(parts, body)).await,
        Err(e) => return e.into_response(),
    };
    let is_user = app
        .ledger
        .with_governance(|g| g.users.contains_key(&caller.user_id));
    if !is_user && open(&parts) {
        return next.run(Request::from_parts(parts, body)).await;
    }
    if !is_user {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "NotAllowed",
            format!(
                "The caller {} is not a user of this ledger; an administrator must add it (PATCH /app/ledgerUsers/{{userId}}).",
                caller.user_id
            ),
        )
        .into_response();
    }
    if let Some(conn) = parts.extensions.get::<ConnInfo>() {
        conn.trusted
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }
    parts.extensions.insert(caller);
    next.run(Request::from_parts(parts, body)).await
}

/// Checks the `api-version` query parameter of `/app` requests.
async fn api_version_check(request: Request, next: Next) -> Response {
    if request.uri().path().starts_with("/app/") {
        let query = QueryMap::parse(request.uri().query());
        let supported = API_VERSIONS.join(",");
        match query.get("api-version") {
            None => {
                return ApiError::bad_request(
                    "QueryParameterError",
                    format!("Missing api-version query parameter. Please use one of the following versions: {supported}"),
                )
                .into_response();
            }
            Some(v) if !API_VERSIONS.contains(&v) => {
                return ApiError::bad_request(
                    "QueryParameterError",
                    format!("Parsed api-version {v} is not available. Please use one of the following versions: {supported}"),
                )
                .into_response();
            }
            Some(_) => {}
        }
    }
    next.run(request).await
}

/// Applies injected faults.
async fn inject_faults(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let Some(action) = app
        .faults
        .take(request.method().as_str(), request.uri().path())
    else {
        return next.run(request).await;
    };
    let kill = request
        .extensions()
        .get::<ConnInfo>()
        .map(|c| c.kill.clone());
    let drop_connection = |kill: Option<Arc<Notify>>| async move {
        match kill {
            Some(k) => {
                k.notify_one();
                // The connection task drops this request without answering.
                std::future::pending::<Response>().await
            }
            None => ApiError::internal("cannot drop a connection here").into_response(),
        }
    };
    match action {
        FaultAction::Status {
            status,
            code,
            retry_after,
        } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let code = code.unwrap_or_else(|| default_code(status.as_u16()).to_string());
            let mut e = ApiError::new(status, &code, format!("Injected fault: {status}"));
            e.retry_after = retry_after.map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0));
            e.into_response()
        }
        FaultAction::DropBeforeProcessing => drop_connection(kill).await,
        FaultAction::DropAfterProcessing => {
            let _processed = next.run(request).await;
            drop_connection(kill).await
        }
        FaultAction::Redirect { status, location } => {
            let mut location = location;
            let origin_only = location
                .split_once("://")
                .is_some_and(|(_, rest)| !rest.contains('/'));
            if origin_only && let Some(pq) = request.uri().path_and_query() {
                location.push_str(pq.as_str());
            }
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::TEMPORARY_REDIRECT);
            let mut response = json(
                status,
                &serde_json::json!({"error": {"code": "Redirect", "message": "Injected redirect"}}),
            );
            if let Ok(v) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, v);
            }
            response
        }
        FaultAction::Delay(d) => {
            tokio::time::sleep(d).await;
            next.run(request).await
        }
    }
}

async fn unknown_path(State(app): State<Arc<App>>, request: Request) -> Response {
    let path = request.uri().path().to_string();
    match user_endpoints::lookup(&app, request.method(), &path) {
        user_endpoints::Lookup::Found(matched) => {
            return user_endpoints::serve(app, matched, request).await;
        }
        user_endpoints::Lookup::NoMethod => return method_not_allowed(request).await,
        user_endpoints::Lookup::NoRoute => {}
    }
    ApiError::not_found("ResourceNotFound", format!("Unknown path: {path}.")).into_response()
}

async fn method_not_allowed(request: Request) -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "UnsupportedHttpVerb",
        format!(
            "Allowed methods for '{}' do not include {}",
            request.uri().path(),
            request.method()
        ),
    )
    .into_response()
}

/// The ledger endpoint's router.
pub(crate) fn ledger_router(app: Arc<App>) -> Router {
    use axum::routing::MethodRouter;
    let users_item: MethodRouter<Arc<App>> = get(users::get_legacy_user)
        .patch(users::patch_legacy_user)
        .delete(users::delete_legacy_user);
    Router::new()
        .route(
            "/app/transactions",
            post(transactions::create_entry).get(transactions::list_entries),
        )
        .route(
            "/app/transactions/current",
            get(transactions::current_entry),
        )
        .route("/app/transactions/{id}", get(transactions::get_entry))
        .route("/app/transactions/{id}/status", get(transactions::status))
        .route("/app/transactions/{id}/receipt", get(transactions::receipt))
        .route("/app/collections", get(collections::list_collections))
        .route("/app/collections/tags", get(collections::list_tags))
        .route("/app/governance/members", get(governance::members))
        .route(
            "/app/governance/constitution",
            get(governance::constitution),
        )
        .route("/app/enclaveQuotes", get(governance::enclave_quotes))
        .route("/app/ledgerUsers", get(users::list_ledger_users))
        .route(
            "/app/ledgerUsers/{user_id}",
            get(users::get_ledger_user)
                .patch(users::patch_ledger_user)
                .delete(users::delete_ledger_user),
        )
        .route("/app/users", get(users::list_legacy_users))
        .route("/app/users/{user_id}", users_item)
        .route(
            "/app/roles",
            get(users::get_role)
                .put(users::put_roles)
                .patch(users::patch_roles)
                .delete(users::delete_role),
        )
        .route(
            "/app/userDefinedFunctions",
            get(programmability::list_functions),
        )
        .route(
            "/app/userDefinedFunctions/{function_id}",
            get(programmability::get_function)
                .put(programmability::put_function)
                .delete(programmability::delete_function)
                .post(programmability::execute_function),
        )
        .route(
            "/app/userDefinedEndpoints",
            get(programmability::get_endpoints).put(programmability::put_endpoints),
        )
        .route(
            "/app/userDefinedEndpoints/modules",
            get(programmability::get_module),
        )
        .route(
            "/app/userDefinedEndpoints/runtimeOptions",
            get(programmability::get_runtime_options).patch(programmability::patch_runtime_options),
        )
        .fallback(unknown_path)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(api_version_check))
        .layer(middleware::from_fn_with_state(app.clone(), require_user))
        .layer(middleware::from_fn_with_state(app.clone(), inject_faults))
        .layer(middleware::from_fn_with_state(
            app.clone(),
            transaction_id_header,
        ))
        .with_state(app)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parameters_are_decoded_as_the_service_decodes_them() {
        let decode = |raw: &str| decode_path_parameter(raw).unwrap();
        assert_eq!(decode("a+b"), "a b");
        assert_eq!(decode("a%2Bb"), "a+b");
        assert_eq!(decode("5F%3A23%3a3D"), "5F:23:3D");
        assert_eq!(decode("5F:23"), "5F:23");
        assert_eq!(decode("a%2Fb%23c%3Fd%25e"), "a/b#c?d%e");
        assert_eq!(decode("%E7%94%A8%F0%9F%99%82"), "用🙂");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz"), "%zz");
        assert!(decode_path_parameter("%FF").is_err());
        assert_eq!(
            raw_parameter("/app/ledgerUsers/{user_id}", "/app/ledgerUsers/a+b"),
            Some("a+b")
        );
        assert_eq!(
            raw_parameter(
                "/app/transactions/{id}/receipt",
                "/app/transactions/2.5/receipt"
            ),
            Some("2.5")
        );
        assert_eq!(
            raw_parameter("/app/users/{user_id}", "/app/users/a/b"),
            None
        );
    }

    #[test]
    fn next_links_and_versions() {
        assert_eq!(
            next_link(
                "/app/transactions",
                "2022-05-13",
                &[
                    ("collectionId", "subledger:0".into()),
                    ("fromTransactionId", "2.34".into())
                ]
            ),
            "/app/transactions?api-version=2022-05-13&collectionId=subledger:0&fromTransactionId=2.34"
        );
        assert_eq!(
            next_link("/x", "v", &[("tag", "a b&c".into())]),
            "/x?api-version=v&tag=a%20b%26c"
        );
        assert!(after_legacy_users("2024-12-09-preview"));
        assert!(after_legacy_users("2026-02-23"));
        assert!(after_legacy_users("2024-08-22-preview"));
        assert!(!after_legacy_users("2022-05-13"));
        assert!(!after_legacy_users("0.1-preview"));
        let (items, next) = page(&[1, 2, 3], 1, 1, "/p", "v", &[]);
        assert_eq!(items, vec![2]);
        assert_eq!(next.as_deref(), Some("/p?api-version=v&skip=2"));
    }
}
