//! The HTTP-aware fault proxy: terminates TLS with the upstream's identity, reads each
//! HTTP/1.1 request, applies the plan's fault, and re-originates TLS to the upstream.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Request, Response, StatusCode, Version};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use hyper::client::conn::http1::SendRequest;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::error::ProxyError;
use crate::fault::{Fault, error_code, retry_after_seconds};
use crate::lifecycle::{Lifecycle, Tasks};
use crate::limits::Limits;
use crate::plan::{Cause, FaultPlan, Schedule};
use crate::socket::{
    ClientSocket, ConnectionHandle, loopback_listeners, parse_loopback_endpoint, require_loopback,
};
use crate::stats::{Counters, Event, EventLog, Outcome, ProxyStats, bump};
use crate::tls::{TlsIdentity, server_config, upstream_config};

/// How long a client has to complete its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a cut body's connection stays open after the first half was handed to the
/// connection, so that the head and those bytes are written out before it closes.
const CUT_PAUSE: Duration = Duration::from_millis(50);

/// What a [`FaultProxy`] needs: the upstream, the identity it presents, the trust anchor it
/// verifies the upstream with, the plan and the limits.
///
/// # Examples
///
/// ```
/// use faultproxy::{FaultPlan, Limits, ProxyConfig, TlsIdentity};
///
/// let config = ProxyConfig::new(
///     "https://localhost:8443",
///     TlsIdentity::new("<node certificate PEM>", "<node key PEM>"),
///     "<service certificate PEM>",
/// )
/// .plan(FaultPlan::none())
/// .limits(Limits::default());
/// # let _ = config;
/// ```
#[derive(Clone, Debug)]
pub struct ProxyConfig {
    upstream: String,
    identity: TlsIdentity,
    upstream_trust_pem: String,
    plan: FaultPlan,
    limits: Limits,
}

impl ProxyConfig {
    /// A proxy to `upstream_endpoint` (`https://localhost:PORT`, `https://127.0.0.1:PORT` or
    /// `https://[::1]:PORT`) presenting `identity` to clients and trusting only
    /// `upstream_trust_pem` for the upstream, with no faults and default [`Limits`].
    pub fn new(
        upstream_endpoint: impl Into<String>,
        identity: TlsIdentity,
        upstream_trust_pem: impl Into<String>,
    ) -> ProxyConfig {
        ProxyConfig {
            upstream: upstream_endpoint.into(),
            identity,
            upstream_trust_pem: upstream_trust_pem.into(),
            plan: FaultPlan::none(),
            limits: Limits::default(),
        }
    }

    /// The fault plan to start with.
    #[must_use]
    pub fn plan(mut self, plan: FaultPlan) -> ProxyConfig {
        self.plan = plan;
        self
    }

    /// The bounds of the run.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> ProxyConfig {
        self.limits = limits;
        self
    }
}

/// Chooses each request's fault: numbers requests, applies the plan, enforces the budget.
#[derive(Debug)]
struct Decider {
    schedule: Schedule,
    next_number: u64,
    faults: u64,
}

struct Shared {
    limits: Limits,
    upstream: RwLock<SocketAddr>,
    server_name: ServerName<'static>,
    acceptor: TlsAcceptor,
    connector: TlsConnector,
    decider: Mutex<Decider>,
    counters: Counters,
    events: EventLog,
    lifecycle: Arc<Lifecycle>,
}

/// One client connection: its number, its handle, and its upstream connection (opened when
/// the first request is forwarded, reopened when the upstream closed it).
struct Connection {
    shared: Arc<Shared>,
    id: u64,
    handle: Arc<ConnectionHandle>,
    upstream: tokio::sync::Mutex<Option<SendRequest<Full<Bytes>>>>,
}

/// A fault-injection proxy between an HTTPS client and a ledger (the sandbox), on loopback.
///
/// It listens on `127.0.0.1` (and `::1`, same port) and presents the upstream's own TLS
/// identity with ALPN `http/1.1` only, so a client pinned to the ledger's service certificate
/// accepts it as it accepts the ledger. It reads each request whole, lets its
/// [`FaultPlan`] choose a [`Fault`], and forwards it over TLS to the upstream (one upstream
/// connection per client connection). Connections are kept alive; faults that reset end the
/// client's connection with a TCP reset.
///
/// When forwarding fails (the upstream is down, closed the connection mid-answer or exceeded
/// [`Limits::upstream_timeout`]) the client's connection is reset too, never answered with a
/// status: a client must see an unknown outcome, as it would from a real dropped connection.
///
/// Client certificates do not pass through (the proxy re-originates TLS): authenticate with
/// bearer tokens, or use a [`TcpRelay`](crate::TcpRelay).
///
/// Dropping the proxy stops it; [`FaultProxy::shutdown`] also waits for its accept loops.
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use confidential_ledger_sandbox::{Sandbox, SandboxOptions};
/// use faultproxy::{Fault, FaultPlan, FaultProxy, ProxyConfig, RequestFilter, TlsIdentity};
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let sandbox = Sandbox::start(SandboxOptions::for_tests()).await?;
/// let node = sandbox.node_tls_identity();
/// let plan = FaultPlan::seeded(7)
///     .matching(RequestFilter::any().method("POST"))
///     .with(0.1, Fault::ResetAfterResponse)
///     .with(0.1, Fault::unavailable().retry_after(Duration::from_secs(1)));
/// let proxy = FaultProxy::start(
///     ProxyConfig::new(
///         sandbox.ledger_endpoint(),
///         TlsIdentity::new(node.certificate_chain_pem, node.private_key_pem),
///         sandbox.service_certificate_pem(),
///     )
///     .plan(plan),
/// )
/// .await?;
/// // Point the client at proxy.endpoint() instead of sandbox.ledger_endpoint()...
/// println!("{} faults so far", proxy.stats().faults());
/// # Ok(())
/// # }
/// ```
pub struct FaultProxy {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
    tasks: Tasks,
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy")
            .field("endpoint", &self.endpoint())
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl FaultProxy {
    /// Starts a proxy on a free loopback port.
    ///
    /// # Errors
    ///
    /// [`ProxyError::Config`] for an upstream that is not a loopback `https` endpoint,
    /// [`ProxyError::Plan`] for an invalid plan, [`ProxyError::Tls`] for unusable
    /// certificates or keys, [`ProxyError::Io`] when it cannot listen.
    pub async fn start(config: ProxyConfig) -> Result<FaultProxy, ProxyError> {
        config.plan.validate(config.limits.max_delay)?;
        let (upstream, name) = parse_loopback_endpoint(&config.upstream)?;
        let server_name = ServerName::try_from(name)
            .map_err(|e| ProxyError::Config(format!("upstream host name: {e}")))?;
        let acceptor = TlsAcceptor::from(server_config(&config.identity)?);
        let connector = TlsConnector::from(upstream_config(&config.upstream_trust_pem)?);
        let listeners = loopback_listeners().await?;
        let local_addr = listeners[0]
            .local_addr()
            .map_err(|e| ProxyError::io("cannot read the listening address", e))?;
        let lifecycle = Lifecycle::new();
        let shared = Arc::new(Shared {
            limits: config.limits,
            upstream: RwLock::new(upstream),
            server_name,
            acceptor,
            connector,
            decider: Mutex::new(Decider {
                schedule: Schedule::new(config.plan),
                next_number: 0,
                faults: 0,
            }),
            counters: Counters::default(),
            events: EventLog::new(config.limits.max_events),
            lifecycle: lifecycle.clone(),
        });
        let accept_shared = shared.clone();
        let tasks = Tasks::spawn(
            listeners,
            &lifecycle,
            config.limits.lifetime,
            move |stream| {
                tokio::spawn(serve_connection(stream, accept_shared.clone()));
            },
        );
        Ok(FaultProxy {
            shared,
            local_addr,
            tasks,
        })
    }

    /// The proxy's endpoint, `https://localhost:PORT`: give it to the client instead of the
    /// upstream's.
    pub fn endpoint(&self) -> String {
        format!("https://localhost:{}", self.local_addr.port())
    }

    /// The address it listens on (127.0.0.1).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The counters so far.
    pub fn stats(&self) -> ProxyStats {
        let mut stats = self.shared.counters.snapshot();
        stats.forced_resets = self.shared.lifecycle.forced_resets();
        stats
    }

    /// Every request that ended so far, in request-number order (up to
    /// [`Limits::max_events`]).
    pub fn events(&self) -> Vec<Event> {
        self.shared.events.sorted()
    }

    /// Replaces the plan; its rules and random draw count requests from 0 again. The fault
    /// budget ([`Limits::max_faults`]) is for the whole run and is not reset.
    ///
    /// # Errors
    ///
    /// [`ProxyError::Plan`] for an invalid plan (the current one stays).
    pub fn set_plan(&self, plan: FaultPlan) -> Result<(), ProxyError> {
        plan.validate(self.shared.limits.max_delay)?;
        self.shared.lock_decider().schedule = Schedule::new(plan);
        Ok(())
    }

    /// Sends connections opened from now on to `upstream` (a loopback address), keeping the TLS
    /// server name: for an upstream restarted on another port. Open upstream connections are
    /// kept until they fail.
    ///
    /// # Errors
    ///
    /// [`ProxyError::Config`] when `upstream` is not a loopback address.
    pub fn set_upstream(&self, upstream: SocketAddr) -> Result<(), ProxyError> {
        let upstream = require_loopback(upstream)?;
        *self
            .shared
            .upstream
            .write()
            .unwrap_or_else(|e| e.into_inner()) = upstream;
        Ok(())
    }

    /// Resets every open client connection now (requests in flight are abandoned); returns how
    /// many.
    pub fn reset_connections(&self) -> usize {
        self.shared.lifecycle.reset_connections()
    }

    /// True once stopped (by [`shutdown`](Self::shutdown), drop, or the end of
    /// [`Limits::lifetime`]).
    pub fn is_stopped(&self) -> bool {
        self.shared.lifecycle.is_stopped()
    }

    /// Resolves once the proxy stopped.
    pub async fn stopped(&self) {
        self.shared.lifecycle.stopped().await;
    }

    /// Stops accepting, closes every client connection and waits for the accept loops.
    pub async fn shutdown(mut self) {
        self.tasks.shutdown().await;
    }
}

impl Shared {
    fn lock_decider(&self) -> std::sync::MutexGuard<'_, Decider> {
        self.decider.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Numbers the next request and chooses its fault within the budget.
    fn decide(&self, request: Option<(&str, &str)>) -> (u64, Option<(Fault, Cause)>) {
        let mut decider = self.lock_decider();
        let number = decider.next_number;
        decider.next_number += 1;
        let Some((method, path)) = request else {
            return (number, None);
        };
        match decider.schedule.decide(method, path) {
            Some(chosen) if decider.faults < self.limits.max_faults => {
                decider.faults += 1;
                (number, Some(chosen))
            }
            Some(_) => {
                bump(&self.counters.over_budget);
                (number, None)
            }
            None => (number, None),
        }
    }
}

async fn serve_connection(stream: TcpStream, shared: Arc<Shared>) {
    bump(&shared.counters.connections);
    let lifecycle = shared.lifecycle.clone();
    let (id, handle) = lifecycle.connections.open();
    if lifecycle.is_stopped() {
        // Stopped between accept and registration: nobody will end this connection.
        lifecycle.connections.closed(id);
        return;
    }
    let socket = ClientSocket::new(stream, handle.clone());
    let connection = Arc::new(Connection {
        shared: shared.clone(),
        id,
        handle: handle.clone(),
        upstream: tokio::sync::Mutex::new(None),
    });
    let serve = async move {
        let tls =
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, shared.acceptor.accept(socket)).await {
                Ok(Ok(tls)) => tls,
                _ => return,
            };
        let service = service_fn(move |request| {
            let connection = connection.clone();
            async move { connection.handle_request(request).await }
        });
        let _ = hyper::server::conn::http1::Builder::new()
            .keep_alive(true)
            .serve_connection(TokioIo::new(tls), service)
            .await;
    };
    tokio::select! {
        () = serve => {}
        () = handle.killed() => {}
    }
    lifecycle.connections.closed(id);
}

/// Why forwarding failed.
enum ForwardError {
    Upstream,
}

impl Connection {
    async fn handle_request(
        &self,
        request: Request<Incoming>,
    ) -> Result<Response<ProxyBody>, Infallible> {
        let shared = &self.shared;
        bump(&shared.counters.requests);
        let method = request.method().as_str().to_string();
        let path = request
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string();
        let (parts, body) = request.into_parts();
        let body = match Limited::new(body, shared.limits.max_body_bytes)
            .collect()
            .await
        {
            Ok(collected) => collected.to_bytes(),
            Err(_) => {
                let (number, _) = shared.decide(None);
                self.record(number, method, path, None, Outcome::ClientFailed);
                return self.reset().await;
            }
        };
        let (number, chosen) = shared.decide(Some((&method, &path)));
        let fault = chosen.map(|(f, _)| f);
        match fault {
            Some(Fault::ResetBeforeForward) => {
                self.record(number, method, path, chosen, Outcome::ResetBeforeForward);
                return self.reset().await;
            }
            Some(Fault::Status {
                status,
                retry_after,
            }) => {
                self.record(number, method, path, chosen, Outcome::Injected { status });
                return Ok(injected_answer(status, retry_after).map(ProxyBody::Full));
            }
            Some(Fault::Delay(delay)) => tokio::time::sleep(delay).await,
            Some(
                Fault::ResetAfterResponse
                | Fault::StatusAfterForward { .. }
                | Fault::CutBody
                | Fault::HoldAfterForward(_)
                | Fault::TamperJson(_),
            )
            | None => {}
        }
        let upstream_request = upstream_request(parts, body);
        let exchanged = tokio::time::timeout(
            shared.limits.upstream_timeout,
            self.exchange(upstream_request),
        )
        .await;
        let (response_parts, response_body) = match exchanged {
            Ok(Ok(answer)) => answer,
            Ok(Err(ForwardError::Upstream)) | Err(_) => {
                self.record(number, method, path, chosen, Outcome::UpstreamFailed);
                return self.reset().await;
            }
        };
        let status = response_parts.status.as_u16();
        match fault {
            Some(Fault::ResetAfterResponse) => {
                self.record(
                    number,
                    method,
                    path,
                    chosen,
                    Outcome::ResetAfterResponse { status },
                );
                return self.reset().await;
            }
            Some(Fault::StatusAfterForward { status: injected }) => {
                self.record(
                    number,
                    method,
                    path,
                    chosen,
                    Outcome::AnsweredInstead {
                        upstream: status,
                        status: injected,
                    },
                );
                return Ok(injected_answer(injected, None).map(ProxyBody::Full));
            }
            Some(Fault::HoldAfterForward(hold)) => {
                self.record(
                    number,
                    method,
                    path,
                    chosen,
                    Outcome::HeldThenReset { status },
                );
                tokio::time::sleep(hold).await;
                return self.reset().await;
            }
            _ => {}
        }
        let cut = fault == Some(Fault::CutBody);
        let tampered = match fault {
            Some(Fault::TamperJson(pointer)) => {
                crate::fault::tamper_json(&response_body, pointer).map(Bytes::from)
            }
            _ => None,
        };
        let outcome = if cut {
            Outcome::CutBody { status }
        } else if tampered.is_some() {
            Outcome::Tampered { status }
        } else {
            Outcome::Answered { status }
        };
        let tampered_answer = tampered.is_some();
        let response_body = tampered.unwrap_or(response_body);
        self.record(number, method, path, chosen, outcome);
        let full_length = response_body.len();
        let body = if cut {
            ProxyBody::Cut(CutBody {
                first: Some(response_body.slice(..full_length / 2)),
                handle: self.handle.clone(),
                pause: None,
            })
        } else {
            ProxyBody::Full(Full::new(response_body))
        };
        let mut response = Response::from_parts(response_parts, body);
        *response.version_mut() = Version::HTTP_11;
        strip_hop_by_hop(response.headers_mut());
        if cut {
            response
                .headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(full_length));
        }
        if tampered_answer {
            response
                .headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(full_length));
        }
        Ok(response)
    }

    /// Sends `request` upstream and reads the whole answer. A request the upstream connection
    /// closed before it was sent is sent again on a new connection; once sent, it never is.
    async fn exchange(
        &self,
        request: Request<Full<Bytes>>,
    ) -> Result<(http::response::Parts, Bytes), ForwardError> {
        let mut slot = self.upstream.lock().await;
        let mut request = request;
        let mut fresh = false;
        let response = loop {
            let mut sender = match slot.take() {
                Some(sender) if !sender.is_closed() => sender,
                _ => {
                    fresh = true;
                    self.connect().await?
                }
            };
            if sender.ready().await.is_err() {
                if fresh {
                    return Err(ForwardError::Upstream);
                }
                continue;
            }
            match sender.try_send_request(request).await {
                Ok(response) => {
                    *slot = Some(sender);
                    break response;
                }
                Err(mut e) => match e.take_message() {
                    Some(unsent) if !fresh => request = unsent,
                    _ => return Err(ForwardError::Upstream),
                },
            }
        };
        let (parts, body) = response.into_parts();
        let body = Limited::new(body, self.shared.limits.max_body_bytes)
            .collect()
            .await
            .map_err(|_| ForwardError::Upstream)?
            .to_bytes();
        Ok((parts, body))
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, ForwardError> {
        let shared = &self.shared;
        let address = *shared.upstream.read().unwrap_or_else(|e| e.into_inner());
        let tcp = TcpStream::connect(address)
            .await
            .map_err(|_| ForwardError::Upstream)?;
        let _ = tcp.set_nodelay(true);
        let tls = shared
            .connector
            .connect(shared.server_name.clone(), tcp)
            .await
            .map_err(|_| ForwardError::Upstream)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|_| ForwardError::Upstream)?;
        // Ends when the sender is dropped (the client's connection ended) or the upstream
        // closes the connection.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(sender)
    }

    fn record(
        &self,
        number: u64,
        method: String,
        path: String,
        chosen: Option<(Fault, Cause)>,
        outcome: Outcome,
    ) {
        let shared = &self.shared;
        let fault = chosen.map(|(f, _)| f);
        shared.counters.count(fault, outcome);
        let event = Event {
            number,
            connection: self.id,
            method,
            path,
            fault,
            cause: chosen.map(|(_, c)| c),
            outcome,
        };
        if !shared.events.push(event) {
            bump(&shared.counters.events_dropped);
        }
    }

    /// Resets the client's connection: the task serving it drops it, which sends RST.
    async fn reset(&self) -> Result<Response<ProxyBody>, Infallible> {
        self.handle.reset();
        std::future::pending().await
    }
}

/// The body of an answer to a client: whole, or cut.
enum ProxyBody {
    Full(Full<Bytes>),
    Cut(CutBody),
}

/// The first half of a body; then, after [`CUT_PAUSE`], the connection is closed (an orderly
/// close, so that what was written arrives) and the rest never comes.
struct CutBody {
    first: Option<Bytes>,
    handle: Arc<ConnectionHandle>,
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Body for ProxyBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            ProxyBody::Full(full) => Pin::new(full).poll_frame(cx),
            ProxyBody::Cut(cut) => {
                if let Some(first) = cut.first.take()
                    && !first.is_empty()
                {
                    return Poll::Ready(Some(Ok(Frame::data(first))));
                }
                let pause = cut
                    .pause
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(CUT_PAUSE)));
                if pause.as_mut().poll(cx).is_ready() {
                    // The task serving the connection ends it; this body never completes.
                    cut.handle.close();
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ProxyBody::Full(full) => full.is_end_stream(),
            ProxyBody::Cut(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ProxyBody::Full(full) => full.size_hint(),
            ProxyBody::Cut(_) => SizeHint::default(),
        }
    }
}

/// The request to send upstream: the client's, as HTTP/1.1, without hop-by-hop headers.
fn upstream_request(parts: http::request::Parts, body: Bytes) -> Request<Full<Bytes>> {
    let mut request = Request::from_parts(parts, Full::new(body));
    *request.version_mut() = Version::HTTP_11;
    request.extensions_mut().clear();
    strip_hop_by_hop(request.headers_mut());
    request
}

/// Removes the headers that describe one connection rather than the message.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in [
        header::CONNECTION,
        header::TRANSFER_ENCODING,
        header::TE,
        header::TRAILER,
        header::UPGRADE,
        header::PROXY_AUTHENTICATE,
        header::PROXY_AUTHORIZATION,
    ] {
        headers.remove(name);
    }
    headers.remove("keep-alive");
    headers.remove("proxy-connection");
}

/// An error answer in the service's shape.
fn injected_answer(status: u16, retry_after: Option<Duration>) -> Response<Full<Bytes>> {
    let code = error_code(status);
    let body = serde_json::json!({
        "error": {
            "code": code,
            "message": format!("The service is temporarily unable to handle the request ({code})."),
        }
    })
    .to_string();
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(after) = retry_after {
        headers.insert(
            header::RETRY_AFTER,
            HeaderValue::from(retry_after_seconds(after)),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_are_removed() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, x-private"),
        );
        h.insert("x-private", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("12"));
        h.insert("x-ms-ccf-transaction-id", HeaderValue::from_static("2.15"));
        strip_hop_by_hop(&mut h);
        let mut names: Vec<_> = h.keys().map(|k| k.as_str().to_string()).collect();
        names.sort();
        assert_eq!(names, ["content-length", "x-ms-ccf-transaction-id"]);
    }

    #[test]
    fn injected_answers_have_the_service_shape() {
        let r = injected_answer(429, Some(Duration::from_millis(2500)));
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()[header::RETRY_AFTER], "3");
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/json");
        let r = injected_answer(503, None);
        assert!(!r.headers().contains_key(header::RETRY_AFTER));
    }
}
