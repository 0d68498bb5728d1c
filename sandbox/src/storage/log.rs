//! The append-only ledger file.
//!
//! Layout: a 16-byte file header (`CLSBXLOG`, format version, reserved), then records:
//! `magic: u32 | len: u32 | crc32c(len || payload): u32 | payload`, little-endian. Records are
//! found only by reading their lengths forward from the file header, never by searching for
//! the magic, so an entry whose contents look like a record is never mistaken for one.
//!
//! Writes go through one writer thread that takes every record queued while the previous
//! batch was being synced, writes them with one `write` and makes them durable with one
//! `fdatasync` (group commit), records the new end in the sync sidecar
//! ([`super::boundary`]), then publishes the highest durable sequence number and answers each
//! record's writer. A batch that cannot be written or synced is removed again (the file is
//! truncated back to the last acknowledged end and synced) before anyone is answered; its
//! writers, and the writers of every record queued after it, are told it was refused. When the
//! removal cannot be made durable they are told the outcome is unknown. Either way the writer
//! then refuses everything until the ledger [resets](LogWriter::reset) it.
//!
//! Recovery reads the records in order. Below the acknowledged end recorded in the sidecar,
//! every record must be complete and pass its checksum (anything else is corruption: recovery
//! fails and names the offset). From the acknowledged end on, the first damaged or incomplete
//! record and everything after it is a torn tail (a crash during an unacknowledged batch) and
//! is cut off.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, mpsc};
use std::thread::JoinHandle;

use tokio::sync::watch;

use super::boundary::{self, Boundary};
use super::faults::{FaultyFile, StorageFaults};
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
    /// Counter of the sidecar's last record.
    pub(crate) sync_counter: u64,
}

fn corrupt(path: &Path, offset: u64, reason: impl Into<String>) -> SandboxError {
    SandboxError::Corrupt {
        path: path.to_path_buf(),
        offset,
        reason: reason.into(),
    }
}

fn file_header() -> Vec<u8> {
    let mut header = Vec::with_capacity(FILE_HEADER as usize);
    header.extend_from_slice(FILE_MAGIC);
    header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    header.extend_from_slice(&0u32.to_le_bytes());
    header
}

/// Creates an empty ledger file at `path` (just its header) and its sync sidecar, both
/// synced, replacing whatever was there.
pub(crate) fn create(path: &Path) -> Result<(), SandboxError> {
    crate::fsutil::write_atomic(path, &file_header(), 0o600)?;
    Boundary::create(&boundary::path_for(path), FILE_HEADER)
}

/// Whether `path` holds a ledger file with at least one record (a file of just a header, or
/// none, was never written to).
pub(crate) fn has_records(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.len() > FILE_HEADER)
}

/// What replay does with each record: its offset and payload; an error is corruption there.
type ApplyRecord<'a> = dyn FnMut(u64, &[u8]) -> Result<(), String> + 'a;

/// The outcome of reading records forward from the file header.
enum Scan {
    /// Every record up to `end` was read and applied.
    Complete,
    /// The record at `offset` is damaged or incomplete, for `reason`.
    Damaged { offset: u64, reason: &'static str },
}

/// Reads the records of `file` in `[FILE_HEADER, limit)` in order, handing each to `apply`;
/// returns the number of records, the offset after the last good one, and how it ended.
fn scan(
    file: &File,
    path: &Path,
    limit: u64,
    apply: &mut ApplyRecord<'_>,
) -> Result<(u64, u64, Scan), SandboxError> {
    let io = |e| SandboxError::io(format!("cannot read {}", path.display()), e);
    let mut reader = BufReader::with_capacity(4 << 20, file);
    reader.seek(SeekFrom::Start(FILE_HEADER)).map_err(io)?;
    let mut offset = FILE_HEADER;
    let mut records = 0u64;
    let mut payload = Vec::new();
    while offset < limit {
        let damaged = |reason| Ok((records, offset, Scan::Damaged { offset, reason }));
        let remaining = limit - offset;
        if remaining < RECORD_HEADER as u64 {
            return damaged("incomplete record header");
        }
        let mut rh = [0u8; RECORD_HEADER];
        reader.read_exact(&mut rh).map_err(io)?;
        let (len, crc) = match parse_header(&rh) {
            Ok(v) => v,
            Err(why) => return damaged(why),
        };
        if u64::from(len) > remaining - RECORD_HEADER as u64 {
            return damaged("incomplete record");
        }
        payload.resize(len as usize, 0);
        reader.read_exact(&mut payload).map_err(io)?;
        if checksum(&payload) != crc {
            return damaged("checksum mismatch");
        }
        apply(offset, &payload).map_err(|why| corrupt(path, offset, why))?;
        offset += RECORD_HEADER as u64 + u64::from(len);
        records += 1;
    }
    Ok((records, offset, Scan::Complete))
}

fn check_file_header(file: &File, path: &Path, size: u64) -> Result<(), SandboxError> {
    if size < FILE_HEADER {
        return Err(corrupt(
            path,
            0,
            format!(
                "the file is {size} bytes long, shorter than its {FILE_HEADER}-byte header: the ledger is missing"
            ),
        ));
    }
    let mut header = [0u8; FILE_HEADER as usize];
    file.read_exact_at(&mut header, 0)
        .map_err(|e| SandboxError::io(format!("cannot read {}", path.display()), e))?;
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
    Ok(())
}

/// Replays the existing ledger file at `path` through `apply` (the record's offset and
/// payload; an error there is corruption at that offset), cuts a torn tail, records the
/// recovered end in the sync sidecar, and returns where appends continue.
///
/// # Errors
///
/// [`SandboxError::Corrupt`] when the file is missing, shorter than its header or than its
/// acknowledged end, or when an acknowledged record is damaged.
pub(crate) fn recover(
    path: &Path,
    mut apply: impl FnMut(u64, &[u8]) -> Result<(), String>,
) -> Result<Recovery, SandboxError> {
    let io = |what: &str, e| SandboxError::io(format!("{what} {}", path.display()), e);
    let file = match OpenOptions::new().read(true).write(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(corrupt(
                path,
                0,
                "the ledger file is missing while the data directory holds an identity: its transactions would be lost and their ids reissued",
            ));
        }
        Err(e) => return Err(io("cannot open", e)),
    };
    let size = file.metadata().map_err(|e| io("cannot inspect", e))?.len();
    check_file_header(&file, path, size)?;
    let sync_path = boundary::path_for(path);
    // Without a sidecar (a ledger written by an older sandbox) nothing is known to be
    // unacknowledged: only an incomplete last record may be cut.
    let acknowledged = boundary::read(&sync_path)?;
    if let Some((_, end)) = acknowledged
        && size < end
    {
        return Err(corrupt(
            path,
            size,
            format!(
                "the file ends at byte {size}, but {} records its end at byte {end} as synced and acknowledged: acknowledged transactions are missing",
                sync_path.display()
            ),
        ));
    }
    let (records, end, outcome) = scan(&file, path, size, &mut apply)?;
    let mut truncated_bytes = 0;
    if let Scan::Damaged { offset, reason } = outcome {
        let tail = match acknowledged {
            Some((_, ack)) => offset >= ack,
            None => reason.starts_with("incomplete"),
        };
        if !tail {
            return Err(corrupt(
                path,
                offset,
                format!("{reason} in an acknowledged record"),
            ));
        }
        truncated_bytes = size - offset;
        tracing::warn!(
            path = %path.display(),
            offset,
            bytes = truncated_bytes,
            "truncating a torn tail written after the last acknowledged sync ({reason})"
        );
        file.set_len(offset).map_err(|e| io("cannot truncate", e))?;
    }
    // Whatever is kept is acknowledged from now on (complete records past the old end were
    // never answered, or answered with an unknown outcome).
    file.sync_all().map_err(|e| io("cannot sync", e))?;
    let sync_counter = match acknowledged {
        Some((counter, ack)) if ack == end => counter,
        Some((counter, _)) => {
            let mut b = Boundary::open(&sync_path, counter, end, StorageFaults::default())?;
            b.record(end).map_err(|e| {
                SandboxError::io(format!("cannot write {}", sync_path.display()), e)
            })?;
            counter + 1
        }
        None => {
            Boundary::create(&sync_path, end)?;
            1
        }
    };
    Ok(Recovery {
        records,
        end,
        truncated_bytes,
        sync_counter,
    })
}

/// Replays the records of the ledger file at `path` up to `end` (all acknowledged: any damage
/// is corruption), without changing the file.
pub(crate) fn replay(
    path: &Path,
    end: u64,
    mut apply: impl FnMut(u64, &[u8]) -> Result<(), String>,
) -> Result<u64, SandboxError> {
    let file = File::open(path)
        .map_err(|e| SandboxError::io(format!("cannot open {}", path.display()), e))?;
    match scan(&file, path, end, &mut apply)? {
        (records, _, Scan::Complete) => Ok(records),
        (_, _, Scan::Damaged { offset, reason }) => Err(corrupt(
            path,
            offset,
            format!("{reason} in an acknowledged record"),
        )),
    }
}

/// How far the log is durable, or why it stopped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Durability {
    /// Highest sequence number on disk, synced and acknowledged.
    pub(crate) seqno: u64,
    /// Set while the writer refuses records after a failed batch, until it is reset.
    pub(crate) failed: Option<Arc<str>>,
}

/// Group-commit statistics.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) batches: AtomicU64,
    pub(crate) records: AtomicU64,
}

/// What became of a queued record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Written, synced and acknowledged.
    Durable,
    /// Not in the ledger file (never written, or written and removed again durably).
    Refused(Arc<str>),
    /// Written, and its removal could not be made durable: it may reappear after a crash.
    Unknown(Arc<str>),
}

/// Receives the [`Outcome`] of one queued record.
pub(crate) type Completion = tokio::sync::oneshot::Receiver<Outcome>;

struct Pending {
    seqno: u64,
    frame: Vec<u8>,
    done: tokio::sync::oneshot::Sender<Outcome>,
}

enum Msg {
    Record(Pending),
    /// Clear a failure (finishing the removal of the failed batch if needed); answers the
    /// acknowledged end of the file, where appends continue.
    Reset(mpsc::Sender<Result<u64, Arc<str>>>),
}

/// The writer thread and the queue feeding it.
pub(crate) struct LogWriter {
    sender: Mutex<Option<mpsc::Sender<Msg>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    pub(crate) stats: Arc<Stats>,
}

impl std::fmt::Debug for LogWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogWriter").finish_non_exhaustive()
    }
}

impl LogWriter {
    /// Starts the writer appending at `recovery.end` of `path`; durable sequence numbers
    /// (starting from `durable_seqno`) are published on the returned channel. Every file
    /// operation goes through `faults`.
    pub(crate) fn start(
        path: &Path,
        recovery: &Recovery,
        durable_seqno: u64,
        faults: StorageFaults,
    ) -> Result<(LogWriter, watch::Receiver<Durability>), SandboxError> {
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| SandboxError::io(format!("cannot open {}", path.display()), e))?;
        let boundary = Boundary::open(
            &boundary::path_for(path),
            recovery.sync_counter,
            recovery.end,
            faults.clone(),
        )?;
        let (tx, rx) = mpsc::channel::<Msg>();
        let (dtx, drx) = watch::channel(Durability {
            seqno: durable_seqno,
            failed: None,
        });
        let stats = Arc::new(Stats::default());
        let mut writer = Writer {
            file: FaultyFile::new(file, faults),
            path: path.to_path_buf(),
            boundary,
            durable: dtx,
            stats: stats.clone(),
            failure: None,
        };
        let thread = std::thread::Builder::new()
            .name("ledger-writer".into())
            .spawn(move || writer.run(rx))
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

    fn send(&self, msg: Msg) -> Result<(), SandboxError> {
        match &*lock(&self.sender) {
            Some(s) => s
                .send(msg)
                .map_err(|_| SandboxError::Storage("the ledger writer has stopped".into())),
            None => Err(SandboxError::ShuttingDown),
        }
    }

    /// Queues a record. Records are written in the order they are queued; the returned
    /// completion tells what became of it.
    pub(crate) fn append(&self, seqno: u64, frame: Vec<u8>) -> Result<Completion, SandboxError> {
        let (done, completion) = tokio::sync::oneshot::channel();
        self.send(Msg::Record(Pending { seqno, frame, done }))?;
        Ok(completion)
    }

    /// After a failure: waits until every record queued before has been refused, finishes
    /// removing the failed batch if that had failed, and lets the writer accept records
    /// again. Returns the acknowledged end of the file. Blocks the calling thread briefly.
    pub(crate) fn reset(&self) -> Result<u64, SandboxError> {
        let (reply, answer) = mpsc::channel();
        self.send(Msg::Reset(reply))?;
        match answer.recv() {
            Ok(Ok(end)) => Ok(end),
            Ok(Err(why)) => Err(SandboxError::Storage(why.to_string())),
            Err(_) => Err(SandboxError::Storage(
                "the ledger writer has stopped".into(),
            )),
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

/// Why the writer refuses records.
struct Failure {
    message: Arc<str>,
    /// The failed batch is durably gone from the file.
    removed: bool,
}

/// The writer thread's state.
struct Writer {
    file: FaultyFile,
    path: PathBuf,
    boundary: Boundary,
    durable: watch::Sender<Durability>,
    stats: Arc<Stats>,
    failure: Option<Failure>,
}

impl Writer {
    fn run(&mut self, rx: mpsc::Receiver<Msg>) {
        let mut batch: Vec<u8> = Vec::with_capacity(1 << 20);
        let mut lengths: Vec<usize> = Vec::new();
        let mut waiting: Vec<tokio::sync::oneshot::Sender<Outcome>> = Vec::new();
        let mut deferred: Option<Msg> = None;
        loop {
            let msg = match deferred.take() {
                Some(m) => m,
                None => match rx.recv() {
                    Ok(m) => m,
                    Err(_) => return,
                },
            };
            let first = match msg {
                Msg::Record(p) => p,
                Msg::Reset(reply) => {
                    let _ = reply.send(self.reset());
                    continue;
                }
            };
            batch.clear();
            lengths.clear();
            waiting.clear();
            let mut last = first.seqno;
            batch.extend_from_slice(&first.frame);
            lengths.push(first.frame.len());
            waiting.push(first.done);
            while batch.len() < MAX_BATCH_BYTES {
                match rx.try_recv() {
                    Ok(Msg::Record(p)) => {
                        batch.extend_from_slice(&p.frame);
                        lengths.push(p.frame.len());
                        last = p.seqno;
                        waiting.push(p.done);
                    }
                    Ok(reset) => {
                        deferred = Some(reset);
                        break;
                    }
                    Err(_) => break,
                }
            }
            let outcome = self.write_batch(&batch, &lengths, last);
            for done in waiting.drain(..) {
                let _ = done.send(outcome.clone());
            }
        }
    }

    /// Writes, syncs and acknowledges one batch ending with `last`; on failure removes it.
    fn write_batch(&mut self, batch: &[u8], lengths: &[usize], last: u64) -> Outcome {
        if let Some(f) = &self.failure {
            return Outcome::Refused(f.message.clone());
        }
        let start = self.boundary.end();
        let end = start + batch.len() as u64;
        let written = self
            .file
            .append_at(batch, start, lengths)
            .and_then(|()| self.file.sync())
            .and_then(|()| self.boundary.record(end));
        match written {
            Ok(()) => {
                self.stats.batches.fetch_add(1, Ordering::Relaxed);
                self.stats
                    .records
                    .fetch_add(lengths.len() as u64, Ordering::Relaxed);
                self.durable.send_modify(|d| d.seqno = last);
                Outcome::Durable
            }
            Err(e) => {
                let message: Arc<str> = format!(
                    "cannot append to {}: {e}; the write was not applied",
                    self.path.display()
                )
                .into();
                tracing::error!("{message}");
                match self.remove_after(start) {
                    Ok(()) => {
                        self.fail(message.clone(), true);
                        Outcome::Refused(message)
                    }
                    Err(e) => {
                        let unknown: Arc<str> = format!(
                            "cannot append to {}, nor remove the failed write again ({e}): the write may or may not be applied",
                            self.path.display()
                        )
                        .into();
                        tracing::error!("{unknown}");
                        self.fail(unknown.clone(), false);
                        Outcome::Unknown(unknown)
                    }
                }
            }
        }
    }

    fn fail(&mut self, message: Arc<str>, removed: bool) {
        self.failure = Some(Failure {
            message: message.clone(),
            removed,
        });
        self.durable.send_modify(|d| d.failed = Some(message));
    }

    /// Cuts the file back to `end` and makes that durable (the sidecar too: a failed
    /// sidecar update may have recorded a later end).
    fn remove_after(&mut self, end: u64) -> std::io::Result<()> {
        self.file.truncate(end)?;
        self.file.sync()?;
        self.boundary.record(end)
    }

    fn reset(&mut self) -> Result<u64, Arc<str>> {
        let end = self.boundary.end();
        if let Some(f) = &self.failure
            && !f.removed
        {
            if let Err(e) = self.remove_after(end) {
                return Err(format!(
                    "the ledger file {} cannot be written: {e}",
                    self.path.display()
                )
                .into());
            }
            tracing::info!(path = %self.path.display(), "removed the failed write");
        }
        if self.failure.take().is_some() {
            self.durable.send_modify(|d| d.failed = None);
            tracing::info!(path = %self.path.display(), "the ledger file accepts writes again");
        }
        Ok(end)
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
    use std::io::Write;

    fn write_records(path: &Path, payloads: &[&[u8]]) -> Vec<u64> {
        create(path).unwrap();
        // Written without the writer: no sync record covers them (as from an older sandbox).
        std::fs::remove_file(boundary::path_for(path)).unwrap();
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
        create(&path).unwrap();
        let r = recover(&path, |_, _| Ok(())).unwrap();
        let (w, rx) = LogWriter::start(&path, &r, 0, StorageFaults::default()).unwrap();
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
