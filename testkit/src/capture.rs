//! [`Capture`]: an in-memory writer for log output that tests scan.

use std::io::Write;
use std::sync::{Arc, Mutex};

/// Collects what a tracing subscriber (or a logger) writes; clones share one buffer, so a
/// subscriber can be given `move || capture.clone()` as its writer.
///
/// # Examples
///
/// ```
/// use std::io::Write;
/// let capture = testkit::capture::Capture::default();
/// let mut writer = capture.clone();
/// writer.write_all(b"authorization: [redacted]\n").unwrap();
/// assert_eq!(capture.take(), "authorization: [redacted]\n");
/// assert_eq!(capture.take(), "");
/// ```
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    /// Everything written so far (lossy UTF-8), emptying the capture.
    pub fn take(&self) -> String {
        let bytes = std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()));
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// Every `tracing` event at `level` or more severe emitted on this thread, as a plain-text fmt
/// subscriber writes it, into a [`Capture`], for as long as the value lives.
///
/// Other tests of the same binary run at the same time on threads without a subscriber. With a
/// single dispatcher registered, tracing decides a callsite's interest from the default of
/// whichever thread reaches it first and may cache "never" for this thread too; the silent
/// second dispatcher kept here makes it consult every registered dispatcher instead. Callsites
/// reached before the capture started may still need `tracing::callsite::rebuild_interest_cache()`.
///
/// # Examples
///
/// ```
/// let logs = testkit::capture::ThreadCapture::start(tracing::Level::INFO);
/// tracing::info!("written");
/// tracing::debug!("not written");
/// let text = logs.take();
/// assert!(text.contains("written") && !text.contains("not written"));
/// ```
pub struct ThreadCapture {
    capture: Capture,
    _silent: tracing::Dispatch,
    _guard: tracing::subscriber::DefaultGuard,
}

impl ThreadCapture {
    /// Starts capturing this thread's events at `level` or more severe.
    pub fn start(level: tracing::Level) -> ThreadCapture {
        let capture = Capture::default();
        let writer = capture.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(level)
            .with_writer(move || writer.clone())
            .finish();
        let silent = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
        let guard = tracing::subscriber::set_default(subscriber);
        ThreadCapture {
            capture,
            _silent: silent,
            _guard: guard,
        }
    }

    /// Everything captured so far, emptying the capture.
    pub fn take(&self) -> String {
        self.capture.take()
    }

    /// The buffer the events go into, shared (to add another writer, such as a `log` logger).
    pub fn buffer(&self) -> Capture {
        self.capture.clone()
    }
}
