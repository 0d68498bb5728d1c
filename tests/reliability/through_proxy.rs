//! 5,000 writes through a fault-injecting proxy, in each write mode, then the whole collection
//! read back.
//!
//! The proxy (the `faultproxy` crate) terminates TLS with the sandbox's node identity, so the
//! client, pinned to the service certificate, accepts it as the ledger. A seeded plan inflicts
//! a fault on about a quarter of the write requests (`POST`; reads pass untouched):
//!
//! | fault | applied? | the client sees |
//! |---|---|---|
//! | reset before forwarding | no | a reset connection |
//! | `503`/`429` (with and without `Retry-After`) without forwarding | no | the status |
//! | reset after the ledger answered | yes | a reset connection |
//! | `500`/`503`/`504` after forwarding | yes | the status |
//! | the answer held, then the connection reset | yes | a timeout |
//! | the body cut after the headers | yes | the status and the transaction id, then a cut body |
//! | a delay, then forwarded | yes | the answer |
//!
//! 32 writes are in flight at a time, each with unique contents. After reading every entry
//! back directly from the sandbox, each run prints its table (the client's outcome × how often
//! the write is present) and checks:
//!
//! - **both modes**: every write the client acknowledged is present exactly once, at the
//!   transaction id it reported (a cut body included: its id came in the headers); no write
//!   is present twice; nothing else is present;
//! - **default mode** ([`WriteMode::AtMostOnce`]): every other outcome is `OutcomeUnknown`, and
//!   the proxy's account matches it fault by fault: the unknown outcomes that were applied are
//!   exactly the writes forwarded and then lost (reset, error status, held), those not applied
//!   exactly the writes never forwarded; the client never sent a write twice (requests =
//!   writes);
//! - **exactly-once mode** ([`WriteMode::ExactlyOnce`]): every write is acknowledged and
//!   present exactly once (0 lost, 0 duplicated, 0 `OutcomeUnknown`); the proxy forwarded
//!   exactly one `POST` per write: the client sent a write again only when the proxy had not
//!   forwarded it.
//!
//! The fault positions depend only on the seed, so the fault counts are the same on every run.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use confidential_ledger::client::CreateLedgerEntryOptions;
use confidential_ledger::options::WriteMode;
use confidential_ledger::{ErrorKind, StaticTokenCredential};
use faultproxy::{
    Fault, FaultPlan, FaultProxy, Limits, Outcome as ProxyOutcome, ProxyConfig, ProxyStats,
    RequestFilter, TlsIdentity,
};
use futures::TryStreamExt;

use crate::support::{admin, builder_at, sandbox, token_for, within, within_for};

const SEED: u64 = 0x5eed_2026;
const WRITES: usize = 5_000;
const IN_FLIGHT: usize = 32;
/// The client gives up on one attempt after this long: far above an answered write's time even
/// on a loaded CI machine, so the client's account of answered writes matches the proxy's...
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// ...and an answer held this long after forwarding is never seen.
const HOLD: Duration = Duration::from_secs(12);

/// What the client said about one write.
#[derive(Debug)]
enum Outcome {
    Written(String),
    Unknown,
    Failed(String),
}

fn plan() -> FaultPlan {
    let second = Duration::from_secs(1);
    FaultPlan::seeded(SEED)
        .matching(
            RequestFilter::any()
                .method("POST")
                .path_prefix("/app/transactions"),
        )
        .with(0.04, Fault::ResetBeforeForward)
        .with(0.04, Fault::ResetAfterResponse)
        .with(0.015, Fault::unavailable().retry_after(second))
        .with(0.015, Fault::throttled().retry_after(second))
        .with(0.02, Fault::unavailable().retry_after(Duration::ZERO))
        .with(0.02, Fault::unavailable())
        .with(0.02, Fault::throttled())
        .with(0.01, Fault::status_after_forward(500))
        .with(0.01, Fault::status_after_forward(503))
        .with(0.01, Fault::status_after_forward(504))
        .with(0.02, Fault::CutBody)
        .with(0.005, Fault::HoldAfterForward(HOLD))
        .with(0.03, Fault::Delay(Duration::from_millis(10)))
        .with(0.02, Fault::Delay(Duration::from_millis(100)))
}

fn contents(index: usize) -> String {
    format!("proxy-write-{index:05}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_writes_through_faults_in_the_default_mode_are_never_duplicated() {
    let run = run(WriteMode::AtMostOnce).await;
    let (stats, posts) = (&run.stats, &run.posts);
    run.assert_acknowledged_writes_are_present_once_and_nothing_else();
    assert!(
        run.failures.is_empty(),
        "no outcome but success or unknown: {:#?}",
        run.failures
    );
    // The proxy's account and the client's agree, fault by fault.
    assert_eq!(
        run.unknown_present,
        posts.reset_after_response + posts.answered_instead + posts.held,
        "{posts:?}"
    );
    assert_eq!(
        run.unknown_absent,
        posts.reset_before_forward + posts.injected,
        "{posts:?}"
    );
    assert_eq!(
        run.successes,
        posts.answered + posts.cut,
        "a cut body is a success with the id of its headers: {posts:?}"
    );
    // Every write was sent exactly once: nothing is retried on a status or after sending.
    assert_eq!(posts.total, WRITES as u64, "{posts:?}");
    assert_eq!(stats.requests, WRITES as u64, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_writes_through_faults_in_exactly_once_mode_each_land_exactly_once() {
    let run = run(WriteMode::ExactlyOnce).await;
    let posts = &run.posts;
    run.assert_acknowledged_writes_are_present_once_and_nothing_else();
    assert!(run.failures.is_empty(), "{:#?}", run.failures);
    assert_eq!(
        run.unknown_present + run.unknown_absent,
        0,
        "no OutcomeUnknown"
    );
    assert_eq!(run.successes, WRITES as u64, "every write acknowledged");
    assert_eq!(run.found, WRITES, "every write present");
    // One forwarded POST per write: a write went again only when it had not been forwarded.
    assert_eq!(posts.forwarded(), WRITES as u64, "{posts:?}");
    assert_eq!(
        posts.total,
        WRITES as u64 + posts.reset_before_forward + posts.injected,
        "{posts:?}"
    );
}

/// What happened to the write requests (`POST`), from the proxy's log.
#[derive(Debug, Default)]
struct Posts {
    total: u64,
    answered: u64,
    cut: u64,
    reset_after_response: u64,
    answered_instead: u64,
    held: u64,
    reset_before_forward: u64,
    injected: u64,
    /// Injected statuses by (status, whether a non-zero `Retry-After` came with it).
    by_status: BTreeMap<(u16, bool), u64>,
}

impl Posts {
    fn from_proxy(proxy: &FaultProxy) -> Posts {
        let mut posts = Posts::default();
        for event in proxy.events().into_iter().filter(|e| e.method == "POST") {
            posts.total += 1;
            match event.outcome {
                // No plan here tampers; a tampered answer is still an answer.
                ProxyOutcome::Answered { .. } | ProxyOutcome::Tampered { .. } => {
                    posts.answered += 1
                }
                ProxyOutcome::CutBody { .. } => posts.cut += 1,
                ProxyOutcome::ResetAfterResponse { .. } => posts.reset_after_response += 1,
                ProxyOutcome::AnsweredInstead { .. } => posts.answered_instead += 1,
                ProxyOutcome::HeldThenReset { .. } => posts.held += 1,
                ProxyOutcome::ResetBeforeForward => posts.reset_before_forward += 1,
                ProxyOutcome::Injected { .. } => posts.injected += 1,
                ProxyOutcome::UpstreamFailed | ProxyOutcome::ClientFailed => {}
            }
            if let Some(Fault::Status {
                status,
                retry_after,
            }) = event.fault
            {
                *posts
                    .by_status
                    .entry((status, retry_after.is_some_and(|d| !d.is_zero())))
                    .or_default() += 1;
            }
        }
        posts
    }

    /// Writes that reached the ledger.
    fn forwarded(&self) -> u64 {
        self.answered + self.cut + self.reset_after_response + self.answered_instead + self.held
    }
}

/// One run's results.
struct Run {
    mode: WriteMode,
    outcomes: Vec<Outcome>,
    found: usize,
    found_by_contents: HashMap<String, Vec<String>>,
    successes: u64,
    unknown_present: u64,
    unknown_absent: u64,
    failures: Vec<String>,
    stats: ProxyStats,
    posts: Posts,
    written_in: Duration,
}

async fn run(mode: WriteMode) -> Run {
    let started = Instant::now();
    let sandbox = sandbox().await;
    let node = sandbox.node_tls_identity();
    let limits = Limits {
        lifetime: Duration::from_secs(200),
        max_delay: HOLD,
        ..Limits::default()
    };
    let proxy = FaultProxy::start(
        ProxyConfig::new(
            sandbox.ledger_endpoint(),
            TlsIdentity::new(node.certificate_chain_pem, node.private_key_pem),
            sandbox.service_certificate_pem(),
        )
        .plan(plan())
        .limits(limits),
    )
    .await
    .expect("the proxy starts");

    let token = token_for(&sandbox, "proxy-writer", &["Contributor"]).await;
    let mut options = crate::support::fast_options();
    // Reads (the exactly-once lookups) retry quickly; a write is never retried by the
    // pipeline once sent.
    options.retry.max_retries = 10;
    options.retry.initial_delay = Duration::from_millis(2);
    options.retry.max_delay = Duration::from_millis(20);
    options.request_timeout = Some(REQUEST_TIMEOUT);
    options.write_mode = mode;
    // Short settles for the test (still long enough for a forwarded write to be applied on a
    // loaded machine); a Retry-After (1 s here) is honoured.
    options.exactly_once.settle_delay = Duration::from_millis(200);
    options.exactly_once.max_settle_delay = Duration::from_secs(1);
    options.call_timeout = Some(Duration::from_secs(60));
    let writer = within(
        builder_at(&sandbox, &proxy.endpoint())
            .credential(StaticTokenCredential::new(token))
            .options(options)
            .build(),
    )
    .await
    .expect("the client builds through the proxy");

    let next = Arc::new(AtomicUsize::new(0));
    let outcomes: Arc<Mutex<Vec<Option<Outcome>>>> =
        Arc::new(Mutex::new((0..WRITES).map(|_| None).collect()));
    let mut tasks = Vec::new();
    for _ in 0..IN_FLIGHT {
        let (writer, next, outcomes) = (writer.clone(), Arc::clone(&next), Arc::clone(&outcomes));
        tasks.push(tokio::spawn(async move {
            loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                if index >= WRITES {
                    return;
                }
                let outcome = match writer.create_ledger_entry(contents(index), None).await {
                    Ok(written) => Outcome::Written(written.transaction_id.to_string()),
                    Err(err) if err.kind() == &ErrorKind::OutcomeUnknown => Outcome::Unknown,
                    Err(err) => Outcome::Failed(format!("{:?}: {err}", err.kind())),
                };
                outcomes.lock().unwrap()[index] = Some(outcome);
            }
        }));
    }
    within_for(Duration::from_secs(180), futures::future::join_all(tasks))
        .await
        .into_iter()
        .for_each(|joined| joined.expect("a writer task panicked"));
    let written_in = started.elapsed();
    let stats = proxy.stats();
    let posts = Posts::from_proxy(&proxy);

    // Read everything back directly from the sandbox, once all of it is committed.
    let reader = admin(&sandbox).await;
    within(reader.create_ledger_entry_and_wait(
        "settle",
        Some(CreateLedgerEntryOptions::new().collection_id("settle")),
    ))
    .await
    .expect("the settling write commits");
    let entries: Vec<_> = within_for(
        Duration::from_secs(60),
        reader.list_ledger_entries(None).try_collect::<Vec<_>>(),
    )
    .await
    .expect("the collection is listed");
    let found = entries.len();
    let mut found_by_contents: HashMap<String, Vec<String>> = HashMap::new();
    for entry in entries {
        found_by_contents
            .entry(entry.contents)
            .or_default()
            .push(entry.transaction_id.to_string());
    }
    let outcomes: Vec<Outcome> = std::mem::take(&mut *outcomes.lock().unwrap())
        .into_iter()
        .map(|o| o.expect("every write has an outcome"))
        .collect();
    let mut run = Run {
        mode,
        outcomes,
        found,
        found_by_contents,
        successes: 0,
        unknown_present: 0,
        unknown_absent: 0,
        failures: Vec::new(),
        stats,
        posts,
        written_in,
    };
    run.count();
    run.print();
    run
}

impl Run {
    fn present(&self, index: usize) -> &[String] {
        self.found_by_contents
            .get(&contents(index))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    fn count(&mut self) {
        for index in 0..self.outcomes.len() {
            let present = self.present(index).len();
            match &self.outcomes[index] {
                Outcome::Written(_) => self.successes += 1,
                Outcome::Unknown if present == 0 => self.unknown_absent += 1,
                Outcome::Unknown => self.unknown_present += 1,
                Outcome::Failed(why) => self.failures.push(format!("write {index}: {why}")),
            }
        }
    }

    fn assert_acknowledged_writes_are_present_once_and_nothing_else(&self) {
        for (index, outcome) in self.outcomes.iter().enumerate() {
            let present = self.present(index);
            assert!(
                present.len() <= 1,
                "write {index} applied twice: {present:?}"
            );
            if let Outcome::Written(id) = outcome {
                assert_eq!(
                    present,
                    std::slice::from_ref(id),
                    "write {index}, acknowledged at {id}, must be present exactly once there"
                );
            }
        }
        let expected: std::collections::HashSet<String> = (0..WRITES).map(contents).collect();
        for (key, ids) in &self.found_by_contents {
            assert!(expected.contains(key), "an entry nobody wrote: {key:?}");
            assert_eq!(ids.len(), 1, "{key} is duplicated at {ids:?}");
        }
        let (stats, posts) = (&self.stats, &self.posts);
        assert_eq!(stats.upstream_errors, 0, "{stats:?}");
        assert_eq!(stats.client_errors, 0, "{stats:?}");
        assert_eq!(stats.over_budget, 0, "{stats:?}");
        // Every answered forward is an entry, and nothing else is.
        assert_eq!(self.found as u64, posts.forwarded(), "{posts:?}");
        // The plan did what it says: every kind of fault happened, many times over.
        for (kind, count) in [
            ("reset before forward", posts.reset_before_forward),
            ("reset after response", posts.reset_after_response),
            ("status", posts.injected),
            ("status after forward", posts.answered_instead),
            ("cut body", posts.cut),
            ("held", posts.held),
            ("delay", stats.delayed),
        ] {
            assert!(count >= 10, "only {count} faults of kind {kind}: {posts:?}");
        }
        for key in [(503, true), (429, true), (503, false), (429, false)] {
            assert!(
                posts.by_status.get(&key).copied().unwrap_or(0) > 0,
                "{:?}",
                posts.by_status
            );
        }
    }

    /// The table: the client's outcome × how often the write is present.
    fn table(&self) -> String {
        let mut rows: BTreeMap<&str, [u64; 3]> = BTreeMap::new();
        for (index, outcome) in self.outcomes.iter().enumerate() {
            let label = match outcome {
                Outcome::Written(_) => "written (id returned)",
                Outcome::Unknown => "OutcomeUnknown",
                Outcome::Failed(_) => "other error",
            };
            let column = match self.present(index).len() {
                1 => 0,
                0 => 1,
                _ => 2,
            };
            rows.entry(label).or_default()[column] += 1;
        }
        let mut table = String::from(
            "  | client's outcome | present once | absent | present more than once |\n  |---|---|---|---|\n",
        );
        for (label, [once, absent, more]) in rows {
            table.push_str(&format!("  | {label} | {once} | {absent} | {more} |\n"));
        }
        table
    }

    fn print(&self) {
        let (s, p) = (&self.stats, &self.posts);
        println!(
            "through the fault proxy, {:?} (seed {SEED:#x}, {IN_FLIGHT} in flight): {} writes in {:.1} s\n\
             {}\
             \x20 write requests: {} ({} forwarded: answered {}, body cut {}, reset after response {}, \
             error status after forward {}, held {}; not forwarded: reset before forward {}, \
             503/429 {} {:?})\n\
             \x20 all requests through the proxy: {} on {} connections ({:.3} per write)",
            self.mode,
            WRITES,
            self.written_in.as_secs_f64(),
            self.table(),
            p.total,
            p.forwarded(),
            p.answered,
            p.cut,
            p.reset_after_response,
            p.answered_instead,
            p.held,
            p.reset_before_forward,
            p.injected,
            p.by_status,
            s.requests,
            s.connections,
            s.requests as f64 / WRITES as f64,
        );
    }
}
