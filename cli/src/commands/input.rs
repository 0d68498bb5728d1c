//! Reading an entry's contents: an argument, a file or stdin, bounded in size.

use std::io::Read;
use std::path::Path;

use crate::error::{CliError, CliResult};

/// The most a single input may hold: the service's own entry limit is 1 MiB; with
/// `--each-line` a file of many entries may be larger.
pub const MAX_INPUT_BYTES: u64 = 256 * 1024 * 1024;

/// The text of `file`, or of stdin, at most [`MAX_INPUT_BYTES`], as UTF-8.
pub fn read_text(file: Option<&Path>) -> CliResult<String> {
    let mut bytes = Vec::new();
    match file {
        Some(path) => {
            let handle = std::fs::File::open(path).map_err(CliError::read(path))?;
            handle
                .take(MAX_INPUT_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(CliError::read(path))?;
        }
        None => {
            std::io::stdin()
                .lock()
                .take(MAX_INPUT_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(CliError::read(Path::new("<stdin>")))?;
        }
    }
    let name = file.map_or_else(|| "stdin".to_owned(), |p| p.display().to_string());
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(CliError::Usage(format!(
            "{name} holds more than {MAX_INPUT_BYTES} bytes"
        )));
    }
    String::from_utf8(bytes).map_err(|e| CliError::Usage(format!("{name} is not UTF-8 text: {e}")))
}
