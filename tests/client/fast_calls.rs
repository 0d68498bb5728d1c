//! The status read and the write, which the client builds and decodes by hand, against the
//! generated client's requests for the same calls, as a recording server receives them; and
//! their answers decoded (or refused) as the generated client does.

use std::sync::Arc;
use std::time::Duration;

use confidential_ledger::client::CreateLedgerEntryOptions;
use confidential_ledger::models::TransactionState;
use confidential_ledger::options::{HttpConfigurer, ProxyOptions};
use confidential_ledger::raw::ledger::types;
use confidential_ledger::tls::PinnedCertificate;
use confidential_ledger::{
    ClientOptions, ConfidentialLedgerClient, Error, ErrorKind, StaticTokenCredential,
};
use testkit::http::{RecordedRequest, Reply, Server};

use crate::support::within;

/// The ledger's host name (resolved to the recording server).
const HOST: &str = "fastcalls.confidential-ledger.test";

/// A service CA pinned by the client, and a TLS configuration for a node it issued.
fn pki() -> (PinnedCertificate, Arc<rustls::ServerConfig>) {
    let (ca, config) = testkit::pki::service_pki("Fast Calls Service", HOST);
    (
        PinnedCertificate::from_der(ca).expect("a pinnable CA"),
        config,
    )
}

/// A recording ledger answering with `handler`, and a client of it speaking `api_version`
/// (no retries: each call is one request).
async fn ledger(
    api_version: &str,
    handler: impl Fn(&RecordedRequest) -> Reply + Send + Sync + 'static,
) -> (Server, ConfidentialLedgerClient) {
    let (pinned, config) = pki();
    let server = Server::start_tls(config, handler).await;
    let addr = server.addr();
    let mut options = ClientOptions {
        api_version: api_version.to_owned(),
        call_timeout: Some(Duration::from_secs(20)),
        proxy: ProxyOptions::Disabled,
        configure_http: Some(HttpConfigurer::new(move |builder| {
            builder.resolve(HOST, addr)
        })),
        ..ClientOptions::default()
    };
    options.retry.max_retries = 0;
    let client = within(
        ConfidentialLedgerClient::builder(format!("https://{HOST}:{}", addr.port()))
            .service_certificate(pinned)
            .credential(StaticTokenCredential::new("fast-calls-token"))
            .options(options)
            .build(),
    )
    .await
    .expect("the client builds");
    (server, client)
}

/// The ledger's answers: a status, and a write's id and collection.
fn answer(request: &RecordedRequest) -> Reply {
    if request.method == "POST" {
        Reply::json(200, r#"{"collectionId": "subledger:0"}"#)
            .header("x-ms-ccf-transaction-id", "2.16")
    } else {
        Reply::json(200, r#"{"state": "Committed", "transactionId": "2.15"}"#)
    }
}

/// What must be the same in both requests: everything but the client request id (fresh per
/// call), with header names in lower case and in a stable order.
fn wire(request: &RecordedRequest) -> (String, String, Vec<(String, String)>, Vec<u8>) {
    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
        .filter(|(name, _)| name != "x-ms-client-request-id")
        .collect();
    headers.sort();
    (
        request.method.clone(),
        request.path.clone(),
        headers,
        request.body.clone(),
    )
}

/// The last two requests the server received are the same on the wire.
fn assert_last_two_alike(server: &Server, what: &str) {
    let requests = server.requests();
    let [.., fast, generated] = requests.as_slice() else {
        panic!("{what}: two requests expected, {} received", requests.len());
    };
    assert!(
        fast.has_header("x-ms-client-request-id") && generated.has_header("x-ms-client-request-id"),
        "{what}: both carry a client request id"
    );
    assert_eq!(wire(fast), wire(generated), "{what}");
}

#[tokio::test]
async fn status_reads_and_writes_send_what_the_generated_client_sends() {
    // The service's versions, and one that needs encoding in a query.
    for api_version in ["2026-02-23", "2026-07-31-preview", "v 1+2/é&x=y"] {
        let (server, client) = ledger(api_version, answer).await;
        let raw = client.raw();

        let status = within(client.get_transaction_status("2.15", None))
            .await
            .expect("the status is read");
        assert_eq!(status.transaction_id.to_string(), "2.15");
        within(raw.get_transaction_status("2.15", api_version))
            .await
            .map_err(Error::from)
            .expect("the generated client reads it too");
        assert_last_two_alike(&server, &format!("status at {api_version}"));
        let path = &server.requests()[0].path;
        assert!(
            path.starts_with("/app/transactions/2.15/status?api-version="),
            "{path}"
        );

        // (collection, tags, the `tags` parameter they make)
        let cases: [(Option<&str>, &[&str], Option<&str>); 4] = [
            (None, &[], None),
            (Some("audit-1"), &[], None),
            (Some("c"), &["login", "eu-west"], Some("login,eu-west")),
            (None, &["only"], Some("only")),
        ];
        for (collection, tag_list, tags) in cases {
            let mut options = CreateLedgerEntryOptions::new().tags(tag_list.iter().copied());
            if let Some(collection) = collection {
                options = options.collection_id(collection);
            }
            let options = Some(options);
            let written = within(client.create_ledger_entry("an entry \"é\"\n", options))
                .await
                .expect("the entry is written");
            assert_eq!(written.transaction_id.to_string(), "2.16");
            let body = types::LedgerEntry {
                collection_id: None,
                contents: "an entry \"é\"\n".to_owned(),
                post_hooks: Vec::new(),
                pre_hooks: Vec::new(),
                transaction_id: None,
            };
            within(raw.create_ledger_entry(api_version, collection, tags, None, &body))
                .await
                .map_err(Error::from)
                .expect("the generated client writes it too");
            assert_last_two_alike(
                &server,
                &format!("write at {api_version} to {collection:?} with {tags:?}"),
            );
        }
    }
}

#[tokio::test]
async fn answers_that_are_not_the_operations_are_decode_errors_naming_it() {
    let (_server, client) = ledger("2026-02-23", |request| {
        match (request.method.as_str(), request.path.as_str()) {
            ("GET", p) if p.starts_with("/app/transactions/2.1/") => Reply::json(200, "{\"state\""),
            ("GET", p) if p.starts_with("/app/transactions/2.2/") => {
                Reply::json(201, r#"{"state": "Committed", "transactionId": "2.2"}"#)
            }
            ("GET", _) => Reply::json(200, r#"{"state": "Sealed", "transactionId": "2.3"}"#),
            // A write applied (its id arrived) whose body is garbled.
            _ => Reply::json(200, "not json").header("x-ms-ccf-transaction-id", "2.40"),
        }
    })
    .await;

    let err = within(client.get_transaction_status("2.1", None))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Decode { .. }), "{err}");
    assert_eq!(err.operation(), Some("get_transaction_status"));
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200));

    let err = within(client.get_transaction_status("2.2", None))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Decode { .. }), "{err}");
    assert!(err.to_string().contains("201"), "{err}");
    assert_eq!(err.operation(), Some("get_transaction_status"));

    // A state the service does not define is not read as one it does.
    let status = within(client.get_transaction_status("2.3", None))
        .await
        .expect("an unknown state is kept");
    assert_eq!(status.state, TransactionState::Other("Sealed".to_owned()));

    let written = within(client.create_ledger_entry("x", None))
        .await
        .expect("a write whose id arrived was applied, whatever its body");
    assert_eq!(written.transaction_id.to_string(), "2.40");
    assert_eq!(written.collection_id, "subledger:0");
}
