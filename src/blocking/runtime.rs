//! The thread the blocking twin runs the async client on.
//!
//! One thread per [`Runtime`] (shared by clones: a client, its pollers and its pagers) drives a
//! current-thread tokio runtime. A blocking call packs the async call into a job, sends it to
//! that thread, and parks the calling thread until the answer comes back. Calls from several
//! threads run concurrently on it, as tasks. The thread stops when the last handle is dropped.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use crate::{Error, ErrorKind};

type Job = BoxFuture<'static, ()>;

/// A panic caught on the runtime thread, to resume on the caller's.
pub(crate) type Panic = Box<dyn Any + Send + 'static>;

/// A handle to the runtime thread. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Runtime {
    shared: Arc<Shared>,
}

struct Shared {
    /// `None` once dropped, which ends the thread's job loop.
    jobs: Option<mpsc::UnboundedSender<Job>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Closing the channel ends the job loop; the runtime (and every connection it holds)
        // is then dropped on its own thread. Wait for that, unless this is that thread.
        self.jobs = None;
        let thread = self
            .thread
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = thread
            && thread.thread().id() != thread::current().id()
        {
            let _ = thread.join();
        }
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let thread = self
            .shared
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|t| t.thread().id());
        f.debug_struct("Runtime")
            .field("thread", &thread)
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// Starts the runtime thread.
    ///
    /// # Panics
    ///
    /// Inside an async execution context (see [`ensure_blocking_allowed`]).
    pub(crate) fn start() -> Result<Self, Error> {
        ensure_blocking_allowed();
        let (jobs, mut queue) = mpsc::unbounded_channel::<Job>();
        let (started, ready) = std::sync::mpsc::channel();
        let thread = thread::Builder::new()
            .name("confidential-ledger-blocking".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = started.send(Err(e));
                        return;
                    }
                };
                let _ = started.send(Ok(()));
                runtime.block_on(async move {
                    while let Some(job) = queue.recv().await {
                        tokio::spawn(job);
                    }
                });
            })
            .map_err(cannot_start)?;
        match ready.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(cannot_start(e)),
            Err(_) => {
                return Err(Error::new(
                    ErrorKind::Transport,
                    "the blocking client's runtime thread stopped while starting",
                ));
            }
        }
        Ok(Self {
            shared: Arc::new(Shared {
                jobs: Some(jobs),
                thread: Mutex::new(Some(thread)),
            }),
        })
    }

    /// Runs `future` on the runtime thread and waits for its output. A panic of `future` is
    /// resumed here.
    ///
    /// # Panics
    ///
    /// Inside an async execution context (see [`ensure_blocking_allowed`]), before `future`
    /// starts.
    pub(crate) fn block_on<F>(&self, future: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        ensure_blocking_allowed();
        let (answer, answered) = oneshot::channel();
        self.spawn(async move {
            let output = AssertUnwindSafe(future).catch_unwind().await;
            let _ = answer.send(output);
        });
        match answered.blocking_recv() {
            Ok(Ok(output)) => output,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            // The job was dropped unanswered: only when the runtime thread is gone, which
            // cannot happen while this handle keeps its channel open.
            Err(_) => panic!("the blocking client's runtime thread stopped"),
        }
    }

    /// Runs `future` on the runtime thread without waiting for it.
    pub(crate) fn spawn(&self, future: impl Future<Output = ()> + Send + 'static) {
        if let Some(jobs) = &self.shared.jobs {
            // The receiver lives as long as the thread, which lives as long as this handle.
            let _ = jobs.send(future.boxed());
        }
    }
}

/// Panics when the calling thread may not block: it is driving asynchronous tasks (inside
/// `#[tokio::main]`, `Runtime::block_on` or a spawned task), where blocking would stall every
/// task on it. Blocking is allowed on other threads, in `tokio::task::spawn_blocking` and in
/// `tokio::task::block_in_place`.
///
/// The check is tokio's own (the one `blocking_recv` makes), done before any work is handed
/// to the runtime thread, so nothing has been sent when it panics.
#[track_caller]
pub(crate) fn ensure_blocking_allowed() {
    let (ready, check) = oneshot::channel::<()>();
    let _ = ready.send(());
    let _ = check.blocking_recv();
}

fn cannot_start(err: std::io::Error) -> Error {
    Error::new(
        ErrorKind::Transport,
        format!("cannot start the blocking client's runtime thread: {err}"),
    )
    .with_source(err)
}
