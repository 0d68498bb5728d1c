//! `cledger sandbox`: a local ledger in the foreground, and how to connect to it.

use confidential_ledger_sandbox::Sandbox;

use crate::args::SandboxArgs;
use crate::connect;
use crate::error::{CliError, CliResult};
use crate::output;
use crate::signal;

/// Runs a sandbox until Ctrl-C. Prints `export` lines for a POSIX shell on stdout (so that
/// `cledger sandbox > env &` then `. ./env` connects every later command to it), or with
/// `--json` one object of the same variables, and a human description on stderr. The
/// administrator's key stays in the sandbox's directory: only its path is printed.
pub async fn run(args: &SandboxArgs, json: bool) -> CliResult {
    if let Some(dir) = &args.data_dir {
        crate::files::ensure_dir(dir)?;
    }
    let options = connect::sandbox_options(args.data_dir.as_deref())
        .port(args.port)
        .signature_interval(std::time::Duration::from_millis(
            args.signature_interval_ms.max(1),
        ));
    // Listen for Ctrl-C before saying how to connect, so that a caller who got the lines can
    // stop the sandbox at once.
    let stop = signal::ctrl_c().map_err(|e| CliError::Output(std::io::Error::other(e)))?;
    let sandbox = Sandbox::start(options).await.map_err(CliError::Sandbox)?;
    let exports = [
        ("CONFIDENTIALLEDGER_ENDPOINT", sandbox.ledger_endpoint()),
        (
            "CONFIDENTIALLEDGER_IDENTITY_ENDPOINT",
            sandbox.identity_endpoint(),
        ),
        (
            "CONFIDENTIALLEDGER_IDENTITY_CA",
            sandbox.identity_ca_path().display().to_string(),
        ),
        (
            "CONFIDENTIALLEDGER_LEDGER_ID",
            sandbox.ledger_id().to_owned(),
        ),
        (
            "CONFIDENTIALLEDGER_CERT",
            sandbox.admin_certificate_path().display().to_string(),
        ),
        (
            "CONFIDENTIALLEDGER_KEY",
            sandbox.admin_private_key_path().display().to_string(),
        ),
    ];
    if json {
        let object: serde_json::Map<String, serde_json::Value> = exports
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone().into()))
            .collect();
        output::json_line(&object)?;
    } else {
        for (name, value) in &exports {
            output::line(&format!("export {name}={}", shell_quote(value)))?;
        }
    }
    output::flush()?;
    let report = sandbox.startup_report();
    eprintln!(
        "Sandbox ledger {:?} is running at {} ({} with {} transactions; data in {}).\n\
         Connect from another shell with the export lines above (`. ./FILE` if redirected), \
         as its administrator. Stop with Ctrl-C.",
        sandbox.ledger_id(),
        sandbox.ledger_endpoint(),
        if report.created { "new" } else { "restored" },
        report.transactions,
        sandbox.data_dir().display()
    );
    stop.await;
    sandbox.shutdown().await;
    eprintln!("sandbox stopped");
    Ok(())
}

/// `value` single-quoted for a POSIX shell.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}
