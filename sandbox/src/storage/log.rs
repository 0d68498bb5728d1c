//! The append-only ledger file.
//!
//! Layout: a 16-byte file header (`CLSBXLOG`, format version, reserved), then records:
//! `magic: u32 | len: u32 | crc32c(len || payload): u32 | payload`, little-endian.
//!
//! Writes go through one writer thread that takes every record queued while the previous
//! batch was being synced, writes them with one `write` and makes them durable with one
//! `fdatasync` (group commit), then publishes the highest durable sequence number.
//!
//! Recovery reads the records in order. A record that is incomplete or fails its checksum and
//! is followed by no valid record is a torn tail (a crash during the last batch): the file is
//! truncated to the last complete record. A damaged record followed by valid ones is
//! corruption: recovery fails and names the offset.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, mpsc};
use std::thread::JoinHandle;

use tokio::sync::watch;

use crate::SandboxError;

/// Name of the ledger file in the data directory.
pub(crate) const LOG_FILE: &str = "ledger.log";
const FILE_MAGIC: &[u8; 8] = b"CLSBXLOG";
const FORMAT_VERSION: u32 = 1;
/// Size of the file header.
pub(crate) const FILE_HEADER: u64 = 16;
const RECORD_MAGIC: u32 = 0x5243_4C53; // "SLCR"
/// Size of a record header.
pub(crate) const RECORD_HEADER: usize = 12;
/// Largest payload accepted when reading (far above the request body limit).
const MAX_PAYLOAD: u32 = 256 * 1024 * 1024;
/// Most bytes written in one batch.
const MAX_BATCH_BYTES: usize = 16 * 1024 * 1024;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn checksum(payload: &[u8]) -> u32 {
    let len = (payload.len() as u32).to_le_bytes();
    crc32c::crc32c_append(crc32c::crc32c(&len), payload)
}

/// A complete record (header and payload) ready to append.
pub(crate) fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(RECORD_HEADER + payload.len());
    out.extend_from_slice(&RECORD_MAGIC.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&checksum(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// Parses the record header at the start of `header`: the payload length and checksum, or
/// why it is not a record header.
fn parse_header(header: &[u8; RECORD_HEADER]) -> Result<(u32, u32), &'static str> {
    let word =
        |i: usize| u32::from_le_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
    if word(0) != RECORD_MAGIC {
        return Err("bad record marker");
    }
    let len = word(4);
    if len > MAX_PAYLOAD {
        return Err("implausible record length");
    }
    Ok((len, word(8)))
}

/// What recovery found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Recovery {
    /// Number of complete records.
    pub(crate) records: u64,
    /// Offset just past the last complete record: where appends continue.
    pub(crate) end: u64,
    /// Bytes of a torn tail that were cut off.
    pub(crate) truncated_bytes: u64,
}

fn corrupt(path: &Path, offset: u64, reason: impl Into<String>) -> SandboxError {
    SandboxError::Corrupt {
        path: path.to_path_buf(),
        offset,
        reason: reason.into(),
    }
}

/// Whether a valid record starts anywhere in `rest` (the bytes after a damaged record).
fn valid_record_follows(rest: &[u8]) -> bool {
    let marker = RECORD_MAGIC.to_le_bytes();
    let mut i = 0;
    while i + RECORD_HEADER <= rest.len() {
        if rest[i..i + 4] == marker {
            let mut header = [0u8; RECORD_HEADER];
            header.copy_from_slice(&rest[i..i + RECORD_HEADER]);
            if let Ok((len, crc)) = parse_header(&header) {
                let start = i + RECORD_HEADER;
                if let Some(payload) = rest.get(start..start + len as usize)
                    && checksum(payload) == crc
                {
                    return true;
                }
            }
        }
        i += 1;
    }
    false
}

/// Creates the ledger file if it does not exist, replays its records through `apply` (the
/// record's offset and payload; an error there is corruption at that offset), truncates a
/// torn tail, and returns where appends continue.
pub(crate) fn recover(
    path: &Path,
    mut apply: impl FnMut(u64, &[u8]) -> Result<(), String>,
) -> Result<Recovery, SandboxError> {
    let io = |what: &str, e| SandboxError::io(format!("{what} {}", path.display()), e);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(|e| io("cannot open", e))?;
    let size = file.metadata().map_err(|e| io("cannot inspect", e))?.len();
    if size < FILE_HEADER {
        // A new file, or one torn before its header was complete: nothing was ever appended.
        let mut header = Vec::with_capacity(FILE_HEADER as usize);
        header.extend_from_slice(FILE_MAGIC);
        header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        header.extend_from_slice(&0u32.to_le_bytes());
        file.set_len(0).map_err(|e| io("cannot truncate", e))?;
        file.write_all_at(&header, 0)
            .and_then(|()| file.sync_all())
            .map_err(|e| io("cannot write", e))?;
        if let Some(dir) = path.parent() {
            crate::fsutil::sync_dir(dir)?;
        }
        return Ok(Recovery {
            records: 0,
            end: FILE_HEADER,
            truncated_bytes: 0,
        });
    }
    let mut header = [0u8; FILE_HEADER as usize];
    file.read_exact_at(&mut header, 0)
        .map_err(|e| io("cannot read", e))?;
    if &header[..8] != FILE_MAGIC {
        return Err(corrupt(path, 0, "not a sandbox ledger file"));
    }
    let version = u32::from_le_bytes([header[8], header[9], header[10], header[11]]);
    if version != FORMAT_VERSION {
        return Err(corrupt(
            path,
            8,
            format!("unsupported format version {version}"),
        ));
    }

    file.seek(SeekFrom::Start(FILE_HEADER))
        .map_err(|e| io("cannot seek", e))?;
    let mut reader = BufReader::with_capacity(4 << 20, &file);
    let mut offset = FILE_HEADER;
    let mut records = 0u64;
    let mut payload = Vec::new();
    // The first damaged record, if any, and why.
    let mut damage: Option<&'static str> = None;
    while offset < size {
        let remaining = size - offset;
        if remaining < RECORD_HEADER as u64 {
            damage = Some("incomplete record header");
            break;
        }
        let mut rh = [0u8; RECORD_HEADER];
        reader
            .read_exact(&mut rh)
            .map_err(|e| io("cannot read", e))?;
        let (len, crc) = match parse_header(&rh) {
            Ok(v) => v,
            Err(why) => {
                damage = Some(why);
                break;
            }
        };
        if u64::from(len) > remaining - RECORD_HEADER as u64 {
            damage = Some("incomplete record");
            break;
        }
        payload.resize(len as usize, 0);
        reader
            .read_exact(&mut payload)
            .map_err(|e| io("cannot read", e))?;
        if checksum(&payload) != crc {
            damage = Some("checksum mismatch");
            break;
        }
        apply(offset, &payload).map_err(|why| corrupt(path, offset, why))?;
        offset += RECORD_HEADER as u64 + u64::from(len);
        records += 1;
    }
    drop(reader);

    let mut truncated_bytes = 0;
    if let Some(why) = damage {
        let mut rest = Vec::new();
        file.seek(SeekFrom::Start(offset + 1))
            .map_err(|e| io("cannot seek", e))?;
        file.read_to_end(&mut rest)
            .map_err(|e| io("cannot read", e))?;
        if valid_record_follows(&rest) {
            return Err(corrupt(
                path,
                offset,
                format!("{why}, and valid records follow (refusing to drop them)"),
            ));
        }
        truncated_bytes = size - offset;
        tracing::warn!(
            path = %path.display(),
            offset,
            bytes = truncated_bytes,
            "truncating a torn tail ({why})"
        );
        file.set_len(offset)
            .and_then(|()| file.sync_all())
            .map_err(|e| io("cannot truncate", e))?;
    }
    Ok(Recovery {
        records,
        end: offset,
        truncated_bytes,
    })
}

/// How far the log is durable, or why it stopped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Durability {
    /// Highest sequence number on disk and synced.
    pub(crate) seqno: u64,
    /// Set when a write or sync failed; nothing after `seqno` will become durable.
    pub(crate) failed: Option<Arc<str>>,
}

/// Group-commit statistics.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) batches: AtomicU64,
    pub(crate) records: AtomicU64,
}

struct Pending {
    seqno: u64,
    frame: Vec<u8>,
}

/// The writer thread and the queue feeding it.
pub(crate) struct LogWriter {
    sender: Mutex<Option<mpsc::Sender<Pending>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    pub(crate) stats: Arc<Stats>,
}

impl std::fmt::Debug for LogWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogWriter").finish_non_exhaustive()
    }
}

impl LogWriter {
    /// Starts the writer appending at `end` of `path`; durable sequence numbers (starting from
    /// `durable_seqno`) are published on the returned channel.
    pub(crate) fn start(
        path: &Path,
        end: u64,
        durable_seqno: u64,
    ) -> Result<(LogWriter, watch::Receiver<Durability>), SandboxError> {
        let mut file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| SandboxError::io(format!("cannot open {}", path.display()), e))?;
        file.seek(SeekFrom::Start(end))
            .map_err(|e| SandboxError::io(format!("cannot seek {}", path.display()), e))?;
        let (tx, rx) = mpsc::channel::<Pending>();
        let (dtx, drx) = watch::channel(Durability {
            seqno: durable_seqno,
            failed: None,
        });
        let stats = Arc::new(Stats::default());
        let thread_stats = stats.clone();
        let path: PathBuf = path.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("ledger-writer".into())
            .spawn(move || write_loop(file, path, rx, dtx, thread_stats))
            .map_err(|e| SandboxError::io("cannot start the ledger writer thread", e))?;
        Ok((
            LogWriter {
                sender: Mutex::new(Some(tx)),
                thread: Mutex::new(Some(thread)),
                stats,
            },
            drx,
        ))
    }

    /// Queues a record. Records become durable in the order they are queued.
    pub(crate) fn append(&self, seqno: u64, frame: Vec<u8>) -> Result<(), SandboxError> {
        match &*lock(&self.sender) {
            Some(s) => s
                .send(Pending { seqno, frame })
                .map_err(|_| SandboxError::Storage("the ledger writer has stopped".into())),
            None => Err(SandboxError::ShuttingDown),
        }
    }

    /// Writes and syncs everything queued, then stops the thread.
    pub(crate) fn close(&self) {
        lock(&self.sender).take();
        let thread = lock(&self.thread).take();
        if let Some(t) = thread {
            // The thread only ends by finishing its queue; a panic there has been logged.
            let _ = t.join();
        }
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        self.close();
    }
}

fn write_loop(
    mut file: File,
    path: PathBuf,
    rx: mpsc::Receiver<Pending>,
    durable: watch::Sender<Durability>,
    stats: Arc<Stats>,
) {
    let mut batch: Vec<u8> = Vec::with_capacity(1 << 20);
    let mut failed = false;
    while let Ok(first) = rx.recv() {
        batch.clear();
        batch.extend_from_slice(&first.frame);
        let mut last = first.seqno;
        let mut count = 1u64;
        while batch.len() < MAX_BATCH_BYTES {
            match rx.try_recv() {
                Ok(p) => {
                    batch.extend_from_slice(&p.frame);
                    last = p.seqno;
                    count += 1;
                }
                Err(_) => break,
            }
        }
        if failed {
            continue;
        }
        match file.write_all(&batch).and_then(|()| file.sync_data()) {
            Ok(()) => {
                stats.batches.fetch_add(1, Ordering::Relaxed);
                stats.records.fetch_add(count, Ordering::Relaxed);
                durable.send_modify(|d| d.seqno = last);
            }
            Err(e) => {
                failed = true;
                let message: Arc<str> = format!("cannot append to {}: {e}", path.display()).into();
                tracing::error!("{message}");
                durable.send_modify(|d| d.failed = Some(message));
            }
        }
    }
}

/// Reads the record at `offset` (of `len` bytes including its header) and checks it.
pub(crate) fn read_record(
    file: &File,
    path: &Path,
    offset: u64,
    len: u32,
) -> Result<Vec<u8>, SandboxError> {
    let mut buf = vec![0u8; len as usize];
    file.read_exact_at(&mut buf, offset)
        .map_err(|e| SandboxError::io(format!("cannot read {} at {offset}", path.display()), e))?;
    if buf.len() < RECORD_HEADER {
        return Err(corrupt(path, offset, "record too short"));
    }
    let mut rh = [0u8; RECORD_HEADER];
    rh.copy_from_slice(&buf[..RECORD_HEADER]);
    let (plen, crc) = parse_header(&rh).map_err(|why| corrupt(path, offset, why))?;
    let payload = buf.split_off(RECORD_HEADER);
    if plen as usize != payload.len() || checksum(&payload) != crc {
        return Err(corrupt(path, offset, "checksum mismatch on read"));
    }
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_records(path: &Path, payloads: &[&[u8]]) -> Vec<u64> {
        recover(path, |_, _| Ok(())).unwrap();
        let mut f = OpenOptions::new().append(true).open(path).unwrap();
        let mut offsets = Vec::new();
        let mut at = f.metadata().unwrap().len();
        for p in payloads {
            offsets.push(at);
            let fr = frame(p);
            at += fr.len() as u64;
            f.write_all(&fr).unwrap();
        }
        offsets
    }

    fn collect(path: &Path) -> Result<(Vec<Vec<u8>>, Recovery), SandboxError> {
        let mut seen = Vec::new();
        let r = recover(path, |_, p| {
            seen.push(p.to_vec());
            Ok(())
        })?;
        Ok((seen, r))
    }

    #[test]
    fn torn_tail_is_truncated_and_corruption_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.log");
        let offsets = write_records(&path, &[b"one", b"two", b"three"]);
        let full = std::fs::metadata(&path).unwrap().len();

        // Torn: the last record loses its final bytes.
        let f = OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(full - 2).unwrap();
        let (seen, r) = collect(&path).unwrap();
        assert_eq!(seen, vec![b"one".to_vec(), b"two".to_vec()]);
        assert_eq!(r.end, offsets[2]);
        assert_eq!(r.truncated_bytes, full - 2 - offsets[2]);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), offsets[2]);

        // Garbage after the last record is a torn tail too.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[0u8; 7]).unwrap();
        let (seen, _) = collect(&path).unwrap();
        assert_eq!(seen.len(), 2);

        // A flipped byte in the first record, with a valid record after it: corruption.
        let f = OpenOptions::new().write(true).open(&path).unwrap();
        f.write_all_at(b"X", offsets[0] + RECORD_HEADER as u64)
            .unwrap();
        match collect(&path) {
            Err(SandboxError::Corrupt { offset, .. }) => assert_eq!(offset, offsets[0]),
            other => panic!("expected corruption, got {other:?}"),
        }
        // A damaged length field is detected the same way.
        f.write_all_at(b"o", offsets[0] + RECORD_HEADER as u64)
            .unwrap();
        f.write_all_at(&[0xff, 0xff, 0xff, 0x0f], offsets[1] + 4)
            .unwrap();
        match collect(&path) {
            Err(SandboxError::Corrupt { offset, .. }) => assert_eq!(offset, offsets[1]),
            Ok(_) => {
                // Record 1 is the last one here: damage there is indistinguishable from a
                // torn tail and must have been truncated.
                assert_eq!(std::fs::metadata(&path).unwrap().len(), offsets[1]);
            }
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn writer_group_commits_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.log");
        let r = recover(&path, |_, _| Ok(())).unwrap();
        let (w, rx) = LogWriter::start(&path, r.end, 0).unwrap();
        let mut at = r.end;
        let mut offsets = Vec::new();
        for i in 1..=100u64 {
            let fr = frame(format!("record {i}").as_bytes());
            offsets.push((at, fr.len() as u32));
            at += fr.len() as u64;
            w.append(i, fr).unwrap();
        }
        w.close();
        assert_eq!(rx.borrow().seqno, 100);
        let batches = w.stats.batches.load(Ordering::Relaxed);
        assert!((1..=100).contains(&batches));
        let file = File::open(&path).unwrap();
        let (off, len) = offsets[41];
        assert_eq!(read_record(&file, &path, off, len).unwrap(), b"record 42");
        let (seen, rec) = collect(&path).unwrap();
        assert_eq!(seen.len(), 100);
        assert_eq!(rec.end, at);
    }
}
