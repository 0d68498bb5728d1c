//! `governance ...`: consortium members, the constitution (digest checked), enclave quotes.

use std::path::Path;

use confidential_ledger::ConfidentialLedgerClient;
use futures::TryStreamExt;
use serde_json::json;

use crate::args::GovernanceCommand;
use crate::error::{CliError, CliResult};
use crate::output::Output;

/// `governance ...`.
pub async fn governance(
    client: &ConfidentialLedgerClient,
    command: &GovernanceCommand,
    out: Output,
) -> CliResult {
    match command {
        GovernanceCommand::Members => {
            let mut pager = client.list_consortium_members(None);
            while let Some(member) = pager
                .try_next()
                .await
                .map_err(CliError::ledger("cannot list the consortium members"))?
            {
                out.item(
                    &json!({ "id": member.id, "certificate": member.certificate }),
                    || member.id.clone(),
                )?;
            }
            Ok(())
        }
        GovernanceCommand::Constitution { out: file } => {
            constitution(client, file.as_deref(), out).await
        }
        GovernanceCommand::Quotes => {
            let quotes = client
                .get_enclave_quotes(None)
                .await
                .map_err(CliError::ledger("cannot read the enclave quotes"))?;
            out.show(&quotes, || {
                let mut text = format!("current node {}", quotes.current_node_id);
                for (node, quote) in &quotes.enclave_quotes {
                    text.push_str(&format!(
                        "\n{node}\tquote version {}\tmrenclave {}",
                        quote.quote_version,
                        quote.mrenclave.as_deref().unwrap_or("-")
                    ));
                }
                text
            })
        }
    }
}

/// Shows the constitution's digest and whether it is the SHA-256 of the script; a mismatch
/// is a verification failure (exit 3) after the data is printed.
async fn constitution(
    client: &ConfidentialLedgerClient,
    file: Option<&Path>,
    out: Output,
) -> CliResult {
    let constitution = client
        .get_constitution(None)
        .await
        .map_err(CliError::ledger("cannot read the constitution"))?;
    let matches = constitution.digest_matches();
    if let Some(path) = file {
        std::fs::write(path, &constitution.script).map_err(CliError::write(path))?;
    }
    out.show(
        &json!({
            "digest": constitution.digest,
            "digestMatches": matches,
            "script": constitution.script,
        }),
        || {
            format!(
                "digest {} ({})\n{}",
                constitution.digest,
                if matches {
                    "matches the script"
                } else {
                    "DOES NOT match the script"
                },
                if file.is_some() {
                    String::new()
                } else {
                    constitution.script.clone()
                }
            )
        },
    )?;
    if matches {
        Ok(())
    } else {
        Err(CliError::Verification(format!(
            "the constitution's digest {} is not the SHA-256 of its script",
            constitution.digest
        )))
    }
}
