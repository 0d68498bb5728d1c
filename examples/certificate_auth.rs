//! Certificate authentication: mutual TLS with a client certificate instead of an Entra ID
//! token, and pinning a service certificate saved in a file.
//!
//! ```sh
//! cargo run --example certificate_auth
//! # Against your ledger, as a certificate user it knows:
//! CONFIDENTIALLEDGER_ENDPOINT=https://my-ledger.confidential-ledger.azure.com \
//! CONFIDENTIALLEDGER_CLIENT_CERT=user_cert.pem CONFIDENTIALLEDGER_CLIENT_KEY=user_key.pem \
//!   cargo run --example certificate_auth
//! ```

#[path = "common/mod.rs"]
mod common;

use std::path::PathBuf;

use confidential_ledger::identity::{DEFAULT_IDENTITY_ENDPOINT, IdentityRoots};
use confidential_ledger::{CertificateCredential, ConfidentialLedgerClient, IdentityServiceClient};

#[tokio::main]
async fn main() -> common::Result {
    // Where the ledger is, and the certificate and key files of a user it knows.
    let (endpoint, ledger_id, identity_endpoint, identity_roots, cert_file, key_file, sandbox) =
        match common::settings()? {
            Some(settings) => {
                let common::Credential::Certificate { cert, key } = &settings.credential else {
                    return Err(
                        "set CONFIDENTIALLEDGER_CLIENT_CERT and CONFIDENTIALLEDGER_CLIENT_KEY \
                                to the PEM files of a certificate user of the ledger"
                            .into(),
                    );
                };
                let client_id = match &settings.ledger_id {
                    Some(id) => id.clone(),
                    None => ledger_id_of(&settings.endpoint)?,
                };
                (
                    settings.endpoint.clone(),
                    client_id,
                    settings
                        .identity_endpoint
                        .clone()
                        .unwrap_or_else(|| DEFAULT_IDENTITY_ENDPOINT.to_owned()),
                    IdentityRoots::new(),
                    PathBuf::from(cert),
                    PathBuf::from(key),
                    None,
                )
            }
            None => {
                let sandbox =
                    confidential_ledger_sandbox::Sandbox::start(common::sandbox_options()).await?;
                common::announce(&sandbox);
                (
                    sandbox.ledger_endpoint(),
                    sandbox.ledger_id().to_owned(),
                    sandbox.identity_endpoint(),
                    // The sandbox's identity endpoint has a certificate from its local CA.
                    IdentityRoots::new().add_pem(sandbox.identity_ca_certificate_pem())?,
                    sandbox.admin_certificate_path(),
                    sandbox.admin_private_key_path(),
                    Some(sandbox),
                )
            }
        };

    // The ledger's TLS certificate is self-signed by the ledger itself; the identity service
    // publishes it. Fetch it once and keep it in a file (the builder can also fetch it on
    // every start, which is the default and follows certificate rotations).
    let identity = IdentityServiceClient::with_roots(&identity_endpoint, None, &identity_roots)?;
    let published = identity.get_ledger_identity(&ledger_id, None).await?;
    let dir = tempfile::tempdir()?;
    let service_cert_file = dir.path().join("ledger_certificate.pem");
    std::fs::write(&service_cert_file, &published.ledger_tls_certificate)?;
    println!(
        "Saved the certificate of ledger {ledger_id} ({}) to {}.",
        common::short(published.pinned_certificate()?.fingerprint()),
        service_cert_file.display()
    );

    // The client certificate and key, PEM (PKCS#8, SEC1 or PKCS#1 keys; P-256, P-384, RSA or
    // Ed25519). The ledger knows this principal by the fingerprint of the certificate.
    let credential = CertificateCredential::from_pem_files(&cert_file, &key_file)?;
    println!(
        "Authenticating as certificate user {}.",
        credential.user_id()
    );

    let client = ConfidentialLedgerClient::builder(&endpoint)
        .ledger_id(&ledger_id)
        .certificate_credential(credential)
        .service_certificate_file(&service_cert_file)
        .build()
        .await?;
    let written = client
        .create_ledger_entry_and_wait("Signed in with a client certificate", None)
        .await?;
    println!(
        "Wrote and committed transaction {}.",
        written.transaction_id
    );

    drop(client);
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
    Ok(())
}

/// The first label of the endpoint's host: the ledger id.
fn ledger_id_of(endpoint: &str) -> common::Result<String> {
    let url = reqwest::Url::parse(endpoint)?;
    match url.host_str().and_then(|host| host.split('.').next()) {
        Some(label) if !label.is_empty() => Ok(label.to_owned()),
        _ => Err(
            format!("cannot take a ledger id from {endpoint}; set CONFIDENTIALLEDGER_ID").into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn runs_against_an_embedded_sandbox() {
        super::main().expect("the example runs");
    }
}
