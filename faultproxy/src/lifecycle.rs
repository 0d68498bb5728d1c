//! Starting and stopping a proxy: accept loops, the lifetime bound, and ending every open
//! connection when it stops.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::socket::Connections;

/// Whether a proxy runs, and its open connections.
#[derive(Debug)]
pub(crate) struct Lifecycle {
    /// Set first when stopping: connections registered later end at once.
    stopping: AtomicBool,
    /// Announces the stop once every connection was told to end.
    stop: watch::Sender<bool>,
    pub(crate) connections: Connections,
    forced_resets: AtomicU64,
}

impl Lifecycle {
    pub(crate) fn new() -> Arc<Lifecycle> {
        Arc::new(Lifecycle {
            stopping: AtomicBool::new(false),
            stop: watch::Sender::new(false),
            connections: Connections::default(),
            forced_resets: AtomicU64::new(0),
        })
    }

    /// Stops accepting and ends every open connection: with a reset when `reset`, with an
    /// orderly close otherwise.
    ///
    /// A connection registers before checking [`is_stopped`](Self::is_stopped), and this sets
    /// the flag before ending the registered ones, so none escapes. [`stopped`](Self::stopped)
    /// resolves after that, when the counters are final.
    pub(crate) fn stop(&self, reset: bool) {
        self.stopping.store(true, Ordering::SeqCst);
        if reset {
            self.reset_connections();
        } else {
            self.connections.close_all();
        }
        self.stop.send_replace(true);
    }

    /// Resets every open connection; returns how many.
    pub(crate) fn reset_connections(&self) -> usize {
        let n = self.connections.reset_all();
        self.forced_resets.fetch_add(n as u64, Ordering::SeqCst);
        n
    }

    /// Connections reset by [`reset_connections`](Self::reset_connections) so far.
    pub(crate) fn forced_resets(&self) -> u64 {
        self.forced_resets.load(Ordering::SeqCst)
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Resolves once stopped.
    pub(crate) async fn stopped(&self) {
        let mut rx = self.stop.subscribe();
        // The sender lives as long as `self`, so waiting cannot fail while borrowed.
        let _ = rx.wait_for(|stopped| *stopped).await;
    }
}

/// The tasks of a running proxy: one accept loop per listener, handing each connection to
/// `handler`, and the bound on its lifetime. Stopping them (or dropping them) stops the proxy.
#[derive(Debug)]
pub(crate) struct Tasks {
    lifecycle: Arc<Lifecycle>,
    handles: Vec<JoinHandle<()>>,
}

impl Tasks {
    /// Accepts on every listener until the proxy stops, and stops it (resetting its
    /// connections) after `lifetime`.
    pub(crate) fn spawn<F>(
        listeners: Vec<TcpListener>,
        lifecycle: &Arc<Lifecycle>,
        lifetime: Duration,
        handler: F,
    ) -> Tasks
    where
        F: Fn(TcpStream) + Clone + Send + Sync + 'static,
    {
        let mut handles: Vec<JoinHandle<()>> = listeners
            .into_iter()
            .map(|listener| {
                let lifecycle = lifecycle.clone();
                let handler = handler.clone();
                tokio::spawn(async move {
                    loop {
                        tokio::select! {
                            () = lifecycle.stopped() => break,
                            accepted = listener.accept() => match accepted {
                                Ok((stream, _)) => {
                                    let _ = stream.set_nodelay(true);
                                    handler(stream);
                                }
                                // Out of descriptors or an aborted handshake: wait a little
                                // rather than spin.
                                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                            },
                        }
                    }
                })
            })
            .collect();
        let bound = lifecycle.clone();
        handles.push(tokio::spawn(async move {
            tokio::select! {
                () = bound.stopped() => {}
                () = tokio::time::sleep(lifetime) => bound.stop(true),
            }
        }));
        Tasks {
            lifecycle: lifecycle.clone(),
            handles,
        }
    }

    /// Stops accepting, closes every connection and waits for the tasks to end.
    pub(crate) async fn shutdown(&mut self) {
        self.lifecycle.stop(false);
        for task in self.handles.drain(..) {
            let _ = task.await;
        }
    }
}

impl Drop for Tasks {
    fn drop(&mut self) {
        self.lifecycle.stop(false);
        for task in &self.handles {
            task.abort();
        }
    }
}
