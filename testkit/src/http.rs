//! A recording HTTP test server on 127.0.0.1.
//!
//! [`Server`] listens on a free port of 127.0.0.1, records every request it receives (method,
//! path, host, headers, body, which connection it came on) and answers with what a handler
//! decides: a response ([`Reply::status`], [`Reply::json`], [`Reply::ledger_error`]), a closed
//! connection after the request was read ([`Reply::CloseConnection`], what a crashed node or a
//! dropped connection looks like to a client), or no answer at all ([`Reply::Hang`], for
//! timeouts). It speaks HTTP/1.1 and, over TLS ([`Server::start_tls`]), HTTP/2.
//!
//! Tests use it to prove what a client sent where: which headers a redirect target received
//! (for example that a foreign host never saw an `Authorization` header), how many times a
//! write reached the server, and in which order.
//!
//! A server is torn down, with every connection it holds, when it is dropped.
//!
//! ```
//! use testkit::http::{Reply, Server};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let server = Server::scripted([Reply::status(503), Reply::json(200, r#"{"ok":true}"#)]).await;
//! assert!(server.url("/app/x").starts_with("http://127.0.0.1:"));
//! assert_eq!(server.requests().len(), 0);
//! # });
//! ```

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// Position of the request among all the server received, from 0.
    pub index: usize,
    /// The connection it came on, numbered from 0 in accept order.
    pub connection: usize,
    /// `GET`, `POST`...
    pub method: String,
    /// Path and query, e.g. `/app/transactions?api-version=2026-02-23`.
    pub path: String,
    /// The host the client addressed (the `Host` header, or the HTTP/2 authority), without
    /// the port.
    pub host: Option<String>,
    /// Every header in the order received; values that are not UTF-8 are converted lossily.
    pub headers: Vec<(String, String)>,
    /// The request body.
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// True when the request carried header `name` at all.
    pub fn has_header(&self, name: &str) -> bool {
        self.header(name).is_some()
    }

    /// The body as text (lossy).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// How the server answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Send this response.
    Respond {
        /// The status code.
        status: u16,
        /// Headers, in order.
        headers: Vec<(String, String)>,
        /// The body.
        body: Vec<u8>,
    },
    /// Read the whole request, then close the connection without answering.
    CloseConnection,
    /// Read the whole request and never answer (until the server is dropped).
    Hang,
}

impl Reply {
    /// An empty response with `status`.
    pub fn status(status: u16) -> Reply {
        Reply::Respond {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A JSON response (`Content-Type: application/json`).
    pub fn json(status: u16, body: &str) -> Reply {
        Reply::Respond {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// An error in the ledger's shape: `{"error": {"code": .., "message": ..}}`.
    pub fn ledger_error(status: u16, code: &str, message: &str) -> Reply {
        let body = format!(
            r#"{{"error":{{"code":{},"message":{}}}}}"#,
            json_string(code),
            json_string(message)
        );
        Reply::json(status, &body)
    }

    /// A response with `status` and a plain-text or arbitrary body.
    pub fn body(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply::Respond {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Adds a header to a [`Reply::Respond`] (other replies are returned unchanged).
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        if let Reply::Respond { headers, .. } = &mut self {
            headers.push((name.to_owned(), value.to_owned()));
        }
        self
    }
}

fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

type Handler = dyn Fn(&RecordedRequest) -> Reply + Send + Sync;

struct State {
    handler: Box<Handler>,
    requests: Mutex<Vec<RecordedRequest>>,
    connections: AtomicUsize,
}

impl State {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<RecordedRequest>> {
        // The recorder only pushes; a panicking handler cannot leave it inconsistent.
        self.requests.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A recording HTTP server on a free port of 127.0.0.1; see the [module documentation](self).
pub struct Server {
    addr: SocketAddr,
    scheme: &'static str,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every connection.
        self.task.abort();
    }
}

impl Server {
    /// A plain HTTP server answering each request with `handler`'s reply.
    pub async fn start(
        handler: impl Fn(&RecordedRequest) -> Reply + Send + Sync + 'static,
    ) -> Server {
        Self::spawn(Box::new(handler), None).await
    }

    /// A plain HTTP server answering with `replies` in order, then with `500` and the body
    /// `script exhausted` once they run out.
    pub async fn scripted(replies: impl IntoIterator<Item = Reply>) -> Server {
        let queue = Mutex::new(replies.into_iter().collect::<VecDeque<_>>());
        Self::start(move |_| {
            queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop_front()
                .unwrap_or_else(|| Reply::body(500, "script exhausted"))
        })
        .await
    }

    /// An HTTPS server with the given rustls configuration (set its ALPN protocols to offer
    /// HTTP/2).
    pub async fn start_tls(
        config: Arc<rustls::ServerConfig>,
        handler: impl Fn(&RecordedRequest) -> Reply + Send + Sync + 'static,
    ) -> Server {
        Self::spawn(Box::new(handler), Some(TlsAcceptor::from(config))).await
    }

    async fn spawn(handler: Box<Handler>, tls: Option<TlsAcceptor>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("cannot bind a port on 127.0.0.1");
        let addr = listener
            .local_addr()
            .expect("bound listener has an address");
        let state = Arc::new(State {
            handler,
            requests: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
        });
        let scheme = if tls.is_some() { "https" } else { "http" };
        let accept_state = Arc::clone(&state);
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((tcp, _)) = accepted else { continue };
                        let number = accept_state.connections.fetch_add(1, Ordering::SeqCst);
                        let state = Arc::clone(&accept_state);
                        let tls = tls.clone();
                        connections.spawn(async move {
                            match tls {
                                Some(acceptor) => {
                                    if let Ok(stream) = acceptor.accept(tcp).await {
                                        serve(stream, state, number).await;
                                    }
                                }
                                None => serve(tcp, state, number).await,
                            }
                        });
                    }
                    // Reap finished connections so the set does not grow without bound.
                    Some(_) = connections.join_next(), if !connections.is_empty() => {}
                }
            }
        });
        Server {
            addr,
            scheme,
            state,
            task,
        }
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:<port><path>` (`https` for a TLS server).
    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{path}", self.scheme, self.addr)
    }

    /// `<scheme>://<host>:<port><path>`: the server under another name, for clients that
    /// resolve `host` to 127.0.0.1 (`reqwest::ClientBuilder::resolve`).
    pub fn url_for_host(&self, host: &str, path: &str) -> String {
        format!("{}://{host}:{}{path}", self.scheme, self.addr.port())
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.lock().clone()
    }

    /// How many requests were received so far.
    pub fn request_count(&self) -> usize {
        self.state.lock().len()
    }

    /// How many TCP connections were accepted so far (whether or not a request followed).
    pub fn connection_count(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }
}

async fn serve<S>(stream: S, state: Arc<State>, connection: usize)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request: Request<Incoming>| {
        let state = Arc::clone(&state);
        async move { answer(request, &state, connection).await }
    });
    // A client that hangs up, or a `CloseConnection` reply, ends the connection: not an error
    // for the server.
    let _ = auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// The error a handler returns to make hyper drop the connection without a response.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection closed on purpose")
    }
}

impl std::error::Error for Dropped {}

async fn answer(
    request: Request<Incoming>,
    state: &State,
    connection: usize,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let (parts, body) = request.into_parts();
    // A body the client stopped sending is recorded as far as it arrived.
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(_) => Vec::new(),
    };
    let host = parts
        .uri
        .host()
        .map(str::to_owned)
        .or_else(|| {
            parts
                .headers
                .get(hyper::header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(|h| strip_port(h).to_owned())
        })
        .map(|h| h.to_ascii_lowercase());
    let recorded = {
        let mut requests = state.lock();
        let recorded = RecordedRequest {
            index: requests.len(),
            connection,
            method: parts.method.to_string(),
            path: parts
                .uri
                .path_and_query()
                .map_or_else(|| "/".to_owned(), ToString::to_string),
            host,
            headers: parts
                .headers
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body,
        };
        requests.push(recorded.clone());
        recorded
    };
    match (state.handler)(&recorded) {
        Reply::Respond {
            status,
            headers,
            body,
        } => {
            let mut response = Response::builder().status(status);
            for (name, value) in headers {
                response = response.header(name, value);
            }
            Ok(response
                .body(Full::new(Bytes::from(body)))
                .unwrap_or_else(|e| {
                    let mut failed = Response::new(Full::new(Bytes::from(format!(
                        "testkit: invalid scripted response: {e}"
                    ))));
                    *failed.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
                    failed
                }))
        }
        Reply::CloseConnection => Err(Dropped),
        Reply::Hang => std::future::pending::<Result<Response<Full<Bytes>>, Dropped>>().await,
    }
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        // [v6]:port
        return host
            .split_once(']')
            .map_or(host, |(h, _)| &host[..=h.len()]);
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_error_bodies_escape_their_text() {
        let Reply::Respond { body, status, .. } =
            Reply::ledger_error(403, "NotAllowed", "say \"hi\"\n")
        else {
            panic!("not a response");
        };
        assert_eq!(status, 403);
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"error":{"code":"NotAllowed","message":"say \"hi\"\u000a"}}"#
        );
    }

    #[test]
    fn host_without_port() {
        assert_eq!(strip_port("ledger.test:8443"), "ledger.test");
        assert_eq!(strip_port("ledger.test"), "ledger.test");
        assert_eq!(strip_port("[::1]:80"), "[::1]");
    }
}
