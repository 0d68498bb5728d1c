//! A TLS server on 127.0.0.1 speaking HTTP/1.1 and HTTP/2, answering every request with what
//! it saw of the connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;

/// What the server saw of one TLS handshake.
#[derive(Debug)]
pub struct Handshake {
    /// SHA-256 fingerprint of the client certificate, if one was presented.
    pub client_fingerprint: Option<String>,
    /// The ALPN protocol agreed.
    pub alpn: Option<Vec<u8>>,
}

pub struct Server {
    pub addr: SocketAddr,
    handshakes: mpsc::UnboundedReceiver<Result<Handshake, String>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Default)]
pub struct Options {
    /// Require a client certificate issued by this CA.
    pub client_ca: Option<CertificateDer<'static>>,
    /// ALPN protocols offered; `h2` and `http/1.1` when empty.
    pub alpn: Vec<&'static [u8]>,
}

/// Bounds every wait, so a broken test fails instead of hanging.
pub async fn within<F: std::future::Future>(future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(20), future)
        .await
        .expect("timed out")
}

impl Server {
    /// Serves `chain` with `key` on a free port of 127.0.0.1.
    pub async fn start(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        options: Options,
    ) -> Server {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .unwrap();
        let builder = match options.client_ca {
            Some(ca) => {
                let mut roots = RootCertStore::empty();
                roots.add(ca).unwrap();
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                        .build()
                        .unwrap();
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let mut config = builder.with_single_cert(chain, key).unwrap();
        config.alpn_protocols = if options.alpn.is_empty() {
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        } else {
            options.alpn.iter().map(|p| p.to_vec()).collect()
        };
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (sender, handshakes) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let sender = sender.clone();
                tokio::spawn(async move {
                    let tls = match acceptor.accept(tcp).await {
                        Ok(tls) => tls,
                        Err(e) => {
                            let _ = sender.send(Err(e.to_string()));
                            return;
                        }
                    };
                    let connection = tls.get_ref().1;
                    let handshake = Handshake {
                        client_fingerprint: connection
                            .peer_certificates()
                            .and_then(|c| c.first())
                            .and_then(|c| confidential_ledger::certificate_fingerprint(c).ok()),
                        alpn: connection.alpn_protocol().map(<[u8]>::to_vec),
                    };
                    let client = handshake
                        .client_fingerprint
                        .clone()
                        .unwrap_or_else(|| "none".to_owned());
                    let _ = sender.send(Ok(handshake));
                    let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                        let body = format!("{:?} client={client}", request.version());
                        async move {
                            Ok::<_, std::convert::Infallible>(Response::new(Full::new(
                                Bytes::from(body),
                            )))
                        }
                    });
                    // A client that gives up mid-connection is not this server's concern.
                    let _ = auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        Server {
            addr,
            handshakes,
            task,
        }
    }

    /// Serves a leaf certificate alone, as a ledger node does.
    pub async fn node(leaf: &crate::pki::Leaf) -> Server {
        Self::start(vec![leaf.cert.clone()], leaf.key_der(), Options::default()).await
    }

    /// The next handshake the server finished (or the error it failed with).
    pub async fn next_handshake(&mut self) -> Result<Handshake, String> {
        within(self.handshakes.recv())
            .await
            .expect("server stopped")
    }
}
