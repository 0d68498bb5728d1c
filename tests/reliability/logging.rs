//! A whole session logged at TRACE, with bodies, scanned for secrets.
//!
//! Two clients, one with a bearer token and one with a client certificate, both with
//! `logging_enable`, write, wait for commits, read, fetch and verify receipts, manage users, get
//! errors (401, 403, 404, 503 then a retry), follow a redirect inside the ledger and refuse one
//! out of it. Everything logged on the test's thread is captured: `tracing` events and spans of
//! every crate at TRACE (the client, the sandbox, hyper, h2...) and `log` records (reqwest,
//! rustls). The capture must hold the session (bodies, retries, redirects, redacted headers)
//! and never a token or a part of one, the `Authorization` value, or the client's private key
//! (PEM, its base64 lines, or its DER in base64).
//!
//! Already covered elsewhere: the pipeline's logging against recording servers, with a
//! misbehaving server echoing the token (`tests/pipeline_logging.rs`), and the client's spans
//! and opt-in bodies (`tests/client/logging.rs`).

use std::sync::OnceLock;
use std::thread::ThreadId;
use std::time::Duration;

use base64::Engine;
use confidential_ledger::client::CreateLedgerEntryOptions;
use confidential_ledger::models::LedgerRole;
use confidential_ledger::{ConfidentialLedgerClient, ErrorKind, StaticTokenCredential};
use confidential_ledger_sandbox::{FaultAction, Sandbox, TokenSpec};
use futures::TryStreamExt;
use testkit::http::{Reply, Server};

use testkit::capture::{Capture, ThreadCapture};

use crate::support::{admin_certificate, builder_at, sandbox, within};

/// `log` records (reqwest and rustls log through `log`, not `tracing`) of one thread, written
/// to a capture. Records of other threads (other tests) are dropped.
struct ThreadLogger {
    target: OnceLock<(ThreadId, Capture)>,
}

static LOGGER: ThreadLogger = ThreadLogger {
    target: OnceLock::new(),
};

impl log::Log for ThreadLogger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        use std::io::Write;
        if let Some((thread, capture)) = self.target.get()
            && *thread == std::thread::current().id()
        {
            let mut capture = capture.clone();
            let _ = writeln!(
                capture,
                "log {} {}: {}",
                record.level(),
                record.target(),
                record.args()
            );
        }
    }

    fn flush(&self) {}
}

/// Secrets that must never be logged: the token and its parts, and the private key in every
/// encoding a log line could show.
fn secrets(tokens: &[&str], key_pem: &str) -> Vec<String> {
    let mut secrets = Vec::new();
    for token in tokens {
        secrets.push((*token).to_owned());
        secrets.push(format!("Bearer {token}"));
        let signature = token.rsplit('.').next().unwrap_or_default();
        assert!(signature.len() > 20, "a signed token");
        secrets.push(signature.to_owned());
    }
    secrets.push(key_pem.trim().to_owned());
    let body: Vec<&str> = key_pem
        .lines()
        .filter(|l| !l.starts_with("-----") && !l.trim().is_empty())
        .collect();
    assert!(!body.is_empty(), "a PEM key");
    // Every base64 line of the key (the last one may be short: keep those long enough to be
    // unmistakable).
    secrets.extend(
        body.iter()
            .filter(|l| l.len() >= 16)
            .map(|l| (*l).to_owned()),
    );
    let der_base64 = body.concat();
    let der = base64::engine::general_purpose::STANDARD
        .decode(&der_base64)
        .expect("the key's base64");
    secrets.push(der_base64);
    secrets.push(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&der));
    secrets.push(der.iter().map(|b| format!("{b:02x}")).collect());
    secrets.push("PRIVATE KEY".to_owned());
    secrets
}

/// Everything the session does with one client.
async fn session(sandbox: &Sandbox, client: &ConfidentialLedgerClient, who: &str) {
    let marker = format!("{who}-body-marker");
    let written = within(client.create_ledger_entry_and_wait(marker.clone(), None))
        .await
        .unwrap();
    let entry = within(client.get_ledger_entry(written.transaction_id, None))
        .await
        .unwrap();
    assert_eq!(entry.contents, marker);
    let receipt = within(client.get_receipt(written.transaction_id, None))
        .await
        .unwrap();
    client.verify_receipt(&receipt, None).unwrap();
    within(client.get_verified_receipt(written.transaction_id, None))
        .await
        .unwrap();
    within(client.create_or_update_ledger_user(
        &format!("{who}-user"),
        &[LedgerRole::Reader],
        None,
    ))
    .await
    .unwrap();
    within(client.list_ledger_users(None).try_collect::<Vec<_>>())
        .await
        .unwrap();
    // Errors: a missing entry, a transient 503 retried, a redirect followed, one refused.
    let err = within(client.get_ledger_entry("2.999999", None))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotFound, "{err}");
    // A read answered 503 is retried (a write would not be: its outcome would be unknown).
    sandbox.faults().inject(
        "GET",
        "/app/transactions/current",
        1,
        FaultAction::status(503).retry_after(Duration::ZERO),
    );
    within(client.get_current_ledger_entry(None)).await.unwrap();
    sandbox.faults().inject(
        "POST",
        "/app/transactions",
        1,
        FaultAction::redirect(sandbox.ledger_endpoint()),
    );
    within(client.create_ledger_entry(format!("{who}-after-retry-and-redirect"), None))
        .await
        .unwrap();
    let foreign = Server::start(|_| Reply::status(200)).await;
    sandbox.faults().inject(
        "POST",
        "/app/transactions",
        1,
        FaultAction::redirect(foreign.url("/steal")),
    );
    let err = within(client.create_ledger_entry(
        "refused",
        Some(CreateLedgerEntryOptions::new().collection_id("other")),
    ))
    .await
    .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::RedirectRefused { .. }),
        "{err}"
    );
    assert_eq!(foreign.connection_count(), 0);
}

#[tokio::test(flavor = "current_thread")]
async fn a_trace_level_session_with_both_credentials_never_logs_a_secret() {
    let capture = ThreadCapture::start(tracing::Level::TRACE);
    tracing::callsite::rebuild_interest_cache();
    if LOGGER
        .target
        .set((std::thread::current().id(), capture.buffer()))
        .is_ok()
    {
        log::set_logger(&LOGGER).expect("no other logger in this test binary");
        log::set_max_level(log::LevelFilter::Trace);
    }

    let sandbox = sandbox().await;
    sandbox
        .add_user("logged-admin", &["Administrator"])
        .await
        .unwrap();
    let token = sandbox.mint_token("logged-admin");
    let expired = sandbox.mint_token_with(&TokenSpec::new("logged-admin").expired());
    let stranger = sandbox.mint_token("not-a-user");
    let mut options = crate::support::fast_options();
    options.logging_enable = true;
    let endpoint = sandbox.ledger_endpoint();
    let by_token = within(
        builder_at(&sandbox, &endpoint)
            .credential(StaticTokenCredential::new(token.clone()))
            .options(options.clone())
            .build(),
    )
    .await
    .unwrap();
    let by_certificate = within(
        builder_at(&sandbox, &endpoint)
            .certificate_credential(admin_certificate(&sandbox))
            .options(options.clone())
            .build(),
    )
    .await
    .unwrap();

    session(&sandbox, &by_token, "token").await;
    session(&sandbox, &by_certificate, "certificate").await;
    for (token, kind) in [(&expired, "401"), (&stranger, "403")] {
        let client = within(
            builder_at(&sandbox, &endpoint)
                .credential(StaticTokenCredential::new(token.clone()))
                .options(options.clone())
                .build(),
        )
        .await
        .unwrap();
        let err = within(client.create_ledger_entry("denied", None))
            .await
            .unwrap_err();
        assert_eq!(
            err.status().map(|s| s.as_u16().to_string()).as_deref(),
            Some(kind),
            "{err}"
        );
    }
    let output = capture.take();

    // The capture holds the session, at every level, from the client and its dependencies.
    for expected in [
        "token-body-marker",
        "certificate-body-marker",
        "retrying",
        "following redirect",
        "redirect refused",
        "authorization: REDACTED",
        "NotAllowed",
        " TRACE ",
        " DEBUG ",
        "log TRACE rustls",
        "h2::",
        "confidential_ledger_sandbox",
    ] {
        assert!(
            output.contains(expected),
            "missing {expected:?} in the capture ({} bytes)",
            output.len()
        );
    }
    let key_pem = sandbox.admin_private_key_pem();
    for secret in secrets(&[&token, &expired, &stranger], &key_pem) {
        if let Some(at) = output.find(&secret) {
            let line = output[..at].rfind('\n').map_or(0, |i| i + 1);
            let end = output[at..].find('\n').map_or(output.len(), |i| at + i);
            panic!(
                "a secret ({} chars) was logged: {}",
                secret.len(),
                output[line..end].replace(&secret, "<THE SECRET>")
            );
        }
    }
    println!(
        "logging: {} bytes captured at TRACE over the session, {} lines, no secret",
        output.len(),
        output.lines().count()
    );
}
