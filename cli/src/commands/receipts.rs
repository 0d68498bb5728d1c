//! `receipt` (fetch, save) and `verify` (offline, against a service certificate file).

use std::path::Path;

use confidential_ledger::ConfidentialLedgerClient;
use confidential_ledger::receipt::{
    ApplicationClaim, ReceiptError, ReceiptResponse, ReceiptVerifier, Verified, VerifyOptions,
};
use serde_json::json;

use crate::args::{ReceiptArgs, VerifyArgs};
use crate::commands::input;
use crate::error::{CliError, CliResult};
use crate::options;
use crate::output::{self, Output};

/// The most a saved receipt may hold (real receipts are a few KiB).
const MAX_RECEIPT_BYTES: u64 = 1024 * 1024;

/// `receipt`.
pub async fn receipt(
    client: &ConfidentialLedgerClient,
    args: &ReceiptArgs,
    out: Output,
) -> CliResult {
    let id = options::transaction_id(&args.transaction_id, "the transaction id")?;
    let receipt = client
        .get_receipt(id, None)
        .await
        .map_err(CliError::ledger(format!(
            "cannot fetch the receipt of {id}"
        )))?;
    let verified = if args.verify {
        Some(
            client
                .verify_receipt(
                    &receipt,
                    Some(VerifyOptions::new().transaction_id(id.to_string())),
                )
                .map_err(CliError::ledger(format!(
                    "the receipt of {id} does not verify"
                )))?,
        )
    } else {
        None
    };
    let response = receipt.to_response();
    let text = serde_json::to_string_pretty(&response)
        .map_err(|e| CliError::Output(std::io::Error::other(e)))?;
    match &args.out {
        Some(path) => {
            std::fs::write(path, format!("{text}\n")).map_err(CliError::write(path))?;
            let mut summary = json!({ "transactionId": id, "file": path });
            if let Some(verified) = &verified {
                summary["verified"] = verified_json(verified);
            }
            out.show(&summary, || {
                let mut line = format!("saved the receipt of {id} to {}", path.display());
                if let Some(verified) = &verified {
                    line.push_str(&format!("; verified, Merkle root {}", verified.root));
                }
                line
            })
        }
        None => {
            output::line(&text)?;
            if let Some(verified) = &verified {
                eprintln!("verified: {id} is under the Merkle root {}", verified.root);
            }
            Ok(())
        }
    }
}

/// `verify`: offline, with nothing but the receipt file and the service certificate.
pub fn verify(service_cert: Option<&Path>, args: &VerifyArgs, out: Output) -> CliResult {
    let Some(cert_path) = service_cert else {
        return Err(CliError::Usage(
            "verify needs the ledger's service certificate: --service-cert FILE (save it with \
             `cledger identity --out FILE`)"
                .into(),
        ));
    };
    let pem = crate::files::read_bounded(
        cert_path,
        crate::files::MAX_CERTIFICATE_BYTES,
        "a service certificate",
    )?;
    let verifier = ReceiptVerifier::new(&pem).map_err(|e| {
        CliError::Usage(format!(
            "{} is not a usable service certificate: {e}",
            cert_path.display()
        ))
    })?;
    let text = read_bounded(&args.receipt)?;
    let response = ReceiptResponse::from_json(&text).map_err(|e| {
        CliError::Usage(format!("{} is not a receipt: {e}", args.receipt.display()))
    })?;
    let mut options = VerifyOptions::new();
    if let Some(id) = &args.transaction_id {
        let id = options::transaction_id(id, "--transaction-id")?;
        options = options.transaction_id(id.to_string());
    }
    let contents = match (&args.contents, &args.contents_file) {
        (Some(contents), _) => Some(contents.clone()),
        (None, Some(path)) => Some(input::read_text(Some(path))?),
        (None, None) => None,
    };
    if contents.is_some() || args.collection.is_some() {
        options = options.application_claims(vec![expected_claim(
            &response,
            args.collection.as_deref(),
            contents,
        )?]);
    }
    let verified = verifier
        .verify_response(&response, &options)
        .map_err(|e| verification_failed(&args.receipt, &e))?;
    out.show(&verified_json(&verified), || {
        format!(
            "verified: {} is under the Merkle root {}, signed by node {}",
            verified
                .transaction_id
                .as_deref()
                .unwrap_or("the signature transaction"),
            verified.root,
            verified.node_id
        )
    })
}

/// The receipt's ledger-entry claim with the collection and contents the user expects: the
/// claims digest then verifies only if the entry was exactly that.
fn expected_claim(
    response: &ReceiptResponse,
    collection: Option<&str>,
    contents: Option<String>,
) -> CliResult<ApplicationClaim> {
    let claim = response
        .application_claims
        .iter()
        .flatten()
        .find_map(|claim| match claim {
            ApplicationClaim::LedgerEntry(entry) => Some(entry.clone()),
            _ => None,
        });
    let Some(mut claim) = claim else {
        return Err(CliError::Verification(
            "the receipt carries no ledger-entry claim to check the collection or contents against"
                .into(),
        ));
    };
    if let Some(collection) = collection {
        claim.collection_id = collection.to_owned();
    }
    if let Some(contents) = contents {
        claim.contents = contents;
    }
    Ok(ApplicationClaim::LedgerEntry(claim))
}

fn read_bounded(path: &Path) -> CliResult<String> {
    let meta = std::fs::metadata(path).map_err(CliError::read(path))?;
    if meta.len() > MAX_RECEIPT_BYTES {
        return Err(CliError::Usage(format!(
            "{} is {} bytes, more than a receipt ({MAX_RECEIPT_BYTES} at most)",
            path.display(),
            meta.len()
        )));
    }
    input::read_text(Some(path))
}

fn verification_failed(path: &Path, error: &ReceiptError) -> CliError {
    CliError::Verification(format!(
        "{} does not verify ({}): {error}",
        path.display(),
        failed_step(error)
    ))
}

/// The verification step a receipt error is about, for reports.
pub fn failed_step(error: &ReceiptError) -> &'static str {
    match error {
        ReceiptError::Json(_) | ReceiptError::Malformed { .. } => "format",
        ReceiptError::Certificate { .. } => "certificate",
        ReceiptError::Endorsement { .. } => "endorsement",
        ReceiptError::CertificateValidity { .. } => "validity",
        ReceiptError::Root { .. } => "root",
        ReceiptError::Signature { .. } => "signature",
        ReceiptError::NodeId { .. } => "node id",
        ReceiptError::CommitEvidence { .. } => "commit evidence",
        ReceiptError::TransactionId { .. } | ReceiptError::InvalidTransactionId(_) => {
            "transaction id"
        }
        ReceiptError::ClaimsDigest { .. } | ReceiptError::Claims(_) => "claims",
        ReceiptError::NotReady { .. } => "not ready",
        _ => "other",
    }
}

/// What a verification established, as JSON.
pub fn verified_json(verified: &Verified) -> serde_json::Value {
    json!({
        "verified": true,
        "transactionId": verified.transaction_id,
        "leaf": verified.leaf,
        "root": verified.root,
        "nodeId": verified.node_id,
        "claimsDigest": verified.claims_digest,
    })
}
