//! A local, faithful Azure Confidential Ledger server to develop and test against.
//!
//! The sandbox speaks the Confidential Ledger data-plane API (api-version `2026-02-23` and the
//! older calls that still exist) over HTTPS and the identity service over plain HTTP on
//! loopback, with the shapes, status codes, headers and cryptography of a real ledger:
//! `view.seqno` transaction ids, `Pending` then `Committed` at signature transactions, `Loading`
//! then `Ready` for historical reads, receipts built like CCF's (Merkle tree, commit evidence,
//! claims digest, ECDSA over the root, service endorsements after an identity rotation), users
//! and roles enforced on every route, and every acknowledged write durable in an append-only,
//! checksummed file before the answer.
//!
//! Start it in-process with [`Sandbox::start`], or run the binary:
//! `cargo run -p confidential-ledger-sandbox -- --data-dir ledger-data`.
//!
//! # Examples
//!
//! ```no_run
//! use confidential_ledger_sandbox::{Sandbox, SandboxOptions};
//!
//! # async fn demo() -> Result<(), confidential_ledger_sandbox::SandboxError> {
//! let sandbox = Sandbox::start(SandboxOptions::for_tests()).await?;
//! println!("ledger at {}", sandbox.ledger_endpoint());
//! // Trust only this certificate when connecting:
//! let service_pem = sandbox.service_certificate_pem();
//! // Authenticate as the administrator with a client certificate...
//! let (cert, key) = (sandbox.admin_certificate_pem(), sandbox.admin_private_key_pem());
//! // ...or add a token user and mint a bearer token for it.
//! sandbox.add_user("my-oid", &["Contributor"]).await?;
//! let token = sandbox.mint_token("my-oid");
//! # let _ = (service_pem, cert, key, token);
//! sandbox.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod access;
mod claims;
mod control;
mod digest;
mod error;
mod faults;
mod fsutil;
mod identity;
mod identity_tls;
mod js;
mod ledger;
mod merkle;
mod options;
mod receipt;
mod routes;
mod server;
mod storage;
mod tls;
mod token;
mod txid;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use control::{
    mint_token_in, rotate_service_identity_in, set_storage_fault_in, stored_ledger_id,
};
pub use error::SandboxError;
pub use faults::{FaultAction, Faults};
pub use options::SandboxOptions;
pub use storage::faults::{ParseStorageFaultError, StorageFault, StorageFaults};
pub use tls::NodeTlsIdentity;
pub use token::{LEDGER_AUDIENCE, TokenSpec};
pub use txid::{ParseTransactionIdError, TransactionId};

use crate::fsutil::DirLock;
use crate::identity::Identity;
use crate::ledger::Ledger;
use crate::routes::App;
use crate::storage::record::GovOp;

/// File names of what the sandbox exports to its data directory.
pub mod files {
    /// The current service certificate (PEM): the trust anchor for TLS and receipts.
    pub const SERVICE_CERT: &str = "service_cert.pem";
    /// The administrator's client certificate (PEM).
    pub const ADMIN_CERT: &str = "admin_cert.pem";
    /// The administrator's private key (PKCS#8 PEM, mode 0600).
    pub const ADMIN_KEY: &str = "admin_key.pem";
    /// The administrator's certificate followed by its key, for clients that take one file
    /// (mode 0600).
    pub const ADMIN_PEM: &str = "admin.pem";
    /// The ledger (append-only log of transactions).
    pub const LEDGER: &str = "ledger.log";
    /// How far the ledger file was synced and acknowledged (rewritten after every batch).
    pub const LEDGER_SYNC: &str = "ledger.sync";
    /// Keys, certificates and secrets (mode 0600).
    pub const IDENTITY: &str = "identity.json";
    /// The local certificate authority that issues the identity endpoint's HTTPS certificate
    /// (PEM): add it to a client's trusted roots for the identity service only.
    pub const IDENTITY_CA: &str = "identity_ca.pem";
    /// The local certificate authority's private key (PKCS#8 PEM, mode 0600).
    pub const IDENTITY_CA_KEY: &str = "identity_ca_key.pem";
    /// Endpoints of the running sandbox (removed at clean shutdown).
    pub const RUNTIME: &str = "runtime.json";
}

/// Counters of the storage layer.
///
/// # Examples
///
/// ```
/// use confidential_ledger_sandbox::StorageStats;
///
/// let s = StorageStats { syncs: 10, records: 250 };
/// assert_eq!(s.records / s.syncs, 25);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StorageStats {
    /// Number of `fdatasync` calls (one per group-committed batch).
    pub syncs: u64,
    /// Number of records written.
    pub records: u64,
}

/// What start-up found in the data directory.
///
/// # Examples
///
/// ```
/// use confidential_ledger_sandbox::StartupReport;
///
/// let r = StartupReport::default();
/// assert!(!r.created && r.transactions == 0);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StartupReport {
    /// The data directory was empty and a new ledger was created.
    pub created: bool,
    /// Transactions found in the ledger file.
    pub transactions: u64,
    /// Bytes of a torn tail (an interrupted last write) that were cut off.
    pub truncated_bytes: u64,
}

/// A running sandbox ledger.
///
/// Dropping it stops the servers (without waiting); [`Sandbox::shutdown`] stops them cleanly,
/// flushes the ledger and releases the data directory.
pub struct Sandbox {
    app: Arc<App>,
    ledger_addr: SocketAddr,
    identity_addr: SocketAddr,
    identity_scheme: &'static str,
    identity_ca_pem: String,
    shutdown_tx: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    data_dir: PathBuf,
    report: StartupReport,
    lock: Option<DirLock>,
    // Dropped last: the temporary directory, if any.
    _temp: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("ledger_endpoint", &self.ledger_endpoint())
            .field("identity_endpoint", &self.identity_endpoint())
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

fn write_export(dir: &Path, name: &str, text: &str, mode: u32) -> Result<(), SandboxError> {
    fsutil::write_atomic(&dir.join(name), text.as_bytes(), mode)
}

async fn bind(address: SocketAddr) -> Result<TcpListener, SandboxError> {
    TcpListener::bind(address)
        .await
        .map_err(|e| SandboxError::io(format!("cannot listen on {address}"), e))
}

fn local_addr(listener: &TcpListener) -> Result<SocketAddr, SandboxError> {
    listener
        .local_addr()
        .map_err(|e| SandboxError::io("cannot read the listening address", e))
}

impl Sandbox {
    /// Starts a sandbox: opens (or creates) the ledger in the data directory, restores it, and
    /// serves the ledger and identity endpoints.
    ///
    /// # Errors
    ///
    /// [`SandboxError::Locked`] when another sandbox holds the data directory,
    /// [`SandboxError::Corrupt`] when the ledger file is damaged in the middle,
    /// [`SandboxError::Config`] for unusable options, I/O errors otherwise.
    pub async fn start(options: SandboxOptions) -> Result<Sandbox, SandboxError> {
        options.validate()?;
        let (data_dir, temp) = match &options.data_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| SandboxError::io(format!("cannot create {}", dir.display()), e))?;
                (dir.clone(), None)
            }
            None => {
                let temp = tempfile::Builder::new()
                    .prefix("confidential-ledger-sandbox-")
                    .tempdir()
                    .map_err(|e| SandboxError::io("cannot create a temporary directory", e))?;
                (temp.path().to_path_buf(), Some(temp))
            }
        };
        let lock = DirLock::acquire(&data_dir)?;

        let identity = if data_dir.join(files::IDENTITY).exists() {
            let identity = Identity::load(&data_dir)?;
            if identity.ledger_id != options.ledger_id {
                return Err(SandboxError::Config(format!(
                    "{} holds ledger '{}', not '{}'",
                    data_dir.display(),
                    identity.ledger_id,
                    options.ledger_id
                )));
            }
            identity
        } else {
            let log = data_dir.join(files::LEDGER);
            if storage::log::has_records(&log) {
                return Err(SandboxError::Config(format!(
                    "{} has a ledger file but no {}; refusing to create new identities for an existing ledger",
                    data_dir.display(),
                    files::IDENTITY
                )));
            }
            let identity = Identity::create(&options.ledger_id, ledger::FIRST_VIEW)?;
            // The empty ledger file exists before the identity does: an identity without its
            // ledger file is refused at start-up.
            storage::log::create(&log)?;
            identity.save(&data_dir)?;
            identity
        };

        let storage_faults = StorageFaults::default();
        let (ledger, opened) = Ledger::open(
            &data_dir,
            identity,
            options.signature_every,
            storage_faults.clone(),
        )
        .await?;
        storage_faults.set(options.storage_fault);
        if ledger.renew_certificates()? {
            tracing::info!("reissued certificates that were about to expire");
        }
        let report = StartupReport {
            created: opened.created,
            transactions: ledger.len(),
            truncated_bytes: opened.recovery.truncated_bytes,
        };

        let (service_pem, admin_cert, admin_key) = ledger.with_identity(|id| {
            (
                id.current().service_cert_pem.clone(),
                id.admin_cert_pem().to_string(),
                id.admin_key_pem().to_string(),
            )
        });
        write_export(&data_dir, files::SERVICE_CERT, &service_pem, 0o644)?;
        write_export(&data_dir, files::ADMIN_CERT, &admin_cert, 0o644)?;
        write_export(&data_dir, files::ADMIN_KEY, &admin_key, 0o600)?;
        write_export(
            &data_dir,
            files::ADMIN_PEM,
            &format!("{admin_cert}{admin_key}"),
            0o600,
        )?;

        let identity_ca = identity_tls::IdentityCa::load_or_create(&data_dir)?;
        let extra_host = (!options.bind.is_loopback() && !options.bind.is_unspecified())
            .then(|| options.bind.to_string());
        let identity_acceptor = if options.identity_plain_http {
            None
        } else {
            Some(tokio_rustls::TlsAcceptor::from(
                identity_ca.server_config(extra_host.as_deref())?,
            ))
        };
        let resolver = Arc::new(tls::NodeCertResolver::new(&ledger.current_generation())?);
        let tls_config = tls::server_config(resolver.clone())?;
        let app = Arc::new(App::new(
            ledger.clone(),
            options.clone(),
            resolver,
            data_dir.clone(),
            storage_faults,
        ));

        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        let ledger_listener = bind(SocketAddr::new(options.bind, options.port)).await?;
        let ledger_addr = local_addr(&ledger_listener)?;
        let identity_listener = bind(SocketAddr::new(options.bind, options.identity_port)).await?;
        let identity_addr = local_addr(&identity_listener)?;
        let acceptor = tokio_rustls::TlsAcceptor::from(tls_config);
        let limits = server::Limits {
            max_connections: options.max_connections,
            header_read_timeout: options.header_read_timeout,
            idle_timeout: options.idle_timeout,
        };
        let router = routes::ledger_router(app.clone());
        tasks.push(tokio::spawn(server::accept_loop(
            ledger_listener,
            Some(acceptor.clone()),
            router.clone(),
            limits,
            shutdown_rx.clone(),
        )));
        // `localhost` may resolve to ::1 first: serve it there too when the port is free.
        if options.bind == IpAddr::V4(Ipv4Addr::LOCALHOST) {
            let v6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), ledger_addr.port());
            if let Ok(listener) = TcpListener::bind(v6).await {
                tasks.push(tokio::spawn(server::accept_loop(
                    listener,
                    Some(acceptor),
                    router,
                    limits,
                    shutdown_rx.clone(),
                )));
            }
        }
        tasks.push(tokio::spawn(server::accept_loop(
            identity_listener,
            identity_acceptor,
            routes::identity::identity_router(app.clone()),
            limits,
            shutdown_rx.clone(),
        )));
        // What start-up wrote is signed here, before anyone can write: the signer's first
        // round is one interval away, so a write is never committed early by a start-up
        // signature that the runtime happened to run late.
        ledger.sign_now()?;
        if let Some(path) = &options.commit_log {
            let log = std::fs::File::create(path)
                .map_err(|e| SandboxError::io(format!("cannot create {}", path.display()), e))?;
            tasks.push(tokio::spawn(ledger::run_commit_log(
                ledger.clone(),
                log,
                shutdown_rx.clone(),
            )));
        }
        tasks.push(tokio::spawn(ledger::run_signer(
            ledger,
            options.signature_interval,
            shutdown_rx,
        )));

        let sandbox = Sandbox {
            app,
            ledger_addr,
            identity_addr,
            identity_scheme: if options.identity_plain_http {
                "http"
            } else {
                "https"
            },
            identity_ca_pem: identity_ca.certificate_pem.clone(),
            shutdown_tx,
            tasks,
            data_dir,
            report,
            lock: Some(lock),
            _temp: temp,
        };
        control::write_runtime(&sandbox)?;
        tracing::info!(
            ledger = %sandbox.ledger_endpoint(),
            identity = %sandbox.identity_endpoint(),
            "sandbox ledger '{}' is running",
            sandbox.ledger_id()
        );
        Ok(sandbox)
    }

    /// The ledger endpoint, `https://localhost:<port>` (or the bound address when not bound to
    /// loopback).
    pub fn ledger_endpoint(&self) -> String {
        let ip = self.ledger_addr.ip();
        if ip.is_loopback() || ip.is_unspecified() {
            format!("https://localhost:{}", self.ledger_addr.port())
        } else {
            format!("https://{}", self.ledger_addr)
        }
    }

    /// The identity endpoint: `https://127.0.0.1:<port>` (`http://` with
    /// [`SandboxOptions::identity_plain_http`]). Its certificate is issued by the
    /// [local CA](Self::identity_ca_certificate_pem).
    pub fn identity_endpoint(&self) -> String {
        let ip = self.identity_addr.ip();
        let scheme = self.identity_scheme;
        if ip.is_unspecified() {
            format!("{scheme}://127.0.0.1:{}", self.identity_addr.port())
        } else {
            format!("{scheme}://{}", self.identity_addr)
        }
    }

    /// The certificate (PEM) of the local CA that issues the identity endpoint's HTTPS
    /// certificate: trust it for the identity service only (this crate's client:
    /// `ClientBuilder::identity_root_certificate_pem`; Python: `REQUESTS_CA_BUNDLE`; Node:
    /// `NODE_EXTRA_CA_CERTS`). Stable across restarts on the same data directory.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), confidential_ledger_sandbox::SandboxError> {
    /// use confidential_ledger_sandbox::{Sandbox, SandboxOptions};
    ///
    /// let sandbox = Sandbox::start(SandboxOptions::for_tests()).await?;
    /// assert!(sandbox.identity_ca_certificate_pem().contains("BEGIN CERTIFICATE"));
    /// assert!(sandbox.identity_endpoint().starts_with("https://"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn identity_ca_certificate_pem(&self) -> &str {
        &self.identity_ca_pem
    }

    /// Path of the [identity CA certificate](Self::identity_ca_certificate_pem) in the data
    /// directory (for `REQUESTS_CA_BUNDLE`, `SSL_CERT_FILE`, `NODE_EXTRA_CA_CERTS`).
    pub fn identity_ca_path(&self) -> PathBuf {
        self.data_dir.join(files::IDENTITY_CA)
    }

    /// The ledger endpoint's socket address.
    pub fn ledger_address(&self) -> SocketAddr {
        self.ledger_addr
    }

    /// The ledger id.
    pub fn ledger_id(&self) -> &str {
        &self.app.options.ledger_id
    }

    /// The current service certificate (PEM): pin it as the only trust root for TLS, and use it
    /// to verify receipts. Changes when the identity rotates.
    pub fn service_certificate_pem(&self) -> String {
        self.app
            .ledger
            .current_generation()
            .service_cert_pem
            .clone()
    }

    /// The node certificate chain and private key the ledger endpoint currently presents (PEM).
    ///
    /// A test aid, for test proxies and fake nodes that must be accepted by a client pinned to
    /// the [service certificate](Self::service_certificate_pem). Changes when the identity
    /// rotates. Never hand a real ledger's node key to anything: this exists because the
    /// sandbox's keys are throwaway.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), confidential_ledger_sandbox::SandboxError> {
    /// use confidential_ledger_sandbox::{Sandbox, SandboxOptions};
    ///
    /// let sandbox = Sandbox::start(SandboxOptions::for_tests()).await?;
    /// let node = sandbox.node_tls_identity();
    /// assert!(node.certificate_chain_pem.contains("BEGIN CERTIFICATE"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn node_tls_identity(&self) -> NodeTlsIdentity {
        let generation = self.app.ledger.current_generation();
        NodeTlsIdentity {
            certificate_chain_pem: generation.node_cert_pem.clone(),
            private_key_pem: generation.node_key_pem().to_string(),
        }
    }

    /// The administrator's client certificate (PEM). Its fingerprint is an `Administrator`.
    pub fn admin_certificate_pem(&self) -> String {
        self.app
            .ledger
            .with_identity(|id| id.admin_cert_pem().to_string())
    }

    /// The administrator's private key (PKCS#8 PEM).
    pub fn admin_private_key_pem(&self) -> String {
        self.app
            .ledger
            .with_identity(|id| id.admin_key_pem().to_string())
    }

    /// The administrator's user id: the fingerprint of its certificate
    /// (`5F:23:...`, upper-case, colon-separated SHA-256).
    pub fn admin_user_id(&self) -> String {
        self.app
            .ledger
            .with_identity(|id| id.admin_fingerprint.clone())
    }

    /// Path of the exported service certificate.
    pub fn service_certificate_path(&self) -> PathBuf {
        self.data_dir.join(files::SERVICE_CERT)
    }

    /// Path of the exported administrator certificate.
    pub fn admin_certificate_path(&self) -> PathBuf {
        self.data_dir.join(files::ADMIN_CERT)
    }

    /// Path of the exported administrator key.
    pub fn admin_private_key_path(&self) -> PathBuf {
        self.data_dir.join(files::ADMIN_KEY)
    }

    /// Path of the administrator's certificate and key in one file.
    pub fn admin_pem_path(&self) -> PathBuf {
        self.data_dir.join(files::ADMIN_PEM)
    }

    /// A bearer token for `oid`, valid for one hour, accepted by this sandbox (and by any
    /// sandbox started on the same data directory).
    pub fn mint_token(&self, oid: &str) -> String {
        self.app.tokens.mint(&TokenSpec::new(oid))
    }

    /// A token as described by `spec`: valid, or expired, for another audience, or signed by
    /// an untrusted key.
    pub fn mint_token_with(&self, spec: &TokenSpec) -> String {
        self.app.tokens.mint(spec)
    }

    /// Adds a user (or replaces its roles) directly, without going through HTTP. `user_id` is
    /// a token object id or a certificate fingerprint; roles are built-in (`Administrator`,
    /// `Contributor`, `Reader`) or user-defined.
    ///
    /// # Errors
    ///
    /// [`SandboxError::InvalidArgument`] for an empty id or no roles.
    pub async fn add_user(&self, user_id: &str, roles: &[&str]) -> Result<(), SandboxError> {
        if user_id.trim().is_empty() || user_id.len() > 256 || user_id.chars().any(char::is_control)
        {
            return Err(SandboxError::InvalidArgument(format!(
                "invalid user id {user_id:?}"
            )));
        }
        let roles: Vec<String> = roles
            .iter()
            .map(|r| access::builtin_role(r).map_or_else(|| r.to_string(), str::to_string))
            .collect();
        if roles.is_empty() || roles.iter().any(|r| r.trim().is_empty()) {
            return Err(SandboxError::InvalidArgument(
                "a user needs at least one role".into(),
            ));
        }
        let op = GovOp::SetUser {
            user_id: user_id.to_string(),
            roles,
        };
        self.app
            .ledger
            .govern(|_| Ok::<_, SandboxError>(op))
            .await?
            .map(|_| ())
    }

    /// Appends an entry directly, without going through HTTP (test setup, benchmarks). Waits
    /// until it is durable and returns its transaction id.
    pub async fn append_entry(
        &self,
        collection_id: &str,
        contents: &str,
    ) -> Result<TransactionId, SandboxError> {
        if collection_id.is_empty() || collection_id.len() > 256 {
            return Err(SandboxError::InvalidArgument(
                "invalid collection id".into(),
            ));
        }
        self.app
            .ledger
            .append_entry(collection_id, contents.to_string(), Vec::new(), true)
            .await
    }

    /// The rollback switch: the next `writes` entry writes (`POST /app/transactions`) are
    /// rolled back before their commit, as after an election. Each gets a transaction id, is
    /// never stored (absent from reads, lists and receipts) and its status is `Invalid`; the
    /// ledger moves to a new view. A write made with `waitForCommit=true`
    /// (2026-07-31-preview) is answered `503` with code `TransactionRolledBack`, one without
    /// it `200` as usual. Armed rollbacks add up; rolled-back ids are forgotten on restart.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(sandbox: confidential_ledger_sandbox::Sandbox) {
    /// sandbox.roll_back_next_writes(1);
    /// // the next write is rolled back
    /// # }
    /// ```
    pub fn roll_back_next_writes(&self, writes: u32) {
        self.app.ledger.arm_rollbacks(writes);
    }

    /// Rotates the service identity: a new service key and certificate, a new node
    /// certificate, a new view. Receipts signed under older identities stay verifiable
    /// through their `serviceEndorsements`.
    pub async fn rotate_service_identity(&self) -> Result<(), SandboxError> {
        self.app.rotate().await.map(|_| ())
    }

    /// The fault injector.
    pub fn faults(&self) -> &Faults {
        &self.app.faults
    }

    /// The storage-fault switch: simulate a full disk, a failing `fsync` or a short write on
    /// the ledger file, and heal it again.
    ///
    /// A write whose batch fails is removed from the ledger file before anyone is answered and
    /// gets `503 StorageUnavailable` (not applied); if the removal cannot be made durable
    /// (with [`StorageFault::FsyncFails`]) it gets `500` (outcome unknown). After
    /// `set(None)`, writes succeed again. Transactions refused this way never reappear, and
    /// the ledger continues in a new view, so no transaction id is handed out twice.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), confidential_ledger_sandbox::SandboxError> {
    /// use confidential_ledger_sandbox::{Sandbox, SandboxError, SandboxOptions, StorageFault};
    ///
    /// let sandbox = Sandbox::start(SandboxOptions::for_tests()).await?;
    /// sandbox.storage_faults().set(Some(StorageFault::DiskFull));
    /// assert!(matches!(
    ///     sandbox.append_entry("subledger:0", "refused").await,
    ///     Err(SandboxError::Storage(_))
    /// ));
    /// sandbox.storage_faults().set(None);
    /// sandbox.append_entry("subledger:0", "kept").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn storage_faults(&self) -> &StorageFaults {
        &self.app.storage_faults
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// What start-up found.
    pub fn startup_report(&self) -> &StartupReport {
        &self.report
    }

    /// Group-commit counters.
    pub fn storage_stats(&self) -> StorageStats {
        let (syncs, records) = self.app.ledger.write_stats();
        StorageStats { syncs, records }
    }

    /// Stops accepting connections, lets open requests finish, writes and syncs everything
    /// queued, and releases the data directory.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown_tx.send(true);
        for task in self.tasks.drain(..) {
            if let Err(e) = task.await {
                tracing::warn!("a sandbox task ended abnormally: {e}");
            }
        }
        self.app.ledger.close();
        let _ = std::fs::remove_file(self.data_dir.join(files::RUNTIME));
        self.lock.take();
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.shutdown_tx.send(true);
        for task in &self.tasks {
            task.abort();
        }
        // Nothing may write the ledger file once the directory lock is released.
        self.app.ledger.close();
        if self.lock.is_some() {
            let _ = std::fs::remove_file(self.data_dir.join(files::RUNTIME));
        }
    }
}
