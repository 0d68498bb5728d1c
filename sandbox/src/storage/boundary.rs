//! The sync sidecar (`ledger.sync`): how far the ledger file was synced and acknowledged.
//!
//! After every batch is synced, and before any of its writers is answered, the writer records
//! the new end of the ledger file here and syncs this file too. Recovery then knows which
//! bytes were acknowledged (a checksum failure there is corruption) and which were written
//! after the last acknowledged sync (a damaged record there is a torn tail and may be cut).
//!
//! Layout: 1024 bytes, two slots of 32 bytes at offsets 0 and 512 (different disk sectors):
//! `magic "CLSBSYNC" | counter: u64 | end: u64 | crc32c(first 24 bytes): u32 | 0: u32`,
//! little-endian. Updates alternate between the slots; the valid slot with the highest counter
//! wins, so a write torn by a crash leaves the previous value readable.

use std::fs::OpenOptions;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::faults::{FaultyFile, StorageFaults};
use crate::SandboxError;

const MAGIC: &[u8; 8] = b"CLSBSYNC";
const SLOT: usize = 32;
const SLOT_STRIDE: u64 = 512;
const FILE_SIZE: usize = 1024;

/// The sidecar of the ledger file at `log`: same name, extension `sync`.
pub(crate) fn path_for(log: &Path) -> PathBuf {
    log.with_extension("sync")
}

fn encode(counter: u64, end: u64) -> [u8; SLOT] {
    let mut slot = [0u8; SLOT];
    slot[..8].copy_from_slice(MAGIC);
    slot[8..16].copy_from_slice(&counter.to_le_bytes());
    slot[16..24].copy_from_slice(&end.to_le_bytes());
    let crc = crc32c::crc32c(&slot[..24]);
    slot[24..28].copy_from_slice(&crc.to_le_bytes());
    slot
}

fn decode(slot: &[u8]) -> Option<(u64, u64)> {
    if slot.len() < SLOT || &slot[..8] != MAGIC {
        return None;
    }
    let word = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&slot[i..i + 8]);
        u64::from_le_bytes(b)
    };
    let crc = u32::from_le_bytes([slot[24], slot[25], slot[26], slot[27]]);
    (crc32c::crc32c(&slot[..24]) == crc).then(|| (word(8), word(16)))
}

/// The last recorded sync: `(counter, end)`, or `None` when the sidecar does not exist.
///
/// # Errors
///
/// [`SandboxError::Corrupt`] naming the sidecar when it exists but holds no valid slot.
pub(crate) fn read(path: &Path) -> Result<Option<(u64, u64)>, SandboxError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(SandboxError::io(
                format!("cannot read {}", path.display()),
                e,
            ));
        }
    };
    let slot = |i: u64| {
        let start = (i * SLOT_STRIDE) as usize;
        bytes.get(start..start + SLOT).and_then(decode)
    };
    match (slot(0), slot(1)) {
        (Some(a), Some(b)) => Ok(Some(if a.0 >= b.0 { a } else { b })),
        (Some(a), None) | (None, Some(a)) => Ok(Some(a)),
        (None, None) => Err(SandboxError::Corrupt {
            path: path.to_path_buf(),
            offset: 0,
            reason: "no valid sync record: the acknowledged end of the ledger file is unknown"
                .into(),
        }),
    }
}

/// The open sidecar, owned by the ledger writer.
#[derive(Debug)]
pub(crate) struct Boundary {
    file: FaultyFile,
    counter: u64,
    end: u64,
}

impl Boundary {
    /// Creates (or replaces) the sidecar at `path` recording `end`, synced.
    pub(crate) fn create(path: &Path, end: u64) -> Result<(), SandboxError> {
        let mut bytes = vec![0u8; FILE_SIZE];
        bytes[..SLOT].copy_from_slice(&encode(1, end));
        crate::fsutil::write_atomic(path, &bytes, 0o600)
    }

    /// Opens the sidecar at `path`, whose last record has `counter`, and `end`.
    pub(crate) fn open(
        path: &Path,
        counter: u64,
        end: u64,
        faults: StorageFaults,
    ) -> Result<Boundary, SandboxError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| SandboxError::io(format!("cannot open {}", path.display()), e))?;
        let size = file
            .metadata()
            .map_err(|e| SandboxError::io(format!("cannot inspect {}", path.display()), e))?
            .len();
        if size < FILE_SIZE as u64 {
            file.write_all_at(&vec![0u8; FILE_SIZE - size as usize], size)
                .and_then(|()| file.sync_all())
                .map_err(|e| SandboxError::io(format!("cannot extend {}", path.display()), e))?;
        }
        Ok(Boundary {
            file: FaultyFile::new(file, faults),
            counter,
            end,
        })
    }

    /// The acknowledged end of the ledger file.
    pub(crate) fn end(&self) -> u64 {
        self.end
    }

    /// Records `end` durably. On error the recorded value is unknown (either slot may have
    /// landed): call again before relying on it.
    pub(crate) fn record(&mut self, end: u64) -> std::io::Result<()> {
        let counter = self.counter + 1;
        let slot = counter % 2;
        self.file
            .overwrite_at(&encode(counter, end), slot * SLOT_STRIDE)?;
        self.file.sync()?;
        self.counter = counter;
        self.end = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_valid_slot_wins_and_a_torn_slot_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.sync");
        assert_eq!(read(&path).unwrap(), None);
        Boundary::create(&path, 16).unwrap();
        assert_eq!(read(&path).unwrap(), Some((1, 16)));
        let mut b = Boundary::open(&path, 1, 16, StorageFaults::default()).unwrap();
        b.record(100).unwrap();
        b.record(250).unwrap();
        assert_eq!(read(&path).unwrap(), Some((3, 250)));
        // Tear the newest slot (counter 3 lives in slot 1): the previous value is read.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[512 + 17] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(read(&path).unwrap(), Some((2, 100)));
        // Both torn: corruption naming the file.
        bytes[1] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let err = read(&path).unwrap_err().to_string();
        assert!(err.contains("ledger.sync"), "{err}");
    }
}
