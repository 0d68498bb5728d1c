//! The checkpoint file: the report so far, written atomically (a temporary file renamed over
//! it), so that a crash leaves either the previous or the new one.

use std::path::{Path, PathBuf};

use crate::audit::report::Report;
use crate::error::{CliError, CliResult};

/// The most a checkpoint may hold (reports are bounded; see [`Report`]).
const MAX_CHECKPOINT_BYTES: u64 = 64 * 1024 * 1024;

/// Format version of the file.
const VERSION: u32 = 1;

#[derive(serde::Serialize, serde::Deserialize)]
struct File {
    version: u32,
    report: Report,
}

/// Loads the checkpoint at `path`, if there is one.
pub fn load(path: &Path) -> CliResult<Option<Report>> {
    let bytes = match crate::files::read_bounded(path, MAX_CHECKPOINT_BYTES, "a checkpoint") {
        Ok(bytes) => bytes,
        Err(CliError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let text = String::from_utf8(bytes).map_err(|_| {
        CliError::Usage(format!(
            "{} is not an audit checkpoint (not UTF-8); delete it to start over",
            path.display()
        ))
    })?;
    let file: File = serde_json::from_str(&text).map_err(|e| {
        CliError::Usage(format!(
            "{} is not an audit checkpoint ({e}); delete it to start over",
            path.display()
        ))
    })?;
    if file.version != VERSION {
        return Err(CliError::Usage(format!(
            "{} is a checkpoint of version {}, this cledger writes version {VERSION}",
            path.display(),
            file.version
        )));
    }
    Ok(Some(file.report))
}

/// Saves `report` to `path`.
pub fn save(path: &Path, report: &Report) -> CliResult {
    let text = serde_json::to_string(&File {
        version: VERSION,
        report: report.clone(),
    })
    .map_err(|e| CliError::write(path)(std::io::Error::other(e)))?;
    let temporary = temporary_path(path);
    std::fs::write(&temporary, text).map_err(CliError::write(&temporary))?;
    std::fs::rename(&temporary, path).map_err(CliError::write(path))
}

/// Removes the checkpoint of a finished audit.
pub fn remove(path: &Path) -> CliResult {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(CliError::write(path)(e)),
    }
}

fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use confidential_ledger::TransactionId;

    #[test]
    fn a_saved_checkpoint_loads_back_and_garbage_is_refused()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("audit.ckpt");
        assert_eq!(load(&path)?, None);
        let mut report = Report::default();
        report.record_failure(TransactionId::new(2, 7), "signature", "bad".into());
        save(&path, &report)?;
        assert_eq!(load(&path)?, Some(report));
        std::fs::write(&path, "{not json")?;
        assert!(matches!(load(&path), Err(CliError::Usage(_))));
        remove(&path)?;
        assert!(!path.exists());
        Ok(())
    }
}
