//! A plain TCP relay: bytes in both directions, unchanged (TLS passes through end to end),
//! with a switchable upstream and resets on demand. For crash tests, where the upstream is
//! killed and restarted on another port while clients keep one address.

use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};

use tokio::net::TcpStream;

use crate::error::ProxyError;
use crate::lifecycle::{Lifecycle, Tasks};
use crate::limits::Limits;
use crate::socket::{ClientSocket, loopback_listeners, require_loopback};
use crate::stats::bump;

/// Counters of a [`TcpRelay`], a snapshot.
///
/// # Examples
///
/// ```
/// use faultproxy::RelayStats;
///
/// let s = RelayStats::default();
/// assert_eq!(s.connections, s.relayed + s.upstream_errors);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RelayStats {
    /// Client connections accepted.
    pub connections: u64,
    /// Connections relayed to the upstream.
    pub relayed: u64,
    /// Connections whose upstream could not be reached in time (the client was reset).
    pub upstream_errors: u64,
    /// Connections reset by [`TcpRelay::reset_connections`] or at the end of the lifetime.
    pub forced_resets: u64,
}

#[derive(Debug)]
struct Shared {
    upstream: RwLock<SocketAddr>,
    limits: Limits,
    lifecycle: Arc<Lifecycle>,
    connections: AtomicU64,
    relayed: AtomicU64,
    upstream_errors: AtomicU64,
}

/// A TCP relay on loopback: each client connection is joined to a new connection to the
/// upstream, bytes pass unchanged in both directions.
///
/// Use it where the client must keep one address while the upstream restarts on another port
/// ([`set_upstream`](Self::set_upstream)), or to cut every connection at once
/// ([`reset_connections`](Self::reset_connections)). TLS (and client certificates) pass through
/// untouched. Only [`Limits::lifetime`] and [`Limits::upstream_timeout`] (connecting) apply.
///
/// # Examples
///
/// ```
/// use faultproxy::{Limits, TcpRelay};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let upstream = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
/// let relay = TcpRelay::start(upstream.local_addr().unwrap(), Limits::default()).await.unwrap();
/// assert!(relay.local_addr().ip().is_loopback());
/// assert!(relay.set_upstream("192.0.2.1:443".parse().unwrap()).is_err());
/// relay.shutdown().await;
/// # });
/// ```
#[derive(Debug)]
pub struct TcpRelay {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
    tasks: Tasks,
}

impl TcpRelay {
    /// Starts a relay to `upstream` (a loopback address) on a free loopback port.
    ///
    /// # Errors
    ///
    /// [`ProxyError::Config`] when `upstream` is not on loopback, [`ProxyError::Io`] when it
    /// cannot listen.
    pub async fn start(upstream: SocketAddr, limits: Limits) -> Result<TcpRelay, ProxyError> {
        let upstream = require_loopback(upstream)?;
        let listeners = loopback_listeners().await?;
        let local_addr = listeners[0]
            .local_addr()
            .map_err(|e| ProxyError::io("cannot read the listening address", e))?;
        let lifecycle = Lifecycle::new();
        let shared = Arc::new(Shared {
            upstream: RwLock::new(upstream),
            limits,
            lifecycle: lifecycle.clone(),
            connections: AtomicU64::new(0),
            relayed: AtomicU64::new(0),
            upstream_errors: AtomicU64::new(0),
        });
        let accept_shared = shared.clone();
        let tasks = Tasks::spawn(listeners, &lifecycle, limits.lifetime, move |stream| {
            tokio::spawn(relay(stream, accept_shared.clone()));
        });
        Ok(TcpRelay {
            shared,
            local_addr,
            tasks,
        })
    }

    /// The address it listens on (127.0.0.1; the same port on `::1` when it was free). For a
    /// TLS upstream whose certificate names `localhost`, connect to
    /// `https://localhost:{local_addr().port()}`.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Connections accepted from now on go to `upstream`; open ones are left alone.
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

    /// Resets every open client connection (TCP RST); returns how many.
    pub fn reset_connections(&self) -> usize {
        self.shared.lifecycle.reset_connections()
    }

    /// The counters so far.
    pub fn stats(&self) -> RelayStats {
        let get = |c: &AtomicU64| c.load(std::sync::atomic::Ordering::SeqCst);
        RelayStats {
            connections: get(&self.shared.connections),
            relayed: get(&self.shared.relayed),
            upstream_errors: get(&self.shared.upstream_errors),
            forced_resets: self.shared.lifecycle.forced_resets(),
        }
    }

    /// True once stopped.
    pub fn is_stopped(&self) -> bool {
        self.shared.lifecycle.is_stopped()
    }

    /// Resolves once the relay stopped (shutdown, drop or the end of its lifetime).
    pub async fn stopped(&self) {
        self.shared.lifecycle.stopped().await;
    }

    /// Stops accepting, closes every connection and waits for the accept loops.
    pub async fn shutdown(mut self) {
        self.tasks.shutdown().await;
    }
}

async fn relay(stream: TcpStream, shared: Arc<Shared>) {
    bump(&shared.connections);
    let lifecycle = shared.lifecycle.clone();
    let (id, handle) = lifecycle.connections.open();
    if lifecycle.is_stopped() {
        lifecycle.connections.closed(id);
        return;
    }
    let mut client = ClientSocket::new(stream, handle.clone());
    let work = async {
        let address = *shared.upstream.read().unwrap_or_else(|e| e.into_inner());
        let upstream =
            tokio::time::timeout(shared.limits.upstream_timeout, TcpStream::connect(address)).await;
        let mut upstream = match upstream {
            Ok(Ok(upstream)) => upstream,
            _ => {
                bump(&shared.upstream_errors);
                // The client sees a reset, like a node that died behind a load balancer.
                handle.reset();
                return;
            }
        };
        let _ = upstream.set_nodelay(true);
        bump(&shared.relayed);
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    };
    tokio::select! {
        () = work => {}
        () = handle.killed() => {}
    }
    drop(client);
    lifecycle.connections.closed(id);
}
