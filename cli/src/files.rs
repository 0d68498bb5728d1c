//! Reading a file the user named, under a size bound and a time bound: a path naming
//! something endless (`/dev/zero`, a pipe that never ends, a huge file by mistake) fails with a
//! clear error instead of filling memory, and one naming a FIFO or a device that nothing feeds
//! fails instead of hanging the command.

use std::io::Read;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use crate::error::{CliError, CliResult};

/// The largest certificate file read (a PEM certificate or chain is a few KiB).
pub const MAX_CERTIFICATE_BYTES: u64 = 1024 * 1024;

/// The longest a file that is not a regular file (a FIFO such as a shell's `<(...)`, a device)
/// may take to open and read.
pub const NON_REGULAR_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The bytes of the file at `path`, at most `max` of them; a longer file is a usage error that
/// says what the file should have been (`what`). A file that is not a regular file is read on
/// a thread of its own and given up after [`NON_REGULAR_READ_TIMEOUT`].
pub fn read_bounded(path: &Path, max: u64, what: &str) -> CliResult<Vec<u8>> {
    read_bounded_within(path, max, what, NON_REGULAR_READ_TIMEOUT)
}

fn read_bounded_within(path: &Path, max: u64, what: &str, limit: Duration) -> CliResult<Vec<u8>> {
    let regular = std::fs::metadata(path)
        .map_err(CliError::read(path))?
        .is_file();
    let bytes = if regular {
        read_at_most(path, max)
    } else {
        let (sender, receiver) = mpsc::sync_channel(1);
        let owned = path.to_path_buf();
        std::thread::Builder::new()
            .name("file-read".to_owned())
            .spawn(move || {
                // The command may have given up: nobody to tell then.
                let _ = sender.send(read_at_most(&owned, max));
            })
            .map_err(CliError::read(path))?;
        receiver.recv_timeout(limit).unwrap_or_else(|_| {
            Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "nothing to read within {limit:?}: a FIFO or a device that nothing writes to?"
                ),
            ))
        })
    }
    .map_err(CliError::read(path))?;
    if bytes.len() as u64 > max {
        return Err(CliError::Usage(format!(
            "{} holds more than {max} bytes, more than {what} can be",
            path.display()
        )));
    }
    Ok(bytes)
}

/// At most `max + 1` bytes of the file at `path` (one more than allowed shows it is too long).
fn read_at_most(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(max + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Creates the directory `dir` (and its parents) if it is not there; a path that names
/// something else, such as a file, is a usage error that says so.
pub fn ensure_dir(dir: &Path) -> CliResult {
    if dir.exists() && !dir.is_dir() {
        return Err(CliError::Usage(format!(
            "{} exists and is not a directory",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(CliError::write(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn an_endless_file_is_refused_not_read_forever() {
        let err = read_bounded(Path::new("/dev/zero"), 4096, "a certificate").unwrap_err();
        assert!(err.to_string().contains("more than 4096 bytes"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_nothing_writes_to_is_given_up_in_time() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("cert.pem");
        let Some(()) = testkit::make_fifo(&fifo) else {
            return;
        };
        let started = std::time::Instant::now();
        let err = read_bounded_within(&fifo, 4096, "a certificate", Duration::from_millis(200))
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(10));
        let CliError::Read { source, .. } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(source.kind(), std::io::ErrorKind::TimedOut, "{source}");
        assert_eq!(
            err.exit_code(),
            2,
            "a read error, as for any unreadable file"
        );
        // A FIFO that is written to is read (another one: the reader given up on still waits
        // on the first, and would take what is written there).
        let fifo = dir.path().join("fed.pem");
        testkit::make_fifo(&fifo).expect("a second FIFO, as the first");
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::write(fifo, b"-----BEGIN"))
        };
        let bytes = read_bounded_within(&fifo, 4096, "a certificate", Duration::from_secs(20));
        assert_eq!(bytes.unwrap(), b"-----BEGIN");
        writer.join().unwrap().unwrap();
    }

    #[test]
    fn a_missing_file_is_a_read_error() {
        let err = read_bounded(Path::new("/no/such/file.pem"), 10, "a certificate").unwrap_err();
        assert!(matches!(err, CliError::Read { .. }), "{err:?}");
    }

    #[test]
    fn a_directory_is_made_and_a_file_is_not_one() {
        let dir = tempfile::tempdir().unwrap();
        let made = dir.path().join("a/b");
        ensure_dir(&made).unwrap();
        assert!(made.is_dir());
        ensure_dir(&made).unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        let err = ensure_dir(&file).unwrap_err();
        assert!(err.to_string().contains("is not a directory"), "{err}");
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn a_file_within_the_bound_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cert.pem");
        std::fs::write(&path, b"0123456789").unwrap();
        assert_eq!(
            read_bounded(&path, 10, "a certificate").unwrap(),
            b"0123456789"
        );
        assert!(read_bounded(&path, 9, "a certificate").is_err());
    }
}
