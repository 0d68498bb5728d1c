//! Every command of `cledger` against a sandbox ledger.

mod support;

use confidential_ledger::tls::PinnedCertificate;
use faultproxy::{Fault, FaultPlan, RequestFilter, Rule};
use support::{Ledger, bare, interrupt_and_wait, proxy, run, run_with_stdin};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_are_written_read_listed_proved_and_verified_offline() {
    let ledger = Ledger::start().await;
    let cli = || ledger.cledger();

    // write: argument, with collection, tags and --wait.
    let written = run(
        cli(),
        &[
            "--json",
            "write",
            "first entry",
            "--collection",
            "books",
            "--tag",
            "q3",
            "--wait",
        ],
    )
    .await
    .json();
    assert_eq!(written["collectionId"], "books");
    assert_eq!(written["state"], "Committed");
    let first = written["transactionId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    // write: file, and stdin (with and without `-`).
    let file = ledger.path("entry.txt");
    std::fs::write(&file, "from a file").unwrap_or_else(|e| panic!("{e}"));
    let from_file = file.to_string_lossy().into_owned();
    run(
        cli(),
        &[
            "write",
            "--file",
            &from_file,
            "--collection",
            "books",
            "--wait",
        ],
    )
    .await
    .ok();
    run_with_stdin(
        cli(),
        &["write", "-", "--collection", "books"],
        "from stdin",
    )
    .await
    .ok();
    let lines = run_with_stdin(
        cli(),
        &[
            "--json",
            "write",
            "--each-line",
            "--collection",
            "books",
            "--wait",
            "--concurrency",
            "1",
        ],
        "line 1\nline 2\n\nline 3\n",
    )
    .await;
    assert_eq!(lines.json_lines().len(), 3, "the empty line is skipped");
    assert!(
        lines.stderr.contains("3 entries written, committed up to"),
        "{}",
        lines.stderr
    );

    // read: by id and the latest.
    let read = run(cli(), &["--json", "read", &first, "--collection", "books"])
        .await
        .json();
    assert_eq!(read["contents"], "first entry");
    assert_eq!(read["transactionId"].as_str(), Some(first.as_str()));
    let latest = run(cli(), &["read", "--current", "--collection", "books"]).await;
    assert_eq!(latest.ok().trim(), "line 3");

    // list: JSON lines in transaction order; the text form escapes line breaks.
    let listed = run(cli(), &["--json", "list", "--collection", "books"])
        .await
        .json_lines();
    let contents: Vec<&str> = listed
        .iter()
        .filter_map(|e| e["contents"].as_str())
        .collect();
    assert_eq!(
        contents,
        [
            "first entry",
            "from a file",
            "from stdin",
            "line 1",
            "line 2",
            "line 3"
        ]
    );
    let ranged = run(
        cli(),
        &[
            "list",
            "--collection",
            "books",
            "--from",
            &first,
            "--to",
            &first,
        ],
    )
    .await;
    assert_eq!(ranged.ok().trim(), format!("{first}\tfirst entry"));
    let tagged = run(
        cli(),
        &["--json", "list", "--collection", "books", "--tag", "q3"],
    )
    .await
    .json_lines();
    assert_eq!(tagged.len(), 1);

    // collections and tags.
    let collections = run(cli(), &["collections"]).await;
    assert!(
        collections.ok().lines().any(|l| l == "books"),
        "{}",
        collections.stdout
    );
    let tags = run(cli(), &["--json", "tags", "--collection", "books"])
        .await
        .json_lines();
    assert_eq!(tags, [serde_json::json!({"tag": "q3"})]);

    // receipt: saved and verified online, then verified offline.
    let receipt_file = ledger.path("receipt.json");
    let receipt_path = receipt_file.to_string_lossy().into_owned();
    let saved = run(
        cli(),
        &[
            "--json",
            "receipt",
            &first,
            "--out",
            &receipt_path,
            "--verify",
        ],
    )
    .await
    .json();
    assert_eq!(saved["verified"]["verified"], true);
    let printed = run(cli(), &["receipt", &first]).await;
    let printed: serde_json::Value =
        serde_json::from_str(printed.ok()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(printed["transactionId"].as_str(), Some(first.as_str()));

    let cert_file = ledger.path("service.pem");
    let cert_path = cert_file.to_string_lossy().into_owned();
    let identity = run(cli(), &["--json", "identity", "--out", &cert_path])
        .await
        .json();
    let expected = PinnedCertificate::from_pem(ledger.sandbox.service_certificate_pem())
        .unwrap_or_else(|e| panic!("{e}"))
        .fingerprint();
    assert_eq!(
        identity["serviceCertificateSha256"].as_str(),
        Some(expected.as_str())
    );
    assert_eq!(identity["ledgerId"], ledger.sandbox.ledger_id());

    // verify needs nothing but the files: no endpoint, no credential.
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "--service-cert",
            cert_path.as_str(),
            "--json",
            "verify",
            receipt_path.as_str(),
        ];
        args.extend_from_slice(extra);
        let args: Vec<String> = args.into_iter().map(str::to_owned).collect();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run(bare(), &args).await
        }
    };
    let good = verify(&[
        "--transaction-id",
        &first,
        "--collection",
        "books",
        "--contents",
        "first entry",
    ])
    .await
    .json();
    assert_eq!(good["verified"], true);
    assert_eq!(good["transactionId"].as_str(), Some(first.as_str()));
    let wrong_id = verify(&["--transaction-id", "2.999999"]).await;
    wrong_id.fails_with(3);
    assert!(
        wrong_id.stderr.contains("(transaction id)"),
        "{}",
        wrong_id.stderr
    );
    let wrong_contents = verify(&["--contents", "first entrY"]).await;
    wrong_contents.fails_with(3);
    assert!(
        wrong_contents.stderr.contains("(claims)"),
        "{}",
        wrong_contents.stderr
    );
    verify(&["--collection", "other"]).await.fails_with(3);

    // A receipt with one changed character no longer verifies.
    let text = std::fs::read_to_string(&receipt_file).unwrap_or_else(|e| panic!("{e}"));
    let mut value: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let digest = value["receipt"]["leafComponents"]["writeSetDigest"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let flipped = format!(
        "{}{}",
        &digest[..63],
        if digest.ends_with('0') { '1' } else { '0' }
    );
    value["receipt"]["leafComponents"]["writeSetDigest"] = flipped.into();
    std::fs::write(&receipt_file, value.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let forged = verify(&[]).await;
    forged.fails_with(3);
    assert!(forged.stderr.contains("(signature)"), "{}", forged.stderr);

    ledger.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_roles_and_governance_are_managed_and_shown() {
    let ledger = Ledger::start().await;
    let cli = || ledger.cledger();
    let user = "a1b2c3d4-0000-4000-8000-00000000abcd";

    let set = run(cli(), &["--json", "users", "set", user, "--role", "Reader"])
        .await
        .json();
    assert_eq!(set["assignedRoles"], serde_json::json!(["Reader"]));
    let got = run(cli(), &["users", "get", user]).await;
    assert_eq!(got.ok().trim(), format!("{user}\tReader"));
    let listed = run(cli(), &["--json", "users", "list"]).await.json_lines();
    assert!(listed.iter().any(|u| u["userId"] == user), "{listed:?}");
    run(cli(), &["users", "delete", user]).await.ok();
    let gone = run(cli(), &["users", "get", user]).await;
    gone.fails_with(1);
    assert!(
        gone.stderr.starts_with("error: cannot read the user"),
        "{}",
        gone.stderr
    );
    assert!(gone.stderr.contains("\n  caused by: "), "{}", gone.stderr);

    run(
        cli(),
        &["roles", "create", "Auditor", "--action", "/content/read"],
    )
    .await
    .ok();
    let role = run(cli(), &["--json", "roles", "get", "Auditor"])
        .await
        .json();
    assert_eq!(role["roleActions"], serde_json::json!(["/content/read"]));
    run(
        cli(),
        &[
            "roles",
            "update",
            "Auditor",
            "--action",
            "/content/read",
            "--action",
            "/content/write",
        ],
    )
    .await
    .ok();
    let role = run(cli(), &["roles", "get", "Auditor"]).await;
    assert_eq!(role.ok().trim(), "Auditor\t/content/read,/content/write");
    run(cli(), &["roles", "delete", "Auditor"]).await.ok();

    let members = run(cli(), &["--json", "governance", "members"])
        .await
        .json_lines();
    assert!(!members.is_empty());
    assert!(
        members
            .iter()
            .all(|m| m["id"].as_str().is_some_and(|id| !id.is_empty()))
    );
    let constitution = run(cli(), &["--json", "governance", "constitution"])
        .await
        .json();
    assert_eq!(constitution["digestMatches"], true);
    assert!(
        constitution["script"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    let quotes = run(cli(), &["--json", "governance", "quotes"]).await.json();
    assert!(
        quotes["currentNodeId"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );

    ledger.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_is_never_printed_even_when_verbose_or_failing() {
    let ledger = Ledger::start().await;
    let oid = "0f0f0f0f-1111-4222-8333-444455556666";
    let token = ledger.sandbox.mint_token(oid);
    ledger
        .sandbox
        .add_user(oid, &["Contributor"])
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    // From the environment and from the argument, at the highest verbosity.
    let mut from_env = ledger.anonymous();
    from_env.env("CONFIDENTIALLEDGER_TOKEN", &token);
    let written = run(from_env, &["-vvv", "write", "by token", "--wait"]).await;
    written.ok();
    let from_arg = run(
        ledger.anonymous(),
        &["-vvv", "--token", &token, "read", "--current"],
    )
    .await;
    assert_eq!(from_arg.ok().trim(), "by token");
    // Not allowed: users are managed by administrators (403, exit 4).
    let refused = run(
        ledger.anonymous(),
        &["-vvv", "--token", &token, "users", "list"],
    )
    .await;
    refused.fails_with(4);
    // A token the ledger does not accept (401, exit 4).
    let forged = format!("{token}x");
    let rejected = run(
        ledger.anonymous(),
        &["-vv", "--token", &forged, "read", "--current"],
    )
    .await;
    rejected.fails_with(4);

    let secret_part = token.rsplit('.').next().unwrap_or_default();
    assert!(secret_part.len() > 16);
    for output in [&written, &from_arg, &refused, &rejected] {
        for text in [&output.stdout, &output.stderr] {
            assert!(!text.contains(secret_part), "the token leaked: {text}");
        }
    }
    assert!(!written.stderr.is_empty(), "-vvv logs something");

    // --help names the variable but never shows its value.
    let mut help = ledger.anonymous();
    help.env("CONFIDENTIALLEDGER_TOKEN", &token);
    let help = run(help, &["--help"]).await;
    assert!(help.ok().contains("CONFIDENTIALLEDGER_TOKEN"));
    assert!(!help.stdout.contains(secret_part));

    // A certificate and its key in one file, without --key.
    let mut combined = ledger.anonymous();
    combined.env("CONFIDENTIALLEDGER_CERT", ledger.sandbox.admin_pem_path());
    let read = run(combined, &["read", "--current"]).await;
    assert_eq!(read.ok().trim(), "by token");

    // The administrator's private key is not printed by `sandbox`-style output either: the
    // commands above never read it; `identity` prints only the public certificate.
    let identity = run(ledger.cledger(), &["-vvv", "identity"]).await;
    let key = ledger.sandbox.admin_private_key_pem();
    let key_line = key.lines().nth(1).unwrap_or_default();
    assert!(!key_line.is_empty());
    assert!(!identity.ok().contains(key_line) && !identity.stderr.contains(key_line));

    ledger.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_errors_help_completions_and_the_embedded_sandbox() {
    // No ledger named: a usage error (exit 2) that says what to do.
    let none = run(bare(), &["read", "--current"]).await;
    none.fails_with(2);
    assert!(
        none.stderr.contains("--endpoint") && none.stderr.contains("--sandbox"),
        "{}",
        none.stderr
    );
    // A malformed transaction id is refused before anything is sent.
    let bad = run(bare(), &["--sandbox", "read", "two.three"]).await;
    bad.fails_with(2);
    assert!(
        bad.stderr.contains("\"two.three\" is not a transaction id"),
        "{}",
        bad.stderr
    );
    // clap's own usage errors exit 2 too.
    run(bare(), &["write", "--concurrency", "0", "x"])
        .await
        .fails_with(2);
    // verify without a certificate says where to get one.
    let no_cert = run(bare(), &["verify", "receipt.json"]).await;
    no_cert.fails_with(2);
    assert!(
        no_cert.stderr.contains("cledger identity --out"),
        "{}",
        no_cert.stderr
    );

    // --help documents the exit codes and has examples.
    let help = run(bare(), &["--help"]).await;
    for needle in [
        "Exit codes:",
        "130",
        "Examples:",
        "cledger --sandbox-dir demo audit",
    ] {
        assert!(help.ok().contains(needle), "{needle} missing from --help");
    }
    let audit_help = run(bare(), &["audit", "--help"]).await;
    assert!(audit_help.ok().contains("--checkpoint"));

    // Completions for every shell clap_complete knows.
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let completions = run(bare(), &["completions", shell]).await;
        assert!(completions.ok().contains("audit"), "{shell}");
    }

    // --sandbox: a write and a read with nothing configured.
    let written = run(bare(), &["--sandbox", "--json", "write", "hello", "--wait"])
        .await
        .json();
    assert_eq!(written["state"], "Committed");
    // --sandbox-dir: entries persist from one command to the next.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = dir.path().join("ledger");
    let dir = dir.to_string_lossy().into_owned();
    run(bare(), &["--sandbox-dir", &dir, "write", "kept", "--wait"])
        .await
        .ok();
    let read = run(bare(), &["--sandbox-dir", &dir, "read", "--current"]).await;
    assert_eq!(read.ok().trim(), "kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_command_prints_how_to_connect_and_stops_on_ctrl_c() {
    use std::io::BufRead;

    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let data = dir.path().join("ledger");
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("cledger"));
    for name in support::ENV {
        command.env_remove(name);
    }
    let mut child = command
        .arg("sandbox")
        .arg("--data-dir")
        .arg(&data)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let exports = tokio::task::spawn_blocking(move || {
        std::io::BufReader::new(stdout)
            .lines()
            .take(6)
            .map(|line| line.unwrap_or_else(|e| panic!("{e}")))
            .collect::<Vec<String>>()
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    // `export NAME='value'` lines, for every variable a connection needs.
    let mut session = bare();
    for line in &exports {
        let Some((name, value)) = line
            .strip_prefix("export ")
            .and_then(|assignment| assignment.split_once('='))
        else {
            panic!("not an export line: {line}");
        };
        session.env(name, value.trim_matches('\''));
    }
    assert_eq!(exports.len(), 6, "{exports:?}");
    let written = run(session, &["--json", "write", "via the exports", "--wait"])
        .await
        .json();
    assert_eq!(written["state"], "Committed");

    let output = interrupt_and_wait(child).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("sandbox stopped"), "{stderr}");

    // The ledger persisted in the directory.
    let dir_arg = data.to_string_lossy().into_owned();
    let read = run(bare(), &["--sandbox-dir", &dir_arg, "read", "--current"]).await;
    assert_eq!(read.ok().trim(), "via the exports");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_constitution_whose_digest_does_not_match_fails_with_exit_3() {
    let ledger = Ledger::start().await;
    let plan = FaultPlan::none().rule(
        Rule::at(0, Fault::TamperJson("/digest"))
            .matching(RequestFilter::any().path_prefix("/app/governance/constitution")),
    );
    let proxy = proxy(&ledger, plan).await;
    let command = ledger.cledger_with_token_via(&proxy.endpoint()).await;
    let shown = run(command, &["--json", "governance", "constitution"]).await;
    shown.fails_with(3);
    let printed: serde_json::Value =
        serde_json::from_str(shown.stdout.trim()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        printed["digestMatches"], false,
        "the data is printed, then the failure"
    );
    assert!(
        shown.stderr.contains("is not the SHA-256 of its script"),
        "{}",
        shown.stderr
    );
    assert_eq!(proxy.stats().tampered, 1);
    proxy.shutdown().await;
    ledger.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_command_describes_itself_in_json() {
    use std::io::BufRead;

    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("cledger"));
    for name in support::ENV {
        command.env_remove(name);
    }
    let mut child = command
        .args(["--json", "sandbox"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap_or_else(|e| panic!("{e}"));
        line
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let described: serde_json::Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    for name in &support::ENV[..4] {
        assert!(
            described[*name].as_str().is_some_and(|v| !v.is_empty()),
            "{name}: {described}"
        );
    }
    assert!(
        described["CONFIDENTIALLEDGER_KEY"]
            .as_str()
            .is_some_and(|p| p.ends_with(".pem")),
        "{described}"
    );
    assert_eq!(interrupt_and_wait(child).await.status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_credential_the_azure_cli_sign_in_is_tried_and_its_failure_exits_4() {
    let ledger = Ledger::start().await;
    // No `az` or `azd` on this PATH: the developer credential cannot get a token.
    let empty = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut command = ledger.anonymous();
    command.env("PATH", empty.path());
    let refused = run(command, &["read", "--current"]).await;
    refused.fails_with(4);
    assert!(
        refused
            .stderr
            .starts_with("error: cannot read the latest entry\n"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("az not found on PATH"),
        "{}",
        refused.stderr
    );
    ledger.sandbox.shutdown().await;
}

/// `cledger list | head`: the reader goes away while entries are still coming; the tool ends
/// quietly with status 0, as filters in a pipeline do, instead of reporting a broken pipe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_goes_away_ends_a_listing_quietly() {
    use std::io::Read;
    let ledger = Ledger::start().await;
    // Far more than a pipe's buffer holds, so the tool is still writing when the reader leaves.
    for i in 0..3000 {
        if let Err(e) = ledger
            .sandbox
            .append_entry("piped", &format!("entry number {i} of a long listing"))
            .await
        {
            panic!("cannot append: {e}");
        }
    }
    let configured = ledger.cledger();
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("cledger"));
    for name in support::ENV {
        command.env_remove(name);
    }
    for (name, value) in configured.get_envs() {
        if let (Some(value), Some(name)) = (value, name.to_str()) {
            command.env(name, value);
        }
    }
    command
        .args(["list", "--collection", "piped"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap_or_else(|e| panic!("{e}"));
    let mut stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let mut first = [0u8; 64];
    stdout
        .read_exact(&mut first)
        .unwrap_or_else(|e| panic!("{e}"));
    drop(stdout);
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|e| panic!("{e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
    ledger.sandbox.shutdown().await;
}
