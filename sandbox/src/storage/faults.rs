//! Simulated storage faults: a switch a test flips to make the ledger file behave like a full
//! disk, a disk whose `fsync` fails, or one that cuts writes short, without root and without
//! filling a real disk.
//!
//! The switch is read by the ledger writer before every file operation, so it takes effect on
//! the next batch. [`FaultyFile`] is the only way the writer touches the log and the sync
//! sidecar.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

/// A simulated storage fault ([`StorageFaults::set`]).
///
/// # Examples
///
/// ```
/// use confidential_ledger_sandbox::StorageFault;
///
/// let fault: StorageFault = "disk-full".parse().unwrap();
/// assert_eq!(fault, StorageFault::DiskFull);
/// assert_eq!(fault.to_string(), "disk-full");
/// assert!("flood".parse::<StorageFault>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StorageFault {
    /// Appends to the ledger file fail with `ENOSPC`, as on a full disk. The complete records
    /// of a batch but its last one, and part of the last one, are written first (a real full
    /// disk fails part-way through a write). Shrinking the file still works.
    DiskFull,
    /// Every `fsync`/`fdatasync` of the ledger's files fails with `EIO`; writes themselves
    /// succeed. The writer cannot make the removal of a failed batch durable either, so its
    /// writers are told the outcome is unknown (`500`).
    FsyncFails,
    /// An append is cut short: a prefix of the batch (ending inside a record) lands in the
    /// file, then the write fails with `EIO`.
    ShortWrite,
}

impl StorageFault {
    const ALL: [StorageFault; 3] = [
        StorageFault::DiskFull,
        StorageFault::FsyncFails,
        StorageFault::ShortWrite,
    ];

    fn code(self) -> u8 {
        match self {
            StorageFault::DiskFull => 1,
            StorageFault::FsyncFails => 2,
            StorageFault::ShortWrite => 3,
        }
    }

    /// The name used on the command line: `disk-full`, `fsync-fails`, `short-write`.
    pub fn name(self) -> &'static str {
        match self {
            StorageFault::DiskFull => "disk-full",
            StorageFault::FsyncFails => "fsync-fails",
            StorageFault::ShortWrite => "short-write",
        }
    }
}

impl std::fmt::Display for StorageFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a storage fault name was not understood.
///
/// # Examples
///
/// ```
/// use confidential_ledger_sandbox::StorageFault;
///
/// let err = "full".parse::<StorageFault>().unwrap_err();
/// assert!(err.to_string().contains("disk-full"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown storage fault '{0}': expected disk-full, fsync-fails or short-write")]
pub struct ParseStorageFaultError(String);

impl std::str::FromStr for StorageFault {
    type Err = ParseStorageFaultError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StorageFault::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParseStorageFaultError(s.chars().take(64).collect()))
    }
}

/// The storage-fault switch of a running sandbox
/// ([`Sandbox::storage_faults`](crate::Sandbox::storage_faults)); healthy (`None`) until set.
///
/// While a fault is on, batches written to the ledger file fail. The writer then removes the
/// failed batch from the file (truncating back to the last acknowledged sync and syncing)
/// before answering anyone: its writers get `503 StorageUnavailable` (not applied). When the
/// removal itself cannot be made durable they get `500` (outcome unknown) instead, and the
/// removal is retried before the next write. After `set(None)` writes succeed again.
///
/// # Examples
///
/// ```
/// use confidential_ledger_sandbox::{StorageFault, StorageFaults};
///
/// let faults = StorageFaults::default();
/// assert_eq!(faults.current(), None);
/// faults.set(Some(StorageFault::DiskFull));
/// assert_eq!(faults.current(), Some(StorageFault::DiskFull));
/// faults.set(None);
/// assert_eq!(faults.current(), None);
/// assert_eq!(faults.failed_operations(), 0);
/// ```
#[derive(Clone, Debug, Default)]
pub struct StorageFaults {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    current: AtomicU8,
    failed: AtomicU64,
}

impl StorageFaults {
    /// Turns a fault on (`Some`) or makes storage healthy again (`None`). Takes effect on the
    /// next file operation of the ledger writer.
    pub fn set(&self, fault: Option<StorageFault>) {
        let code = fault.map_or(0, StorageFault::code);
        self.inner.current.store(code, Ordering::SeqCst);
    }

    /// The fault currently on, if any.
    pub fn current(&self) -> Option<StorageFault> {
        let code = self.inner.current.load(Ordering::SeqCst);
        StorageFault::ALL.into_iter().find(|f| f.code() == code)
    }

    /// Number of file operations that failed because of a simulated fault so far.
    pub fn failed_operations(&self) -> u64 {
        self.inner.failed.load(Ordering::SeqCst)
    }

    fn failing(&self, kind: io::ErrorKind, what: &str) -> io::Error {
        self.inner.failed.fetch_add(1, Ordering::SeqCst);
        let errno = match kind {
            io::ErrorKind::StorageFull => rustix::io::Errno::NOSPC,
            _ => rustix::io::Errno::IO,
        };
        let os = io::Error::from(errno);
        io::Error::new(os.kind(), format!("{os} (simulated: {what})"))
    }
}

/// A file whose appends and syncs go through a [`StorageFaults`] switch.
#[derive(Debug)]
pub(crate) struct FaultyFile {
    file: File,
    faults: StorageFaults,
}

impl FaultyFile {
    pub(crate) fn new(file: File, faults: StorageFaults) -> Self {
        FaultyFile { file, faults }
    }

    /// Appends `buf` at `offset`; `records` are the lengths of the records `buf` is made of
    /// (a simulated full disk fails at the last one).
    pub(crate) fn append_at(&self, buf: &[u8], offset: u64, records: &[usize]) -> io::Result<()> {
        match self.faults.current() {
            Some(StorageFault::DiskFull) => {
                let last = records.last().copied().unwrap_or(buf.len()).min(buf.len());
                let fits = buf.len() - last + last / 2;
                self.file.write_all_at(&buf[..fits], offset)?;
                Err(self.faults.failing(io::ErrorKind::StorageFull, "disk full"))
            }
            Some(StorageFault::ShortWrite) if !buf.is_empty() => {
                let first = records.first().copied().unwrap_or(buf.len()).min(buf.len());
                let cut = (first / 2).max(1).min(buf.len() - 1);
                self.file.write_all_at(&buf[..cut], offset)?;
                Err(self.faults.failing(io::ErrorKind::Other, "short write"))
            }
            _ => self.file.write_all_at(buf, offset),
        }
    }

    /// Overwrites `buf` at `offset` inside the file (no growth beyond what a full disk
    /// refuses: the sidecar's slots are preallocated).
    pub(crate) fn overwrite_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.file.write_all_at(buf, offset)
    }

    /// `fdatasync`.
    pub(crate) fn sync(&self) -> io::Result<()> {
        if self.faults.current() == Some(StorageFault::FsyncFails) {
            return Err(self.faults.failing(io::ErrorKind::Other, "fsync failed"));
        }
        self.file.sync_data()
    }

    /// Cuts the file to `len` bytes (works on a full disk).
    pub(crate) fn truncate(&self, len: u64) -> io::Result<()> {
        self.file.set_len(len)
    }
}
