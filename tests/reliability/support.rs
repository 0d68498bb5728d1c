//! Sandboxes, clients, a recording TLS listener, a log capture and a seeded random source.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use confidential_ledger::{
    CertificateCredential, ClientBuilder, ClientOptions, ConfidentialLedgerClient,
    StaticTokenCredential,
};
use confidential_ledger_sandbox::{Sandbox, SandboxOptions};
use faultproxy::{FaultProxy, ProxyConfig, TlsIdentity};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The longest a single step (not a whole load run) may take before it counts as a hang.
pub const STEP: Duration = Duration::from_secs(60);

/// Fails the test if `future` takes longer than [`STEP`].
pub async fn within<F: IntoFuture>(future: F) -> F::Output {
    within_for(STEP, future).await
}

/// Fails the test if `future` takes longer than `limit`.
pub async fn within_for<F: IntoFuture>(limit: Duration, future: F) -> F::Output {
    tokio::time::timeout(limit, future.into_future())
        .await
        .unwrap_or_else(|_| panic!("the step did not finish within {limit:?}"))
}

/// A sandbox with the test settings (a signature every 10 ms).
pub async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxOptions::for_tests())
        .await
        .expect("the sandbox starts")
}

/// Client options with quick retries (the schedule is not what these tests measure).
pub fn fast_options() -> ClientOptions {
    let mut options = ClientOptions::default();
    options.retry.initial_delay = Duration::from_millis(5);
    options.retry.max_delay = Duration::from_millis(50);
    options.request_timeout = Some(Duration::from_secs(20));
    options
}

/// A builder for a client of the ledger at `endpoint` (the sandbox's own, or a proxy's) that
/// fetches the service certificate from the sandbox's identity endpoint.
pub fn builder_at(sandbox: &Sandbox, endpoint: &str) -> ClientBuilder {
    ConfidentialLedgerClient::builder(endpoint)
        .identity_endpoint(sandbox.identity_endpoint())
        .identity_root_certificate_pem(sandbox.identity_ca_certificate_pem())
        .ledger_id(sandbox.ledger_id())
        .options(fast_options())
}

/// The sandbox administrator's client certificate.
pub fn admin_certificate(sandbox: &Sandbox) -> CertificateCredential {
    CertificateCredential::from_pem_parts(
        sandbox.admin_certificate_pem(),
        sandbox.admin_private_key_pem(),
    )
    .expect("the sandbox's admin certificate loads")
}

/// A client of the sandbox authenticated as its administrator (mutual TLS).
pub async fn admin(sandbox: &Sandbox) -> ConfidentialLedgerClient {
    within(
        builder_at(sandbox, &sandbox.ledger_endpoint())
            .certificate_credential(admin_certificate(sandbox))
            .build(),
    )
    .await
    .expect("the admin client builds")
}

/// Adds `oid` to the sandbox with `roles`, and returns a bearer token for it.
pub async fn token_for(sandbox: &Sandbox, oid: &str, roles: &[&str]) -> String {
    sandbox
        .add_user(oid, roles)
        .await
        .expect("the user is added");
    sandbox.mint_token(oid)
}

/// A client of the sandbox with a bearer token for `oid`, a user with `roles`.
pub async fn token_user(sandbox: &Sandbox, oid: &str, roles: &[&str]) -> ConfidentialLedgerClient {
    let token = token_for(sandbox, oid, roles).await;
    within(
        builder_at(sandbox, &sandbox.ledger_endpoint())
            .credential(StaticTokenCredential::new(token))
            .build(),
    )
    .await
    .expect("the token client builds")
}

/// A fault proxy in front of the sandbox that injects nothing: it counts what the client sends.
pub async fn counting_proxy(sandbox: &Sandbox) -> FaultProxy {
    let node = sandbox.node_tls_identity();
    FaultProxy::start(ProxyConfig::new(
        sandbox.ledger_endpoint(),
        TlsIdentity::new(node.certificate_chain_pem, node.private_key_pem),
        sandbox.service_certificate_pem(),
    ))
    .await
    .expect("the proxy starts")
}

/// A TLS listener on 127.0.0.1 that presents a given certificate chain and records, per
/// connection, whether the handshake completed and every byte the client sent after it. It
/// never answers: a connection ends when the client closes it or after a short idle time.
///
/// It stands for a man in the middle (or any server a credential must not reach): a client
/// that refuses it must leave `handshakes() == 0` and `received()` empty.
pub struct TlsRecorder {
    addr: SocketAddr,
    state: Arc<RecorderState>,
    task: JoinHandle<()>,
}

#[derive(Default)]
struct RecorderState {
    connections: AtomicUsize,
    handshakes: AtomicUsize,
    received: Mutex<Vec<u8>>,
}

/// Which TLS versions a [`TlsRecorder`] speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsVersions {
    /// TLS 1.2 and 1.3 (1.3 is chosen).
    Default,
    /// TLS 1.2 only, where a client certificate would be sent before the server's `Finished`.
    Tls12Only,
}

impl TlsRecorder {
    /// Starts a recorder presenting `chain_pem` (leaf first) with `key_pem`.
    pub async fn start(chain_pem: &str, key_pem: &str, versions: TlsVersions) -> TlsRecorder {
        let chain = CertificateDer::pem_slice_iter(chain_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .expect("the recorder's chain");
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).expect("the recorder's key");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider);
        let builder = match versions {
            TlsVersions::Default => builder.with_safe_default_protocol_versions(),
            TlsVersions::Tls12Only => builder.with_protocol_versions(&[&rustls::version::TLS12]),
        }
        .expect("protocol versions");
        // Ask for a client certificate (without checking it), so a client that would send
        // one has the chance to.
        let verifier = Arc::new(AnyClientCertificate);
        let mut config = builder
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .expect("the recorder's certificate and key");
        // HTTP/1.1 only, so that what a client sends is readable as it is (no HPACK).
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let addr = listener.local_addr().expect("the listener's address");
        let state = Arc::new(RecorderState::default());
        let accept_state = Arc::clone(&state);
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                accept_state.connections.fetch_add(1, Ordering::SeqCst);
                let state = Arc::clone(&accept_state);
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let accepted =
                        tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await;
                    let Ok(Ok(mut stream)) = accepted else {
                        return;
                    };
                    state.handshakes.fetch_add(1, Ordering::SeqCst);
                    let mut buf = [0u8; 4096];
                    loop {
                        let read =
                            tokio::time::timeout(Duration::from_millis(300), stream.read(&mut buf))
                                .await;
                        match read {
                            Ok(Ok(n)) if n > 0 => state
                                .received
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .extend_from_slice(&buf[..n]),
                            _ => return,
                        }
                    }
                });
            }
        });
        TlsRecorder { addr, state, task }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// TCP connections accepted.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// TLS handshakes completed.
    pub fn handshakes(&self) -> usize {
        self.state.handshakes.load(Ordering::SeqCst)
    }

    /// Every application byte received, over all connections.
    pub fn received(&self) -> Vec<u8> {
        self.state
            .received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for TlsRecorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Requests a client certificate and accepts any, so the recorder sees one if it is sent.
#[derive(Debug)]
struct AnyClientCertificate;

impl rustls::server::danger::ClientCertVerifier for AnyClientCertificate {
    fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
        &[]
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::server::danger::ClientCertVerified, rustls::Error> {
        Ok(rustls::server::danger::ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A small seeded random source (SplitMix64), so that every run of a test makes the same
/// choices.
#[derive(Debug, Clone)]
pub struct Seeded(u64);

impl Seeded {
    /// A source starting from `seed`.
    pub fn new(seed: u64) -> Seeded {
        Seeded(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `low..high`.
    pub fn range(&mut self, low: u64, high: u64) -> u64 {
        low + self.next_u64() % (high - low).max(1)
    }
}
