//! Logging with `tracing`: what the client logs, and how to see request and response bodies
//! for one call or for every call (`logging_enable`). Credentials are never logged.
//!
//! ```sh
//! cargo run --example logging
//! RUST_LOG=confidential_ledger=trace cargo run --example logging
//! ```
//!
//! Every method runs in an `INFO` span `ledger_call` (method, transaction id) with nested
//! `ledger_operation` and `ledger_attempt` spans; requests, retries and redirects are logged
//! at `DEBUG`, bodies at `DEBUG` only when `logging_enable` asks for them.

#[path = "common/mod.rs"]
mod common;

use confidential_ledger::ClientOptions;
use confidential_ledger::client::GetCurrentLedgerEntryOptions;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> common::Result {
    // Any `tracing` subscriber works; this one prints to stdout. RUST_LOG overrides the filter.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("confidential_ledger=debug,confidential_ledger_sandbox=warn")
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .try_init();

    let ledger = common::connect().await?;
    let client = &ledger.client;

    println!("\n--- A write: requests and outcomes at DEBUG, no bodies ---");
    client
        .create_ledger_entry_and_wait("logged, but not its contents", None)
        .await?;

    println!("\n--- One call with its bodies (logging_enable on the call) ---");
    client
        .get_current_ledger_entry(Some(
            GetCurrentLedgerEntryOptions::new().logging_enable(true),
        ))
        .await?;
    ledger.close().await;

    println!("\n--- A client that logs every body (ClientOptions::logging_enable) ---");
    let options = ClientOptions {
        logging_enable: true,
        ..Default::default()
    };
    let verbose = common::connect_with(options).await?;
    verbose
        .client
        .create_ledger_entry("every body is logged", None)
        .await?;
    verbose.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn runs_against_an_embedded_sandbox() {
        super::main().expect("the example runs");
    }
}
