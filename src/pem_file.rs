//! Reading a PEM file (a certificate, a chain, a private key) under a size bound, so that a
//! path naming something endless (`/dev/zero`, a huge file by mistake) fails with a clear error
//! instead of filling memory.

use std::io::Read;
use std::path::Path;

use zeroize::Zeroizing;

/// The largest PEM file read: certificates, chains and keys are a few KiB.
pub(crate) const MAX_PEM_FILE_BYTES: usize = 1024 * 1024;

/// The bytes of the file at `path`, at most [`MAX_PEM_FILE_BYTES`]; a longer file is an
/// [`InvalidData`](std::io::ErrorKind::InvalidData) error. The buffer is allocated once at its
/// full size and wiped when dropped, so a private key leaves no copy behind in freed memory.
pub(crate) fn read_bounded(path: &Path) -> std::io::Result<Zeroizing<Vec<u8>>> {
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

    #[test]
    fn a_missing_file_is_not_found() {
        let err = read_bounded(Path::new("/nonexistent/cert.pem")).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    }
}
