//! `confidential-ledger-sandbox`: run a local Confidential Ledger, mint tokens for it, rotate
//! its service identity.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use confidential_ledger_sandbox::{
    Sandbox, SandboxError, SandboxOptions, StorageFault, TokenSpec, mint_token_in,
    rotate_service_identity_in, set_storage_fault_in, stored_ledger_id,
};

/// A local Azure Confidential Ledger to develop and test against.
///
/// Without a subcommand, runs the sandbox (same as `run`).
#[derive(Parser)]
#[command(
    name = "confidential-ledger-sandbox",
    version,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Run the sandbox until SIGINT or SIGTERM.
    Run(RunArgs),
    /// Print a bearer token (JWT) the sandbox on DIR accepts.
    Token(TokenArgs),
    /// Rotate the service identity of the ledger on DIR (running or not).
    RotateIdentity(DirArgs),
    /// Switch the simulated storage fault of the sandbox running on DIR.
    StorageFault(StorageFaultArgs),
}

#[derive(Args)]
struct StorageFaultArgs {
    /// The running sandbox's data directory.
    #[arg(long, value_name = "DIR")]
    data_dir: PathBuf,
    /// disk-full, fsync-fails, short-write, or none (healthy again).
    #[arg(value_name = "FAULT")]
    fault: String,
}

#[derive(Args, Clone)]
struct RunArgs {
    /// Directory holding the ledger, its keys and certificates (created if missing).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Port of the ledger endpoint (HTTPS); 0 picks a free port.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Port of the identity endpoint (HTTPS, certificate from the local CA in DIR); 0 picks a
    /// free port.
    #[arg(long, default_value_t = 0)]
    identity_port: u16,
    /// Serve the identity endpoint over plain HTTP instead of HTTPS.
    #[arg(long)]
    identity_plain_http: bool,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: std::net::IpAddr,
    /// Ledger id (fixed when DIR is created; defaults to the stored one, else "sandbox").
    #[arg(long)]
    ledger_id: Option<String>,
    /// Emit a signature (commit) at least this often, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    signature_interval_ms: u64,
    /// Emit a signature after this many transactions.
    #[arg(long, default_value_t = 5000)]
    signature_every: u64,
    /// How many times historical reads answer Loading before Ready.
    #[arg(long, default_value_t = 1)]
    loading_responses: u32,
    /// Most items per page of a paged list.
    #[arg(long, default_value_t = 1000)]
    page_size: usize,
    /// Serve the legacy /app/users calls for every api version instead of answering
    /// 301 ApiVersionRedirect after 2024-08-22-preview.
    #[arg(long)]
    no_legacy_users_redirect: bool,
    /// Add or update a user at start-up: ID=ROLE[,ROLE...] (repeatable). ID is a token object
    /// id or a certificate fingerprint.
    #[arg(long = "user", value_name = "ID=ROLES")]
    users: Vec<String>,
    /// Start with a simulated storage fault on: disk-full, fsync-fails or short-write (switch
    /// it with the storage-fault subcommand).
    #[arg(long, value_name = "FAULT")]
    storage_fault: Option<StorageFault>,
    /// Most open connections per listener.
    #[arg(long, default_value_t = 512)]
    max_connections: usize,
    /// Seconds allowed for the TLS handshake and for a request's headers.
    #[arg(long, default_value_t = 10)]
    header_read_timeout_secs: u64,
    /// Seconds without traffic after which an idle connection is closed.
    #[arg(long, default_value_t = 60)]
    idle_timeout_secs: u64,
    /// Append `SEQNO UNIX_MICROSECONDS` to FILE each time the committed end of the ledger
    /// moves (for benchmarks: when each commit became visible).
    #[arg(long, value_name = "FILE")]
    commit_log: Option<PathBuf>,
    /// Print only one JSON line describing the running sandbox.
    #[arg(long)]
    print_json: bool,
    /// Stop, as on SIGTERM, when standard input reaches its end. A parent that starts the
    /// sandbox with a pipe as its stdin takes it down with it, even when the parent dies
    /// without cleaning up (a test process that aborts).
    #[arg(long)]
    stop_on_stdin_eof: bool,
}

#[derive(Args)]
struct TokenArgs {
    /// The sandbox's data directory.
    #[arg(long, value_name = "DIR")]
    data_dir: PathBuf,
    /// The principal's object id (the ledger user id).
    #[arg(long)]
    oid: String,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    expires_in: i64,
}

#[derive(Args)]
struct DirArgs {
    /// The sandbox's data directory.
    #[arg(long, value_name = "DIR")]
    data_dir: PathBuf,
}

fn absolute(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

async fn run(args: RunArgs) -> Result<(), SandboxError> {
    let Some(dir) = args.data_dir.clone() else {
        return Err(SandboxError::Config("--data-dir DIR is required".into()));
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| SandboxError::Config(format!("cannot create {}: {e}", dir.display())))?;
    let dir = absolute(&dir);
    let ledger_id = match args.ledger_id.clone() {
        Some(id) => id,
        None => stored_ledger_id(&dir)?.unwrap_or_else(|| "sandbox".to_string()),
    };
    let mut users = Vec::new();
    for spec in &args.users {
        let Some((id, roles)) = spec.split_once('=') else {
            return Err(SandboxError::Config(format!(
                "--user {spec}: expected ID=ROLE[,ROLE...]"
            )));
        };
        let roles: Vec<String> = roles
            .split(',')
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty())
            .collect();
        users.push((id.to_string(), roles));
    }
    let options = SandboxOptions::default()
        .data_dir(&dir)
        .port(args.port)
        .identity_port(args.identity_port)
        .identity_plain_http(args.identity_plain_http)
        .bind(args.bind)
        .ledger_id(ledger_id)
        .signature_interval(Duration::from_millis(args.signature_interval_ms))
        .signature_every(args.signature_every)
        .loading_responses(args.loading_responses)
        .page_size(args.page_size)
        .legacy_users_redirect(!args.no_legacy_users_redirect)
        .storage_fault(args.storage_fault)
        .max_connections(args.max_connections)
        .header_read_timeout(Duration::from_secs(args.header_read_timeout_secs))
        .idle_timeout(Duration::from_secs(args.idle_timeout_secs))
        .commit_log(args.commit_log);
    let signals = StopSignals::install();
    let stdin_closed = args.stop_on_stdin_eof.then(stdin_eof);
    let sandbox = Sandbox::start(options).await?;
    for (id, roles) in &users {
        let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
        sandbox.add_user(id, &roles).await?;
    }
    let info = serde_json::json!({
        "ledgerEndpoint": sandbox.ledger_endpoint(),
        "identityEndpoint": sandbox.identity_endpoint(),
        "ledgerId": sandbox.ledger_id(),
        "identityCaPath": sandbox.identity_ca_path(),
        "serviceCertificatePath": sandbox.service_certificate_path(),
        "adminCertificatePath": sandbox.admin_certificate_path(),
        "adminPrivateKeyPath": sandbox.admin_private_key_path(),
        "adminPemPath": sandbox.admin_pem_path(),
        "adminUserId": sandbox.admin_user_id(),
        "dataDir": sandbox.data_dir(),
        "pid": std::process::id(),
    });
    if !args.print_json {
        let report = sandbox.startup_report();
        println!(
            "Confidential Ledger sandbox '{}' is running.",
            sandbox.ledger_id()
        );
        println!("  ledger endpoint     {}", sandbox.ledger_endpoint());
        println!("  identity endpoint   {}", sandbox.identity_endpoint());
        println!(
            "  identity CA         {}",
            sandbox.identity_ca_path().display()
        );
        println!("  ledger id           {}", sandbox.ledger_id());
        println!(
            "  service certificate {}",
            sandbox.service_certificate_path().display()
        );
        println!(
            "  admin certificate   {}",
            sandbox.admin_certificate_path().display()
        );
        println!(
            "  admin key           {}",
            sandbox.admin_private_key_path().display()
        );
        println!(
            "  admin cert + key    {}",
            sandbox.admin_pem_path().display()
        );
        println!("  admin user id       {}", sandbox.admin_user_id());
        println!(
            "  {} ({} transactions){}",
            if report.created {
                "created a new ledger"
            } else {
                "restored the ledger"
            },
            report.transactions,
            if report.truncated_bytes > 0 {
                format!(", cut off a torn tail of {} bytes", report.truncated_bytes)
            } else {
                String::new()
            }
        );
        println!("Stop with Ctrl-C. Machine-readable:");
    }
    println!("{info}");
    use std::io::Write;
    let _ = std::io::stdout().flush();

    tokio::select! {
        () = signals.wait() => {}
        () = async {
            match stdin_closed {
                Some(closed) => {
                    let _ = closed.await;
                    tracing::info!("standard input closed");
                }
                None => std::future::pending().await,
            }
        } => {}
    }
    tracing::info!("stopping");
    sandbox.shutdown().await;
    Ok(())
}

/// Resolves once standard input reaches its end (or cannot be read). Read on a thread of its
/// own, not the runtime's blocking pool, so that a stdin still open never delays the exit.
fn stdin_eof() -> tokio::sync::oneshot::Receiver<()> {
    let (closed, receiver) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        use std::io::Read;
        let mut stdin = std::io::stdin().lock();
        let mut buffer = [0u8; 256];
        loop {
            match stdin.read(&mut buffer) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = closed.send(());
    });
    receiver
}

/// SIGINT and SIGTERM listeners, installed before the sandbox announces itself so that a
/// signal sent right after the announcement is never missed (and never kills the process
/// without a clean shutdown).
struct StopSignals {
    interrupt: Option<tokio::signal::unix::Signal>,
    terminate: Option<tokio::signal::unix::Signal>,
}

impl StopSignals {
    fn install() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        let listen = |kind: SignalKind, name: &str| match signal(kind) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!("cannot listen for {name}: {e}");
                None
            }
        };
        StopSignals {
            interrupt: listen(SignalKind::interrupt(), "SIGINT"),
            terminate: listen(SignalKind::terminate(), "SIGTERM"),
        }
    }

    async fn wait(mut self) {
        async fn recv(signal: Option<&mut tokio::signal::unix::Signal>) {
            match signal {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        }
        tokio::select! {
            () = recv(self.interrupt.as_mut()) => {}
            () = recv(self.terminate.as_mut()) => {}
        }
    }
}

async fn storage_fault(args: StorageFaultArgs) -> Result<(), SandboxError> {
    let fault = if args.fault.eq_ignore_ascii_case("none") {
        None
    } else {
        Some(
            args.fault
                .parse::<StorageFault>()
                .map_err(|e| SandboxError::InvalidArgument(format!("{e}, or none")))?,
        )
    };
    set_storage_fault_in(&args.data_dir, fault).await?;
    println!(
        "Storage fault of the sandbox on {}: {}",
        args.data_dir.display(),
        fault.map_or("none", StorageFault::name)
    );
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        None => run(cli.run).await,
        Some(Command::Run(args)) => run(args).await,
        Some(Command::Token(args)) => mint_token_in(
            &args.data_dir,
            &TokenSpec::new(args.oid).lifetime_seconds(args.expires_in),
        )
        .map(|token| println!("{token}")),
        Some(Command::RotateIdentity(args)) => {
            rotate_service_identity_in(&args.data_dir).await.map(|pem| {
                println!(
                    "Rotated the service identity of {}. New service certificate:",
                    args.data_dir.display()
                );
                print!("{pem}");
            })
        }
        Some(Command::StorageFault(args)) => storage_fault(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
