//! Test support: a sandbox with a writer, an HTTPS client pinned to its service certificate
//! (the SDK's TLS configuration), and direct reads of what the sandbox holds.
#![allow(dead_code)]

use std::error::Error as _;
use std::time::Duration;

use confidential_ledger::tls::{PinnedCertificate, client_config};
use confidential_ledger_sandbox::{Sandbox, SandboxOptions};
use faultproxy::{FaultPlan, ProxyConfig, TlsIdentity};
use reqwest::StatusCode;
use serde_json::Value;

pub const API: &str = "2026-02-23";
const WRITER: &str = "fault-test-writer";

/// A sandbox and a bearer token of a Contributor.
pub struct Ledger {
    pub sandbox: Sandbox,
    pub token: String,
    /// A client straight to the sandbox, for checking what it holds.
    pub direct: Client,
}

impl Ledger {
    pub async fn start() -> Ledger {
        Ledger::start_with(SandboxOptions::for_tests()).await
    }

    pub async fn start_with(options: SandboxOptions) -> Ledger {
        let sandbox = Sandbox::start(options).await.expect("sandbox starts");
        sandbox
            .add_user(WRITER, &["Contributor"])
            .await
            .expect("writer added");
        let token = sandbox.mint_token(WRITER);
        let direct = Client::new(&sandbox, &sandbox.ledger_endpoint(), &token);
        Ledger {
            sandbox,
            token,
            direct,
        }
    }

    /// A proxy configuration in front of this sandbox with its node identity.
    pub fn proxy_config(&self, plan: FaultPlan) -> ProxyConfig {
        let node = self.sandbox.node_tls_identity();
        ProxyConfig::new(
            self.sandbox.ledger_endpoint(),
            TlsIdentity::new(node.certificate_chain_pem, node.private_key_pem),
            self.sandbox.service_certificate_pem(),
        )
        .plan(plan)
    }

    /// The contents of every entry of `collection`, in ledger order, once every write the
    /// sandbox has made durable so far is committed (listings show committed entries only).
    pub async fn contents(&self, collection: &str) -> Vec<String> {
        let marker = self
            .sandbox
            .append_entry("fault-test-marker", "commit marker")
            .await
            .expect("marker appended");
        self.direct.wait_committed(&marker.to_string()).await;
        self.direct.list(collection).await
    }

    /// A client for `endpoint` (the proxy's) with this ledger's pin and token.
    pub fn client(&self, endpoint: &str) -> Client {
        Client::new(&self.sandbox, endpoint, &self.token)
    }
}

/// A reqwest client pinned to a sandbox's service certificate with the SDK's TLS
/// configuration; no retries, no redirects.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Client {
    pub fn new(sandbox: &Sandbox, endpoint: &str, token: &str) -> Client {
        let pinned = PinnedCertificate::from_pem(sandbox.service_certificate_pem())
            .expect("service certificate");
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(client_config(&pinned, None).expect("TLS configuration"))
            .retry(reqwest::retry::never())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client");
        Client {
            http,
            base: endpoint.to_string(),
            token: token.to_string(),
        }
    }

    /// `POST /app/transactions` to `collection`.
    pub async fn write(
        &self,
        collection: &str,
        contents: &str,
    ) -> Result<reqwest::Response, reqwest::Error> {
        self.http
            .post(format!(
                "{}/app/transactions?api-version={API}&collectionId={collection}",
                self.base
            ))
            .bearer_auth(&self.token)
            .json(&serde_json::json!({ "contents": contents }))
            .send()
            .await
    }

    /// `GET` a path (with the api version appended).
    pub async fn get(&self, path_and_query: &str) -> Result<reqwest::Response, reqwest::Error> {
        let sep = if path_and_query.contains('?') {
            '&'
        } else {
            '?'
        };
        self.http
            .get(format!(
                "{}{path_and_query}{sep}api-version={API}",
                self.base
            ))
            .bearer_auth(&self.token)
            .send()
            .await
    }

    /// Polls the status of `transaction_id` until it is committed (commits happen every
    /// 10 ms in a test sandbox; gives up after 10 s).
    pub async fn wait_committed(&self, transaction_id: &str) {
        for _ in 0..1000 {
            let status: Value = self
                .get(&format!("/app/transactions/{transaction_id}/status"))
                .await
                .expect("status request")
                .json()
                .await
                .expect("status JSON");
            if status["state"] == "Committed" {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{transaction_id} was not committed within 10 s");
    }

    /// The contents of every committed entry of `collection`, in ledger order (follows
    /// `nextLink`, waits out `Loading` pages).
    pub async fn list(&self, collection: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut next = format!(
            "{}/app/transactions?api-version={API}&collectionId={collection}",
            self.base
        );
        for _ in 0..1000 {
            let response = self
                .http
                .get(&next)
                .bearer_auth(&self.token)
                .send()
                .await
                .expect("list request");
            assert_eq!(response.status(), StatusCode::OK, "listing {collection}");
            let page: Value = response.json().await.expect("page JSON");
            for entry in page["entries"].as_array().into_iter().flatten() {
                out.push(entry["contents"].as_str().expect("contents").to_string());
            }
            match page["nextLink"].as_str() {
                Some(link) => next = format!("{}{link}", self.base),
                None => return out,
            }
        }
        panic!("listing {collection} did not end");
    }
}

/// True when the error was caused by a TCP reset (not an orderly close, not a timeout).
pub fn is_reset(error: &reqwest::Error) -> bool {
    let mut source = error.source();
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionReset
        {
            return true;
        }
        source = e.source();
    }
    false
}

/// The transaction id header of a write's answer.
pub fn transaction_id(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("x-ms-ccf-transaction-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// One HTTP/1.1 connection over TLS (the SDK's pinned configuration, offering h2 and
/// http/1.1), for tests about connections: every request goes over this one connection.
pub struct RawConnection {
    sender: hyper::client::conn::http1::SendRequest<http_body_util::Full<hyper::body::Bytes>>,
    /// The protocol the server chose by ALPN.
    pub alpn: Option<Vec<u8>>,
    token: String,
}

/// An answer read whole.
#[derive(Debug)]
pub struct RawAnswer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl RawConnection {
    pub async fn open(sandbox: &Sandbox, port: u16, token: &str) -> RawConnection {
        use rustls::pki_types::ServerName;
        let pinned = PinnedCertificate::from_pem(sandbox.service_certificate_pem())
            .expect("service certificate");
        let config = client_config(&pinned, None).expect("TLS configuration");
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        let tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
            .connect(ServerName::try_from("localhost").expect("name"), tcp)
            .await
            .expect("TLS handshake");
        let alpn = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
        let (sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
                .await
                .expect("HTTP/1.1 handshake");
        tokio::spawn(connection);
        RawConnection {
            sender,
            alpn,
            token: token.to_string(),
        }
    }

    /// Sends a request with the bearer token and reads the whole answer.
    pub async fn send(
        &mut self,
        method: &str,
        path_and_query: &str,
        body: &str,
    ) -> Result<RawAnswer, hyper::Error> {
        use http_body_util::BodyExt;
        let sep = if path_and_query.contains('?') {
            '&'
        } else {
            '?'
        };
        let request = http::Request::builder()
            .method(method)
            .uri(format!("{path_and_query}{sep}api-version={API}"))
            .header("host", "localhost")
            .header("authorization", format!("Bearer {}", self.token))
            .header("content-type", "application/json")
            .body(http_body_util::Full::new(hyper::body::Bytes::from(
                body.to_string(),
            )))
            .expect("request");
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes().to_vec();
        Ok(RawAnswer {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        })
    }

    /// `POST /app/transactions` to `collection`.
    pub async fn write(
        &mut self,
        collection: &str,
        contents: &str,
    ) -> Result<RawAnswer, hyper::Error> {
        let body = serde_json::json!({ "contents": contents }).to_string();
        self.send(
            "POST",
            &format!("/app/transactions?collectionId={collection}"),
            &body,
        )
        .await
    }
}
