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
