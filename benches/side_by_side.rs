//! Side-by-side benchmark, Rust half: this client and a bare reqwest loop against a running
//! sandbox. `benches/side_by_side.sh` starts the sandbox, runs this binary and the Python half
//! (`benches/python/side_by_side.py`) on the same work, and writes `docs/benchmarks.md`.
//!
//! ```text
//! side_by_side MODE --sandbox FILE [options]     (FILE: the sandbox's --print-json line)
//!
//! prefill  --collection C --count N --concurrency K
//!          writes N entries to collection C, waits for the last to commit, reads the range
//!          once (so that no page of it answers Loading any more) and prints the range
//! writes   --seconds S --concurrency 1,32 --round R [--committed-in-flight K]
//!          writes/s through the client and through bare reqwest, K writes in flight; then
//!          through the client in exactly-once mode (`WriteMode::ExactlyOnce`), with the
//!          requests the client sent per write (counted from its `ledger_attempt` spans);
//!          with --committed-in-flight K, then plain writes/s and committed writes/s through
//!          one client with K writes in flight (see `committed`)
//! committed --seconds S --in-flight K
//!          plain and committed writes/s in turns (plain, committed, plain, committed,
//!          plain: each committed window between two plain ones), K writes in flight: each
//!          slot writes, adds the commit wait to those it drives itself and writes the next;
//!          the rate counts the window's writes whose commit was then seen (all must be),
//!          with their latency
//! status   --seconds S --concurrency 1,32 --round R --id TX
//!          transaction-status reads/s (no disk on the server side: the per-call cost)
//! latency  --seconds S --writers W --think T --start-at UNIX_SECONDS
//!          committed-write latency, every variant at the same time (same signatures): this
//!          client's default poller, this client with a fixed 0.5 s poll, a bare loop with a
//!          fixed 0.5 s poll and a bare loop with a 10 ms poll (when commits become visible);
//!          each writer pauses a random 0..T seconds before each write; with
//!          --commit-log FILE (the sandbox's), also how long after its commit became visible
//!          each write was seen committed ("excess_ms")
//! range    --collection C --from TX --to TX
//!          streams the range through the client's pager: entries/s and peak RSS (VmHWM)
//! calls    --op write|status|committed --via client|bare --count N [--in-flight K]
//!          N calls of one kind, K at a time (default 1), after 20 unmeasured ones; a
//!          `committed` call (client only) is a write whose commit wait is then spawned, all
//!          awaited at the end (and, for status,
//!          one write whose id is read): a fixed amount of work for an instruction counter
//!          (`valgrind --tool=callgrind`), on a single-threaded runtime so that runs repeat;
//!          two runs with different N give the instructions
//!          per call without start-up (see `benches/per_call.sh`)
//! receipts --collection C --count N --out DIR
//!          fetches the receipts of the first N entries of C into DIR (service_cert.pem and
//!          batch/NNNN.json, the layout `benches/receipt.rs --receipts` and
//!          `benches/receipt_python.py` read)
//! ```
//!
//! Without a mode (as `cargo bench` and `cargo test --all-targets` run it) it prints this
//! usage and exits successfully, measuring nothing.
//!
//! Every mode prints one JSON object on stdout. The client is built with default
//! [`ClientOptions`] (except where a mode says otherwise), a client certificate and the
//! service certificate file; the bare client uses the same rustls configuration
//! ([`client_config`]) and the same timeouts, and does no more than a correct hand-written
//! program must: check the status, take the transaction id from its header (parsed) and read
//! the body.

#[path = "support/side_by_side.rs"]
mod support;

use std::future::{Future, IntoFuture};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use confidential_ledger::client::{CreateLedgerEntryOptions, ListLedgerEntriesOptions};
use confidential_ledger::options::WriteMode;
use confidential_ledger::poller::PollingOptions;
use confidential_ledger::tls::{PinnedCertificate, client_config};
use confidential_ledger::{
    CertificateCredential, ClientOptions, ConfidentialLedgerClient, TransactionId,
};
use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};
use support::{Args, contents, per_operation};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Result<T, E = BoxError> = std::result::Result<T, E>;

const API_VERSION: &str = "2026-02-23";
const USAGE: &str = "usage: side_by_side MODE --sandbox FILE [--name value ...]
  modes: prefill, writes, committed, status, latency, range, calls, receipts (see benches/side_by_side.rs)
  benches/side_by_side.sh starts a sandbox, runs every mode and writes docs/benchmarks.md";

/// Unmeasured work before each timed window (connections, TLS handshakes, caches).
const WARM_UP: Duration = Duration::from_millis(500);

/// What the sandbox's `--print-json` line says about it.
struct SandboxInfo {
    endpoint: String,
    service_certificate: PathBuf,
    admin_certificate: PathBuf,
    admin_key: PathBuf,
}

impl SandboxInfo {
    fn read(path: &Path) -> Result<Self> {
        let info: Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
        let field = |name: &str| -> Result<String> {
            info[name]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("{} has no {name}", path.display()).into())
        };
        Ok(Self {
            endpoint: field("ledgerEndpoint")?,
            service_certificate: field("serviceCertificatePath")?.into(),
            admin_certificate: field("adminCertificatePath")?.into(),
            admin_key: field("adminPrivateKeyPath")?.into(),
        })
    }

    fn credential(&self) -> Result<CertificateCredential> {
        Ok(CertificateCredential::from_pem_files(
            &self.admin_certificate,
            &self.admin_key,
        )?)
    }

    /// This client, with `options`.
    async fn client(&self, options: ClientOptions) -> Result<ConfidentialLedgerClient> {
        Ok(ConfidentialLedgerClient::builder(&self.endpoint)
            .certificate_credential(self.credential()?)
            .service_certificate_file(&self.service_certificate)
            .options(options)
            .build()
            .await?)
    }

    /// The bare baseline: reqwest with the client's TLS configuration and timeouts.
    fn bare(&self) -> Result<Bare> {
        let pinned = PinnedCertificate::from_pem_file(&self.service_certificate)?;
        let tls = client_config(&pinned, Some(&self.credential()?))?;
        let defaults = ClientOptions::default();
        let mut builder = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .redirect(reqwest::redirect::Policy::none());
        if let Some(t) = defaults.connect_timeout {
            builder = builder.connect_timeout(t);
        }
        if let Some(t) = defaults.request_timeout {
            builder = builder.timeout(t);
        }
        Ok(Bare {
            http: builder.build()?,
            base: self.endpoint.trim_end_matches('/').to_owned(),
        })
    }
}

/// A hand-written client: one request per call, nothing else.
#[derive(Clone)]
struct Bare {
    http: reqwest::Client,
    base: String,
}

impl Bare {
    async fn write(&self, contents: String) -> Result<TransactionId> {
        let response = self
            .http
            .post(format!(
                "{}/app/transactions?api-version={API_VERSION}",
                self.base
            ))
            .json(&json!({ "contents": contents }))
            .send()
            .await?;
        let status = response.status();
        let id = response
            .headers()
            .get("x-ms-ccf-transaction-id")
            .and_then(|v| v.to_str().ok())
            .map(str::parse::<TransactionId>);
        let body = response.bytes().await?;
        if !status.is_success() {
            return Err(format!(
                "write answered {status}: {}",
                String::from_utf8_lossy(&body)
            )
            .into());
        }
        Ok(id.ok_or("no transaction id header")??)
    }

    /// The transaction's state as the ledger writes it.
    async fn status(&self, id: TransactionId) -> Result<String> {
        let response = self
            .http
            .get(format!(
                "{}/app/transactions/{id}/status?api-version={API_VERSION}",
                self.base
            ))
            .send()
            .await?;
        let status = response.status();
        let body = response.bytes().await?;
        if !status.is_success() {
            return Err(format!(
                "status answered {status}: {}",
                String::from_utf8_lossy(&body)
            )
            .into());
        }
        let value: Value = serde_json::from_slice(&body)?;
        Ok(value["state"].as_str().unwrap_or_default().to_owned())
    }

    /// Waits for `id` to commit, polling at once and then every `interval`; returns the polls.
    async fn wait_for_commit(&self, id: TransactionId, interval: Duration) -> Result<u32> {
        let mut polls = 0;
        loop {
            polls += 1;
            match self.status(id).await?.as_str() {
                "Committed" => return Ok(polls),
                "Pending" => tokio::time::sleep(interval).await,
                other => return Err(format!("transaction {id} is {other:?}").into()),
            }
        }
    }

    /// The receipt of `id`, waiting out `Loading` (10 ms apart, for at most 10 s).
    async fn receipt(&self, id: TransactionId) -> Result<Value> {
        for _ in 0..1000 {
            let response = self
                .http
                .get(format!(
                    "{}/app/transactions/{id}/receipt?api-version={API_VERSION}",
                    self.base
                ))
                .send()
                .await?
                .error_for_status()?;
            let mut body: Value = response.json().await?;
            if body["state"] == "Ready" {
                return Ok(body["receipt"].take());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Err(format!("the receipt of {id} was still not ready after 10 s").into())
    }
}

/// Operations per second, and CPU time this process spent per operation (all its threads:
/// the client's work, TLS, the runtime; not the server's).
struct Measured {
    rate: f64,
    cpu_us_per_op: f64,
    /// Requests the client sent per operation, when they are counted ([`count_requests`]).
    requests_per_op: Option<f64>,
}

impl Measured {
    fn json(&self) -> Value {
        let mut value = json!({ "rate": self.rate, "cpu_us": self.cpu_us_per_op });
        if let Some(requests) = self.requests_per_op {
            value["requests_per_op"] = json!(requests);
        }
        value
    }
}

/// Requests the client sent, counted by [`AttemptCounter`] once [`count_requests`] ran.
static REQUESTS: AtomicU64 = AtomicU64::new(0);

/// Counts the client's `ledger_attempt` spans (one per request it sends) and enables nothing
/// else, so that the other spans and events stay as cheap as without a subscriber. A
/// subscriber of its own rather than a layer over `tracing_subscriber`'s registry: the
/// registry keeps data for every span and a stack of entered spans per thread, work that
/// would be charged to the client's CPU per call (about a fifth of it per write at 32 in
/// flight, in trials) while the bare loop, without spans, pays none.
struct AttemptCounter;

impl AttemptCounter {
    fn counts(meta: &tracing::Metadata<'_>) -> bool {
        meta.is_span() && meta.name() == "ledger_attempt"
    }
}

impl tracing::Subscriber for AttemptCounter {
    fn register_callsite(
        &self,
        meta: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        if Self::counts(meta) {
            tracing::subscriber::Interest::always()
        } else {
            tracing::subscriber::Interest::never()
        }
    }

    fn enabled(&self, meta: &tracing::Metadata<'_>) -> bool {
        Self::counts(meta)
    }

    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        REQUESTS.fetch_add(1, Ordering::Relaxed);
        // Nothing is kept per span: one id serves them all.
        tracing::span::Id::from_u64(1)
    }

    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, _: &tracing::Event<'_>) {}

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}

/// Counts the requests the client sends from now on (into [`REQUESTS`]).
fn count_requests() -> Result<()> {
    tracing::subscriber::set_global_default(AttemptCounter)?;
    Ok(())
}

/// CPU time used by this process so far.
fn process_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

/// Runs `op(writer, i)` on `concurrency` workers: for [`WARM_UP`] unmeasured, then for
/// `seconds`; returns operations per second (completed operations over the time until the
/// last worker finished its last operation) and CPU time per operation.
async fn rate<F, Fut>(concurrency: usize, seconds: f64, op: F) -> Result<Measured>
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let op = Arc::new(op);
    let index = Arc::new(AtomicU64::new(0));
    let run = |window: Duration| {
        let mut tasks = Vec::new();
        let deadline = Instant::now() + window;
        for w in 0..concurrency {
            let (op, index) = (Arc::clone(&op), Arc::clone(&index));
            tasks.push(tokio::spawn(async move {
                let mut done = 0u64;
                while Instant::now() < deadline {
                    op(w, index.fetch_add(1, Ordering::Relaxed)).await?;
                    done += 1;
                }
                Ok::<_, BoxError>(done)
            }));
        }
        tasks
    };
    for task in run(WARM_UP) {
        task.await??;
    }
    let (start, cpu) = (Instant::now(), process_cpu());
    let requests = REQUESTS.load(Ordering::Relaxed);
    let mut done = 0;
    for task in run(Duration::from_secs_f64(seconds)) {
        done += task.await??;
    }
    let (rate, cpu_us_per_op) =
        per_operation(done, start.elapsed(), process_cpu().saturating_sub(cpu));
    let requests = REQUESTS.load(Ordering::Relaxed) - requests;
    Ok(Measured {
        rate,
        cpu_us_per_op,
        requests_per_op: (requests > 0 && done > 0).then(|| requests as f64 / done as f64),
    })
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn main() -> Result<()> {
    let args = Args::parse(std::env::args().skip(1))?;
    // `calls` counts instructions: one thread, so that no wake-up crosses threads and two runs
    // of the same calls do the same work. Every other mode measures as users run the client.
    let runtime = if args.mode.as_deref() == Some("calls") {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    }
    .enable_all()
    .build()?;
    runtime.block_on(run(args))
}

async fn run(args: Args) -> Result<()> {
    let Some(mode) = args.mode.as_deref() else {
        eprintln!("{USAGE}");
        return Ok(());
    };
    let sandbox = SandboxInfo::read(Path::new(args.get("sandbox")?))?;
    let out = match mode {
        "prefill" => prefill(&sandbox, &args).await?,
        "writes" => writes(&sandbox, &args).await?,
        "status" => status(&sandbox, &args).await?,
        "latency" => latency(&sandbox, &args).await?,
        "committed" => committed(&sandbox, &args).await?,
        "range" => range(&sandbox, &args).await?,
        "calls" => calls(&sandbox, &args).await?,
        "receipts" => receipts(&sandbox, &args).await?,
        other => return Err(format!("unknown mode {other}").into()),
    };
    println!("{out}");
    Ok(())
}

async fn prefill(sandbox: &SandboxInfo, args: &Args) -> Result<Value> {
    let collection = args.get("collection")?.to_owned();
    let count: u64 = args.parse_value("count")?;
    let concurrency: usize = args.parse_value("concurrency")?;
    let client = sandbox.client(ClientOptions::default()).await?;
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let (client, next, collection) = (client.clone(), Arc::clone(&next), collection.clone());
        tasks.push(tokio::spawn(async move {
            let mut ids = (None::<TransactionId>, None::<TransactionId>);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok::<_, BoxError>(ids);
                }
                let options = CreateLedgerEntryOptions::new().collection_id(collection.clone());
                let id = client
                    .create_ledger_entry(contents("range", w, i), Some(options))
                    .await?
                    .transaction_id;
                ids.0 = Some(ids.0.map_or(id, |f| f.min(id)));
                ids.1 = Some(ids.1.map_or(id, |l| l.max(id)));
            }
        }));
    }
    let (mut first, mut last) = (None::<TransactionId>, None::<TransactionId>);
    for task in tasks {
        let (f, l) = task.await??;
        first = match (first, f) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        last = last.max(l);
    }
    let (first, last) = (
        first.ok_or("nothing written")?,
        last.ok_or("nothing written")?,
    );
    let write_seconds = started.elapsed().as_secs_f64();
    client.wait_for_commit(last, None).await?;
    // Read the range once: the sandbox answers each page query `Loading` once, like a ledger
    // fetching historical state; the measured reads then all see the same `Ready` pages.
    let warm = Instant::now();
    let seen = client
        .list_ledger_entries(Some(range_options(&collection, first, last)))
        .try_fold(0u64, |n, _| async move { Ok(n + 1) })
        .await?;
    if seen != count {
        return Err(format!("wrote {count} entries but the range holds {seen}").into());
    }
    Ok(json!({
        "collection": collection,
        "count": count,
        "first": first.to_string(),
        "last": last.to_string(),
        "write_seconds": write_seconds,
        "writes_per_second": count as f64 / write_seconds,
        "first_read_seconds": warm.elapsed().as_secs_f64(),
    }))
}

fn range_options(
    collection: &str,
    from: TransactionId,
    to: TransactionId,
) -> ListLedgerEntriesOptions {
    ListLedgerEntriesOptions::new()
        .collection_id(collection)
        .from_transaction_id(from)
        .to_transaction_id(to)
}

/// Runs `client` and `bare` at each concurrency, alternating which goes first by round.
async fn client_vs_bare<C, CF, B, BF>(args: &Args, client_op: C, bare_op: B) -> Result<Value>
where
    C: Fn(usize, u64) -> CF + Clone + Send + Sync + 'static,
    CF: Future<Output = Result<()>> + Send + 'static,
    B: Fn(usize, u64) -> BF + Clone + Send + Sync + 'static,
    BF: Future<Output = Result<()>> + Send + 'static,
{
    let seconds: f64 = args.parse_value("seconds")?;
    let round: u32 = args.parse_value("round")?;
    let (mut client_rates, mut bare_rates) = (serde_json::Map::new(), serde_json::Map::new());
    for concurrency in args.counts("concurrency")? {
        let key = concurrency.to_string();
        // Alternate which goes first, so that a trend in the machine's load hits both.
        let (client, bare) = if round.is_multiple_of(2) {
            let client = rate(concurrency, seconds, client_op.clone()).await?;
            (client, rate(concurrency, seconds, bare_op.clone()).await?)
        } else {
            let bare = rate(concurrency, seconds, bare_op.clone()).await?;
            (rate(concurrency, seconds, client_op.clone()).await?, bare)
        };
        client_rates.insert(key.clone(), client.json());
        bare_rates.insert(key, bare.json());
    }
    Ok(json!({ "client": client_rates, "bare": bare_rates }))
}

async fn writes(sandbox: &SandboxInfo, args: &Args) -> Result<Value> {
    count_requests()?;
    let client = sandbox.client(ClientOptions::default()).await?;
    let bare = sandbox.bare()?;
    let mut measured = client_vs_bare(
        args,
        move |w, i| {
            let client = client.clone();
            async move {
                client
                    .create_ledger_entry(contents("client", w, i), None)
                    .await?;
                Ok(())
            }
        },
        move |w, i| {
            let bare = bare.clone();
            async move {
                bare.write(contents("bare", w, i)).await?;
                Ok(())
            }
        },
    )
    .await?;
    // The same writes in exactly-once mode: a marker tag each, and (on this happy path) no
    // other request.
    let options = ClientOptions {
        write_mode: WriteMode::ExactlyOnce,
        ..Default::default()
    };
    let exactly_once = sandbox.client(options).await?;
    let seconds: f64 = args.parse_value("seconds")?;
    let mut rates = serde_json::Map::new();
    for concurrency in args.counts("concurrency")? {
        let measured = write_rate(&exactly_once, "exactly-once", concurrency, seconds).await?;
        rates.insert(concurrency.to_string(), measured.json());
    }
    measured["client_exactly_once"] = Value::Object(rates);
    // Committed writes per second beside plain writes per second.
    if let Ok(in_flight) = args.parse_value::<usize>("committed-in-flight") {
        measured["committed_writes"] = committed_vs_plain(sandbox, in_flight, seconds).await?;
    }
    Ok(measured)
}

/// [`rate`] of `create_ledger_entry` through `client`, entries labelled `label`.
async fn write_rate(
    client: &ConfidentialLedgerClient,
    label: &'static str,
    concurrency: usize,
    seconds: f64,
) -> Result<Measured> {
    let client = client.clone();
    rate(concurrency, seconds, move |w, i| {
        let client = client.clone();
        async move {
            client
                .create_ledger_entry(contents(label, w, i), None)
                .await?;
            Ok(())
        }
    })
    .await
}

/// `committed --seconds S --in-flight K`: [`committed_vs_plain`] on its own (for a sandbox
/// with other signature settings).
async fn committed(sandbox: &SandboxInfo, args: &Args) -> Result<Value> {
    count_requests()?;
    let seconds: f64 = args.parse_value("seconds")?;
    let in_flight: usize = args.parse_value("in-flight")?;
    Ok(json!({ "committed_writes": committed_vs_plain(sandbox, in_flight, seconds).await? }))
}

/// Committed windows of [`committed_vs_plain`], each between two plain ones.
const COMMITTED_WINDOWS: usize = 2;

/// Plain writes per second and committed writes per second in turns, through one client with
/// `in_flight` writes in flight: a plain window, then [`COMMITTED_WINDOWS`] times a committed
/// window and a plain one. Plain windows on both sides of each committed one: a sandbox's
/// write rate drifts as its ledger grows, and moves with the machine's load (by 1-20% from
/// one 3 s window to the next in trial runs), which would count against whichever kind of
/// window came later; turns spread that over both kinds.
async fn committed_vs_plain(
    sandbox: &SandboxInfo,
    in_flight: usize,
    seconds: f64,
) -> Result<Value> {
    let client = sandbox.client(ClientOptions::default()).await?;
    // The contents of each plain window's writes start with their own label.
    const PLAIN: [&str; COMMITTED_WINDOWS + 1] = ["plain", "plain-2", "plain-3"];
    let mut plain = vec![
        write_rate(&client, PLAIN[0], in_flight, seconds)
            .await?
            .json(),
    ];
    let mut committed = Vec::with_capacity(COMMITTED_WINDOWS);
    for label in &PLAIN[1..] {
        committed.push(committed_pipeline(client.clone(), in_flight, seconds).await?);
        plain.push(write_rate(&client, label, in_flight, seconds).await?.json());
    }
    Ok(json!({
        "in_flight": in_flight,
        "plain": plain,
        "committed": committed,
    }))
}

/// Committed writes per second with `in_flight` writes in flight, as a program that must see
/// every write committed but does not stop writing meanwhile: each slot writes
/// (`begin_create_ledger_entry`), adds the poller it gets to the commit waits it drives
/// itself (a `FuturesUnordered`: no task per wait) and writes the next, so that thousands of
/// commit waits are outstanding at once, all sharing the client's commit watcher. The slots
/// write for [`WARM_UP`], then for the window; the rate is the number of writes sent during
/// the window whose commit the client then saw, per second of window: every one of them must
/// be seen committed, or the measurement fails. CPU and requests count the window and the
/// drain after it (waiting for the window's last commits), per committed write; the latency
/// is from sending a write until its poller said `Committed`.
async fn committed_pipeline(
    client: ConfidentialLedgerClient,
    in_flight: usize,
    seconds: f64,
) -> Result<Value> {
    let index = Arc::new(AtomicU64::new(0));
    let window_start = Instant::now() + WARM_UP;
    let deadline = window_start + Duration::from_secs_f64(seconds);
    // One slot: writes until `deadline` while driving the commit waits of its writes, then
    // waits for the rest. Returns the latencies of the writes sent in the window, and when
    // its last write was done.
    let slot = |w: usize| {
        let (client, index) = (client.clone(), Arc::clone(&index));
        async move {
            let write = |i: u64| {
                let client = client.clone();
                async move {
                    let sent = Instant::now();
                    let poller = client
                        .begin_create_ledger_entry(contents("committed", w, i), None)
                        .await?;
                    Ok::<_, BoxError>(async move {
                        poller.await?;
                        Ok::<_, BoxError>((sent, sent.elapsed().as_secs_f64() * 1000.0))
                    })
                }
            };
            let mut waits = futures::stream::FuturesUnordered::new();
            let mut latencies = Vec::new();
            let mut keep = |(sent, latency): (Instant, f64)| {
                if sent >= window_start {
                    latencies.push(latency);
                }
            };
            let mut next = std::pin::pin!(write(index.fetch_add(1, Ordering::Relaxed)));
            let last_write = loop {
                tokio::select! {
                    written = &mut next => {
                        waits.push(written?);
                        let now = Instant::now();
                        if now >= deadline {
                            break now;
                        }
                        next.set(write(index.fetch_add(1, Ordering::Relaxed)));
                    }
                    Some(seen) = waits.next() => keep(seen?),
                }
            };
            while let Some(seen) = waits.next().await {
                keep(seen?);
            }
            Ok::<_, BoxError>((latencies, last_write))
        }
    };
    let slots = (0..in_flight)
        .map(|w| tokio::spawn(slot(w)))
        .collect::<Vec<_>>();
    tokio::time::sleep_until(window_start.into()).await;
    let cpu = process_cpu();
    let requests = REQUESTS.load(Ordering::Relaxed);
    let (mut latencies, mut last_write) = (Vec::new(), window_start);
    for slot in slots {
        let (slot_latencies, slot_last) = slot.await??;
        latencies.extend(slot_latencies);
        last_write = last_write.max(slot_last);
    }
    // The writes counted are those sent from `window_start` on.
    let window = last_write.duration_since(window_start);
    let (cpu, requests) = (
        process_cpu().saturating_sub(cpu),
        REQUESTS.load(Ordering::Relaxed) - requests,
    );
    let done = latencies.len() as u64;
    let (rate, cpu_us) = per_operation(done, window, cpu);
    latencies.sort_by(f64::total_cmp);
    let at = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(f64::NAN)
    };
    Ok(json!({
        "rate": rate,
        "cpu_us": cpu_us,
        "requests_per_op": requests as f64 / done.max(1) as f64,
        "drain_seconds": window_start.elapsed().as_secs_f64() - window.as_secs_f64(),
        "latency_ms": {
            "mean": latencies.iter().sum::<f64>() / done.max(1) as f64,
            "p50": at(0.5),
            "p99": at(0.99),
        },
    }))
}

async fn status(sandbox: &SandboxInfo, args: &Args) -> Result<Value> {
    let id: TransactionId = args.parse_value("id")?;
    let client = sandbox.client(ClientOptions::default()).await?;
    let bare = sandbox.bare()?;
    client_vs_bare(
        args,
        move |_, _| {
            let client = client.clone();
            async move {
                client.get_transaction_status(id, None).await?;
                Ok(())
            }
        },
        move |_, _| {
            let bare = bare.clone();
            async move {
                bare.status(id).await?;
                Ok(())
            }
        },
    )
    .await
}

/// `--count` calls of `--op` through `--via`, one at a time, after 20 unmeasured ones.
async fn calls(sandbox: &SandboxInfo, args: &Args) -> Result<Value> {
    const WARM_UP_CALLS: u64 = 20;
    let count: u64 = args.parse_value("count")?;
    let in_flight: u64 = args.parse_value("in-flight").unwrap_or(1).max(1);
    let (op, via) = (args.get("op")?.to_owned(), args.get("via")?.to_owned());
    let known = match op.as_str() {
        "write" | "status" => matches!(via.as_str(), "client" | "bare"),
        "committed" => via == "client",
        _ => false,
    };
    if !known {
        return Err(format!(
            "--op write|status --via client|bare, or --op committed --via client: not {op}, {via}"
        )
        .into());
    }
    // Committed writes: each write's commit wait is spawned as a task of its own (`committed`
    // drives its waits in the writing task instead), all awaited at the end.
    let waits = Arc::new(std::sync::Mutex::new(Vec::new()));
    let bare = sandbox.bare()?;
    // The same setup either way: both clients are built, one write gives the id to read.
    let client = sandbox.client(ClientOptions::default()).await?;
    let id = bare.write(contents("calls", 0, 0)).await?;
    // The warm-up calls one at a time, then `count` calls by `in_flight` loops at once (each
    // loop its share; all on this one thread).
    let call = |w: usize, i: u64| {
        let (client, bare, op, via) = (client.clone(), bare.clone(), op.clone(), via.clone());
        let waits = Arc::clone(&waits);
        async move {
            match (op.as_str(), via.as_str()) {
                ("committed", _) => {
                    let poller = client
                        .begin_create_ledger_entry(contents("calls", w, i), None)
                        .await?;
                    let wait = tokio::spawn(poller.into_future());
                    waits.lock().map_err(|_| "poisoned")?.push(wait);
                }
                ("write", "client") => {
                    client
                        .create_ledger_entry(contents("calls", w, i), None)
                        .await?;
                }
                ("write", _) => {
                    bare.write(contents("calls", w, i)).await?;
                }
                (_, "client") => {
                    client.get_transaction_status(id, None).await?;
                }
                _ => {
                    bare.status(id).await?;
                }
            }
            Ok::<_, BoxError>(())
        }
    };
    for i in 1..=WARM_UP_CALLS {
        call(0, i).await?;
    }
    let loops = (0..in_flight).map(|w| {
        let share = count / in_flight + u64::from(w < count % in_flight);
        let call = &call;
        async move {
            for i in 0..share {
                call(w as usize + 1, i).await?;
            }
            Ok::<_, BoxError>(())
        }
    });
    futures::future::try_join_all(loops).await?;
    let waits = std::mem::take(&mut *waits.lock().map_err(|_| "poisoned")?);
    for wait in waits {
        wait.await??;
    }
    Ok(json!({ "op": op, "via": via, "count": count, "in_flight": in_flight }))
}

/// One committed write: milliseconds from sending the write to seeing it committed, and the
/// status polls it took.
type Sample = (f64, u32);

/// One committed write, for the commit log: its seqno, and when it was seen committed
/// (microseconds since the Unix epoch).
type Seen = (u64, u128);

/// The samples of a latency loop, and when each write was seen committed (same order).
type Samples = (Vec<Sample>, Vec<Seen>);

/// `writers` loops of `write_and_wait` (which returns the status polls and the transaction)
/// from `start` for `seconds`, each write after a pause of up to `think` seconds.
async fn latency_loop<F, Fut>(
    writers: usize,
    start: Instant,
    seconds: f64,
    think: f64,
    write_and_wait: F,
) -> Result<Samples>
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(u32, TransactionId)>> + Send + 'static,
{
    tokio::time::sleep_until(start.into()).await;
    let deadline = start + Duration::from_secs_f64(seconds);
    let op = Arc::new(write_and_wait);
    let mut tasks = Vec::new();
    for w in 0..writers {
        let op = Arc::clone(&op);
        tasks.push(tokio::spawn(async move {
            let (mut samples, mut seen) = (Vec::new(), Vec::new());
            let mut i = 0;
            while Instant::now() < deadline {
                // A random pause puts each write at a random point of the signature cycle,
                // as independent callers are; without it the writers fall into step with
                // the signatures and every write waits a full interval.
                tokio::time::sleep(Duration::from_secs_f64(fastrand::f64() * think)).await;
                let t0 = Instant::now();
                let (polls, id) = op(w, i).await?;
                samples.push((t0.elapsed().as_secs_f64() * 1000.0, polls));
                let now = SystemTime::now().duration_since(UNIX_EPOCH)?;
                seen.push((id.seqno, now.as_micros()));
                i += 1;
            }
            Ok::<_, BoxError>((samples, seen))
        }));
    }
    let (mut all, mut all_seen) = (Vec::new(), Vec::new());
    for task in tasks {
        let (samples, seen) = task.await??;
        all.extend(samples);
        all_seen.extend(seen);
    }
    Ok((all, all_seen))
}

/// How long after its commit became visible each write was seen committed, in ms, by the
/// sandbox's commit log (`SEQNO UNIX_MICROSECONDS` lines, see `--commit-log`): unlike the
/// latency, this leaves out the wait for the signature, which depends only on when the write
/// was sent, so that variants can be compared within a millisecond or two.
fn excess_ms(log: &[(u64, u128)], seen: &[Seen]) -> Result<Vec<f64>> {
    seen.iter()
        .map(|&(seqno, at)| {
            let first = log.partition_point(|&(committed, _)| committed < seqno);
            let &(_, visible) = log
                .get(first)
                .ok_or_else(|| format!("seqno {seqno} is not in the commit log"))?;
            Ok((at as f64 - visible as f64) / 1000.0)
        })
        .collect()
}

/// The lines of a sandbox's commit log.
fn read_commit_log(path: &str) -> Result<Vec<(u64, u128)>> {
    std::fs::read_to_string(path)?
        .lines()
        .map(|line| {
            let (seqno, micros) = line
                .split_once(' ')
                .ok_or_else(|| format!("a commit log line without a space: {line:?}"))?;
            Ok((seqno.parse()?, micros.parse()?))
        })
        .collect()
}

async fn latency(sandbox: &SandboxInfo, args: &Args) -> Result<Value> {
    let seconds: f64 = args.parse_value("seconds")?;
    let writers: usize = args.parse_value("writers")?;
    let think: f64 = args.parse_value("think")?;
    let start_at: f64 = args.parse_value("start-at")?;
    let start = Instant::now() + Duration::from_secs_f64((start_at - unix_now()).max(0.0));
    let half_second = Duration::from_millis(500);

    let client_with = |polling: PollingOptions| {
        sandbox.client(ClientOptions {
            polling,
            ..Default::default()
        })
    };
    let default_client = client_with(PollingOptions::default()).await?;
    let fixed_client = client_with(PollingOptions::fixed(half_second)).await?;
    let bare = sandbox.bare()?;
    // Connect everything before the clock starts.
    default_client
        .get_transaction_status("2.1", None)
        .await
        .ok();
    fixed_client.get_transaction_status("2.1", None).await.ok();
    bare.status(TransactionId::new(2, 1)).await.ok();

    let client_wait = |client: ConfidentialLedgerClient, label: &'static str| {
        move |w: usize, i: u64| {
            let client = client.clone();
            async move {
                let poller = client
                    .begin_create_ledger_entry(contents(label, w, i), None)
                    .await?;
                let progress = poller.progress();
                let written = poller.await?;
                // Updates come after each poll that did not finish the wait; the last one
                // counts all polls but the final one.
                let updates: Vec<_> = progress.collect().await;
                Ok((
                    updates.last().map_or(1, |u| u.polls + 1),
                    written.transaction_id,
                ))
            }
        }
    };
    let bare_wait = |bare: Bare, label: &'static str, interval: Duration| {
        move |w: usize, i: u64| {
            let bare = bare.clone();
            async move {
                let id = bare.write(contents(label, w, i)).await?;
                Ok((bare.wait_for_commit(id, interval).await?, id))
            }
        }
    };
    // The default client's waits share its commit watcher: its status polls are counted for
    // the whole stream (a wait's own poll count misses the answers that settled it for free).
    let watcher_polls_before = default_client.commit_watcher_polls();
    let watched_client = default_client.clone();
    let (client_default, client_fixed, bare_fixed, bare_floor) = tokio::try_join!(
        latency_loop(
            writers,
            start,
            seconds,
            think,
            client_wait(default_client, "latency-default")
        ),
        latency_loop(
            writers,
            start,
            seconds,
            think,
            client_wait(fixed_client, "latency-fixed")
        ),
        latency_loop(
            writers,
            start,
            seconds,
            think,
            bare_wait(bare.clone(), "latency-bare", half_second)
        ),
        // The reference: a tight 10 ms poll shows when commits become visible. Up to 16
        // writers: as many as the others at 16, so that its mean, over as many writes, is as
        // steady as theirs (the writes' latencies spread over a whole signature interval, so a
        // mean over a few hundred moves by tens of ms); no more, to keep its load small.
        latency_loop(
            writers.min(16),
            start,
            seconds,
            think,
            bare_wait(bare, "latency-floor", Duration::from_millis(10))
        ),
    )?;
    let mut measured = json!({
        "writers": writers,
        "seconds": seconds,
        "think_seconds": think,
        "client_default_status_polls": watched_client.commit_watcher_polls() - watcher_polls_before,
        "client_default": client_default.0,
        "client_fixed_500ms": client_fixed.0,
        "bare_fixed_500ms": bare_fixed.0,
        "bare_poll_10ms": bare_floor.0,
    });
    if let Ok(path) = args.get("commit-log") {
        let log = read_commit_log(path)?;
        measured["excess_ms"] = json!({
            "client_default": excess_ms(&log, &client_default.1)?,
            "client_fixed_500ms": excess_ms(&log, &client_fixed.1)?,
            "bare_fixed_500ms": excess_ms(&log, &bare_fixed.1)?,
            "bare_poll_10ms": excess_ms(&log, &bare_floor.1)?,
        });
    }
    Ok(measured)
}

async fn range(sandbox: &SandboxInfo, args: &Args) -> Result<Value> {
    let collection = args.get("collection")?;
    let from: TransactionId = args.parse_value("from")?;
    let to: TransactionId = args.parse_value("to")?;
    let client = sandbox.client(ClientOptions::default()).await?;
    let (hwm_before, rss_before) = testkit::memory::own_peak_and_current_kib();
    let started = Instant::now();
    let mut entries = client.list_ledger_entries(Some(range_options(collection, from, to)));
    let (mut count, mut bytes) = (0u64, 0u64);
    while let Some(entry) = entries.try_next().await? {
        count += 1;
        bytes += entry.contents.len() as u64;
    }
    let seconds = started.elapsed().as_secs_f64();
    let (hwm, rss) = testkit::memory::own_peak_and_current_kib();
    Ok(json!({
        "entries": count,
        "content_bytes": bytes,
        "seconds": seconds,
        "entries_per_second": count as f64 / seconds,
        "hwm_before_kib": hwm_before,
        "rss_before_kib": rss_before,
        "hwm_kib": hwm,
        "rss_kib": rss,
    }))
}

async fn receipts(sandbox: &SandboxInfo, args: &Args) -> Result<Value> {
    let collection = args.get("collection")?;
    let count: usize = args.parse_value("count")?;
    let out = PathBuf::from(args.get("out")?);
    let client = sandbox.client(ClientOptions::default()).await?;
    let ids: Vec<TransactionId> = client
        .list_ledger_entries(Some(
            ListLedgerEntriesOptions::new().collection_id(collection),
        ))
        .take(count)
        .map_ok(|e| e.transaction_id)
        .try_collect()
        .await?;
    let bare = sandbox.bare()?;
    let receipts: Vec<Value> = futures::stream::iter(ids.iter().map(|id| bare.receipt(*id)))
        .buffered(16)
        .try_collect()
        .await?;
    std::fs::create_dir_all(out.join("batch"))?;
    std::fs::copy(&sandbox.service_certificate, out.join("service_cert.pem"))?;
    let mut signatures = std::collections::HashSet::new();
    for (i, receipt) in receipts.iter().enumerate() {
        signatures.insert(receipt["signature"].as_str().unwrap_or_default().to_owned());
        std::fs::write(
            out.join("batch").join(format!("{i:04}.json")),
            receipt.to_string(),
        )?;
    }
    Ok(json!({
        "receipts": receipts.len(),
        "first": ids.first().map(ToString::to_string),
        "last": ids.last().map(ToString::to_string),
        "distinct_signatures": signatures.len(),
    }))
}
