//! Command-line parsing for `cargo xtask`.

use std::path::PathBuf;

/// Usage text.
pub const USAGE: &str = "\
usage: cargo xtask regen [--from DIR] [--api-version V] [--identity-api-version V]
                         [--upstream-revision REV] [--identity-upstream-revision REV]
                         [--out DIR] [--check]

Converts Azure's Swagger 2.0 specs of Confidential Ledger into spec/ledger.json and
spec/identity.json (OpenAPI 3.0.3), which the build script generates the raw client from,
records what they came from in spec/manifest.json, prints the API difference against the
previous spec/ and adds it to spec/CHANGES.md. Corrections to upstream (xtask/errata.json)
are applied on the way.

  --from DIR                  a specification/confidentialledger/data-plane folder of an
                              azure-rest-api-specs checkout (default:
                              ../shared/azure-rest-api-specs/specification/confidentialledger/data-plane,
                              or $CONFIDENTIAL_LEDGER_SHARED/azure-rest-api-specs/... when set)
  --api-version V             ledger api-version to switch to (default: the one
                              spec/manifest.json names; 2026-02-23 on a first run)
  --identity-api-version V    identity-service api-version (default: the manifest's, or when
                              switching the ledger's version the same version, or the newest
                              stable one when that version has none)
  --upstream-revision REV     the azure-rest-api-specs commit the ledger file comes from
                              (default: the one recorded while its converted document is the
                              same, else `git log -1` of the file when --from is a checkout,
                              else recorded as unknown)
  --identity-upstream-revision REV
                              the same for the identity-service file
  --out DIR                   where the documents go (default: spec/ in the workspace)
  --check                     write nothing; exit 1 naming the files in spec/ (documents and
                              manifest) that differ, with the API difference

usage: cargo xtask surface [--accept]

Compares the generated code of the last `cargo check -p confidential-ledger` (written by the
build script even when the client does not compile) with tests/snapshots/generated_surface__*,
printing a line diff of each that changed; exit 1 when any did.

  --accept                    write the new snapshots instead (no cargo-insta needed)

usage: cargo xtask modules [--check]

Prints the dependency graph between the top-level modules of src/ (from `crate::` and
`super::` paths and `mod` declarations; comments and #[cfg(test)] modules left out) and the
cycles in it, top-level and, for information, between the second-level modules inside each.

  --check                     print only the cycles; exit 1 when two top-level modules
                              depend on each other

usage: cargo xtask msrv

Reads `cargo metadata` (offline, locked, all features) and exits 1 naming every resolved
package whose own rust-version is newer than confidential-ledger's. (The workspace's code
is checked by clippy's incompatible_msrv lint.)
";

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Print usage.
    Help,
    /// `regen`.
    Regen(RegenArgs),
    /// `surface`, with `--accept` or not.
    Surface {
        /// `--accept`.
        accept: bool,
    },
    /// `msrv`.
    Msrv,
    /// `modules`, with `--check` or not.
    Modules {
        /// `--check`.
        check: bool,
    },
}

/// Arguments of `regen`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegenArgs {
    /// `--from`.
    pub from: Option<PathBuf>,
    /// `--api-version` (`None`: the manifest's).
    pub api_version: Option<String>,
    /// `--identity-api-version`.
    pub identity_api_version: Option<String>,
    /// `--upstream-revision`.
    pub upstream_revision: Option<String>,
    /// `--identity-upstream-revision`.
    pub identity_upstream_revision: Option<String>,
    /// `--out`.
    pub out: Option<PathBuf>,
    /// `--check`.
    pub check: bool,
}

/// Parse arguments (without the program name).
///
/// # Examples
///
/// ```
/// use xtask::cli::{parse, Command};
///
/// let Command::Regen(args) = parse(["regen", "--check"]).unwrap() else { panic!() };
/// assert!(args.check);
/// assert_eq!(args.api_version, None); // the manifest's
/// ```
pub fn parse<I, S>(args: I) -> Result<Command, String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let mut args = args.into_iter().map(Into::into);
    match args.next().as_deref() {
        None | Some("help" | "-h" | "--help") => return Ok(Command::Help),
        Some("regen") => {}
        Some("surface") => {
            let mut accept = false;
            for arg in args {
                match arg.as_str() {
                    "--accept" => accept = true,
                    "-h" | "--help" => return Ok(Command::Help),
                    other => return Err(format!("unknown argument `{other}`")),
                }
            }
            return Ok(Command::Surface { accept });
        }
        Some("msrv") => {
            if let Some(other) = args.next() {
                return match other.as_str() {
                    "-h" | "--help" => Ok(Command::Help),
                    _ => Err(format!("unknown argument `{other}`")),
                };
            }
            return Ok(Command::Msrv);
        }
        Some("modules") => {
            let mut check = false;
            for arg in args {
                match arg.as_str() {
                    "--check" => check = true,
                    "-h" | "--help" => return Ok(Command::Help),
                    other => return Err(format!("unknown argument `{other}`")),
                }
            }
            return Ok(Command::Modules { check });
        }
        Some(other) => return Err(format!("unknown task `{other}`")),
    }
    let mut out = RegenArgs {
        from: None,
        api_version: None,
        identity_api_version: None,
        upstream_revision: None,
        identity_upstream_revision: None,
        out: None,
        check: false,
    };
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| args.next())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--from" => out.from = Some(PathBuf::from(value("--from")?)),
            "--out" => out.out = Some(PathBuf::from(value("--out")?)),
            "--api-version" => out.api_version = Some(value("--api-version")?),
            "--upstream-revision" => out.upstream_revision = Some(value("--upstream-revision")?),
            "--identity-upstream-revision" => {
                out.identity_upstream_revision = Some(value("--identity-upstream-revision")?)
            }
            "--identity-api-version" => {
                out.identity_api_version = Some(value("--identity-api-version")?)
            }
            "--check" if inline.is_none() => out.check = true,
            "-h" | "--help" => return Ok(Command::Help),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(Command::Regen(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_flags_parse_in_both_spellings() {
        let cmd = parse([
            "regen",
            "--from",
            "/specs",
            "--api-version=2022-05-13",
            "--identity-api-version",
            "2026-02-23",
            "--out",
            "/tmp/spec",
            "--upstream-revision=abc",
            "--identity-upstream-revision",
            "def",
            "--check",
        ])
        .unwrap();
        assert_eq!(
            cmd,
            Command::Regen(RegenArgs {
                from: Some(PathBuf::from("/specs")),
                api_version: Some("2022-05-13".to_string()),
                identity_api_version: Some("2026-02-23".to_string()),
                upstream_revision: Some("abc".to_string()),
                identity_upstream_revision: Some("def".to_string()),
                out: Some(PathBuf::from("/tmp/spec")),
                check: true,
            })
        );
    }

    #[test]
    fn mistakes_are_reported() {
        assert!(parse(["regen", "--from"]).unwrap_err().contains("--from"));
        assert!(parse(["regen", "--bogus"]).unwrap_err().contains("--bogus"));
        assert!(parse(["frobnicate"]).unwrap_err().contains("frobnicate"));
        assert_eq!(parse(Vec::<String>::new()).unwrap(), Command::Help);
        assert_eq!(
            parse(["surface", "--accept"]).unwrap(),
            Command::Surface { accept: true }
        );
        assert_eq!(
            parse(["modules", "--check"]).unwrap(),
            Command::Modules { check: true }
        );
        assert!(parse(["modules", "--all"]).unwrap_err().contains("--all"));
        assert_eq!(parse(["msrv"]).unwrap(), Command::Msrv);
        assert!(parse(["msrv", "--fix"]).unwrap_err().contains("--fix"));
        assert!(
            parse(["surface", "--check"])
                .unwrap_err()
                .contains("--check")
        );
    }
}
