//! `cargo xtask surface [--accept]`: the generated code's difference against the snapshots in
//! `tests/snapshots/`, without compiling the client.
//!
//! The SDK's build script writes the generated code, its surface listing and its operation
//! tables to its `OUT_DIR` before the hand-written layer is compiled, so after
//! `cargo check -p confidential-ledger` they exist even when the client no longer compiles
//! against a new spec. This task finds the freshest such `OUT_DIR`, prints a line diff of each
//! snapshot that changed and, with `--accept`, writes the new snapshots (what `cargo insta
//! accept` would do, without installing anything).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Each snapshot of `tests/generated_surface.rs` and the build outputs it holds (joined by a
/// newline, as the test joins them).
pub const SNAPSHOTS: &[(&str, &[&str])] = &[
    ("ledger_surface", &["ledger_surface.txt"]),
    ("identity_surface", &["identity_surface.txt"]),
    ("ledger_code", &["ledger.rs"]),
    ("identity_code", &["identity.rs"]),
    (
        "operation_tables",
        &["ledger_operations.rs", "identity_operations.rs"],
    ),
];

/// The snapshots that depend on the ledger's spec, kept once per ledger api-version (insta's
/// snapshot suffix), so that switching versions compares with that version's reviewed surface.
pub const PER_LEDGER_VERSION: &[&str] = &["ledger_surface", "ledger_code", "operation_tables"];

/// The file of snapshot `name` for the ledger api-version `ledger_api_version`.
///
/// # Examples
///
/// ```
/// use xtask::surface::snapshot_file;
///
/// assert_eq!(snapshot_file("ledger_code", "2026-02-23"), "generated_surface__ledger_code@2026-02-23.snap");
/// assert_eq!(snapshot_file("identity_code", "2026-02-23"), "generated_surface__identity_code.snap");
/// ```
pub fn snapshot_file(name: &str, ledger_api_version: &str) -> String {
    if PER_LEDGER_VERSION.contains(&name) {
        format!("generated_surface__{name}@{ledger_api_version}.snap")
    } else {
        format!("generated_surface__{name}.snap")
    }
}

/// Why the surface could not be compared.
#[derive(Debug, thiserror::Error)]
pub enum SurfaceError {
    /// No build output, or none newer than the spec.
    #[error(
        "no generated code newer than {spec} under {target}: run `cargo check -p confidential-ledger` \
         first (the build script writes it even when the client does not compile)"
    )]
    NoBuild {
        /// The target folder searched.
        target: PathBuf,
        /// The spec it must be newer than.
        spec: PathBuf,
    },
    /// A file could not be read or written.
    #[error("{path}: {problem}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        problem: String,
    },
    /// A snapshot file without insta's header.
    #[error("{path} is not an insta snapshot (no `---` header)")]
    NotASnapshot {
        /// The file.
        path: PathBuf,
    },
}

fn io(path: &Path, e: std::io::Error) -> SurfaceError {
    SurfaceError::Io {
        path: path.to_path_buf(),
        problem: e.to_string(),
    }
}

/// The freshest `OUT_DIR` of the SDK's build script under `target` (`<target>/<profile>/build/
/// confidential-ledger-*/out`) whose surface listing is newer than `spec`.
pub fn find_out_dir(target: &Path, spec: &Path) -> Result<PathBuf, SurfaceError> {
    let not_found = || SurfaceError::NoBuild {
        target: target.to_path_buf(),
        spec: spec.to_path_buf(),
    };
    let spec_time = std::fs::metadata(spec)
        .and_then(|m| m.modified())
        .map_err(|e| io(spec, e))?;
    let mut best: Option<(SystemTime, PathBuf)> = None;
    for profile in std::fs::read_dir(target)
        .map_err(|_| not_found())?
        .flatten()
    {
        let Ok(builds) = std::fs::read_dir(profile.path().join("build")) else {
            continue;
        };
        for build in builds.flatten() {
            let name = build.file_name().to_string_lossy().into_owned();
            let Some(hash) = name.strip_prefix("confidential-ledger-") else {
                continue;
            };
            if hash.contains('-') {
                continue; // another package (confidential-ledger-sandbox-...)
            }
            let out = build.path().join("out");
            let Ok(time) =
                std::fs::metadata(out.join("ledger_surface.txt")).and_then(|m| m.modified())
            else {
                continue;
            };
            if time >= spec_time && best.as_ref().is_none_or(|(t, _)| time > *t) {
                best = Some((time, out));
            }
        }
    }
    best.map(|(_, out)| out).ok_or_else(not_found)
}

/// A snapshot file's header (through the closing `---` line) and its body.
///
/// # Examples
///
/// ```
/// let (header, body) = xtask::surface::split_snapshot("---\nsource: t.rs\n---\nbody\n").unwrap();
/// assert_eq!((header, body), ("---\nsource: t.rs\n---\n", "body\n"));
/// assert!(xtask::surface::split_snapshot("no header").is_none());
/// ```
pub fn split_snapshot(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix("---\n")?;
    let end = rest.find("\n---\n")?;
    let split = 4 + end + 5;
    Some((&text[..split], &text[split..]))
}

/// A line diff of `old` and `new`: hunks headed `@@ -<old line> +<new line> @@`, removed lines
/// prefixed `-`, added lines `+`; empty when equal (trailing newlines aside).
///
/// # Examples
///
/// ```
/// let d = xtask::surface::line_diff("a\nb\nc\n", "a\nc\nd\n");
/// assert_eq!(d, "@@ -2 +2 @@\n-b\n@@ -4 +3 @@\n+d\n");
/// assert_eq!(xtask::surface::line_diff("x\n", "x"), "");
/// assert_eq!(xtask::surface::line_diff("1\n2\n", "1\n3\n"), "@@ -2 +2 @@\n-2\n+3\n");
/// ```
pub fn line_diff(old: &str, new: &str) -> String {
    let a: Vec<&str> = old.trim_end_matches('\n').lines().collect();
    let b: Vec<&str> = new.trim_end_matches('\n').lines().collect();
    // Longest common subsequence table, from the end.
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = String::new();
    let mut in_hunk = false;
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            i += 1;
            j += 1;
            in_hunk = false;
            continue;
        }
        if !in_hunk {
            out.push_str(&format!("@@ -{} +{} @@\n", i + 1, j + 1));
            in_hunk = true;
        }
        if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push_str(&format!("-{}\n", a[i]));
            i += 1;
        } else {
            out.push_str(&format!("+{}\n", b[j]));
            j += 1;
        }
    }
    out
}

/// One snapshot's comparison.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The snapshot file.
    pub snapshot: PathBuf,
    /// Its header.
    pub header: String,
    /// What the build generated.
    pub generated: String,
    /// The diff (empty when up to date).
    pub diff: String,
}

/// Compare every snapshot in `snapshots` with the build outputs in `out_dir`, the ledger's
/// snapshots being those of `ledger_api_version`. A snapshot that does not exist yet (a version
/// seen for the first time) compares as empty, and accepting it creates it.
pub fn compare(
    snapshots: &Path,
    out_dir: &Path,
    ledger_api_version: &str,
) -> Result<Vec<Comparison>, SurfaceError> {
    let mut out = Vec::new();
    for (name, files) in SNAPSHOTS {
        let mut parts = Vec::new();
        for file in *files {
            let path = out_dir.join(file);
            parts.push(std::fs::read_to_string(&path).map_err(|e| io(&path, e))?);
        }
        let generated = parts.join("\n");
        let snapshot = snapshots.join(snapshot_file(name, ledger_api_version));
        let text = if snapshot.exists() {
            std::fs::read_to_string(&snapshot).map_err(|e| io(&snapshot, e))?
        } else {
            format!("---\nsource: tests/generated_surface.rs\nexpression: {name}\n---\n")
        };
        let (header, body) = split_snapshot(&text).ok_or_else(|| SurfaceError::NotASnapshot {
            path: snapshot.clone(),
        })?;
        out.push(Comparison {
            diff: line_diff(body, &generated),
            header: header.to_string(),
            snapshot,
            generated,
        });
    }
    Ok(out)
}

impl Comparison {
    /// Write the generated text as the snapshot's new body, keeping its header.
    pub fn accept(&self) -> Result<(), SurfaceError> {
        let text = format!("{}{}\n", self.header, self.generated.trim_end_matches('\n'));
        std::fs::write(&self.snapshot, text).map_err(|e| io(&self.snapshot, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_freshest_build_output_newer_than_the_spec_is_found_and_accepting_keeps_the_header() {
        let dir = tempfile::tempdir().unwrap();
        let spec = dir.path().join("ledger.json");
        std::fs::write(&spec, "{}").unwrap();
        let target = dir.path().join("target");
        // Nothing built yet.
        assert!(matches!(
            find_out_dir(&target, &spec),
            Err(SurfaceError::NoBuild { .. })
        ));
        // The sandbox package's build folder does not count.
        let other = target.join("debug/build/confidential-ledger-sandbox-1234/out");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join("ledger_surface.txt"), "x").unwrap();
        assert!(find_out_dir(&target, &spec).is_err());

        let out = target.join("debug/build/confidential-ledger-abcd/out");
        std::fs::create_dir_all(&out).unwrap();
        for (name, files) in SNAPSHOTS {
            for file in *files {
                std::fs::write(out.join(file), format!("{name} {file} new\n")).unwrap();
            }
        }
        assert_eq!(find_out_dir(&target, &spec).unwrap(), out);

        let snapshots = dir.path().join("snapshots");
        std::fs::create_dir_all(&snapshots).unwrap();
        for (name, _) in SNAPSHOTS {
            std::fs::write(
                snapshots.join(snapshot_file(name, "v1")),
                format!(
                    "---\nsource: tests/generated_surface.rs\nexpression: x\n---\n{name} old\n"
                ),
            )
            .unwrap();
        }
        let compared = compare(&snapshots, &out, "v1").unwrap();
        assert_eq!(compared.len(), SNAPSHOTS.len());
        let tables = compared
            .iter()
            .find(|c| {
                c.snapshot
                    .ends_with("generated_surface__operation_tables@v1.snap")
            })
            .unwrap();
        assert_eq!(
            tables.diff,
            "@@ -1 +1 @@\n-operation_tables old\n+operation_tables ledger_operations.rs new\n+\n+operation_tables identity_operations.rs new\n"
        );
        tables.accept().unwrap();
        let again = compare(&snapshots, &out, "v1").unwrap();
        let tables = again
            .iter()
            .find(|c| {
                c.snapshot
                    .ends_with("generated_surface__operation_tables@v1.snap")
            })
            .unwrap();
        assert_eq!(tables.diff, "");
        let text = std::fs::read_to_string(&tables.snapshot).unwrap();
        assert!(text.starts_with("---\nsource: tests/generated_surface.rs\nexpression: x\n---\n"));
        // Another ledger version has no snapshots yet: they compare as empty, and accepting
        // creates them beside the first version's.
        let other = compare(&snapshots, &out, "v2").unwrap();
        let code = other
            .iter()
            .find(|c| {
                c.snapshot
                    .ends_with("generated_surface__ledger_code@v2.snap")
            })
            .unwrap();
        assert!(!code.diff.is_empty());
        code.accept().unwrap();
        assert!(
            snapshots
                .join("generated_surface__ledger_code@v1.snap")
                .exists()
        );
        let code = compare(&snapshots, &out, "v2").unwrap();
        assert!(code.iter().any(|c| {
            c.snapshot
                .ends_with("generated_surface__ledger_code@v2.snap")
                && c.diff.is_empty()
        }));
    }
}
