//! Reading a file the user named, under a size bound: a path naming something endless
//! (`/dev/zero`, a pipe that never ends, a huge file by mistake) fails with a clear error
//! instead of filling memory.

use std::io::Read;
use std::path::Path;

use crate::error::{CliError, CliResult};

/// The largest certificate file read (a PEM certificate or chain is a few KiB).
pub const MAX_CERTIFICATE_BYTES: u64 = 1024 * 1024;

/// The bytes of the file at `path`, at most `max` of them; a longer file is a usage error that
/// says what the file should have been (`what`).
pub fn read_bounded(path: &Path, max: u64, what: &str) -> CliResult<Vec<u8>> {
    let file = std::fs::File::open(path).map_err(CliError::read(path))?;
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(CliError::read(path))?;
    if bytes.len() as u64 > max {
        return Err(CliError::Usage(format!(
            "{} holds more than {max} bytes, more than {what} can be",
            path.display()
        )));
    }
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
