//! Small file-system helpers: atomic replacement, directory sync, the data-directory lock.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::SandboxError;

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, synced, then
/// renamed over `path`, then the directory synced. `mode` is the Unix permission of the file.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), SandboxError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    let ctx = |what: &str| format!("{what} {}", tmp.display());
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .map_err(|e| SandboxError::io(ctx("cannot create"), e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| SandboxError::io(ctx("cannot write"), e))?;
    drop(file);
    fs::rename(&tmp, path).map_err(|e| {
        SandboxError::io(
            format!("cannot rename {} to {}", tmp.display(), path.display()),
            e,
        )
    })?;
    sync_dir(dir)
}

/// Makes directory entries (creations, renames) durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), SandboxError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| SandboxError::io(format!("cannot sync directory {}", dir.display()), e))
}

/// An exclusive advisory lock on a data directory, held while the value lives.
#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
}

impl DirLock {
    /// Takes the lock on `dir`, failing with [`SandboxError::Locked`] when another process (or
    /// another sandbox in this process) holds it.
    pub(crate) fn acquire(dir: &Path) -> Result<DirLock, SandboxError> {
        let path = dir.join("LOCK");
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(|e| SandboxError::io(format!("cannot open {}", path.display()), e))?;
        match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(DirLock { _file: file }),
            Err(e) if e == rustix::io::Errno::WOULDBLOCK => Err(SandboxError::Locked {
                path: dir.to_path_buf(),
            }),
            Err(e) => Err(SandboxError::io(
                format!("cannot lock {}", path.display()),
                e.into(),
            )),
        }
    }

    /// Whether some process holds the lock on `dir` right now.
    pub(crate) fn is_held(dir: &Path) -> bool {
        matches!(DirLock::acquire(dir), Err(SandboxError::Locked { .. }))
    }
}

/// Reads a UTF-8 file, naming it in the error.
pub(crate) fn read_to_string(path: &Path) -> Result<String, SandboxError> {
    fs::read_to_string(path)
        .map_err(|e| SandboxError::io(format!("cannot read {}", path.display()), e))
}
