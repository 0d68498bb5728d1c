//! The one place that builds the ledger client and its credential from the command line (and
//! starts the embedded sandbox for `--sandbox` / `--sandbox-dir`).

use std::path::Path;
use std::time::Duration;

use azure_core::credentials::TokenCredential as AzureTokenCredential;
use confidential_ledger::{
    CertificateCredential, ClientBuilder, ClientOptions, ConfidentialLedgerClient,
    StaticTokenCredential,
};
use confidential_ledger_sandbox::{Sandbox, SandboxOptions};

use crate::args::ConnectionArgs;
use crate::error::{CliError, CliResult};

/// A connected client, and the embedded sandbox it talks to, if any.
pub struct Connection {
    /// The client.
    pub client: ConfidentialLedgerClient,
    sandbox: Option<Sandbox>,
}

impl Connection {
    /// Stops the embedded sandbox (its data stays in `--sandbox-dir`).
    pub async fn close(self) {
        if let Some(sandbox) = self.sandbox {
            sandbox.shutdown().await;
        }
    }
}

/// Options of every client this tool builds.
pub fn client_options(args: &ConnectionArgs) -> ClientOptions {
    ClientOptions {
        application_id: Some(format!("cledger/{}", env!("CARGO_PKG_VERSION"))),
        wait_timeout: Some(Duration::from_secs(args.timeout)),
        call_timeout: Some(Duration::from_secs(args.timeout)),
        ..Default::default()
    }
}

/// The embedded sandbox's options: in `dir` (a temporary directory when `None`), committing
/// every 50 ms so that `--wait` returns quickly.
pub fn sandbox_options(dir: Option<&Path>) -> SandboxOptions {
    let options = SandboxOptions::default().signature_interval(Duration::from_millis(50));
    match dir {
        Some(dir) => options.data_dir(dir),
        None => options,
    }
}

/// Connects as `args` says.
pub async fn connect(args: &ConnectionArgs) -> CliResult<Connection> {
    if args.sandbox || args.sandbox_dir.is_some() {
        return connect_sandbox(args).await;
    }
    let Some(endpoint) = &args.endpoint else {
        return Err(CliError::Usage(
            "no ledger: pass --endpoint (or set CONFIDENTIALLEDGER_ENDPOINT), or try --sandbox"
                .into(),
        ));
    };
    let mut builder = ConfidentialLedgerClient::builder(endpoint.as_str());
    if let Some(identity) = &args.identity_endpoint {
        builder = builder.identity_endpoint(identity.as_str());
    }
    if let Some(path) = &args.identity_ca {
        let pem = crate::files::read_bounded(
            path,
            crate::files::MAX_CERTIFICATE_BYTES,
            "a CA certificate",
        )?;
        builder = builder.identity_root_certificate_pem(pem);
    }
    if let Some(id) = &args.ledger_id {
        builder = builder.ledger_id(id.as_str());
    }
    if let Some(path) = &args.service_cert {
        builder = builder.service_certificate_file(path.clone());
    }
    let builder = with_credential(builder, args, None)?;
    let client = builder
        .options(client_options(args))
        .build()
        .await
        .map_err(CliError::ledger(format!("cannot connect to {endpoint}")))?;
    Ok(Connection {
        client,
        sandbox: None,
    })
}

async fn connect_sandbox(args: &ConnectionArgs) -> CliResult<Connection> {
    if let Some(dir) = &args.sandbox_dir {
        crate::files::ensure_dir(dir)?;
    }
    let sandbox = Sandbox::start(sandbox_options(args.sandbox_dir.as_deref()))
        .await
        .map_err(CliError::Sandbox)?;
    let builder = ConfidentialLedgerClient::builder(sandbox.ledger_endpoint())
        .identity_endpoint(sandbox.identity_endpoint())
        .identity_root_certificate_pem(sandbox.identity_ca_certificate_pem())
        .ledger_id(sandbox.ledger_id());
    let built = match with_credential(builder, args, Some(&sandbox)) {
        Ok(builder) => builder
            .options(client_options(args))
            .build()
            .await
            .map_err(CliError::ledger("cannot connect to the sandbox")),
        Err(e) => Err(e),
    };
    match built {
        Ok(client) => Ok(Connection {
            client,
            sandbox: Some(sandbox),
        }),
        Err(e) => {
            sandbox.shutdown().await;
            Err(e)
        }
    }
}

/// Adds the credential: a client certificate, else a token, else (for a sandbox) its
/// administrator's certificate, else the developer's Azure CLI / azd sign-in.
fn with_credential(
    builder: ClientBuilder,
    args: &ConnectionArgs,
    sandbox: Option<&Sandbox>,
) -> CliResult<ClientBuilder> {
    match (&args.cert, &args.key) {
        (Some(cert), key) => {
            // One file holding both the certificate and its key, or two files.
            let credential = match key.as_deref().filter(|key| *key != cert.as_path()) {
                None => CertificateCredential::from_pem_file(cert),
                Some(key) => CertificateCredential::from_pem_files(cert, key),
            }
            .map_err(|e| {
                CliError::Credential(
                    format!("cannot use the client certificate {}", cert.display()),
                    Some(Box::new(e)),
                )
            })?;
            return Ok(builder.certificate_credential(credential));
        }
        (None, Some(_)) => {
            return Err(CliError::Usage("--key needs --cert".into()));
        }
        (None, None) => {}
    }
    if let Some(token) = &args.token {
        if token.trim().is_empty() {
            return Err(CliError::Credential("the token is empty".into(), None));
        }
        return Ok(builder.credential(StaticTokenCredential::new(token.trim().to_owned())));
    }
    if let Some(sandbox) = sandbox {
        let credential = CertificateCredential::from_pem_parts(
            sandbox.admin_certificate_pem(),
            sandbox.admin_private_key_pem(),
        )
        .map_err(|e| {
            CliError::Credential(
                "the sandbox's administrator certificate is unusable".into(),
                Some(Box::new(e)),
            )
        })?;
        return Ok(builder.certificate_credential(credential));
    }
    let developer = azure_identity::DeveloperToolsCredential::new(None).map_err(|e| {
        CliError::Credential(
            "no credential: pass --cert/--key or a token, or sign in with `az login`".into(),
            Some(Box::new(e)),
        )
    })?;
    // What every azure_identity credential is, taken by the builder as it is.
    let developer: std::sync::Arc<dyn AzureTokenCredential> = developer;
    Ok(builder.credential(developer))
}
