//! Redirects out of the ledger never carry a credential, for any method.
//!
//! The sandbox answers chosen requests with `307`/`308` to a target outside the ledger; the
//! targets are recording servers: plain HTTP ones (a token would be readable there) and a TLS
//! one presenting the ledger's own node certificate on another port (a target the client's TLS
//! configuration would even trust). For every method the client uses (`POST` writes, `GET`
//! reads and pages, `PATCH` and `DELETE` user management), with a bearer token and with a
//! client certificate, the redirect is refused with `RedirectRefused` and the target never
//! sees a connection, let alone an `Authorization` header or a client certificate.
//!
//! Already covered elsewhere: the redirect rules against recording servers for every kind of
//! target, the primary node cache, loops (`tests/pipeline/redirect.rs`); a refused `POST`
//! redirect and a followed one at the client level (`tests/client/faults.rs`). Added here:
//! the other methods, `308`, a trusted-looking TLS target, a redirect that is followed once
//! inside the ledger and then points out of it, and certificate authentication.

use confidential_ledger::models::LedgerRole;
use confidential_ledger::{ConfidentialLedgerClient, ErrorKind};
use confidential_ledger_sandbox::{FaultAction, Sandbox};
use futures::TryStreamExt;
use testkit::http::{Reply, Server};

use crate::support::{TlsRecorder, TlsVersions, admin, sandbox, token_user, within};

/// One call of each method, with the sandbox path prefix its requests match.
const CALLS: &[(&str, &str)] = &[
    ("POST", "/app/transactions"),
    ("GET", "/app/transactions"),
    ("PATCH", "/app/ledgerUsers"),
    ("DELETE", "/app/ledgerUsers"),
];

async fn call(client: &ConfidentialLedgerClient, method: &str) -> confidential_ledger::Error {
    let result = match method {
        "POST" => within(client.create_ledger_entry("redirected-body", None))
            .await
            .map(drop),
        "GET" => within(client.list_ledger_entries(None).try_collect::<Vec<_>>())
            .await
            .map(drop),
        "PATCH" => within(client.create_or_update_ledger_user(
            "redirected-user",
            &[LedgerRole::Reader],
            None,
        ))
        .await
        .map(drop),
        "DELETE" => within(client.delete_ledger_user("redirected-user", None)).await,
        other => unreachable!("{other}"),
    };
    result.expect_err("the redirect is refused")
}

fn redirect(status: u16, location: &str) -> FaultAction {
    FaultAction::Redirect {
        status,
        location: location.to_owned(),
    }
}

/// Targets outside the ledger: plain HTTP on another port (under the ledger's own host name
/// and under its IP), and HTTPS with the ledger's own node certificate on another port.
struct Targets {
    plain: Server,
    tls: TlsRecorder,
}

impl Targets {
    async fn start(sandbox: &Sandbox) -> Targets {
        let node = sandbox.node_tls_identity();
        Targets {
            plain: Server::start(|_| Reply::json(200, r#"{"entries":[]}"#)).await,
            tls: TlsRecorder::start(
                &node.certificate_chain_pem,
                &node.private_key_pem,
                TlsVersions::Default,
            )
            .await,
        }
    }

    fn locations(&self, sandbox: &Sandbox) -> Vec<String> {
        let ledger_port = sandbox.ledger_address().port();
        vec![
            format!("http://localhost:{}/app/transactions", self.plain.port()),
            format!("http://127.0.0.1:{}/steal", self.plain.port()),
            format!("https://localhost:{}", self.tls.port()),
            format!("https://127.0.0.1:{}", self.tls.port()),
            // The ledger's own port, but plain HTTP: a token would cross the network in clear.
            format!("http://localhost:{ledger_port}/app/transactions"),
        ]
    }

    fn assert_untouched(&self) {
        assert_eq!(
            self.plain.connection_count(),
            0,
            "{:?}",
            self.plain.requests()
        );
        assert_eq!(self.tls.connections(), 0);
        assert!(self.tls.received().is_empty());
    }
}

async fn assert_refused_everywhere(
    sandbox: &Sandbox,
    client: &ConfidentialLedgerClient,
    who: &str,
) {
    let targets = Targets::start(sandbox).await;
    for location in targets.locations(sandbox) {
        for status in [307, 308] {
            for (method, path) in CALLS {
                sandbox
                    .faults()
                    .inject(method, path, 1, redirect(status, &location));
                let before = sandbox.faults().injected();
                let err = call(client, method).await;
                assert!(
                    matches!(err.kind(), ErrorKind::RedirectRefused { .. }),
                    "{who} {method} -> {status} {location}: {err}"
                );
                assert!(!err.is_outcome_unknown(), "{who} {method}: {err}");
                assert_eq!(
                    sandbox.faults().injected(),
                    before + 1,
                    "{who} {method}: the ledger answered the redirect"
                );
            }
        }
    }
    assert_eq!(sandbox.faults().remaining(), 0);
    targets.assert_untouched();
}

#[tokio::test]
async fn redirects_out_of_the_ledger_are_refused_for_every_method_with_a_token() {
    let sandbox = sandbox().await;
    let client = token_user(&sandbox, "redirect-admin", &["Administrator"]).await;
    assert_refused_everywhere(&sandbox, &client, "token").await;
}

#[tokio::test]
async fn redirects_out_of_the_ledger_are_refused_for_every_method_with_a_certificate() {
    let sandbox = sandbox().await;
    let client = admin(&sandbox).await;
    assert_refused_everywhere(&sandbox, &client, "certificate").await;
}

/// A redirect inside the ledger is followed (with the credential: the write is applied once),
/// and a second hop from there out of the ledger is refused all the same.
#[tokio::test]
async fn a_second_hop_out_of_the_ledger_is_refused_after_a_first_one_inside_it() {
    let sandbox = sandbox().await;
    let client = token_user(&sandbox, "redirect-writer", &["Contributor"]).await;
    let targets = Targets::start(&sandbox).await;
    for location in targets.locations(&sandbox) {
        // First hop: to the ledger itself (followed). Second: out of it (refused).
        sandbox.faults().inject(
            "POST",
            "/app/transactions",
            1,
            redirect(308, &sandbox.ledger_endpoint()),
        );
        sandbox
            .faults()
            .inject("POST", "/app/transactions", 1, redirect(307, &location));
        let err = within(client.create_ledger_entry("two-hops", None))
            .await
            .expect_err("the second hop is refused");
        assert!(
            matches!(err.kind(), ErrorKind::RedirectRefused { .. }),
            "{location}: {err}"
        );
        assert_eq!(sandbox.faults().remaining(), 0, "both hops were answered");
    }
    targets.assert_untouched();
    // Nothing was written by the refused writes; a followed redirect alone writes once.
    sandbox.faults().inject(
        "POST",
        "/app/transactions",
        1,
        redirect(307, &sandbox.ledger_endpoint()),
    );
    let written = within(client.create_ledger_entry_and_wait("followed", None))
        .await
        .expect("a redirect inside the ledger is followed with the token");
    let entries: Vec<_> = within(client.list_ledger_entries(None).try_collect::<Vec<_>>())
        .await
        .unwrap();
    let contents: Vec<_> = entries.iter().map(|e| e.contents.as_str()).collect();
    assert_eq!(contents, ["followed"]);
    assert_eq!(entries[0].transaction_id, written.transaction_id);
}
