//! `audit`.

use confidential_ledger::ConfidentialLedgerClient;

use crate::args::AuditArgs;
use crate::error::CliResult;
use crate::output::Output;

/// `audit`.
pub async fn run(_client: &ConfidentialLedgerClient, _args: &AuditArgs, _out: Output) -> CliResult {
    Ok(())
}
