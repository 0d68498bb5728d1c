//! The pipeline inside progenitor's `exec` hook: pipeline errors cross the hook's
//! `reqwest::Result<reqwest::Response>` boundary in a carrier response and come out of the
//! generated operation's `progenitor_client::Error` intact.

use confidential_ledger::pipeline::Pipeline;
use confidential_ledger::{Error, ErrorKind};
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo, ResponseValue};
use reqwest::header::ACCEPT;
use testkit::http::{Reply, Server};

use crate::support::{Harness, LEDGER, options};

/// Stands in for the generated client.
struct Client {
    baseurl: String,
    client: reqwest::Client,
    pipeline: Pipeline,
}

impl ClientInfo<()> for Client {
    fn api_version() -> &'static str {
        "2026-02-23"
    }

    fn baseurl(&self) -> &str {
        &self.baseurl
    }

    fn client(&self) -> &reqwest::Client {
        &self.client
    }

    fn inner(&self) -> &() {
        &()
    }
}

/// The hook the client work installs.
impl ClientHooks<()> for Client {
    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let op = confidential_ledger::raw::operation_context(info.operation_id, &request);
        Ok(self
            .pipeline
            .send(request, &op)
            .await
            .unwrap_or_else(Error::into_response))
    }
}

#[derive(Debug, serde::Deserialize)]
struct Written {
    #[serde(rename = "collectionId")]
    collection_id: String,
}

#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct LedgerError {
    error: serde_json::Value,
}

/// What progenitor 0.15 generates for an operation with a 200 response and `4XX`/`5XX` error
/// ranges (see `progenitor-impl`'s `method.rs`): build, `pre`, `exec`, `post`, match status.
async fn create_ledger_entry(
    client: &Client,
    contents: &str,
) -> Result<ResponseValue<Written>, progenitor_client::Error<LedgerError>> {
    use progenitor_client::Error as E;
    let url = format!("{}/app/transactions", client.baseurl);
    #[allow(unused_mut)]
    let mut request = client
        .client
        .post(url)
        .header(ACCEPT, "application/json")
        .json(&serde_json::json!({ "contents": contents }))
        .query(&[("api-version", Client::api_version())])
        .build()?;
    let info = OperationInfo {
        operation_id: "create_ledger_entry",
    };
    client.pre(&mut request, &info).await?;
    let result = client.exec(request, &info).await;
    client.post(&result, &info).await?;
    let response = result?;
    match response.status().as_u16() {
        200u16 => ResponseValue::from_response(response).await,
        400u16..=499u16 => Err(E::ErrorResponse(
            ResponseValue::from_response(response).await?,
        )),
        500u16..=599u16 => Err(E::ErrorResponse(
            ResponseValue::from_response(response).await?,
        )),
        _ => Err(E::UnexpectedResponse(response)),
    }
}

fn generated_client(server: &Server) -> (Client, Harness) {
    let harness = Harness::new(&server.url_for_host(LEDGER, ""), options(2));
    let client = Client {
        baseurl: server.url_for_host(LEDGER, ""),
        client: harness.pipeline.http_client().clone(),
        pipeline: harness.pipeline.clone(),
    };
    (client, harness)
}

#[tokio::test]
async fn success_passes_through_the_hook() {
    let server = Server::scripted([
        Reply::status(307).header("location", "/app/transactions?api-version=2026-02-23"),
        Reply::json(200, r#"{"collectionId":"subledger:0"}"#)
            .header("x-ms-ccf-transaction-id", "2.15"),
    ])
    .await;
    let (client, _harness) = generated_client(&server);
    let written = create_ledger_entry(&client, "hello").await.unwrap();
    assert_eq!(written.headers()["x-ms-ccf-transaction-id"], "2.15");
    assert_eq!(written.into_inner().collection_id, "subledger:0");
    assert_eq!(
        server.request_count(),
        2,
        "the pipeline followed the redirect inside the hook"
    );
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.has_header("authorization"))
    );
}

#[tokio::test]
async fn the_ledgers_error_answers_come_out_with_code_and_message() {
    let server = Server::scripted([Reply::ledger_error(
        403,
        "NotAllowed",
        "Could not find user.",
    )])
    .await;
    let (client, _harness) = generated_client(&server);
    let generated = create_ledger_entry(&client, "x").await.unwrap_err();
    assert!(
        matches!(generated, progenitor_client::Error::UnexpectedResponse(ref r) if r.status().as_u16() == 999),
        "the generated code saw the carrier, not the 403"
    );
    let err = Error::from(generated);
    assert!(
        matches!(err.kind(), ErrorKind::Forbidden { principal: Some(_) }),
        "{err}"
    );
    assert_eq!(err.error_code(), Some("NotAllowed"));
    assert_eq!(err.service_message(), Some("Could not find user."));
    assert_eq!(err.operation(), Some("create_ledger_entry"));
}

#[tokio::test]
async fn pipeline_failures_come_out_intact() {
    // An unknown outcome, with its cause chain.
    let server = Server::scripted([Reply::CloseConnection]).await;
    let (client, _harness) = generated_client(&server);
    let err = Error::from(create_ledger_entry(&client, "x").await.unwrap_err());
    assert_eq!(err.kind(), &ErrorKind::OutcomeUnknown);
    assert!(std::error::Error::source(&err).is_some());
    assert_eq!(server.request_count(), 1);

    // A refused redirect.
    let server =
        Server::scripted([Reply::status(307).header("location", "https://evil.test/")]).await;
    let (client, _harness) = generated_client(&server);
    let err = Error::from(create_ledger_entry(&client, "x").await.unwrap_err());
    assert_eq!(
        err.kind(),
        &ErrorKind::RedirectRefused {
            location: "https://evil.test/".into()
        }
    );
}

#[tokio::test]
async fn an_undecodable_success_body_is_a_decode_error_with_a_snippet() {
    let server = Server::scripted([Reply::json(200, "<html>proxy login</html>")]).await;
    let (client, _harness) = generated_client(&server);
    let err = Error::from(create_ledger_entry(&client, "x").await.unwrap_err());
    let ErrorKind::Decode { snippet } = err.kind() else {
        panic!("{err}");
    };
    assert_eq!(snippet, "<html>proxy login</html>");
    assert!(err.to_string().contains("expected value"), "{err}");
}
