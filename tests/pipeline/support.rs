//! Shared pieces: an HTTP client resolving test host names to 127.0.0.1, a timer that records
//! instead of sleeping, a jitter that always picks the cap, a counting credential.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use confidential_ledger::credential::async_trait;
use confidential_ledger::pipeline::{Jitter, OperationContext, Pipeline, PipelineOptions, Timer};
use confidential_ledger::{AccessToken, CredentialError, TokenCredential};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use reqwest::Method;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A JWT-shaped token whose `oid` claim is [`TOKEN_OID`]. Logs and errors must never show it.
pub const TOKEN: &str = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwczovL2NvbmZpZGVudGlhbC1sZWRnZXIuYXp1cmUuY29tIiwib2lkIjoiMmQzZTZmOWEtMWIyYy00ZDVlLThmOTAtYTFiMmMzZDRlNWY2In0.c2lnbmF0dXJlLXRoYXQtbXVzdC1zdGF5LXNlY3JldA";

/// The object id inside [`TOKEN`].
pub const TOKEN_OID: &str = "2d3e6f9a-1b2c-4d5e-8f90-a1b2c3d4e5f6";

/// Host names the test client resolves to 127.0.0.1.
pub const LEDGER: &str = "ledger.test";
pub const PRIMARY: &str = "primary.ledger.test";
pub const EVIL: &str = "evil.test";
pub const LOOKALIKE: &str = "ledger.test.evil.test";

/// Bounds every wait, so a broken test fails instead of hanging.
pub async fn within<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(20), future)
        .await
        .expect("timed out")
}

/// A rustls configuration for plain-HTTP tests (reqwest needs one; it trusts nothing).
pub fn unused_tls() -> rustls::ClientConfig {
    rustls::ClientConfig::builder_with_provider(confidential_ledger::tls::crypto_provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth()
}

/// A client builder resolving the test host names to 127.0.0.1, with `tls`.
pub fn http_with(tls: rustls::ClientConfig) -> reqwest::ClientBuilder {
    let loopback: SocketAddr = "127.0.0.1:0".parse().unwrap();
    [LEDGER, PRIMARY, EVIL, LOOKALIKE].into_iter().fold(
        reqwest::Client::builder().use_preconfigured_tls(tls),
        |b, host| b.resolve(host, loopback),
    )
}

/// A client builder for plain HTTP.
pub fn http() -> reqwest::ClientBuilder {
    http_with(unused_tls())
}

/// Records waits instead of sleeping; the clock stands still at [`RecordingTimer::NOW`].
#[derive(Debug, Default)]
pub struct RecordingTimer(Mutex<Vec<Duration>>);

impl RecordingTimer {
    /// 2024-01-01 00:00:00 UTC.
    pub const NOW: Duration = Duration::from_secs(1_704_067_200);

    pub fn sleeps(&self) -> Vec<Duration> {
        self.0.lock().unwrap().clone()
    }
}

impl Timer for RecordingTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        self.0.lock().unwrap().push(duration);
        Box::pin(std::future::ready(()))
    }

    fn now(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Self::NOW
    }
}

/// Always waits the whole backoff cap, making schedules exact.
#[derive(Debug)]
pub struct WholeCap;

impl Jitter for WholeCap {
    fn pick(&self, cap: Duration) -> Duration {
        cap
    }
}

/// Hands out [`TOKEN`] and counts how often it was asked.
#[derive(Debug, Default)]
pub struct CountingCredential(AtomicUsize);

impl CountingCredential {
    pub fn calls(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl TokenCredential for CountingCredential {
    async fn get_token(&self, _scopes: &[&str]) -> Result<AccessToken, CredentialError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(AccessToken::new(
            TOKEN,
            SystemTime::now() + Duration::from_secs(3600),
        ))
    }
}

/// Options with a short, exact schedule: 100 ms doubling to 1 s, `retries` retries.
pub fn options(retries: u32) -> PipelineOptions {
    let mut options = PipelineOptions::default();
    options.retry.max_retries = retries;
    options.retry.initial_delay = Duration::from_millis(100);
    options.retry.max_delay = Duration::from_secs(1);
    options
}

/// A pipeline with its recording timer and counting credential.
pub struct Harness {
    pub pipeline: Pipeline,
    pub timer: Arc<RecordingTimer>,
    pub credential: Arc<CountingCredential>,
}

impl Harness {
    /// Bearer auth, [`WholeCap`] jitter, plain HTTP.
    pub fn new(endpoint: &str, options: PipelineOptions) -> Harness {
        Self::with_http(endpoint, options, http())
    }

    pub fn with_http(
        endpoint: &str,
        options: PipelineOptions,
        http: reqwest::ClientBuilder,
    ) -> Harness {
        let timer = Arc::new(RecordingTimer::default());
        let credential = Arc::new(CountingCredential::default());
        let pipeline = Pipeline::builder(endpoint.parse().unwrap(), http)
            .options(options)
            .credential(credential.clone())
            .timer(timer.clone())
            .jitter(Arc::new(WholeCap))
            .build()
            .unwrap();
        Harness {
            pipeline,
            timer,
            credential,
        }
    }

    pub async fn get(&self, url: &str) -> Result<reqwest::Response, confidential_ledger::Error> {
        within(
            self.pipeline
                .send(get(url), &OperationContext::new("get_ledger_entry")),
        )
        .await
    }

    pub async fn post(
        &self,
        url: &str,
        body: &str,
    ) -> Result<reqwest::Response, confidential_ledger::Error> {
        let request = post(url, body);
        let op = confidential_ledger::raw::operation_context("create_ledger_entry", &request);
        within(self.pipeline.send(request, &op)).await
    }
}

pub fn get(url: &str) -> reqwest::Request {
    reqwest::Request::new(Method::GET, url.parse().unwrap())
}

/// A JSON request with `method`, built the way the generated client builds them.
pub fn json(method: Method, url: &str, body: &str) -> reqwest::Request {
    let mut request = reqwest::Request::new(method, url.parse().unwrap());
    request.headers_mut().insert(
        reqwest::header::CONTENT_TYPE,
        reqwest::header::HeaderValue::from_static("application/json"),
    );
    *request.body_mut() = Some(reqwest::Body::from(body.to_owned()));
    request
}

pub fn post(url: &str, body: &str) -> reqwest::Request {
    json(Method::POST, url, body)
}

/// A port on 127.0.0.1 where nothing listens (bound, then released).
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A service certificate and a node certificate for `ledger.test` issued by it.
pub fn ledger_pki() -> (
    CertificateDer<'static>,
    CertificateDer<'static>,
    PrivateKeyDer<'static>,
) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::default();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "CCF Service");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let node_key = KeyPair::generate().unwrap();
    let node = CertificateParams::new(vec![LEDGER.to_owned()]).unwrap();
    let node_cert = node
        .signed_by(&node_key, &Issuer::from_params(&ca, &ca_key))
        .unwrap();
    (
        ca_cert.der().clone(),
        node_cert.der().clone(),
        PrivatePkcs8KeyDer::from(node_key.serialize_der()).into(),
    )
}

pub fn server_config(
    node: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
) -> Arc<rustls::ServerConfig> {
    let mut config =
        rustls::ServerConfig::builder_with_provider(confidential_ledger::tls::crypto_provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![node], key)
            .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
}
