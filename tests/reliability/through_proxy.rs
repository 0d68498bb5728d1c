//! 5,000 writes through a fault-injecting proxy, then the whole collection read back.
//!
//! The proxy (the `faultproxy` crate) terminates TLS with the sandbox's node identity, so the
//! client, pinned to the service certificate, accepts it as the ledger. A seeded plan inflicts
//! a fault on about a quarter of the write requests: a reset before the request is forwarded
//! (the write never happens), a reset after the ledger answered (it happened, the answer is
//! lost), `503`/`429` with and without `Retry-After`, and delays. 32 writes are in flight at a
//! time, each with unique contents.
//!
//! The claims checked, after reading every entry back directly from the sandbox:
//! - every write the client reported as successful is present exactly once, at the
//!   transaction id the client reported;
//! - every write reported as `OutcomeUnknown` is present at most once; those reset after the
//!   ledger answered are all present and those reset before it are all absent;
//! - no other outcome was reported, no entry is duplicated, and nothing else is present;
//! - the client retried exactly the throttled/unavailable answers, once each (the proxy saw
//!   `writes + injected statuses` requests), and never a write whose outcome it could not know.
//!
//! The fault positions depend only on the seed, so the counts are the same on every run.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use confidential_ledger::{CreateLedgerEntryOptions, ErrorKind, StaticTokenCredential};
use faultproxy::{
    Fault, FaultPlan, FaultProxy, Limits, ProxyConfig, ProxyStats, RequestFilter, TlsIdentity,
};
use futures::TryStreamExt;

use crate::support::{admin, builder_at, sandbox, token_for, within, within_for};

const SEED: u64 = 0x5eed_2026;
const WRITES: usize = 5_000;
const IN_FLIGHT: usize = 32;

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
        .with(0.03, Fault::Delay(Duration::from_millis(10)))
        .with(0.02, Fault::Delay(Duration::from_millis(100)))
}

fn contents(index: usize) -> String {
    format!("proxy-write-{index:05}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_writes_through_faults_are_each_applied_at_most_once_and_never_lost() {
    let started = Instant::now();
    let sandbox = sandbox().await;
    let node = sandbox.node_tls_identity();
    let limits = Limits {
        lifetime: Duration::from_secs(200),
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
    // Enough retries that a write never runs out of them on injected statuses (the plan would
    // need eleven in a row), with short backoffs; a Retry-After is honoured as sent.
    options.retry.max_retries = 10;
    options.retry.initial_delay = Duration::from_millis(2);
    options.retry.max_delay = Duration::from_millis(20);
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
    let mut found: HashMap<String, Vec<String>> = HashMap::new();
    for entry in entries {
        found
            .entry(entry.contents)
            .or_default()
            .push(entry.transaction_id.to_string());
    }

    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    let mut successes = 0u64;
    let mut unknown_present = 0u64;
    let mut unknown_absent = 0u64;
    let mut failures = Vec::new();
    for (index, outcome) in outcomes.into_iter().enumerate() {
        let key = contents(index);
        let present = found.get(&key).map(Vec::as_slice).unwrap_or_default();
        match outcome.expect("every write has an outcome") {
            Outcome::Written(id) => {
                successes += 1;
                assert_eq!(
                    present,
                    std::slice::from_ref(&id),
                    "write {index}, acknowledged at {id}, must be present exactly once there"
                );
            }
            Outcome::Unknown => {
                assert!(
                    present.len() <= 1,
                    "write {index} applied twice: {present:?}"
                );
                if present.is_empty() {
                    unknown_absent += 1;
                } else {
                    unknown_present += 1;
                }
            }
            Outcome::Failed(why) => failures.push(format!("write {index}: {why}")),
        }
    }
    let by_status = injected_statuses(&proxy);
    let report = Report {
        by_status: by_status.clone(),
        writes: WRITES,
        successes,
        unknown_present,
        unknown_absent,
        failures: failures.len(),
        stats,
        written_in,
    };
    report.print();

    assert!(
        failures.is_empty(),
        "no outcome but success or unknown: {failures:#?}"
    );
    // Nothing else is in the collection, and nothing twice.
    let expected: std::collections::HashSet<String> = (0..WRITES).map(contents).collect();
    for (key, ids) in &found {
        assert!(expected.contains(key), "an entry nobody wrote: {key:?}");
        assert_eq!(ids.len(), 1, "{key} is duplicated at {ids:?}");
    }
    // The proxy's account and the client's agree: a reset after the answer is exactly an
    // unknown outcome that was applied, a reset before forwarding one that was not, and every
    // answered forward is an entry.
    assert_eq!(stats.upstream_errors, 0, "{stats:?}");
    assert_eq!(stats.client_errors, 0, "{stats:?}");
    assert_eq!(stats.over_budget, 0, "{stats:?}");
    assert_eq!(unknown_present, stats.reset_after_response, "{stats:?}");
    assert_eq!(unknown_absent, stats.reset_before_forward, "{stats:?}");
    assert_eq!(successes, stats.passed_through + stats.delayed, "{stats:?}");
    assert_eq!(found.len() as u64, stats.forwarded, "{stats:?}");
    // Every request was a write attempt: the writes, plus one retry per injected status and
    // none after a reset.
    assert_eq!(stats.requests, WRITES as u64 + stats.statuses, "{stats:?}");
    // The plan did what it says: a good fraction of the requests suffered a fault of each kind.
    assert!(stats.faults() * 5 >= stats.requests, "{stats:?}");
    for (kind, count) in [
        ("reset before forward", stats.reset_before_forward),
        ("reset after response", stats.reset_after_response),
        ("status", stats.statuses),
        ("delay", stats.delayed),
    ] {
        assert!(count >= 50, "only {count} faults of kind {kind}: {stats:?}");
    }
    assert!(
        by_status.get(&(503, true)).copied().unwrap_or(0) > 0
            && by_status.get(&(429, true)).copied().unwrap_or(0) > 0
            && by_status.get(&(503, false)).copied().unwrap_or(0) > 0
            && by_status.get(&(429, false)).copied().unwrap_or(0) > 0,
        "{by_status:?}"
    );
}

/// Injected statuses by (status, whether a non-zero `Retry-After` came with it).
fn injected_statuses(proxy: &FaultProxy) -> BTreeMap<(u16, bool), u64> {
    let mut counts = BTreeMap::new();
    for event in proxy.events() {
        if let Some(Fault::Status {
            status,
            retry_after,
        }) = event.fault
        {
            *counts
                .entry((status, retry_after.is_some_and(|d| !d.is_zero())))
                .or_default() += 1;
        }
    }
    counts
}

struct Report {
    by_status: BTreeMap<(u16, bool), u64>,
    writes: usize,
    successes: u64,
    unknown_present: u64,
    unknown_absent: u64,
    failures: usize,
    stats: ProxyStats,
    written_in: Duration,
}

impl Report {
    /// `(503 with Retry-After 1 s: n, ...)`.
    fn statuses(&self) -> String {
        let parts: Vec<String> = self
            .by_status
            .iter()
            .map(|((status, after), n)| {
                let after = if *after {
                    "Retry-After 1 s"
                } else {
                    "no or zero Retry-After"
                };
                format!("{status} {after}: {n}")
            })
            .collect();
        format!("({})", parts.join(", "))
    }

    fn print(&self) {
        let s = &self.stats;
        println!(
            "through the fault proxy (seed {SEED:#x}, {IN_FLIGHT} in flight): {} writes in {:.1} s\n\
             \x20 succeeded {} | outcome unknown and present {} | outcome unknown and absent {} | other errors {}\n\
             \x20 proxy: {} requests on {} connections, {} faults injected: reset before forward {}, \
             reset after response {}, 503/429 {} {}, delays {}\n\
             \x20 client retries {} (requests - writes)",
            self.writes,
            self.written_in.as_secs_f64(),
            self.successes,
            self.unknown_present,
            self.unknown_absent,
            self.failures,
            s.requests,
            s.connections,
            s.faults(),
            s.reset_before_forward,
            s.reset_after_response,
            s.statuses,
            self.statuses(),
            s.delayed,
            s.requests.saturating_sub(self.writes as u64),
        );
    }
}
