//! Working with a data directory from outside a running sandbox: the runtime file, minting
//! tokens, rotating the identity (through the running sandbox's control endpoint, or offline),
//! switching a running sandbox's simulated storage fault.

use std::path::Path;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};

use crate::fsutil::{self, DirLock};
use crate::identity::Identity;
use crate::routes::identity::CONTROL_HEADER;
use crate::token::TokenIssuer;
use crate::{Sandbox, SandboxError, SandboxOptions, StorageFault, TokenSpec, files};

/// Where a running sandbox listens, written to `runtime.json`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Runtime {
    pid: u32,
    ledger_endpoint: String,
    identity_endpoint: String,
    ledger_id: String,
}

pub(crate) fn write_runtime(sandbox: &Sandbox) -> Result<(), SandboxError> {
    let runtime = Runtime {
        pid: std::process::id(),
        ledger_endpoint: sandbox.ledger_endpoint(),
        identity_endpoint: sandbox.identity_endpoint(),
        ledger_id: sandbox.ledger_id().to_string(),
    };
    let text =
        serde_json::to_vec_pretty(&runtime).map_err(|e| SandboxError::Config(e.to_string()))?;
    fsutil::write_atomic(&sandbox.data_dir().join(files::RUNTIME), &text, 0o644)
}

/// The ledger id stored in a data directory, or `None` when it holds no ledger yet.
///
/// # Examples
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// assert_eq!(confidential_ledger_sandbox::stored_ledger_id(dir.path()).unwrap(), None);
/// ```
pub fn stored_ledger_id(data_dir: &Path) -> Result<Option<String>, SandboxError> {
    if !data_dir.join(files::IDENTITY).exists() {
        return Ok(None);
    }
    Ok(Some(Identity::load(data_dir)?.ledger_id))
}

/// Mints a bearer token with the token key of the ledger in `data_dir` (running or not).
///
/// # Examples
///
/// ```
/// use confidential_ledger_sandbox::{TokenSpec, mint_token_in};
///
/// let dir = tempfile::tempdir().unwrap();
/// // No ledger there yet:
/// assert!(mint_token_in(dir.path(), &TokenSpec::new("oid")).is_err());
/// ```
pub fn mint_token_in(data_dir: &Path, spec: &TokenSpec) -> Result<String, SandboxError> {
    if !data_dir.join(files::IDENTITY).exists() {
        return Err(SandboxError::Config(format!(
            "{} holds no sandbox ledger",
            data_dir.display()
        )));
    }
    let identity = Identity::load(data_dir)?;
    Ok(TokenIssuer::new(identity.token_key.clone()).mint(spec))
}

/// Rotates the service identity of the ledger in `data_dir`: through the control endpoint of
/// the sandbox running on it, or, when none is running, by opening the ledger. Returns the new
/// service certificate (PEM).
pub async fn rotate_service_identity_in(data_dir: &Path) -> Result<String, SandboxError> {
    let Some(ledger_id) = stored_ledger_id(data_dir)? else {
        return Err(SandboxError::Config(format!(
            "{} holds no sandbox ledger",
            data_dir.display()
        )));
    };
    if DirLock::is_held(data_dir) {
        return rotate_running(data_dir).await;
    }
    let options = SandboxOptions::default()
        .data_dir(data_dir)
        .ledger_id(ledger_id);
    let sandbox = Sandbox::start(options).await?;
    let result = sandbox.rotate_service_identity().await;
    let certificate = sandbox.service_certificate_pem();
    sandbox.shutdown().await;
    result.map(|()| certificate)
}

async fn rotate_running(data_dir: &Path) -> Result<String, SandboxError> {
    let value = control_request(data_dir, "/sandbox/rotate-identity", None).await?;
    value
        .get("serviceCertificate")
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .ok_or_else(|| SandboxError::Config("the running sandbox answered no certificate".into()))
}

/// Switches the simulated storage fault of the sandbox running on `data_dir` (see
/// [`Sandbox::storage_faults`](crate::Sandbox::storage_faults)); `None` heals it.
///
/// # Errors
///
/// [`SandboxError::Config`] when no sandbox runs on `data_dir` or it cannot be reached.
///
/// # Examples
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use confidential_ledger_sandbox::{StorageFault, set_storage_fault_in};
///
/// let dir = tempfile::tempdir().unwrap();
/// // No sandbox runs there:
/// assert!(set_storage_fault_in(dir.path(), Some(StorageFault::DiskFull)).await.is_err());
/// # });
/// ```
pub async fn set_storage_fault_in(
    data_dir: &Path,
    fault: Option<StorageFault>,
) -> Result<(), SandboxError> {
    if stored_ledger_id(data_dir)?.is_none() || !DirLock::is_held(data_dir) {
        return Err(SandboxError::Config(format!(
            "no sandbox is running on {}",
            data_dir.display()
        )));
    }
    let body = serde_json::json!({ "fault": fault.map(StorageFault::name) });
    control_request(data_dir, "/sandbox/storage-fault", Some(body))
        .await
        .map(|_| ())
}

/// POSTs to a control endpoint of the sandbox running on `data_dir`.
async fn control_request(
    data_dir: &Path,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<serde_json::Value, SandboxError> {
    let runtime_path = data_dir.join(files::RUNTIME);
    let runtime: Runtime =
        serde_json::from_str(&fsutil::read_to_string(&runtime_path)?).map_err(|e| {
            SandboxError::Config(format!("{} is unreadable: {e}", runtime_path.display()))
        })?;
    let secret = Identity::load(data_dir)?.control_secret;
    let (tls, authority) = if let Some(rest) = runtime.identity_endpoint.strip_prefix("https://") {
        let ca = fsutil::read_to_string(&data_dir.join(files::IDENTITY_CA))?;
        (
            Some(crate::identity_tls::client_config(&ca)?),
            rest.to_string(),
        )
    } else if let Some(rest) = runtime.identity_endpoint.strip_prefix("http://") {
        (None, rest.to_string())
    } else {
        return Err(SandboxError::Config(format!(
            "the identity endpoint {} is neither https:// nor http://",
            runtime.identity_endpoint
        )));
    };
    let fail = |e: &dyn std::fmt::Display| {
        SandboxError::Config(format!(
            "cannot reach the running sandbox at {authority}: {e}"
        ))
    };
    let stream = tokio::net::TcpStream::connect(&authority)
        .await
        .map_err(|e| fail(&e))?;
    match tls {
        Some(config) => {
            let host = authority
                .rsplit_once(':')
                .map_or(authority.as_str(), |(host, _)| host)
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string();
            let server_name =
                rustls::pki_types::ServerName::try_from(host).map_err(|e| fail(&e))?;
            let stream = tokio_rustls::TlsConnector::from(config)
                .connect(server_name, stream)
                .await
                .map_err(|e| fail(&e))?;
            send_control(stream, &authority, path, secret, body, fail).await
        }
        None => send_control(stream, &authority, path, secret, body, fail).await,
    }
}

/// Sends one control request over `stream` and decodes the JSON answer.
async fn send_control<S, F>(
    stream: S,
    authority: &str,
    path: &str,
    secret: String,
    body: Option<serde_json::Value>,
    fail: F,
) -> Result<serde_json::Value, SandboxError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    F: Fn(&dyn std::fmt::Display) -> SandboxError,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| fail(&e))?;
    tokio::spawn(connection);
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let request = hyper::Request::post(path)
        .header(hyper::header::HOST, authority)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(CONTROL_HEADER, secret)
        .body(Full::new(Bytes::from(payload)))
        .map_err(|e| fail(&e))?;
    let response = sender.send_request(request).await.map_err(|e| fail(&e))?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| fail(&e))?
        .to_bytes();
    let value: serde_json::Value = serde_json::from_slice(&body).map_err(|e| fail(&e))?;
    if !status.is_success() {
        return Err(SandboxError::Config(format!(
            "the running sandbox refused {path}: {value}"
        )));
    }
    Ok(value)
}
