//! Pure helpers of the side-by-side benchmark (`benches/side_by_side.rs`): the command line,
//! entry contents, CPU time per operation (memory comes from `testkit::memory`). Kept apart so
//! that `tests/bench_support.rs` can test them without running the benchmark.

use std::time::Duration;

/// Bytes of every entry's contents, here and in the Python half.
pub const ENTRY_BYTES: usize = 100;

/// The contents of an entry: a label, the writer and the index, padded with dots to
/// [`ENTRY_BYTES`] (longer when the label alone is longer).
pub fn contents(label: &str, writer: usize, i: u64) -> String {
    let mut text = format!("side-by-side {label} writer {writer:02} entry {i:08} ");
    if text.len() < ENTRY_BYTES {
        text.extend(std::iter::repeat_n('.', ENTRY_BYTES - text.len()));
    }
    text
}

/// Operations per second and CPU microseconds per operation for `done` operations in
/// `elapsed` wall time using `cpu` CPU time (0 per second for an empty window; CPU per
/// operation counts at least one operation).
pub fn per_operation(done: u64, elapsed: Duration, cpu: Duration) -> (f64, f64) {
    let seconds = elapsed.as_secs_f64();
    let rate = if seconds > 0.0 {
        done as f64 / seconds
    } else {
        0.0
    };
    (rate, cpu.as_secs_f64() * 1e6 / done.max(1) as f64)
}

/// What went wrong with the command line.
#[derive(Debug, PartialEq, Eq)]
pub struct ArgsError(pub String);

impl std::fmt::Display for ArgsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ArgsError {}

/// The command line: a mode, then `--name value` pairs.
#[derive(Debug)]
pub struct Args {
    /// The mode (first argument); `None` when there were no arguments (as when `cargo test`
    /// or `cargo bench` runs the binary on its own).
    pub mode: Option<String>,
    pairs: Vec<(String, String)>,
}

impl Args {
    /// Parses the arguments after the program name. `--bench`, which `cargo bench` adds, is
    /// ignored; every other argument after the mode is a `--name value` pair (the last of a
    /// repeated name wins).
    pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Self, ArgsError> {
        let mut raw = args.into_iter().filter(|a| a != "--bench");
        let mode = raw.next();
        if let Some(m) = &mode
            && m.starts_with("--")
        {
            return Err(ArgsError(format!("expected a mode before {m}")));
        }
        let mut pairs = Vec::new();
        while let Some(name) = raw.next() {
            let name = name
                .strip_prefix("--")
                .ok_or_else(|| ArgsError(format!("unexpected argument {name}")))?
                .to_owned();
            let value = raw
                .next()
                .ok_or_else(|| ArgsError(format!("--{name} needs a value")))?;
            pairs.push((name, value));
        }
        Ok(Self { mode, pairs })
    }

    /// The value of `--name`.
    pub fn get(&self, name: &str) -> Result<&str, ArgsError> {
        self.pairs
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| {
                ArgsError(format!(
                    "--{name} is required for {}",
                    self.mode.as_deref().unwrap_or("this mode")
                ))
            })
    }

    /// The value of `--name`, parsed.
    pub fn parse_value<T: std::str::FromStr>(&self, name: &str) -> Result<T, ArgsError>
    where
        T::Err: std::fmt::Display,
    {
        self.get(name)?
            .parse()
            .map_err(|e| ArgsError(format!("--{name}: {e}")))
    }

    /// The value of `--name` as a comma-separated list of positive counts.
    pub fn counts(&self, name: &str) -> Result<Vec<usize>, ArgsError> {
        self.get(name)?
            .split(',')
            .map(|c| match c.trim().parse::<usize>() {
                Ok(0) => Err(ArgsError(format!("--{name}: 0 is not a count"))),
                Ok(n) => Ok(n),
                Err(e) => Err(ArgsError(format!("--{name}: {c:?}: {e}"))),
            })
            .collect()
    }
}
