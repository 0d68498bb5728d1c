//! Reading a PEM file (a certificate, a chain, a private key) under a size bound and a time
//! bound, so that a path naming something endless (`/dev/zero`, a huge file by mistake) fails
//! with a clear error instead of filling memory, and one naming a FIFO or a device that
//! nothing feeds fails instead of blocking its caller for ever.

use std::io::Read;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use zeroize::Zeroizing;

/// The largest PEM file read: certificates, chains and keys are a few KiB.
pub(crate) const MAX_PEM_FILE_BYTES: usize = 1024 * 1024;

/// The longest a PEM file that is not a regular file (a FIFO, `<(...)`, a device) may take to
/// open and read.
pub(crate) const PEM_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The bytes of the file at `path`, at most [`MAX_PEM_FILE_BYTES`]; a longer file is an
/// [`InvalidData`](std::io::ErrorKind::InvalidData) error. The buffer is allocated once at its
/// full size and wiped when dropped, so a private key leaves no copy behind in freed memory.
///
/// A regular file is read at once. Anything else (a FIFO such as a shell's `<(...)`, a
/// device) is read on a thread of its own, and given up with a
/// [`TimedOut`](std::io::ErrorKind::TimedOut) error after [`PEM_READ_TIMEOUT`] (that thread
/// ends when the other side writes or goes away).
pub(crate) fn read_bounded(path: &Path) -> std::io::Result<Zeroizing<Vec<u8>>> {
    read_bounded_within(path, PEM_READ_TIMEOUT)
}

fn read_bounded_within(path: &Path, limit: Duration) -> std::io::Result<Zeroizing<Vec<u8>>> {
    if std::fs::metadata(path)?.is_file() {
        return read_now(path);
    }
    let (sender, receiver) = mpsc::sync_channel(1);
    let owned = path.to_path_buf();
    std::thread::Builder::new()
        .name("pem-file-read".to_string())
        .spawn(move || {
            // The caller may have given up: nobody to tell then.
            let _ = sender.send(read_now(&owned));
        })?;
    match receiver.recv_timeout(limit) {
        Ok(read) => read,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("nothing to read within {limit:?}: a FIFO or a device that nothing writes to?"),
        )),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(std::io::Error::other(
            "the thread reading the file ended without an answer",
        )),
    }
}

fn read_now(path: &Path) -> std::io::Result<Zeroizing<Vec<u8>>> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Zeroizing::new(Vec::with_capacity(MAX_PEM_FILE_BYTES + 1));
    file.take(MAX_PEM_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() > MAX_PEM_FILE_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {MAX_PEM_FILE_BYTES} bytes, which no PEM certificate or key is"),
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_file_is_read_whole() {
        let dir = std::env::temp_dir().join(format!("pem-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("small.pem");
        std::fs::write(&path, b"-----BEGIN CERTIFICATE-----\n").unwrap();
        assert_eq!(
            &read_bounded(&path).unwrap()[..],
            b"-----BEGIN CERTIFICATE-----\n"
        );
        let large = dir.join("large.pem");
        std::fs::write(&large, vec![b'A'; MAX_PEM_FILE_BYTES + 1]).unwrap();
        let err = read_bounded(&large).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        std::fs::write(&large, vec![b'A'; MAX_PEM_FILE_BYTES]).unwrap();
        assert_eq!(read_bounded(&large).unwrap().len(), MAX_PEM_FILE_BYTES);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn an_endless_file_is_refused_not_read_forever() {
        let err = read_bounded(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("larger than"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_nothing_writes_to_times_out_and_one_that_is_fed_is_read() {
        use std::io::Write;

        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("cert.pem");
        let Some(()) = testkit::make_fifo(&fifo) else {
            return;
        };
        let err = read_bounded_within(&fifo, Duration::from_millis(200)).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
        // Let the abandoned reader go: a writer that opens and closes ends its read.
        drop(std::fs::OpenOptions::new().write(true).open(&fifo).unwrap());

        // Another FIFO: the abandoned reader may still hold the first one open.
        let fifo = dir.path().join("fed.pem");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                let mut pipe = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
                pipe.write_all(b"-----BEGIN CERTIFICATE-----\n").unwrap();
            })
        };
        let read = read_bounded_within(&fifo, Duration::from_secs(10)).unwrap();
        assert_eq!(&read[..], b"-----BEGIN CERTIFICATE-----\n");
        writer.join().unwrap();
    }

    #[test]
    fn a_missing_file_is_not_found() {
        let err = read_bounded(Path::new("/nonexistent/cert.pem")).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    }
}
