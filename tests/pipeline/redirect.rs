//! Redirects: followed inside the ledger with the token, refused elsewhere with nothing sent,
//! the primary node cached for writes and forgotten after failures.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use confidential_ledger::ErrorKind;
use confidential_ledger::pipeline::OperationContext;
use reqwest::Method;
use testkit::http::{RecordedRequest, Reply, Server};

use crate::support::{EVIL, Harness, LEDGER, LOOKALIKE, PRIMARY, TOKEN, json, options, within};

const WRITTEN: &str = r#"{"collectionId":"subledger:0"}"#;

/// The server's port, known once it has started, for handlers that build absolute URLs.
type Port = Arc<OnceLock<u16>>;

/// A server playing the ledger (`ledger.test`) and its primary (`primary.ledger.test`) on one
/// port: writes to the ledger host are redirected to the primary, which answers them.
/// `primary` decides the primary's replies, numbered from 0.
async fn ledger_with_primary(
    primary: impl Fn(usize) -> Reply + Send + Sync + 'static,
) -> (Server, Harness) {
    let port = Port::default();
    let handler_port = Arc::clone(&port);
    let writes_to_primary = AtomicUsize::new(0);
    let server = Server::start(move |request: &RecordedRequest| {
        let port = handler_port.get().copied().unwrap_or_default();
        match (request.host.as_deref(), request.method.as_str()) {
            (Some(PRIMARY), _) => primary(writes_to_primary.fetch_add(1, Ordering::SeqCst)),
            (Some(LEDGER), "GET") => Reply::json(200, r#"{"state":"Ready"}"#),
            (Some(LEDGER), _) => Reply::status(307).header(
                "location",
                &format!("http://{PRIMARY}:{port}{}", request.path),
            ),
            _ => Reply::status(421),
        }
    })
    .await;
    port.set(server.port()).unwrap();
    let harness = Harness::new(&server.url_for_host(LEDGER, ""), options(3));
    (server, harness)
}

fn written() -> Reply {
    Reply::json(200, WRITTEN).header("x-ms-ccf-transaction-id", "2.15")
}

fn hosts(server: &Server) -> Vec<String> {
    server
        .requests()
        .iter()
        .map(|r| r.host.clone().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn a_redirected_write_keeps_method_body_and_token_and_the_primary_is_cached() {
    let (server, harness) = ledger_with_primary(|_| written()).await;
    let write_url = server.url_for_host(LEDGER, "/app/transactions?api-version=2026-02-23");
    let response = harness
        .post(&write_url, r#"{"contents":"hello"}"#)
        .await
        .unwrap();
    assert_eq!(response.text().await.unwrap(), WRITTEN);

    let requests = server.requests();
    assert_eq!(hosts(&server), [LEDGER, PRIMARY]);
    for request in &requests {
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/app/transactions?api-version=2026-02-23");
        assert_eq!(request.body_text(), r#"{"contents":"hello"}"#);
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_eq!(request.header("content-type"), Some("application/json"));
    }
    assert_eq!(
        harness.pipeline.primary(),
        Some(format!("{PRIMARY}:{}", server.port()))
    );

    // Later writes go to the primary directly; reads still go to the ledger's endpoint.
    harness
        .post(&write_url, r#"{"contents":"again"}"#)
        .await
        .unwrap();
    harness
        .get(&server.url_for_host(LEDGER, "/app/transactions/2.15"))
        .await
        .unwrap();
    assert_eq!(hosts(&server), [LEDGER, PRIMARY, PRIMARY, LEDGER]);
}

#[tokio::test]
async fn a_308_is_followed_for_patch_with_the_merge_patch_content_type() {
    let port = Port::default();
    let handler_port = Arc::clone(&port);
    let server = Server::start(move |request: &RecordedRequest| {
        let port = handler_port.get().copied().unwrap_or_default();
        if request.host.as_deref() == Some(LEDGER) {
            Reply::status(308).header(
                "location",
                &format!("http://{PRIMARY}:{port}{}", request.path),
            )
        } else {
            Reply::json(200, r#"{"assignedRoles":["Reader"]}"#)
        }
    })
    .await;
    port.set(server.port()).unwrap();
    let harness = Harness::new(&server.url_for_host(LEDGER, ""), options(3));
    let request = json(
        Method::PATCH,
        &server.url_for_host(LEDGER, "/app/ledgerUsers/abc?api-version=2026-02-23"),
        r#"{"assignedRoles":["Reader"]}"#,
    );
    let op = confidential_ledger::raw::operation_context("create_or_update_ledger_user", &request);
    within(harness.pipeline.send(request, &op)).await.unwrap();
    let requests = server.requests();
    assert_eq!(hosts(&server), [LEDGER, PRIMARY]);
    for request in &requests {
        assert_eq!(request.method, "PATCH");
        assert_eq!(
            request.header("content-type"),
            Some("application/merge-patch+json")
        );
        assert_eq!(request.body_text(), r#"{"assignedRoles":["Reader"]}"#);
        assert!(request.has_header("authorization"));
    }
}

#[tokio::test]
async fn the_primary_is_forgotten_after_a_5xx() {
    // The primary's second write fails with 503 (an unknown outcome: not sent again).
    let (server, harness) = ledger_with_primary(|n| {
        if n == 1 {
            Reply::status(503)
        } else {
            written()
        }
    })
    .await;
    let write_url = server.url_for_host(LEDGER, "/app/transactions");
    harness.post(&write_url, "{}").await.unwrap();
    assert!(harness.pipeline.primary().is_some());
    let err = harness.post(&write_url, "{}").await.unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    assert_eq!(harness.pipeline.primary(), None);
    // The next write asks the ledger's endpoint again, and is redirected anew.
    harness.post(&write_url, "{}").await.unwrap();
    assert_eq!(hosts(&server), [LEDGER, PRIMARY, PRIMARY, LEDGER, PRIMARY]);
    assert!(harness.pipeline.primary().is_some());
}

#[tokio::test]
async fn the_primary_is_forgotten_after_a_transport_error() {
    let (server, harness) = ledger_with_primary(|n| {
        if n == 1 {
            Reply::CloseConnection
        } else {
            written()
        }
    })
    .await;
    let write_url = server.url_for_host(LEDGER, "/app/transactions");
    harness.post(&write_url, "{}").await.unwrap();
    let err = harness.post(&write_url, "{}").await.unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    assert_eq!(harness.pipeline.primary(), None);
    harness.post(&write_url, "{}").await.unwrap();
    assert_eq!(hosts(&server), [LEDGER, PRIMARY, PRIMARY, LEDGER, PRIMARY]);
}

/// A ledger that redirects every request to `target(port)`.
async fn redirecting_to(
    status: u16,
    target: impl Fn(u16) -> String + Send + Sync + 'static,
) -> Server {
    let port = Port::default();
    let handler_port = Arc::clone(&port);
    let server = Server::start(move |_| {
        let port = handler_port.get().copied().unwrap_or_default();
        Reply::status(status).header("location", &target(port))
    })
    .await;
    port.set(server.port()).unwrap();
    server
}

#[tokio::test]
async fn redirects_out_of_the_ledger_are_refused_and_nothing_reaches_the_target() {
    let foreign = Server::start(|_| Reply::json(200, "{}")).await;
    let other_port = Server::start(|_| Reply::json(200, "{}")).await;
    let foreign_port = foreign.port();
    let other = other_port.port();
    type Target = Arc<dyn Fn(u16) -> String + Send + Sync>;
    let targets: Vec<(Target, &str)> = vec![
        (
            Arc::new(|port| format!("http://{EVIL}:{port}/steal")),
            "host evil.test",
        ),
        (
            Arc::new(|port| format!("http://{LOOKALIKE}:{port}/steal")),
            "host ledger.test.evil.test",
        ),
        (
            Arc::new(move |_| format!("http://127.0.0.1:{foreign_port}/steal")),
            "host 127.0.0.1",
        ),
        (
            Arc::new(move |_| format!("http://{LEDGER}:{other}/steal")),
            "port",
        ),
        (
            Arc::new(|port| format!("http://user:pw@{LEDGER}:{port}/steal")),
            "user information",
        ),
    ];
    for (target, reason) in targets {
        for status in [307, 308] {
            let target = Arc::clone(&target);
            let server = redirecting_to(status, move |port| target(port)).await;
            let harness = Harness::new(&server.url_for_host(LEDGER, ""), options(3));
            let err = harness
                .post(
                    &server.url_for_host(LEDGER, "/app/transactions"),
                    r#"{"contents":"x"}"#,
                )
                .await
                .unwrap_err();
            let ErrorKind::RedirectRefused { location } = err.kind() else {
                panic!("{err}");
            };
            assert!(location.ends_with("/steal"), "{location}");
            assert!(!location.contains("pw"), "{location}");
            assert!(err.to_string().contains(reason), "{err}");
            assert!(err.to_string().contains("nothing was sent there"), "{err}");
            assert!(!err.is_retryable());
            // Only the ledger's host ever saw a request, exactly one, and nothing else did.
            assert_eq!(hosts(&server), [LEDGER], "{err}");
            assert_eq!(harness.credential.calls(), 1, "a token for the ledger only");
        }
    }
    assert_eq!(
        foreign.connection_count(),
        0,
        "the foreign server was never contacted"
    );
    assert_eq!(
        other_port.connection_count(),
        0,
        "the other port was never contacted"
    );
}

#[tokio::test]
async fn refused_redirects_for_reads_too() {
    let server = redirecting_to(302, |port| format!("http://{EVIL}:{port}/x")).await;
    let harness = Harness::new(&server.url_for_host(LEDGER, ""), options(3));
    let err = harness
        .get(&server.url_for_host(LEDGER, "/app/x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::RedirectRefused { .. }),
        "{err}"
    );
    assert_eq!(hosts(&server), [LEDGER]);
    assert_eq!(
        harness.credential.calls(),
        1,
        "no token was fetched for the refused target"
    );
}

#[tokio::test]
async fn subdomains_on_the_same_port_are_followed_with_the_token() {
    let port = Port::default();
    let handler_port = Arc::clone(&port);
    let server = Server::start(move |request: &RecordedRequest| {
        let port = handler_port.get().copied().unwrap_or_default();
        match request.host.as_deref() {
            Some(LEDGER) => {
                Reply::status(302).header("location", &format!("http://{PRIMARY}:{port}/moved"))
            }
            _ => Reply::json(200, "{}"),
        }
    })
    .await;
    port.set(server.port()).unwrap();
    let harness = Harness::new(&server.url_for_host(LEDGER, ""), options(3));
    harness
        .get(&server.url_for_host(LEDGER, "/app/x"))
        .await
        .unwrap();
    let requests = server.requests();
    assert_eq!(hosts(&server), [LEDGER, PRIMARY]);
    assert_eq!(requests[1].path, "/moved");
    assert!(
        requests
            .iter()
            .all(|r| r.header("authorization") == Some(format!("Bearer {TOKEN}").as_str()))
    );
    assert_eq!(
        harness.pipeline.primary(),
        None,
        "reads do not set the primary"
    );
}

/// Live ledgers answered `/app/users` calls with `301 ApiVersionRedirect` and a `Location`
/// (python `test_user_management_aad_ledger_user.json`): reported, not followed, so nothing
/// goes to the Location (a path without the api-version there).
#[tokio::test]
async fn an_api_version_redirect_with_a_location_is_reported_not_followed() {
    let body = r#"{"error": {"code": "ApiVersionRedirect", "message": "For API version greater than 2024-08-22-preview, please use the new API at /ledgerUsers"}}"#;
    let server = Server::start(
        move |request: &RecordedRequest| match request.path.as_str() {
            "/ledgerUsers" => Reply::ledger_error(400, "QueryParameterError", "followed"),
            _ => Reply::json(301, body).header("location", "/ledgerUsers"),
        },
    )
    .await;
    let harness = Harness::new(&server.url(""), options(3));
    let err = harness
        .get(&server.url("/app/users/u?api-version=2024-08-22-preview"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::ApiVersionRedirect, "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(301));
    let requests = server.requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/app/users/u?api-version=2024-08-22-preview"]);
}

#[tokio::test]
async fn moved_is_followed_for_get_but_not_for_writes() {
    let server = Server::start(|request: &RecordedRequest| match request.path.as_str() {
        "/old" => Reply::status(301).header("location", "/new"),
        _ => Reply::json(200, "{}"),
    })
    .await;
    let harness = Harness::new(&server.url(""), options(3));
    harness.get(&server.url("/old")).await.unwrap();
    let request = json(Method::PATCH, &server.url("/old"), "{}");
    let err = within(
        harness
            .pipeline
            .send(request, &OperationContext::new("update_runtime_options")),
    )
    .await
    .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(301));
    let requests = server.requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/old", "/new", "/old"]);
    assert!(
        requests
            .iter()
            .all(|r| r.header("authorization") == Some(format!("Bearer {TOKEN}").as_str())),
        "same-host redirects keep the token"
    );
}

#[tokio::test]
async fn redirect_loops_stop_at_the_limit() {
    let server = Server::start(|_| Reply::status(307).header("location", "/again")).await;
    let harness = Harness::new(&server.url(""), options(3));
    let err = harness
        .post(&server.url("/app/transactions"), "{}")
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::RedirectRefused { .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("the limit of 5 redirects"),
        "{err}"
    );
    assert_eq!(server.request_count(), 6);

    let mut no_redirects = options(3);
    no_redirects.max_redirects = 0;
    let server = Server::start(|_| Reply::status(307).header("location", "/again")).await;
    let harness = Harness::new(&server.url(""), no_redirects);
    let err = harness
        .post(&server.url("/app/transactions"), "{}")
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::RedirectRefused { .. }),
        "{err}"
    );
    assert_eq!(server.request_count(), 1);
}

mod tls {
    use std::sync::Arc;

    use confidential_ledger::ErrorKind;
    use confidential_ledger::tls::{PinnedCertificate, client_config};
    use testkit::http::{Reply, Server};

    use super::{LEDGER, Port};
    use crate::support::{Harness, http_with, ledger_pki, options, server_config};

    #[tokio::test]
    async fn an_https_ledger_never_redirects_to_http() {
        let (ca, node, key) = ledger_pki();
        let plain = Server::start(|_| Reply::json(200, "{}")).await;
        let plain_port = plain.port();
        let port = Port::default();
        let handler_port = Arc::clone(&port);
        let ledger = Server::start_tls(server_config(node, key), move |request| {
            let same_port = handler_port.get().copied().unwrap_or_default();
            let target = if request.path == "/same-port" {
                same_port
            } else {
                plain_port
            };
            Reply::status(307).header("location", &format!("http://{LEDGER}:{target}/x"))
        })
        .await;
        port.set(ledger.port()).unwrap();
        let pinned = PinnedCertificate::from_der(ca).unwrap();
        let http = http_with(client_config(&pinned, None).unwrap());
        let harness = Harness::with_http(&ledger.url_for_host(LEDGER, ""), options(3), http);
        for path in ["/other-port", "/same-port"] {
            let err = harness
                .post(&ledger.url_for_host(LEDGER, path), "{}")
                .await
                .unwrap_err();
            assert!(
                matches!(err.kind(), ErrorKind::RedirectRefused { .. }),
                "{err}"
            );
            assert!(
                err.to_string()
                    .contains("scheme http is not the ledger's (https)"),
                "{err}"
            );
        }
        assert_eq!(ledger.request_count(), 2, "only the two original requests");
        assert!(
            ledger
                .requests()
                .iter()
                .all(|r| r.has_header("authorization"))
        );
        assert_eq!(
            plain.connection_count(),
            0,
            "nothing reached the plain HTTP server"
        );
    }
}

#[tokio::test]
async fn the_ledger_api_version_redirect_of_the_recorded_session_is_reported() {
    let Some(path) = testkit::shared::path(
        "recordings/python/test_confidential_ledger_client.pyTestConfidentialLedgerClienttest_user_endpoint_must_redirect.json",
    ) else {
        return;
    };
    let recording: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let entries: Vec<&serde_json::Value> = recording["Entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["StatusCode"] == 301)
        .collect();
    assert_eq!(entries.len(), 4, "the recording holds four redirects");
    for entry in entries {
        let body = entry["ResponseBody"].to_string();
        let server = Server::scripted([Reply::json(301, &body)]).await;
        let uri: reqwest::Url = entry["RequestUri"].as_str().unwrap().parse().unwrap();
        let method: Method = entry["RequestMethod"].as_str().unwrap().parse().unwrap();
        let url = server.url(&format!(
            "{}?{}",
            uri.path(),
            uri.query().unwrap_or_default()
        ));
        let harness = Harness::new(&server.url(""), options(3));
        let request = match method {
            Method::PATCH => json(Method::PATCH, &url, &entry["RequestBody"].to_string()),
            _ => reqwest::Request::new(method.clone(), url.parse().unwrap()),
        };
        let op = confidential_ledger::raw::operation_context("create_or_update_user", &request);
        let err = within(harness.pipeline.send(request, &op))
            .await
            .unwrap_err();
        assert_eq!(
            err.kind(),
            &ErrorKind::ApiVersionRedirect,
            "{method}: {err}"
        );
        assert_eq!(err.error_code(), Some("ApiVersionRedirect"));
        assert!(
            err.service_message().unwrap().contains("/ledgerUsers"),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("use the ledger-user calls instead"),
            "{err}"
        );
        assert_eq!(server.request_count(), 1, "not followed, not retried");
    }
}
