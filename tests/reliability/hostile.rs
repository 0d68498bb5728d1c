//! A hostile ledger: a TLS server on 127.0.0.1 that a client pins (its own throwaway service
//! certificate) and that answers each request as a script says: a huge body streamed without
//! being allocated, a body cut after the headers, no answer at all.
//!
//! It speaks HTTP/1.1 by hand, so that it can misbehave at the byte level, and counts the body
//! bytes it managed to write for each answer: a client that stops reading early makes the
//! server's writes fail, which the count shows.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use confidential_ledger::{ClientBuilder, ClientOptions, ConfidentialLedgerClient};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    PKCS_ECDSA_P256_SHA256,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One request as the hostile server read it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The body of an answer.
#[derive(Debug, Clone)]
pub enum Body {
    /// These bytes, with a `Content-Length`.
    Bytes(Vec<u8>),
    /// `total` bytes of `x` streamed (chunked unless `declared` is set, in which case a
    /// `Content-Length` of `declared` is sent), produced as they are written.
    Stream { total: u64, declared: Option<u64> },
    /// A `Content-Length` of `declared`, then `sent` bytes of `x`, then the connection closes.
    Cut { declared: u64, sent: u64 },
}

/// How one request is answered.
#[derive(Debug, Clone)]
pub enum Answer {
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Body,
    },
    /// Read the request and never answer.
    Hang,
}

impl Answer {
    pub fn json(status: u16, body: &str) -> Answer {
        Answer::Respond {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: Body::Bytes(body.as_bytes().to_vec()),
        }
    }

    pub fn with_body(status: u16, body: Body) -> Answer {
        Answer::Respond {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body,
        }
    }

    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Answer {
        if let Answer::Respond { headers, .. } = &mut self {
            headers.push((name.to_owned(), value.to_owned()));
        }
        self
    }
}

type Script = Box<dyn Fn(&Seen, usize) -> Answer + Send + Sync>;

/// The hostile server; torn down when dropped.
pub struct Hostile {
    port: u16,
    ca_pem: String,
    state: Arc<State>,
    task: JoinHandle<()>,
}

#[derive(Default)]
struct State {
    requests: Mutex<Vec<Seen>>,
    /// Body bytes written, over all answers.
    body_bytes: AtomicU64,
    /// Answers whose writing has ended (finished, or failed because the client left).
    answers_done: AtomicUsize,
}

fn dn(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn
}

impl Hostile {
    /// Starts a TLS server answering request number `n` (from 0) with `script(request, n)`.
    pub async fn start(script: impl Fn(&Seen, usize) -> Answer + Send + Sync + 'static) -> Hostile {
        Self::start_with(true, script).await
    }

    /// The same over plain HTTP (for an identity service on loopback).
    pub async fn start_plain(
        script: impl Fn(&Seen, usize) -> Answer + Send + Sync + 'static,
    ) -> Hostile {
        Self::start_with(false, script).await
    }

    async fn start_with(
        tls: bool,
        script: impl Fn(&Seen, usize) -> Answer + Send + Sync + 'static,
    ) -> Hostile {
        let mut ca = CertificateParams::default();
        ca.distinguished_name = dn("CCF Service");
        ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(1));
        let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("a CA key");
        let ca_cert = ca.self_signed(&ca_key).expect("a CA certificate");
        let ca_pem = ca_cert.pem();
        let issuer = Issuer::new(ca, &ca_key);
        let mut node = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .expect("node parameters");
        node.distinguished_name = dn("CCF Node");
        let node_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("a node key");
        let node_cert = node
            .signed_by(&node_key, &issuer)
            .expect("a node certificate");
        let chain = vec![
            CertificateDer::from_pem_slice(node_cert.pem().as_bytes()).expect("node DER"),
            CertificateDer::from_pem_slice(ca_pem.as_bytes()).expect("CA DER"),
        ];
        let key = PrivateKeyDer::from_pem_slice(node_key.serialize_pem().as_bytes())
            .expect("node key DER");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("the server's certificate");
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let port = listener.local_addr().expect("an address").port();
        let state = Arc::new(State::default());
        let script: Arc<Script> = Arc::new(Box::new(script));
        let accept_state = Arc::clone(&state);
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                let state = Arc::clone(&accept_state);
                let script = Arc::clone(&script);
                connections.spawn(async move {
                    if !tls {
                        serve(tcp, &state, &script).await;
                    } else if let Ok(stream) = acceptor.accept(tcp).await {
                        serve(stream, &state, &script).await;
                    }
                });
            }
        });
        Hostile {
            port,
            ca_pem,
            state,
            task,
        }
    }

    /// The ledger endpoint to give a client.
    pub fn endpoint(&self) -> String {
        format!("https://localhost:{}", self.port)
    }

    /// The endpoint of a plain server ([`start_plain`](Self::start_plain)).
    pub fn plain_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The service certificate (PEM) the server's chain is issued by.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// A client builder for this server: its certificate pinned, ledger id `hostile`, a static
    /// token, quick retries.
    pub fn builder(&self, options: ClientOptions) -> ClientBuilder {
        ConfidentialLedgerClient::builder(self.endpoint())
            .ledger_id("hostile")
            .service_certificate_pem(&self.ca_pem)
            .options(options)
    }

    /// A client with a static token and `options`.
    pub async fn client(&self, options: ClientOptions) -> ConfidentialLedgerClient {
        self.builder(options)
            .credential(confidential_ledger::StaticTokenCredential::new("token"))
            .build()
            .await
            .expect("a client of the hostile server")
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.state
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Body bytes written so far, over all answers.
    pub fn body_bytes(&self) -> u64 {
        self.state.body_bytes.load(Ordering::SeqCst)
    }

    /// Waits (at most 20 s) until `n` answers have ended, then returns the body bytes written.
    pub async fn body_bytes_after(&self, n: usize) -> u64 {
        let waited = tokio::time::timeout(Duration::from_secs(20), async {
            while self.state.answers_done.load(Ordering::SeqCst) < n {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        assert!(waited.is_ok(), "the server's answers did not end");
        self.body_bytes()
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves requests on one connection until it closes or an answer ends it.
async fn serve<S>(mut stream: S, state: &State, script: &Script)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut buffer = Vec::new();
    loop {
        let Some(seen) = read_request(&mut stream, &mut buffer).await else {
            return;
        };
        let index = {
            let mut requests = state.requests.lock().unwrap_or_else(|e| e.into_inner());
            requests.push(seen.clone());
            requests.len() - 1
        };
        let answer = script(&seen, index);
        let keep_open = write_answer(&mut stream, state, answer).await;
        state.answers_done.fetch_add(1, Ordering::SeqCst);
        if !keep_open {
            let _ = stream.shutdown().await;
            return;
        }
    }
}

/// Reads one request (head and `Content-Length` body); `None` when the connection ends.
async fn read_request<S: tokio::io::AsyncRead + Unpin>(
    stream: &mut S,
    buffer: &mut Vec<u8>,
) -> Option<Seen> {
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(pos) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let path = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let total = head_end + 4 + length;
    while buffer.len() < total {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    buffer.drain(..total);
    Some(Seen {
        method,
        path,
        headers,
    })
}

/// Writes `answer`; true when the connection can serve another request.
async fn write_answer<S: tokio::io::AsyncWrite + Unpin>(
    stream: &mut S,
    state: &State,
    answer: Answer,
) -> bool {
    let (status, headers, body) = match answer {
        Answer::Hang => {
            std::future::pending::<()>().await;
            return false;
        }
        Answer::Respond {
            status,
            headers,
            body,
        } => (status, headers, body),
    };
    let mut head = format!("HTTP/1.1 {status} Hostile\r\n");
    for (name, value) in &headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    match &body {
        Body::Bytes(bytes) => head.push_str(&format!("content-length: {}\r\n", bytes.len())),
        Body::Stream {
            declared: Some(length),
            ..
        }
        | Body::Cut {
            declared: length, ..
        } => head.push_str(&format!("content-length: {length}\r\n")),
        Body::Stream { declared: None, .. } => head.push_str("transfer-encoding: chunked\r\n"),
    }
    head.push_str("\r\n");
    if stream.write_all(head.as_bytes()).await.is_err() {
        return false;
    }
    match body {
        Body::Bytes(bytes) => {
            let ok = stream.write_all(&bytes).await.is_ok() && stream.flush().await.is_ok();
            if ok {
                state
                    .body_bytes
                    .fetch_add(bytes.len() as u64, Ordering::SeqCst);
            }
            ok
        }
        Body::Stream { total, declared } => {
            let chunk = vec![b'x'; 64 * 1024];
            let mut left = total;
            while left > 0 {
                let n = left.min(chunk.len() as u64) as usize;
                let written = if declared.is_some() {
                    stream.write_all(&chunk[..n]).await
                } else {
                    let mut framed = format!("{n:x}\r\n").into_bytes();
                    framed.extend_from_slice(&chunk[..n]);
                    framed.extend_from_slice(b"\r\n");
                    stream.write_all(&framed).await
                };
                if written.is_err() {
                    return false;
                }
                state.body_bytes.fetch_add(n as u64, Ordering::SeqCst);
                left -= n as u64;
            }
            if declared.is_none() && stream.write_all(b"0\r\n\r\n").await.is_err() {
                return false;
            }
            let _ = stream.flush().await;
            false
        }
        Body::Cut { sent, .. } => {
            let bytes = vec![b'{'; sent as usize];
            if stream.write_all(&bytes).await.is_ok() {
                state.body_bytes.fetch_add(sent, Ordering::SeqCst);
            }
            let _ = stream.flush().await;
            false
        }
    }
}
