//! Test support: an HTTPS client pinned to a sandbox's service certificate, and an
//! independent receipt verifier written for the tests.
#![allow(dead_code)]

pub mod verify;

use std::sync::Arc;
use std::time::Duration;

use confidential_ledger_sandbox::Sandbox;
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub const API: &str = "2026-02-23";

/// A rustls client configuration trusting only `service_pem`, optionally presenting a client
/// certificate.
pub fn client_config(service_pem: &str, identity: Option<(&str, &str)>) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(service_pem.as_bytes()) {
        roots
            .add(cert.expect("service certificate PEM"))
            .expect("service certificate");
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots);
    let mut config = match identity {
        Some((cert, key)) => {
            use rustls::pki_types::pem::PemObject;
            let certs = rustls::pki_types::CertificateDer::pem_slice_iter(cert.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .expect("client certificate");
            let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(key.as_bytes())
                .expect("client key");
            builder
                .with_client_auth_cert(certs, key)
                .expect("client auth")
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config
}

/// A client for the identity endpoint (HTTPS, certificate from the sandbox's local CA).
pub fn plain_http(s: &Sandbox) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_backend_preconfigured(client_config(s.identity_ca_certificate_pem(), None))
        .build()
        .expect("client")
}

/// A response: status, the transaction id header, the JSON body (Null when empty).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub txid: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

/// A client for one sandbox and one identity.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub api: String,
    pub token: Option<String>,
}

impl Client {
    pub fn new(endpoint: &str, service_pem: &str, identity: Option<(&str, &str)>) -> Client {
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(client_config(service_pem, identity))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        Client {
            http,
            base: endpoint.to_string(),
            api: API.to_string(),
            token: None,
        }
    }

    /// The administrator (client certificate).
    pub fn admin(s: &Sandbox) -> Client {
        let (cert, key) = (s.admin_certificate_pem(), s.admin_private_key_pem());
        Client::new(
            &s.ledger_endpoint(),
            &s.service_certificate_pem(),
            Some((&cert, &key)),
        )
    }

    /// No credentials.
    pub fn anonymous(s: &Sandbox) -> Client {
        Client::new(&s.ledger_endpoint(), &s.service_certificate_pem(), None)
    }

    /// A bearer token.
    pub fn bearer(s: &Sandbox, token: String) -> Client {
        let mut c = Client::anonymous(s);
        c.token = Some(token);
        c
    }

    pub fn with_api(mut self, api: &str) -> Client {
        self.api = api.to_string();
        self
    }

    /// `path_and_query` without api-version; it is appended.
    pub fn url(&self, path_and_query: &str) -> String {
        let sep = if path_and_query.contains('?') {
            '&'
        } else {
            '?'
        };
        format!(
            "{}{}{}api-version={}",
            self.base, path_and_query, sep, self.api
        )
    }

    pub async fn send_raw(
        &self,
        method: Method,
        url: String,
        body: Option<(&str, String)>,
    ) -> Reply {
        let mut req = self.http.request(method, url);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some((content_type, b)) = body {
            req = req.header("content-type", content_type).body(b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let headers = resp.headers().clone();
        let txid = headers
            .get("x-ms-ccf-transaction-id")
            .map(|v| v.to_str().unwrap().to_string());
        let bytes = resp.bytes().await.expect("body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Reply {
            status,
            txid,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send_raw(Method::GET, self.url(path), None).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send_raw(Method::DELETE, self.url(path), None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send_raw(
            Method::POST,
            self.url(path),
            Some(("application/json", body.to_string())),
        )
        .await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.send_raw(
            Method::PUT,
            self.url(path),
            Some(("application/json", body.to_string())),
        )
        .await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.send_raw(
            Method::PATCH,
            self.url(path),
            Some(("application/merge-patch+json", body.to_string())),
        )
        .await
    }

    /// Writes an entry; returns its transaction id.
    pub async fn write(&self, contents: &str) -> String {
        let r = self
            .post(
                "/app/transactions",
                serde_json::json!({ "contents": contents }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        r.txid.expect("transaction id header")
    }

    /// Polls the status until Committed.
    pub async fn wait_committed(&self, id: &str) {
        for _ in 0..500 {
            let r = self.get(&format!("/app/transactions/{id}/status")).await;
            assert_eq!(r.status, StatusCode::OK, "{r:?}");
            if r.body["state"] == "Committed" {
                return;
            }
            assert_eq!(r.body["state"], "Pending");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{id} did not commit");
    }

    /// Follows Loading answers of a historical GET until Ready; returns the Ready reply and
    /// how many Loading answers came first.
    pub async fn get_ready(&self, path: &str) -> (Reply, u32) {
        let mut loading = 0;
        loop {
            let r = self.get(path).await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {r:?}");
            match r.body["state"].as_str() {
                Some("Loading") => loading += 1,
                Some("Ready") => return (r, loading),
                other => panic!("unexpected state {other:?}: {r:?}"),
            }
            assert!(loading < 50, "{path} keeps loading");
        }
    }

    /// The Ready receipt of a committed transaction.
    pub async fn receipt(&self, id: &str) -> Value {
        self.get_ready(&format!("/app/transactions/{id}/receipt"))
            .await
            .0
            .body
    }
}

/// Every entry of a collection as `(transaction id, contents)`, following pages and Loading
/// answers.
pub async fn all_entries(c: &Client, collection: &str) -> Vec<(String, String)> {
    let mut url = format!(
        "{}/app/transactions?api-version={}&collectionId={collection}",
        c.base, c.api
    );
    let mut out = Vec::new();
    for _ in 0..10_000 {
        let r = c.send_raw(Method::GET, url.clone(), None).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        for e in r.body["entries"].as_array().expect("entries") {
            out.push((
                e["transactionId"].as_str().expect("id").to_string(),
                e["contents"].as_str().expect("contents").to_string(),
            ));
        }
        match r.body.get("nextLink").and_then(Value::as_str) {
            Some(next) => url = format!("{}{next}", c.base),
            None => return out,
        }
    }
    panic!("too many pages");
}

/// Writes answered, and found after a restart, by answer: the table the durability tests
/// print.
#[derive(Debug, Default)]
pub struct Tally {
    /// answer -> (writes answered so, of which present after the restart)
    rows: std::collections::BTreeMap<String, (u64, u64)>,
}

impl Tally {
    pub fn count(&mut self, answer: &str, present: bool) {
        let row = self.rows.entry(answer.to_string()).or_default();
        row.0 += 1;
        row.1 += u64::from(present);
    }

    pub fn answered(&self, answer: &str) -> u64 {
        self.rows.get(answer).map_or(0, |r| r.0)
    }

    pub fn present(&self, answer: &str) -> u64 {
        self.rows.get(answer).map_or(0, |r| r.1)
    }

    /// A Markdown table.
    pub fn table(&self, title: &str) -> String {
        let mut out = format!(
            "{title}\n| answer | writes answered | present after restart |\n|---|---:|---:|\n"
        );
        for (answer, (answered, present)) in &self.rows {
            out.push_str(&format!("| {answer} | {answered} | {present} |\n"));
        }
        out
    }
}
