//! Listeners and accept loops: HTTPS for the ledger endpoint (the client certificate of each
//! connection is handed to the handlers), plain HTTP for the identity endpoint, graceful
//! shutdown, and the limits that keep hostile connections from crowding clients out.
//!
//! # Limits (per listener, from [`SandboxOptions`](crate::SandboxOptions))
//!
//! - `header_read_timeout`: a connection must finish its TLS handshake within it, and a
//!   request's headers (HTTP/1) must arrive within it once the connection waits for one.
//! - `idle_timeout`: a connection that moved no bytes for this long while no request was in
//!   progress is closed.
//! - `max_connections`: open connections. At the cap, a new connection evicts the oldest one
//!   that has not yet carried a request from a ledger user (half-open, idle, anonymous or not a
//!   user); when every open connection belongs to a ledger user, the new one is closed at
//!   once. Connections are always accepted (then closed) so that the kernel's backlog never
//!   fills up in front of a legitimate client.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::digest::fingerprint;
use crate::routes::ConnInfo;

/// How long open connections get to finish at shutdown.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// The connection limits of one listener.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) max_connections: usize,
    pub(crate) header_read_timeout: Duration,
    pub(crate) idle_timeout: Duration,
}

/// When a connection last moved bytes, and how many of its requests are in progress.
#[derive(Debug)]
struct Activity {
    epoch: Instant,
    last_ms: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    fn new() -> Arc<Activity> {
        Arc::new(Activity {
            epoch: Instant::now(),
            last_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        })
    }

    fn touch(&self) {
        let now = self.epoch.elapsed().as_millis() as u64;
        self.last_ms.store(now, Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        let now = self.epoch.elapsed().as_millis() as u64;
        Duration::from_millis(now.saturating_sub(self.last_ms.load(Ordering::Relaxed)))
    }
}

/// Counts a request in progress while it lives.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn new(activity: &Arc<Activity>) -> InFlight {
        activity.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(activity.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.0.touch();
    }
}

/// A stream that records when it moves bytes.
struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Resolves once the connection has been idle (no bytes, no request in progress) for
/// `timeout`.
async fn idle(activity: &Activity, timeout: Duration) {
    loop {
        let idle_for = activity.idle_for();
        if activity.in_flight.load(Ordering::SeqCst) == 0 && idle_for >= timeout {
            return;
        }
        let wait = timeout.saturating_sub(idle_for).max(timeout / 8);
        tokio::time::sleep(wait.max(Duration::from_millis(5))).await;
    }
}

/// One open connection, as the table knows it.
struct Slot {
    trusted: Arc<AtomicBool>,
    kill: Arc<Notify>,
}

/// The open connections of a listener.
#[derive(Default)]
struct ConnTable {
    slots: Mutex<BTreeMap<u64, Slot>>,
    next: AtomicU64,
}

impl ConnTable {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<u64, Slot>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes room for a new connection under `cap` (evicting the oldest untrusted one) and
    /// registers it; `None` when every open connection is trusted.
    fn admit(self: &Arc<Self>, cap: usize) -> Option<Registered> {
        let mut slots = self.lock();
        if slots.len() >= cap {
            let victim = slots
                .iter()
                .find(|(_, s)| !s.trusted.load(Ordering::SeqCst))
                .map(|(id, _)| *id)?;
            if let Some(slot) = slots.remove(&victim) {
                slot.kill.notify_one();
                tracing::debug!("connection limit reached: closed the oldest untrusted connection");
            }
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let trusted = Arc::new(AtomicBool::new(false));
        let kill = Arc::new(Notify::new());
        slots.insert(
            id,
            Slot {
                trusted: trusted.clone(),
                kill: kill.clone(),
            },
        );
        Some(Registered {
            table: self.clone(),
            id,
            trusted,
            kill,
        })
    }
}

/// A connection's entry in its table, removed when dropped.
struct Registered {
    table: Arc<ConnTable>,
    id: u64,
    trusted: Arc<AtomicBool>,
    kill: Arc<Notify>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.table.lock().remove(&self.id);
    }
}

/// Serves one accepted connection with `router`, inserting `info` into every request.
async fn serve<I>(
    io: I,
    router: Router,
    info: ConnInfo,
    activity: Arc<Activity>,
    limits: Limits,
    watcher: hyper_util::server::graceful::Watcher,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let kill = info.kill.clone();
    let requests = activity.clone();
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        let in_flight = InFlight::new(&requests);
        request.extensions_mut().insert(info.clone());
        let response = router.clone().oneshot(request.map(axum::body::Body::new));
        async move {
            let response = response.await;
            drop(in_flight);
            response
        }
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let connection = builder
        .serve_connection_with_upgrades(io, service)
        .into_owned();
    tokio::select! {
        result = watcher.watch(connection) => {
            if let Err(e) = result {
                tracing::debug!("connection ended: {e}");
            }
        }
        () = kill.notified() => {
            tracing::debug!("connection closed (injected fault or connection limit)");
        }
        () = idle(&activity, limits.idle_timeout) => {
            tracing::debug!("closed an idle connection");
        }
    }
}

async fn handle_tls(
    stream: Tracked<TcpStream>,
    acceptor: TlsAcceptor,
    router: Router,
    conn: Registered,
    limits: Limits,
    watcher: hyper_util::server::graceful::Watcher,
) {
    let activity = stream.activity.clone();
    let handshake = tokio::time::timeout(limits.header_read_timeout, acceptor.accept(stream));
    let tls = tokio::select! {
        done = handshake => match done {
            Ok(Ok(tls)) => tls,
            Ok(Err(e)) => {
                tracing::debug!("TLS handshake failed: {e}");
                return;
            }
            Err(_) => {
                tracing::debug!("TLS handshake timed out");
                return;
            }
        },
        () = conn.kill.notified() => return,
    };
    let fingerprint = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|certs| certs.first())
        .map(|cert| fingerprint(cert.as_ref()));
    let info = ConnInfo {
        fingerprint,
        kill: conn.kill.clone(),
        trusted: conn.trusted.clone(),
    };
    serve(TokioIo::new(tls), router, info, activity, limits, watcher).await;
    drop(conn);
}

/// Accepts connections on `listener` until `shutdown` turns true, then lets open connections
/// finish (up to a few seconds). With `acceptor`, connections are TLS.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    acceptor: Option<TlsAcceptor>,
    router: Router,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let table = Arc::new(ConnTable::default());
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
                continue;
            }
        };
        let (stream, _peer): (TcpStream, SocketAddr) = match accepted {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(conn) = table.admit(limits.max_connections) else {
            tracing::debug!("connection limit reached by ledger users: refused a connection");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let activity = Activity::new();
        let stream = Tracked {
            inner: stream,
            activity: activity.clone(),
        };
        let router = router.clone();
        let watcher = graceful.watcher();
        match &acceptor {
            Some(acceptor) => {
                tokio::spawn(handle_tls(
                    stream,
                    acceptor.clone(),
                    router,
                    conn,
                    limits,
                    watcher,
                ));
            }
            None => {
                let info = ConnInfo {
                    fingerprint: None,
                    kill: conn.kill.clone(),
                    trusted: conn.trusted.clone(),
                };
                tokio::spawn(async move {
                    serve(
                        TokioIo::new(stream),
                        router,
                        info,
                        activity,
                        limits,
                        watcher,
                    )
                    .await;
                    drop(conn);
                });
            }
        }
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections were still open at shutdown");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_untrusted_connection_is_evicted_and_trusted_ones_are_kept() {
        let table = Arc::new(ConnTable::default());
        let a = table.admit(2).unwrap();
        let b = table.admit(2).unwrap();
        a.trusted.store(true, Ordering::SeqCst);
        // Full: the new one evicts b (a is trusted).
        let c = table.admit(2).unwrap();
        assert!(table.lock().contains_key(&a.id));
        assert!(!table.lock().contains_key(&b.id));
        c.trusted.store(true, Ordering::SeqCst);
        // Full of trusted connections: refused.
        assert!(table.admit(2).is_none());
        drop(c);
        assert!(table.admit(2).is_some());
        drop(b);
        assert_eq!(table.lock().len(), 1);
    }
}
