//! `cledger`: write, read, prove and audit the entries of an Azure Confidential Ledger from the
//! shell. See cli/README.md.

mod args;
mod audit;
mod commands;
mod connect;
mod error;
mod files;
mod options;
mod output;
mod sandbox;
mod signal;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::args::{Cli, Command};
use crate::error::CliResult;
use crate::output::Output;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime\n  caused by: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => error::report(&e),
    }
}

/// `-v`: the library's `tracing` events on stderr. The library never logs credentials.
fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => return,
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::new(format!("confidential_ledger={level}"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn run(cli: Cli) -> CliResult {
    let out = Output { json: cli.json };
    let connection = &cli.connection;
    match &cli.command {
        Command::Completions(args) => {
            let mut command = Cli::command();
            clap_complete::generate(args.shell, &mut command, "cledger", &mut std::io::stdout());
            return Ok(());
        }
        Command::Verify(args) => {
            return commands::receipts::verify(connection.service_cert.as_deref(), args, out);
        }
        Command::Sandbox(args) => return sandbox::run(args, cli.json).await,
        _ => {}
    }
    let connected = connect::connect(connection).await?;
    let client = &connected.client;
    let result = match &cli.command {
        Command::Write(args) => commands::entries::write(client, args, out).await,
        Command::Read(args) => commands::entries::read(client, args, out).await,
        Command::List(args) => commands::entries::list(client, args, out).await,
        Command::Receipt(args) => commands::receipts::receipt(client, args, out).await,
        Command::Identity(args) => commands::identity::identity(client, args, out),
        Command::Collections => commands::admin::collections(client, out).await,
        Command::Tags(args) => commands::admin::tags(client, args, out).await,
        Command::Users(command) => commands::admin::users(client, command, out).await,
        Command::Roles(command) => commands::admin::roles(client, command, out).await,
        Command::Governance(command) => {
            commands::governance::governance(client, command, out).await
        }
        Command::Audit(args) => audit::run(client, args, out).await,
        Command::Verify(_) | Command::Sandbox(_) | Command::Completions(_) => Ok(()),
    };
    connected.close().await;
    result
}
