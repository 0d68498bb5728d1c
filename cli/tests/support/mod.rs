//! A sandbox ledger for the command-line tests, and `cledger` commands configured to use it.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use assert_cmd::Command;
use confidential_ledger_sandbox::{Sandbox, SandboxOptions};
use faultproxy::{FaultPlan, FaultProxy, ProxyConfig, TlsIdentity};

/// The environment variables `cledger` reads; cleared so the caller's shell cannot leak in.
pub const ENV: [&str; 8] = [
    "CONFIDENTIALLEDGER_ENDPOINT",
    "CONFIDENTIALLEDGER_IDENTITY_ENDPOINT",
    "CONFIDENTIALLEDGER_IDENTITY_CA",
    "CONFIDENTIALLEDGER_LEDGER_ID",
    "CONFIDENTIALLEDGER_SERVICE_CERT",
    "CONFIDENTIALLEDGER_CERT",
    "CONFIDENTIALLEDGER_KEY",
    "CONFIDENTIALLEDGER_TOKEN",
];

/// A running sandbox (committing every 10 ms) and a scratch directory.
pub struct Ledger {
    pub sandbox: Sandbox,
    pub scratch: tempfile::TempDir,
}

impl Ledger {
    pub async fn start() -> Ledger {
        Ledger::start_with(SandboxOptions::for_tests()).await
    }

    pub async fn start_with(options: SandboxOptions) -> Ledger {
        let sandbox = match Sandbox::start(options).await {
            Ok(sandbox) => sandbox,
            Err(e) => panic!("the sandbox does not start: {e}"),
        };
        let scratch = match tempfile::tempdir() {
            Ok(dir) => dir,
            Err(e) => panic!("no temporary directory: {e}"),
        };
        Ledger { sandbox, scratch }
    }

    /// A path in the scratch directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.scratch.path().join(name)
    }

    /// `cledger` connected to the sandbox (through `endpoint`, the sandbox's own by default)
    /// as its administrator, with a client certificate.
    pub fn cledger(&self) -> Command {
        self.cledger_via(&self.sandbox.ledger_endpoint())
    }

    /// `cledger` connected through `endpoint` as the administrator, with a client certificate.
    pub fn cledger_via(&self, endpoint: &str) -> Command {
        let mut command = self.anonymous_via(endpoint);
        command
            .env(
                "CONFIDENTIALLEDGER_CERT",
                self.sandbox.admin_certificate_path(),
            )
            .env(
                "CONFIDENTIALLEDGER_KEY",
                self.sandbox.admin_private_key_path(),
            );
        command
    }

    /// `cledger` connected through `endpoint` (a proxy in front of the sandbox, which ends TLS
    /// and so cannot pass a client certificate on) as an administrator with a bearer token.
    pub async fn cledger_with_token_via(&self, endpoint: &str) -> Command {
        let oid = "5e5e5e5e-aaaa-4bbb-8ccc-dddddddddddd";
        if let Err(e) = self.sandbox.add_user(oid, &["Administrator"]).await {
            panic!("cannot add the token's user: {e}");
        }
        let mut command = self.anonymous_via(endpoint);
        command.env("CONFIDENTIALLEDGER_TOKEN", self.sandbox.mint_token(oid));
        command
    }

    /// `cledger` connected to the sandbox without a credential.
    pub fn anonymous(&self) -> Command {
        self.anonymous_via(&self.sandbox.ledger_endpoint())
    }

    fn anonymous_via(&self, endpoint: &str) -> Command {
        let mut command = bare();
        command
            .env("CONFIDENTIALLEDGER_ENDPOINT", endpoint)
            .env(
                "CONFIDENTIALLEDGER_IDENTITY_ENDPOINT",
                self.sandbox.identity_endpoint(),
            )
            .env(
                "CONFIDENTIALLEDGER_IDENTITY_CA",
                self.sandbox.identity_ca_path(),
            )
            .env("CONFIDENTIALLEDGER_LEDGER_ID", self.sandbox.ledger_id());
        command
    }
}

/// A fault proxy in front of the sandbox, following `plan`.
pub async fn proxy(ledger: &Ledger, plan: FaultPlan) -> FaultProxy {
    let node = ledger.sandbox.node_tls_identity();
    let config = ProxyConfig::new(
        ledger.sandbox.ledger_endpoint(),
        TlsIdentity::new(node.certificate_chain_pem, node.private_key_pem),
        ledger.sandbox.service_certificate_pem(),
    )
    .plan(plan);
    match FaultProxy::start(config).await {
        Ok(proxy) => proxy,
        Err(e) => panic!("the proxy does not start: {e}"),
    }
}

/// `cledger` with none of its environment variables set, and a time limit.
pub fn bare() -> Command {
    let mut command = match Command::cargo_bin("cledger") {
        Ok(command) => command,
        Err(e) => panic!("no cledger binary: {e}"),
    };
    for name in ENV {
        command.env_remove(name);
    }
    command.timeout(Duration::from_secs(120));
    command
}

/// What a finished command printed and its exit code.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts success and returns stdout.
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code,
            Some(0),
            "failed: stdout {} stderr {}",
            self.stdout,
            self.stderr
        );
        &self.stdout
    }

    /// Asserts exit `code`.
    pub fn fails_with(&self, code: i32) -> &Run {
        assert_eq!(
            self.code,
            Some(code),
            "expected exit {code}: stdout {} stderr {}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        match serde_json::from_str(self.ok().trim()) {
            Ok(value) => value,
            Err(e) => panic!("not JSON ({e}): {}", self.stdout),
        }
    }

    /// stdout as JSON lines.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.ok()
            .lines()
            .map(|line| match serde_json::from_str(line) {
                Ok(value) => value,
                Err(e) => panic!("not a JSON line ({e}): {line}"),
            })
            .collect()
    }
}

/// Runs `command` with `args` (off the async runtime, which serves the sandbox).
pub async fn run(mut command: Command, args: &[&str]) -> Run {
    command.args(args);
    run_command(command).await
}

/// Runs `command` with `stdin` as its input.
pub async fn run_with_stdin(mut command: Command, args: &[&str], stdin: &str) -> Run {
    command.args(args).write_stdin(stdin.to_owned());
    run_command(command).await
}

async fn run_command(mut command: Command) -> Run {
    let output = tokio::task::spawn_blocking(move || command.output()).await;
    let output = match output {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => panic!("cledger did not run: {e}"),
        Err(e) => panic!("the runner panicked: {e}"),
    };
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Sends SIGINT (what Ctrl-C sends) to `child` and waits for it to end; what it printed to
/// its piped outputs, if any, and its exit status.
pub async fn interrupt_and_wait(child: std::process::Child) -> std::process::Output {
    let interrupt = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(interrupt.success());
    tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|e| panic!("{e}"))
}
