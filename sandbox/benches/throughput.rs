//! Sandbox benchmark: durable writes per second over HTTPS from a concurrent local client
//! (write-only, and write then wait for commit), commit latency, start-up time with a large
//! ledger on disk, and memory.
//!
//! `cargo bench -p confidential-ledger-sandbox --bench throughput`
//!
//! Environment: `BENCH_SECONDS` (per measurement, default 5), `BENCH_STARTUP_ENTRIES` (default
//! 1000000; 0 skips the start-up measurement), `BENCH_DIR` (where ledgers are created, default
//! a temporary directory; use a real disk, not tmpfs, for meaningful fsync numbers),
//! `BENCH_STARTUP_DIR` (keep the large ledger there, to time other start-ups against it).
//!
//! The baseline is the raw `fdatasync` rate of the same directory, measured in the same run:
//! without group commit, a durable write per sync would be the ceiling.

#[path = "../tests/support/mod.rs"]
#[allow(unused_imports)]
mod support;

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use confidential_ledger_sandbox::{Sandbox, SandboxOptions};
use serde_json::json;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `(VmRSS, VmHWM)` of this process in MiB.
fn memory() -> (f64, f64) {
    let (peak, current) = testkit::memory::own_peak_and_current_kib();
    (current as f64 / 1024.0, peak as f64 / 1024.0)
}

fn fsync_baseline(dir: &Path, duration: Duration) -> f64 {
    let path = dir.join("fsync-baseline");
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap();
    let record = [7u8; 128];
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < duration {
        f.write_all(&record).unwrap();
        f.sync_data().unwrap();
        n += 1;
    }
    let _ = std::fs::remove_file(path);
    n as f64 / start.elapsed().as_secs_f64()
}

fn client(s: &Sandbox) -> reqwest::Client {
    let config = support::client_config(
        &s.service_certificate_pem(),
        Some((&s.admin_certificate_pem(), &s.admin_private_key_pem())),
    );
    reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .http1_only()
        .pool_max_idle_per_host(1024)
        .build()
        .unwrap()
}

struct Run {
    writes: u64,
    seconds: f64,
    latencies_ms: Vec<f64>,
    syncs: u64,
}

/// `concurrency` workers write for `duration`; with `commit`, each waits for its write to be
/// committed (polling the status every 2 ms) before the next.
async fn measure(s: &Sandbox, concurrency: usize, duration: Duration, commit: bool) -> Run {
    let http = client(s);
    let base = s.ledger_endpoint();
    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicU64::new(0));
    let syncs_before = s.storage_stats().syncs;
    let mut tasks = Vec::new();
    let start = Instant::now();
    for w in 0..concurrency {
        let (http, base, stop, writes) = (http.clone(), base.clone(), stop.clone(), writes.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let t0 = Instant::now();
                let r = http
                    .post(format!("{base}/app/transactions?api-version=2026-02-23"))
                    .json(&json!({ "contents": format!("bench writer {w} entry {i} ........................................") }))
                    .send()
                    .await
                    .expect("write");
                assert_eq!(r.status(), 200);
                let id = r.headers()["x-ms-ccf-transaction-id"].to_str().unwrap().to_string();
                let _ = r.bytes().await;
                if commit {
                    loop {
                        let st: serde_json::Value = http
                            .get(format!("{base}/app/transactions/{id}/status?api-version=2026-02-23"))
                            .send()
                            .await
                            .expect("status")
                            .json()
                            .await
                            .expect("status body");
                        if st["state"] == "Committed" {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                }
                latencies.push(t0.elapsed().as_secs_f64() * 1000.0);
                writes.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
            latencies
        }));
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies_ms = Vec::new();
    for t in tasks {
        latencies_ms.extend(t.await.unwrap());
    }
    let seconds = start.elapsed().as_secs_f64();
    latencies_ms.sort_by(|a, b| a.total_cmp(b));
    Run {
        writes: writes.load(Ordering::Relaxed),
        seconds,
        latencies_ms,
        syncs: s.storage_stats().syncs - syncs_before,
    }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn report(label: &str, r: &Run, baseline: f64) {
    let rate = r.writes as f64 / r.seconds;
    println!(
        "{label:<44} {rate:>9.0} writes/s  ({:.1}x fsync baseline)  latency p50 {:.2} ms p99 {:.2} ms  {:.1} writes/fsync",
        rate / baseline,
        pct(&r.latencies_ms, 0.5),
        pct(&r.latencies_ms, 0.99),
        r.writes as f64 / r.syncs.max(1) as f64,
    );
}

async fn startup(root: &Path, entries: u64) {
    let keep = std::env::var_os("BENCH_STARTUP_DIR").map(std::path::PathBuf::from);
    let dir = keep.clone().unwrap_or_else(|| root.join("startup"));
    let _ = std::fs::remove_dir_all(&dir);
    let options = SandboxOptions::default().data_dir(&dir);
    let s = Sandbox::start(options.clone()).await.unwrap();
    let t0 = Instant::now();
    let s = Arc::new(s);
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..256 {
        let (s, next) = (s.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= entries {
                    return;
                }
                s.append_entry(
                    "subledger:0",
                    &format!("startup entry {i:08} ........................................"),
                )
                .await
                .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let fill = t0.elapsed().as_secs_f64();
    let Ok(s) = Arc::try_unwrap(s) else {
        panic!("still shared")
    };
    s.shutdown().await;
    let size = std::fs::metadata(dir.join("ledger.log"))
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "filled a ledger with {entries} entries in {fill:.1} s ({:.0} durable appends/s in-process), ledger file {:.0} MiB",
        entries as f64 / fill,
        size as f64 / (1024.0 * 1024.0)
    );
    let (rss_before, _) = memory();
    let t0 = Instant::now();
    let s = Sandbox::start(options.clone()).await.unwrap();
    let took = t0.elapsed().as_secs_f64();
    let (rss_after, _) = memory();
    println!(
        "start-up with {} transactions on disk: {took:.2} s; RSS grew by {:.0} MiB to {rss_after:.0} MiB",
        s.startup_report().transactions,
        rss_after - rss_before
    );
    s.shutdown().await;
    match keep {
        Some(dir) => println!("kept the start-up ledger in {}", dir.display()),
        None => {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let seconds = env_u64("BENCH_SECONDS", 5);
    let startup_entries = env_u64("BENCH_STARTUP_ENTRIES", 1_000_000);
    let temp =
        tempfile::tempdir_in(std::env::var("BENCH_DIR").unwrap_or_else(|_| ".".into())).unwrap();
    let duration = Duration::from_secs(seconds);
    println!(
        "confidential-ledger-sandbox benchmark ({seconds} s per measurement, dir {})",
        temp.path().display()
    );

    let baseline = fsync_baseline(temp.path(), Duration::from_secs(2));
    println!(
        "{:<44} {baseline:>9.0} fsyncs/s (one durable write per sync)",
        "baseline: write + fdatasync, 128 B"
    );

    let s = Sandbox::start(SandboxOptions::default().data_dir(temp.path().join("writes")))
        .await
        .unwrap();
    for c in [1, 16, 64, 256] {
        let r = measure(&s, c, duration, false).await;
        report(&format!("write-only, {c} concurrent"), &r, baseline);
    }
    let (rss, hwm) = memory();
    println!(
        "memory after the write-only runs: RSS {rss:.0} MiB (peak {hwm:.0} MiB), client and server in one process"
    );
    s.shutdown().await;

    for (label, interval) in [
        ("CCF defaults: signature every 1000 ms", 1000),
        ("signature every 10 ms", 10),
    ] {
        let s = Sandbox::start(
            SandboxOptions::default()
                .data_dir(temp.path().join(format!("commit-{interval}")))
                .signature_interval(Duration::from_millis(interval)),
        )
        .await
        .unwrap();
        for c in [1, 64] {
            let r = measure(&s, c, duration, true).await;
            report(
                &format!("write+commit, {c} concurrent, {label}"),
                &r,
                baseline,
            );
        }
        s.shutdown().await;
    }

    if startup_entries > 0 {
        startup(temp.path(), startup_entries).await;
    }
    let (rss, hwm) = memory();
    println!("final memory: RSS {rss:.0} MiB, peak {hwm:.0} MiB");
}
