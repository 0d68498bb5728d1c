//! Command-line parsing for `cargo xtask`.

use std::path::PathBuf;

use crate::layout::DEFAULT_API_VERSION;

/// Usage text.
pub const USAGE: &str = "\
usage: cargo xtask regen [--from DIR] [--api-version V] [--identity-api-version V] [--out DIR] [--check]

Converts Azure's Swagger 2.0 specs of Confidential Ledger into spec/ledger.json and
spec/identity.json (OpenAPI 3.0.3), which the build script generates the raw client from.

  --from DIR                  a specification/confidentialledger/data-plane folder of an
                              azure-rest-api-specs checkout (default:
                              ../shared/azure-rest-api-specs/specification/confidentialledger/data-plane,
                              or $CONFIDENTIAL_LEDGER_SHARED/azure-rest-api-specs/... when set)
  --api-version V             ledger api-version (default 2026-02-23)
  --identity-api-version V    identity-service api-version (default: the ledger's, or the
                              newest stable one when that version has none)
  --out DIR                   where the documents go (default: spec/ in the workspace)
  --check                     write nothing; exit 1 naming the files in spec/ that differ
";

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Print usage.
    Help,
    /// `regen`.
    Regen(RegenArgs),
}

/// Arguments of `regen`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegenArgs {
    /// `--from`.
    pub from: Option<PathBuf>,
    /// `--api-version`.
    pub api_version: String,
    /// `--identity-api-version`.
    pub identity_api_version: Option<String>,
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
/// assert_eq!(args.api_version, "2026-02-23");
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
        Some(other) => return Err(format!("unknown task `{other}`")),
    }
    let mut out = RegenArgs {
        from: None,
        api_version: DEFAULT_API_VERSION.to_string(),
        identity_api_version: None,
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
            "--api-version" => out.api_version = value("--api-version")?,
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
            "--check",
        ])
        .unwrap();
        assert_eq!(
            cmd,
            Command::Regen(RegenArgs {
                from: Some(PathBuf::from("/specs")),
                api_version: "2022-05-13".to_string(),
                identity_api_version: Some("2026-02-23".to_string()),
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
    }
}
