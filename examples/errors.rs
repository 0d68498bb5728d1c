//! Errors: one error type whose kind a program can match, with the ledger's status, code and
//! message, and advice in its text. What each kind means and what to do about it.
//!
//! ```sh
//! cargo run --example errors
//! ```

#[path = "common/mod.rs"]
mod common;

use confidential_ledger::models::LedgerRole;
use confidential_ledger::{Error, ErrorKind, StaticTokenCredential};
use confidential_ledger_sandbox::FaultAction;

/// What a program might do about an error.
fn advice(err: &Error) -> &'static str {
    match err.kind() {
        ErrorKind::NotFound => "nothing there (yet): check the id, or wait for the commit first",
        ErrorKind::InvalidInput => "fix the input: nothing was sent",
        ErrorKind::Forbidden { .. } if err.error_code() == Some("NotAllowed") => {
            "the principal is not a user of this ledger: an Administrator must add it"
        }
        ErrorKind::Forbidden { .. } => "the principal's roles do not allow this",
        ErrorKind::Unauthorized => {
            "the credential was refused: renew the token or register the certificate"
        }
        ErrorKind::ApiVersionRedirect => {
            "use the ledger-user calls (create_or_update_ledger_user, ...)"
        }
        ErrorKind::OutcomeUnknown => "the write may have been applied: read before writing again",
        ErrorKind::Throttled { .. } => "slow down: wait err.retry_after() and try again",
        ErrorKind::Timeout | ErrorKind::Transport => "transient: try again later",
        ErrorKind::PinMismatch(_) => {
            "the ledger's certificate changed and the re-fetch did not help"
        }
        _ if err.is_retryable() => "transient: try again later",
        _ => "see the message",
    }
}

/// The error of a call expected to fail.
fn failed<T: std::fmt::Debug>(result: Result<T, Error>) -> common::Result<Error> {
    match result {
        Err(err) => Ok(err),
        Ok(value) => Err(format!("the call was expected to fail, but returned {value:?}").into()),
    }
}

fn show(what: &str, err: &Error) {
    println!("{what}:");
    println!("  error:     {err}");
    println!(
        "  kind:      {:?}; status {:?}; code {:?}; retryable: {}",
        err.kind(),
        err.status().map(|s| s.as_u16()),
        err.error_code(),
        err.is_retryable()
    );
    println!("  so:        {}\n", advice(err));
}

#[tokio::main]
async fn main() -> common::Result {
    let ledger = common::connect().await?;
    let client = &ledger.client;

    // A transaction that does not exist.
    let err = failed(client.get_ledger_entry("10000.100000", None).await)?;
    show("Reading transaction 10000.100000", &err);

    // Refused before sending.
    let err = failed(client.get_ledger_entry("not-a-transaction-id", None).await)?;
    show("Reading transaction \"not-a-transaction-id\"", &err);

    // The legacy single-role user calls on current api-versions (deprecated for that reason:
    // the compiler names the replacement, create_or_update_ledger_user).
    #[allow(deprecated)]
    let err = failed(
        client
            .create_or_update_user(
                "0f6b1e29-0000-4000-8000-000000000000",
                LedgerRole::Reader,
                None,
            )
            .await,
    )?;
    show("Adding a user through the legacy /app/users call", &err);

    if let Some(sandbox) = &ledger.sandbox {
        // 403 NotAllowed: a valid Entra ID token, but its principal is not a ledger user.
        let stranger = common::sandbox_builder(sandbox)
            .credential(StaticTokenCredential::new(
                sandbox.mint_token("0f6b1e29-dead-4000-8000-00000000beef"),
            ))
            .build()
            .await?;
        let err = failed(stranger.create_ledger_entry("hello", None).await)?;
        show("Writing as a principal the ledger does not know", &err);

        // A write the ledger may have applied: the connection broke after the request was
        // sent. The client does not resend it (that could write it twice).
        sandbox.faults().inject(
            "POST",
            "/app/transactions",
            1,
            FaultAction::DropAfterProcessing,
        );
        let err = failed(client.create_ledger_entry("maybe written", None).await)?;
        show("Writing when the connection breaks after sending", &err);
        let latest = client.get_current_ledger_entry(None).await?;
        println!(
            "(Reading first shows it was written: {:?}.)\n",
            latest.contents
        );
    }

    ledger.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn runs_against_an_embedded_sandbox() {
        super::main().expect("the example runs");
    }
}
