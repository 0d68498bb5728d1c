//! What every example shares: connecting to the ledger the environment names, or to a local
//! sandbox ledger started in the same process when it names none.
//!
//! | variable | meaning |
//! |---|---|
//! | `CONFIDENTIALLEDGER_ENDPOINT` | the ledger, `https://<name>.confidential-ledger.azure.com`; unset: an embedded sandbox |
//! | `CONFIDENTIALLEDGER_ID` | the ledger id, when it is not the first label of the endpoint's host |
//! | `CONFIDENTIALLEDGER_IDENTITY_ENDPOINT` | the identity service (default `https://identity.confidential-ledger.core.azure.com`) |
//! | `CONFIDENTIALLEDGER_SERVICE_CERT` | a PEM file to pin instead of asking the identity service |
//! | `CONFIDENTIALLEDGER_CLIENT_CERT`, `CONFIDENTIALLEDGER_CLIENT_KEY` | PEM files: authenticate with this client certificate |
//! | `CONFIDENTIALLEDGER_TOKEN` | authenticate with this Entra ID access token (scope `https://confidential-ledger.azure.com/.default`) |
//!
//! Without a certificate or a token, the examples sign in as the Azure CLI (`az login`) or
//! Azure Developer CLI (`azd auth login`) user.
//!
//! Built as tests (`cargo test`), the examples always use an embedded sandbox.

#![allow(dead_code)]

use std::error::Error;
use std::time::Duration;

use confidential_ledger::{
    CertificateCredential, ClientBuilder, ClientOptions, ConfidentialLedgerClient,
    StaticTokenCredential,
};
use confidential_ledger_sandbox::{Sandbox, SandboxOptions};

pub type Result<T = ()> = std::result::Result<T, Failure>;

/// Any error, shown to a person: `main` returning `Err` prints its message and causes
/// (`Error: ...`), not a debugging dump.
pub struct Failure(Box<dyn Error + Send + Sync>);

impl<E: Into<Box<dyn Error + Send + Sync>>> From<E> for Failure {
    fn from(err: E) -> Self {
        Self(err.into())
    }
}

impl std::fmt::Debug for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(err) = cause {
            write!(f, "\n  caused by: {err}")?;
            cause = err.source();
        }
        Ok(())
    }
}

/// A connected client, and the sandbox behind it when the environment named no ledger.
pub struct Ledger {
    pub client: ConfidentialLedgerClient,
    /// Where the ledger's certificate is published.
    pub identity_endpoint: String,
    /// Extra roots the identity endpoint needs (the sandbox's local CA; none for a real
    /// ledger, whose identity service is publicly trusted).
    pub identity_roots: confidential_ledger::identity::IdentityRoots,
    pub sandbox: Option<Sandbox>,
}

impl Ledger {
    /// Stops the sandbox, if one was started.
    pub async fn close(self) {
        drop(self.client);
        if let Some(sandbox) = self.sandbox {
            sandbox.shutdown().await;
        }
    }
}

/// Where the environment says the ledger is and how to authenticate, or `None` for a sandbox.
pub struct Settings {
    pub endpoint: String,
    pub ledger_id: Option<String>,
    pub identity_endpoint: Option<String>,
    pub service_certificate: Option<String>,
    pub credential: Credential,
}

pub enum Credential {
    Certificate {
        cert: String,
        key: String,
    },
    Token(String),
    /// The developer's Azure CLI / azd sign-in.
    DeveloperTools,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The ledger the environment names, or `None`. Examples built as tests ignore the
/// environment.
pub fn settings() -> Result<Option<Settings>> {
    if cfg!(test) {
        return Ok(None);
    }
    let Some(endpoint) = var("CONFIDENTIALLEDGER_ENDPOINT") else {
        return Ok(None);
    };
    let credential = match (
        var("CONFIDENTIALLEDGER_CLIENT_CERT"),
        var("CONFIDENTIALLEDGER_CLIENT_KEY"),
        var("CONFIDENTIALLEDGER_TOKEN"),
    ) {
        (Some(cert), Some(key), _) => Credential::Certificate { cert, key },
        (Some(_), None, _) | (None, Some(_), _) => {
            return Err(
                "set both CONFIDENTIALLEDGER_CLIENT_CERT and CONFIDENTIALLEDGER_CLIENT_KEY".into(),
            );
        }
        (None, None, Some(token)) => Credential::Token(token),
        (None, None, None) => Credential::DeveloperTools,
    };
    Ok(Some(Settings {
        endpoint,
        ledger_id: var("CONFIDENTIALLEDGER_ID"),
        identity_endpoint: var("CONFIDENTIALLEDGER_IDENTITY_ENDPOINT"),
        service_certificate: var("CONFIDENTIALLEDGER_SERVICE_CERT"),
        credential,
    }))
}

/// The async builder for `settings`.
pub fn builder(settings: &Settings) -> Result<ClientBuilder> {
    let mut builder = ConfidentialLedgerClient::builder(&settings.endpoint);
    if let Some(id) = &settings.ledger_id {
        builder = builder.ledger_id(id);
    }
    if let Some(identity) = &settings.identity_endpoint {
        builder = builder.identity_endpoint(identity);
    }
    if let Some(path) = &settings.service_certificate {
        builder = builder.service_certificate_file(path);
    }
    Ok(match &settings.credential {
        Credential::Certificate { cert, key } => {
            builder.certificate_credential(CertificateCredential::from_pem_files(cert, key)?)
        }
        Credential::Token(token) => builder.credential(StaticTokenCredential::new(token.clone())),
        Credential::DeveloperTools => {
            let entra: std::sync::Arc<dyn azure_core::credentials::TokenCredential> =
                azure_identity::DeveloperToolsCredential::new(None)?;
            builder.credential(entra)
        }
    })
}

/// Options for the embedded sandbox: a temporary directory, free ports, a signature (which
/// commits what was written before it) every 50 ms, and pages of at most 5 entries (to show
/// paging with few entries).
pub fn sandbox_options() -> SandboxOptions {
    SandboxOptions::default()
        .signature_interval(Duration::from_millis(50))
        .page_size(5)
}

/// A client of the ledger the environment names, or of a new embedded sandbox, as its
/// administrator (who can write, read and manage users).
pub async fn connect() -> Result<Ledger> {
    connect_with(ClientOptions::default()).await
}

/// [`connect`] with `options`.
pub async fn connect_with(options: ClientOptions) -> Result<Ledger> {
    if let Some(settings) = settings()? {
        let client = builder(&settings)?.options(options).build().await?;
        println!(
            "Connected to {} (ledger id {}).",
            client.endpoint(),
            client.ledger_id()
        );
        return Ok(Ledger {
            client,
            identity_endpoint: settings.identity_endpoint.unwrap_or_else(|| {
                confidential_ledger::identity::DEFAULT_IDENTITY_ENDPOINT.to_owned()
            }),
            identity_roots: confidential_ledger::identity::IdentityRoots::new(),
            sandbox: None,
        });
    }
    let sandbox = Sandbox::start(sandbox_options()).await?;
    announce(&sandbox);
    let client = sandbox_builder(&sandbox)
        .certificate_credential(admin_certificate(&sandbox)?)
        .options(options)
        .build()
        .await?;
    Ok(Ledger {
        client,
        identity_endpoint: sandbox.identity_endpoint(),
        identity_roots: confidential_ledger::identity::IdentityRoots::new()
            .add_pem(sandbox.identity_ca_certificate_pem())?,
        sandbox: Some(sandbox),
    })
}

/// A blocking client, and the sandbox behind it (on a tokio runtime of its own) when the
/// environment named no ledger.
#[cfg(feature = "blocking")]
pub struct BlockingLedger {
    pub client: confidential_ledger::blocking::ConfidentialLedgerClient,
    sandbox: Option<(tokio::runtime::Runtime, Sandbox)>,
}

#[cfg(feature = "blocking")]
impl BlockingLedger {
    /// Stops the sandbox, if one was started.
    pub fn close(self) {
        drop(self.client);
        if let Some((runtime, sandbox)) = self.sandbox {
            runtime.block_on(sandbox.shutdown());
        }
    }
}

/// [`connect`] for the blocking client: no async runtime in sight, except the one the
/// embedded sandbox (an async server) runs on.
#[cfg(feature = "blocking")]
pub fn connect_blocking() -> Result<BlockingLedger> {
    use confidential_ledger::blocking;
    if let Some(settings) = settings()? {
        let client = blocking::ClientBuilder::from(builder(&settings)?).build()?;
        return Ok(BlockingLedger {
            client,
            sandbox: None,
        });
    }
    let runtime = tokio::runtime::Runtime::new()?;
    let sandbox = runtime.block_on(Sandbox::start(sandbox_options()))?;
    announce(&sandbox);
    let client = blocking::ClientBuilder::from(sandbox_builder(&sandbox))
        .certificate_credential(admin_certificate(&sandbox)?)
        .build()?;
    Ok(BlockingLedger {
        client,
        sandbox: Some((runtime, sandbox)),
    })
}

/// Says that a sandbox is in use.
pub fn announce(sandbox: &Sandbox) {
    println!(
        "No CONFIDENTIALLEDGER_ENDPOINT set: using a local sandbox ledger at {}.",
        sandbox.ledger_endpoint()
    );
    println!(
        "(Set CONFIDENTIALLEDGER_ENDPOINT and a credential to use your own ledger; see the README.)\n"
    );
}

/// A builder for a client of `sandbox` that fetches its certificate from the sandbox's
/// identity endpoint, as a real client asks the identity service.
pub fn sandbox_builder(sandbox: &Sandbox) -> ClientBuilder {
    ConfidentialLedgerClient::builder(sandbox.ledger_endpoint())
        .identity_endpoint(sandbox.identity_endpoint())
        .identity_root_certificate_pem(sandbox.identity_ca_certificate_pem())
        .ledger_id(sandbox.ledger_id())
}

/// The sandbox administrator's client certificate.
pub fn admin_certificate(sandbox: &Sandbox) -> Result<CertificateCredential> {
    Ok(CertificateCredential::from_pem_parts(
        sandbox.admin_certificate_pem(),
        sandbox.admin_private_key_pem(),
    )?)
}

/// A short form of a long hex string, for printing.
pub fn short(hex: impl std::fmt::Display) -> String {
    let hex = hex.to_string();
    match hex.get(..16) {
        Some(start) if hex.len() > 16 => format!("{start}…"),
        _ => hex,
    }
}
