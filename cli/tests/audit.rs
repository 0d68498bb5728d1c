//! `cledger audit` against a sandbox: a clean range, tampered receipts through the fault proxy,
//! and resuming from a checkpoint (after --max-entries and after Ctrl-C).

mod support;

use std::time::Duration;

use faultproxy::{Fault, FaultPlan, RequestFilter, Rule};
use support::{Ledger, proxy, run};

/// Appends `count` entries to `collection`; returns their transaction ids.
async fn fill(ledger: &Ledger, collection: &str, count: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..count {
        match ledger
            .sandbox
            .append_entry(collection, &format!("entry {i}"))
            .await
        {
            Ok(id) => ids.push(id.to_string()),
            Err(e) => panic!("cannot append: {e}"),
        }
    }
    ids
}

fn read_json(path: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn receipt_of(id: &str) -> RequestFilter {
    RequestFilter::any()
        .method("GET")
        .path_prefix(&format!("/app/transactions/{id}/receipt"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_range_is_verified_entry_by_entry() {
    let ledger = Ledger::start().await;
    fill(&ledger, "other", 3).await;
    let ids = fill(&ledger, "audited", 40).await;
    let report_file = ledger.path("report.json");
    let report_path = report_file.to_string_lossy().into_owned();
    let audit = run(
        ledger.cledger(),
        &[
            "--json",
            "audit",
            "--collection",
            "audited",
            "--report",
            &report_path,
            "--concurrency",
            "8",
        ],
    )
    .await;
    let printed = audit.json();
    let report = read_json(&report_file);
    assert_eq!(
        printed, report,
        "--json prints the report written to --report"
    );
    assert_eq!(report["entries"], 40);
    assert_eq!(report["verified"], 40);
    assert_eq!(report["failed"], 0);
    assert_eq!(report["withoutClaims"], 0);
    assert_eq!(report["complete"], true);
    assert_eq!(
        report["firstTransaction"].as_str(),
        ids.first().map(String::as_str)
    );
    assert_eq!(
        report["lastTransaction"].as_str(),
        ids.last().map(String::as_str)
    );
    assert_eq!(report["to"].as_str(), ids.last().map(String::as_str));
    assert_eq!(
        report["endorsementChains"],
        serde_json::json!({ "direct": 40 })
    );
    let nodes = report["signatureNodes"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert_eq!(nodes.len(), 1);
    assert!(nodes.values().all(|n| n == 40));
    assert!(
        audit.stderr.contains("40 entries") && audit.stderr.contains("40 verified, 0 failed"),
        "{}",
        audit.stderr
    );

    // A sub-range: exactly the entries between the two ids.
    let sub = run(
        ledger.cledger(),
        &[
            "--json",
            "audit",
            "--collection",
            "audited",
            "--from",
            &ids[10],
            "--to",
            &ids[19],
        ],
    )
    .await
    .json();
    assert_eq!(sub["entries"], 10);
    assert_eq!(sub["firstTransaction"].as_str(), Some(ids[10].as_str()));
    assert_eq!(sub["lastTransaction"].as_str(), Some(ids[19].as_str()));

    // An empty collection: nothing to audit, nothing failed.
    let empty = run(
        ledger.cledger(),
        &["--json", "audit", "--collection", "nothing-here"],
    )
    .await
    .json();
    assert_eq!(empty["entries"], 0);
    assert_eq!(empty["complete"], true);
    ledger.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_receipts_fail_the_audit_and_are_named() {
    let ledger = Ledger::start().await;
    let ids = fill(&ledger, "audited", 30).await;
    let (forged, swapped) = (&ids[7], &ids[21]);
    // Every answer for these two receipts is tampered (the `Loading` ones have nothing to
    // tamper and pass unchanged): one leaf digest, one claim's contents.
    let plan = FaultPlan::none()
        .rule(
            Rule::at_each(
                0..8,
                Fault::TamperJson("/receipt/leafComponents/writeSetDigest"),
            )
            .matching(receipt_of(forged)),
        )
        .rule(
            Rule::at_each(
                0..8,
                Fault::TamperJson("/applicationClaims/0/ledgerEntry/contents"),
            )
            .matching(receipt_of(swapped)),
        );
    let proxy = proxy(&ledger, plan).await;
    let report_file = ledger.path("report.json");
    let report_path = report_file.to_string_lossy().into_owned();
    let audit = run(
        ledger.cledger_with_token_via(&proxy.endpoint()).await,
        &["audit", "--collection", "audited", "--report", &report_path],
    )
    .await;
    audit.fails_with(3);
    assert_eq!(proxy.stats().tampered, 2, "{:?}", proxy.stats());
    assert!(
        audit
            .stderr
            .contains(&format!("FAILED {forged} at signature")),
        "{}",
        audit.stderr
    );
    assert!(
        audit.stderr.contains(&format!("FAILED {swapped} at claim")),
        "{}",
        audit.stderr
    );
    assert!(
        audit.stderr.contains(&format!(
            "error: 2 of 30 entries failed the audit; first: {forged} at signature"
        )),
        "{}",
        audit.stderr
    );
    let report = read_json(&report_file);
    assert_eq!(report["entries"], 30);
    assert_eq!(report["verified"], 28);
    assert_eq!(report["failed"], 2);
    let failures = report["failures"].as_array().cloned().unwrap_or_default();
    let named: Vec<(&str, &str)> = failures
        .iter()
        .filter_map(|f| Some((f["transactionId"].as_str()?, f["step"].as_str()?)))
        .collect();
    assert_eq!(
        named,
        [(forged.as_str(), "signature"), (swapped.as_str(), "claim")]
    );
    proxy.shutdown().await;
    ledger.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audit_resumes_from_its_checkpoint() {
    let ledger = Ledger::start().await;
    let ids = fill(&ledger, "audited", 25).await;
    let checkpoint = ledger.path("audit.ckpt");
    let checkpoint_path = checkpoint.to_string_lossy().into_owned();
    let args = [
        "--json",
        "audit",
        "--collection",
        "audited",
        "--checkpoint",
        &checkpoint_path,
    ];

    let mut first_args = args.to_vec();
    first_args.extend(["--max-entries", "10"]);
    let first = run(ledger.cledger(), &first_args).await.json();
    assert_eq!(first["complete"], false);
    assert_eq!(first["entries"], 10);
    assert_eq!(first["lastTransaction"].as_str(), Some(ids[9].as_str()));
    assert!(checkpoint.exists());

    // Another audit cannot use this checkpoint.
    let other = run(
        ledger.cledger(),
        &[
            "audit",
            "--collection",
            "another",
            "--checkpoint",
            &checkpoint_path,
        ],
    )
    .await;
    other.fails_with(2);
    assert!(
        other.stderr.contains("the checkpoint is of another audit"),
        "{}",
        other.stderr
    );

    // Entries written after the audit started are outside its range.
    fill(&ledger, "audited", 3).await;
    let resumed = run(ledger.cledger(), &args).await;
    let report = resumed.json();
    assert!(
        resumed
            .stderr
            .contains(&format!("resuming the audit after {}", ids[9])),
        "{}",
        resumed.stderr
    );
    assert_eq!(report["complete"], true);
    assert_eq!(report["entries"], 25);
    assert_eq!(report["verified"], 25);
    assert_eq!(report["runs"], 2);
    assert_eq!(report["firstTransaction"].as_str(), Some(ids[0].as_str()));
    assert_eq!(
        report["lastTransaction"].as_str(),
        ids.last().map(String::as_str)
    );
    assert!(
        !checkpoint.exists(),
        "a finished audit removes its checkpoint"
    );
    ledger.sandbox.shutdown().await;
}

/// An audit of `ledger`'s 120-entry collection "audited", one receipt at a time through a
/// proxy that slows every receipt answer down, with a checkpoint file; returned once the first
/// checkpoint is on disk (the tests wait for it, not for a time), so it is still running.
struct SlowAudit {
    proxy: faultproxy::FaultProxy,
    checkpoint: std::path::PathBuf,
    child: std::process::Child,
}

impl SlowAudit {
    async fn start(ledger: &Ledger, seed: u64) -> SlowAudit {
        let plan = FaultPlan::seeded(seed)
            .matching(RequestFilter::any().path_prefix("/app/transactions/"))
            .with(1.0, Fault::Delay(Duration::from_millis(40)));
        let proxy = proxy(ledger, plan).await;
        let checkpoint = ledger.path("audit.ckpt");
        let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("cledger"));
        for name in support::ENV {
            command.env_remove(name);
        }
        let configured = ledger.cledger_with_token_via(&proxy.endpoint()).await;
        for (name, value) in configured.get_envs() {
            if let (Some(value), Some(name)) = (value, name.to_str()) {
                command.env(name, value);
            }
        }
        command
            .args(["audit", "--collection", "audited", "--concurrency", "1"])
            .arg("--checkpoint")
            .arg(&checkpoint)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        let child = command.spawn().unwrap_or_else(|e| panic!("{e}"));
        let mut waited = 0;
        while !checkpoint.exists() {
            assert!(waited < 600, "no checkpoint after 60 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
            waited += 1;
        }
        SlowAudit {
            proxy,
            checkpoint,
            child,
        }
    }
}

/// The audit saved in `checkpoint` part-way through 120 entries, resumed directly against the
/// ledger: it finishes with every entry counted once, in a second run, and removes the file.
async fn resume_and_check(ledger: &Ledger, checkpoint: &std::path::Path, ids: &[String]) {
    let saved = read_json(checkpoint);
    let done = saved["report"]["entries"].as_u64().unwrap_or_default();
    assert!(done > 0 && done < 120, "{saved}");
    assert_eq!(saved["report"]["complete"], false);
    let checkpoint_path = checkpoint.to_string_lossy().into_owned();
    let resumed = run(
        ledger.cledger(),
        &[
            "--json",
            "audit",
            "--collection",
            "audited",
            "--checkpoint",
            &checkpoint_path,
        ],
    )
    .await
    .json();
    assert_eq!(resumed["entries"], 120, "every entry once: {resumed}");
    assert_eq!(resumed["verified"], 120);
    assert_eq!(resumed["runs"], 2);
    assert_eq!(
        resumed["lastTransaction"].as_str(),
        ids.last().map(String::as_str)
    );
    assert!(
        !checkpoint.exists(),
        "a finished audit removes its checkpoint"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_saves_the_checkpoint_and_exits_130() {
    let ledger = Ledger::start().await;
    let ids = fill(&ledger, "audited", 120).await;
    let audit = SlowAudit::start(&ledger, 7).await;
    let output = support::interrupt_and_wait(audit.child).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("error: interrupted; the checkpoint"),
        "{stderr}"
    );
    resume_and_check(&ledger, &audit.checkpoint, &ids).await;
    audit.proxy.shutdown().await;
    ledger.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_audit_resumes_from_its_last_checkpoint_without_counting_twice() {
    let ledger = Ledger::start().await;
    let ids = fill(&ledger, "audited", 120).await;
    let mut audit = SlowAudit::start(&ledger, 9).await;
    // A crash: no chance to save anything more.
    audit.child.kill().unwrap_or_else(|e| panic!("{e}"));
    let status = audit.child.wait().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status.code(), None, "killed by a signal");
    resume_and_check(&ledger, &audit.checkpoint, &ids).await;
    audit.proxy.shutdown().await;
    ledger.sandbox.shutdown().await;
}
