//! `identity`: the ledger's id and the service certificate the client pinned.

use base64::Engine;
use confidential_ledger::ConfidentialLedgerClient;
use serde_json::json;

use crate::args::IdentityArgs;
use crate::error::{CliError, CliResult};
use crate::output::Output;

/// `identity`.
pub fn identity(client: &ConfidentialLedgerClient, args: &IdentityArgs, out: Output) -> CliResult {
    let pinned = client.service_certificate();
    let pem = pem_certificate(pinned.der());
    if let Some(path) = &args.out {
        std::fs::write(path, &pem).map_err(CliError::write(path))?;
    }
    let fingerprint = pinned.fingerprint();
    out.show(
        &json!({
            "ledgerId": client.ledger_id(),
            "endpoint": client.endpoint().as_str(),
            "serviceCertificateSha256": fingerprint,
            "serviceCertificate": pem,
        }),
        || {
            let mut text = format!(
                "ledger id            {}\nendpoint             {}\nservice certificate  SHA-256 {fingerprint}",
                client.ledger_id(),
                client.endpoint()
            );
            if let Some(path) = &args.out {
                text.push_str(&format!("\nsaved to             {}", path.display()));
            }
            text
        },
    )
}

/// A DER certificate as PEM (64-character base64 lines).
fn pem_certificate(der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(chunk));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}
