//! The command line: global connection options and the commands, as clap definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Exit codes, shown at the end of `--help` and in cli/README.md.
pub const EXIT_CODES: &str = "\
Exit codes:
  0    success (also when the reader of stdout goes away, as in `cledger list | head`)
  1    the operation failed (the ledger refused it, network, timeout, a file could not be written)
  2    usage: bad arguments or unreadable input
  3    verification failed: a receipt, an audited entry or the constitution digest did not check out
  4    authentication or authorization failed (no credential, 401, 403)
  130  interrupted (Ctrl-C); an audit with --checkpoint saved its progress

Environment: CONFIDENTIALLEDGER_ENDPOINT, CONFIDENTIALLEDGER_IDENTITY_ENDPOINT,
CONFIDENTIALLEDGER_IDENTITY_CA, CONFIDENTIALLEDGER_LEDGER_ID, CONFIDENTIALLEDGER_SERVICE_CERT,
CONFIDENTIALLEDGER_CERT, CONFIDENTIALLEDGER_KEY, CONFIDENTIALLEDGER_TOKEN (never printed).
Without --cert/--key or a token, the Azure CLI / azd sign-in (`az login`) is used.";

const EXAMPLES: &str = "\
Examples:
  cledger --sandbox-dir demo write --each-line --wait < entries.txt
  cledger --sandbox-dir demo audit --report audit.json
  cledger --endpoint https://my-ledger.confidential-ledger.azure.com read --current
  cledger --endpoint https://my-ledger.confidential-ledger.azure.com receipt 2.15 --out 2.15.json
  cledger --service-cert service.pem verify 2.15.json --transaction-id 2.15";

/// Write, read, prove and audit the entries of an Azure Confidential Ledger.
#[derive(Parser, Debug)]
#[command(name = "cledger", version, after_long_help = format!("{EXAMPLES}\n\n{EXIT_CODES}"))]
pub struct Cli {
    /// Where and how to connect.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Print data as JSON (one object, or one per line for lists) instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Log the library's events on stderr (-v info, -vv debug, -vvv trace). Tokens and keys are
    /// never logged.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Where the ledger is and who we are.
#[derive(Args, Debug, Clone, Default)]
pub struct ConnectionArgs {
    /// The ledger endpoint (`https://NAME.confidential-ledger.azure.com`).
    #[arg(long, env = "CONFIDENTIALLEDGER_ENDPOINT", global = true)]
    pub endpoint: Option<String>,
    /// The identity service publishing the ledger's certificate (default: Azure's).
    #[arg(long, env = "CONFIDENTIALLEDGER_IDENTITY_ENDPOINT", global = true)]
    pub identity_endpoint: Option<String>,
    /// A PEM CA certificate to trust for the identity service, besides the platform's (a
    /// local identity service such as the sandbox's).
    #[arg(
        long,
        value_name = "FILE",
        env = "CONFIDENTIALLEDGER_IDENTITY_CA",
        global = true
    )]
    pub identity_ca: Option<PathBuf>,
    /// The ledger id, when it is not the endpoint's first host label.
    #[arg(long, env = "CONFIDENTIALLEDGER_LEDGER_ID", global = true)]
    pub ledger_id: Option<String>,
    /// The ledger's service certificate (PEM): pinned instead of asking the identity service,
    /// and the trust anchor of `verify`.
    #[arg(
        long,
        value_name = "FILE",
        env = "CONFIDENTIALLEDGER_SERVICE_CERT",
        global = true
    )]
    pub service_cert: Option<PathBuf>,
    /// Client certificate (PEM) of a certificate user; with --key, or with its key in the same
    /// file.
    #[arg(
        long,
        value_name = "FILE",
        env = "CONFIDENTIALLEDGER_CERT",
        global = true
    )]
    pub cert: Option<PathBuf>,
    /// Private key (PEM) of --cert, when it is not in the --cert file.
    #[arg(
        long,
        value_name = "FILE",
        env = "CONFIDENTIALLEDGER_KEY",
        global = true
    )]
    pub key: Option<PathBuf>,
    /// A bearer token (prefer the environment variable: arguments are visible to other users
    /// of the machine). Never printed.
    #[arg(
        long,
        env = "CONFIDENTIALLEDGER_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub token: Option<String>,
    /// Start a local sandbox ledger (temporary, gone when the command ends) and use it.
    #[arg(long, global = true, conflicts_with_all = ["endpoint", "sandbox_dir"])]
    pub sandbox: bool,
    /// Start a local sandbox ledger kept in DIR (created if missing) and use it: entries
    /// persist between commands.
    #[arg(long, value_name = "DIR", global = true, conflicts_with = "endpoint")]
    pub sandbox_dir: Option<PathBuf>,
    /// Give up on one call (and on a wait) after this many seconds.
    #[arg(long, value_name = "SECONDS", global = true, default_value_t = 60)]
    pub timeout: u64,
}

/// The commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Write an entry (argument, file or stdin).
    #[command(after_help = "Examples:\n  cledger write 'hello' --wait\n  \
        cledger write --file report.json --collection audits --tag q3\n  \
        seq 1000 | cledger write --each-line --wait")]
    Write(WriteArgs),
    /// Read an entry by transaction id, or the latest (--current).
    #[command(
        after_help = "Examples:\n  cledger read 2.15\n  cledger read --current --collection audits"
    )]
    Read(ReadArgs),
    /// List the entries of a range, streaming (JSON lines with --json).
    #[command(
        after_help = "Examples:\n  cledger list --from 2.1 --to 2.500 --json > entries.jsonl"
    )]
    List(ListArgs),
    /// Fetch the receipt of a committed transaction (JSON), optionally saving it.
    #[command(after_help = "Examples:\n  cledger receipt 2.15 --out 2.15.json")]
    Receipt(ReceiptArgs),
    /// Verify a saved receipt offline against the service certificate (--service-cert).
    #[command(after_help = "Examples:\n  \
        cledger --service-cert service.pem verify 2.15.json --transaction-id 2.15\n  \
        cledger --service-cert service.pem verify 2.15.json --collection audits --contents-file report.json")]
    Verify(VerifyArgs),
    /// Show the ledger's id, endpoint and service certificate fingerprint.
    #[command(after_help = "Examples:\n  cledger identity --out service.pem")]
    Identity(IdentityArgs),
    /// List the ledger's collections.
    Collections,
    /// List the tags of a collection.
    Tags(TagsArgs),
    /// Manage ledger users.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Manage user-defined roles.
    #[command(subcommand)]
    Roles(RolesCommand),
    /// Show governance: consortium members, constitution, enclave quotes.
    #[command(subcommand)]
    Governance(GovernanceCommand),
    /// Verify every entry of a range: fetch each entry and its receipt, verify the receipt and
    /// that its application claim matches the entry.
    #[command(after_help = "Examples:\n  \
        cledger audit --collection audits --from 2.1 --to 2.90000 --report audit.json\n  \
        cledger audit --checkpoint audit.ckpt   # Ctrl-C, then the same command resumes")]
    Audit(AuditArgs),
    /// Run a local sandbox ledger in the foreground and print how to connect to it.
    #[command(
        after_help = "Examples:\n  cledger sandbox --data-dir demo > demo.env &   # then: . ./demo.env"
    )]
    Sandbox(SandboxArgs),
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    #[command(
        after_help = "Examples:\n  cledger completions bash > /etc/bash_completion.d/cledger"
    )]
    Completions(CompletionsArgs),
}

/// `write`.
#[derive(Args, Debug)]
pub struct WriteArgs {
    /// The contents; `-` or absent (without --file) reads stdin.
    pub contents: Option<String>,
    /// Read the contents from FILE.
    #[arg(long, value_name = "FILE", conflicts_with = "contents")]
    pub file: Option<PathBuf>,
    /// Write each line of the input (stdin or --file) as its own entry.
    #[arg(long)]
    pub each_line: bool,
    /// The collection (default: the ledger's default collection).
    #[arg(long)]
    pub collection: Option<String>,
    /// A tag to file the entry under (repeatable).
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    /// Wait until the ledger has committed the write (the last one with --each-line).
    #[arg(long)]
    pub wait: bool,
    /// Writes in flight at once with --each-line (above 1, lines may land in the ledger in
    /// another order than the input's).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
}

/// `read`.
#[derive(Args, Debug)]
pub struct ReadArgs {
    /// The transaction id (e.g. 2.15).
    #[arg(required_unless_present = "current")]
    pub transaction_id: Option<String>,
    /// Read the latest entry instead.
    #[arg(long, conflicts_with = "transaction_id")]
    pub current: bool,
    /// The collection.
    #[arg(long)]
    pub collection: Option<String>,
}

/// `list`.
#[derive(Args, Debug)]
pub struct ListArgs {
    /// The collection.
    #[arg(long)]
    pub collection: Option<String>,
    /// The first transaction of the range.
    #[arg(long, value_name = "TX")]
    pub from: Option<String>,
    /// The last transaction of the range (included).
    #[arg(long, value_name = "TX")]
    pub to: Option<String>,
    /// Only entries filed under this tag.
    #[arg(long)]
    pub tag: Option<String>,
}

/// `receipt`.
#[derive(Args, Debug)]
pub struct ReceiptArgs {
    /// The transaction id.
    pub transaction_id: String,
    /// Save the receipt (JSON) to FILE instead of printing it.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Also verify it against the pinned service certificate.
    #[arg(long)]
    pub verify: bool,
}

/// `verify`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The saved receipt (the JSON of `cledger receipt`, or a ledger's receipt answer).
    #[arg(value_name = "RECEIPT_FILE")]
    pub receipt: PathBuf,
    /// The transaction the receipt must be for.
    #[arg(long, value_name = "TX")]
    pub transaction_id: Option<String>,
    /// The collection the entry must be in (checked against the receipt's ledger-entry claim).
    #[arg(long)]
    pub collection: Option<String>,
    /// The entry's expected contents (checked against the receipt's ledger-entry claim).
    #[arg(long, conflicts_with = "contents_file")]
    pub contents: Option<String>,
    /// Read the expected contents from FILE.
    #[arg(long, value_name = "FILE")]
    pub contents_file: Option<PathBuf>,
}

/// `identity`.
#[derive(Args, Debug)]
pub struct IdentityArgs {
    /// Save the service certificate (PEM) to FILE.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `tags`.
#[derive(Args, Debug)]
pub struct TagsArgs {
    /// The collection.
    #[arg(long)]
    pub collection: Option<String>,
}

/// `users ...`.
#[derive(Subcommand, Debug)]
pub enum UsersCommand {
    /// List the ledger's users and their roles.
    List,
    /// Show one user.
    Get {
        /// The user id (an Entra object id or a certificate fingerprint).
        user_id: String,
    },
    /// Add a user or replace its roles.
    #[command(after_help = "Examples:\n  cledger users set 7d3c...e1 --role Reader")]
    Set {
        /// The user id.
        user_id: String,
        /// A role (Administrator, Contributor, Reader or a user-defined role); repeatable.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
    },
    /// Remove a user.
    Delete {
        /// The user id.
        user_id: String,
    },
}

/// `roles ...`.
#[derive(Subcommand, Debug)]
pub enum RolesCommand {
    /// Show a user-defined role and its actions.
    Get {
        /// The role name.
        name: String,
    },
    /// Create a user-defined role.
    #[command(after_help = "Examples:\n  cledger roles create Auditor --action /content/read")]
    Create {
        /// The role name.
        name: String,
        /// An allowed action (e.g. /content/read); repeatable.
        #[arg(long = "action", required = true)]
        actions: Vec<String>,
    },
    /// Replace the actions of a user-defined role.
    Update {
        /// The role name.
        name: String,
        /// An allowed action; repeatable.
        #[arg(long = "action", required = true)]
        actions: Vec<String>,
    },
    /// Delete a user-defined role.
    Delete {
        /// The role name.
        name: String,
    },
}

/// `governance ...`.
#[derive(Subcommand, Debug)]
pub enum GovernanceCommand {
    /// List the consortium members.
    Members,
    /// Show the constitution and check its digest (exit 3 when it does not match).
    Constitution {
        /// Save the constitution script to FILE.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Show the nodes' enclave quotes.
    Quotes,
}

/// `audit`.
#[derive(Args, Debug)]
pub struct AuditArgs {
    /// The collection.
    #[arg(long)]
    pub collection: Option<String>,
    /// The first transaction of the range (default: the collection's first).
    #[arg(long, value_name = "TX")]
    pub from: Option<String>,
    /// The last transaction of the range (default: the collection's latest entry when the
    /// audit starts).
    #[arg(long, value_name = "TX")]
    pub to: Option<String>,
    /// Receipts fetched at once.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=512))]
    pub concurrency: u16,
    /// Write the JSON report to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Save progress to FILE (regularly, on Ctrl-C and on failure) and resume from it.
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
    /// Stop after this many entries in this run (resume later with --checkpoint).
    #[arg(long, value_name = "N")]
    pub max_entries: Option<u64>,
    /// No progress bar (it is also hidden when stderr is not a terminal).
    #[arg(long)]
    pub no_progress: bool,
}

/// `sandbox`.
#[derive(Args, Debug)]
pub struct SandboxArgs {
    /// Keep the ledger in DIR (created if missing) so that it survives restarts.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Port of the ledger endpoint; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Commit (emit a signature) at least this often, in milliseconds.
    #[arg(long, default_value_t = 50)]
    pub signature_interval_ms: u64,
}

/// `completions`.
#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}
