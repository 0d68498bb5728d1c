//! Client connections that can be reset (TCP RST rather than an orderly close), the registry
//! of open connections, and loopback listeners.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use crate::error::ProxyError;

/// Ends one client connection from outside the task serving it.
#[derive(Debug, Default)]
pub(crate) struct ConnectionHandle {
    reset: AtomicBool,
    kill: Notify,
}

impl ConnectionHandle {
    /// Ends the connection with a TCP reset: the task serving it stops, and closing the socket
    /// sends RST because `SO_LINGER` is set to 0 first.
    pub(crate) fn reset(&self) {
        self.reset.store(true, Ordering::SeqCst);
        self.kill.notify_one();
    }

    /// Ends the connection with an orderly close (FIN).
    pub(crate) fn close(&self) {
        self.kill.notify_one();
    }

    /// Resolves when [`reset`](Self::reset) or [`close`](Self::close) was called (also when
    /// called before waiting).
    pub(crate) async fn killed(&self) {
        self.kill.notified().await;
    }
}

/// A client's TCP stream that is reset rather than closed when its handle asked for it.
#[derive(Debug)]
pub(crate) struct ClientSocket {
    inner: TcpStream,
    handle: Arc<ConnectionHandle>,
}

impl ClientSocket {
    pub(crate) fn new(inner: TcpStream, handle: Arc<ConnectionHandle>) -> ClientSocket {
        ClientSocket { inner, handle }
    }
}

impl Drop for ClientSocket {
    fn drop(&mut self) {
        if self.handle.reset.load(Ordering::SeqCst) {
            // With a zero linger time, close() discards unsent data and sends RST.
            let _ = socket2::SockRef::from(&self.inner).set_linger(Some(Duration::ZERO));
        }
    }
}

impl AsyncRead for ClientSocket {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ClientSocket {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// The open client connections of a proxy.
#[derive(Debug, Default)]
pub(crate) struct Connections {
    next: AtomicU64,
    open: Mutex<HashMap<u64, Arc<ConnectionHandle>>>,
}

impl Connections {
    /// Registers a new connection: its number (from 0) and its handle.
    pub(crate) fn open(&self) -> (u64, Arc<ConnectionHandle>) {
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        let handle = Arc::new(ConnectionHandle::default());
        self.lock().insert(id, handle.clone());
        (id, handle)
    }

    /// Forgets a connection that ended.
    pub(crate) fn closed(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// Resets every open connection; returns how many.
    pub(crate) fn reset_all(&self) -> usize {
        let open: Vec<_> = self.lock().drain().map(|(_, h)| h).collect();
        for handle in &open {
            handle.reset();
        }
        open.len()
    }

    /// Closes every open connection (FIN).
    pub(crate) fn close_all(&self) {
        for (_, handle) in self.lock().drain() {
            handle.close();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<ConnectionHandle>>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Listens on a free port of 127.0.0.1 and, when it is free, the same port of `::1` (so that
/// `localhost` works whichever address it resolves to first).
pub(crate) async fn loopback_listeners() -> Result<Vec<TcpListener>, ProxyError> {
    let v4 = TcpListener::bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0))
        .await
        .map_err(|e| ProxyError::io("cannot listen on 127.0.0.1", e))?;
    let port = v4
        .local_addr()
        .map_err(|e| ProxyError::io("cannot read the listening address", e))?
        .port();
    let mut listeners = vec![v4];
    if let Ok(v6) = TcpListener::bind(SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port)).await
    {
        listeners.push(v6);
    }
    Ok(listeners)
}

/// Refuses an upstream that is not on this machine's loopback interface.
pub(crate) fn require_loopback(address: SocketAddr) -> Result<SocketAddr, ProxyError> {
    if address.ip().is_loopback() {
        Ok(address)
    } else {
        Err(ProxyError::Config(format!(
            "the upstream {address} is not a loopback address"
        )))
    }
}

/// Parses `https://host:port[/]` where host is `localhost`, `127.0.0.1` or `[::1]`: the
/// address to connect to and the TLS server name.
pub(crate) fn parse_loopback_endpoint(endpoint: &str) -> Result<(SocketAddr, String), ProxyError> {
    let bad = |why: &str| ProxyError::Config(format!("upstream endpoint {endpoint:?}: {why}"));
    let rest = endpoint
        .strip_prefix("https://")
        .ok_or_else(|| bad("expected https://host:port"))?;
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains('/') {
        return Err(bad("expected no path"));
    }
    let (host, port) = authority
        .rsplit_once(':')
        .ok_or_else(|| bad("expected an explicit port"))?;
    let port: u16 = port.parse().map_err(|_| bad("invalid port"))?;
    let (ip, name) = match host {
        "localhost" => (IpAddr::V4(Ipv4Addr::LOCALHOST), "localhost"),
        "127.0.0.1" => (IpAddr::V4(Ipv4Addr::LOCALHOST), "127.0.0.1"),
        "[::1]" => (IpAddr::V6(Ipv6Addr::LOCALHOST), "::1"),
        _ => return Err(bad("the host must be localhost, 127.0.0.1 or [::1]")),
    };
    Ok((SocketAddr::new(ip, port), name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_must_be_loopback() {
        let (addr, name) = parse_loopback_endpoint("https://localhost:8443").unwrap();
        assert_eq!(
            (addr.to_string(), name.as_str()),
            ("127.0.0.1:8443".into(), "localhost")
        );
        let (addr, name) = parse_loopback_endpoint("https://[::1]:9/").unwrap();
        assert_eq!((addr.to_string(), name.as_str()), ("[::1]:9".into(), "::1"));
        for bad in [
            "http://localhost:1",
            "https://example.com:443",
            "https://10.0.0.1:443",
            "https://localhost",
            "https://localhost:99999",
            "https://localhost:1/app",
        ] {
            assert!(parse_loopback_endpoint(bad).is_err(), "{bad}");
        }
        assert!(require_loopback("10.1.2.3:80".parse().unwrap()).is_err());
        assert!(require_loopback("[::1]:80".parse().unwrap()).is_ok());
    }
}
