//! Writes the fuzz fixtures and seed corpora from a sandbox ledger.
//!
//! `cargo run --manifest-path fuzz/Cargo.toml -p seedgen` starts an in-process sandbox, writes
//! entries (some with tags), rotates the service identity so that older receipts carry service
//! endorsements, and records what the ledger answers:
//!
//! - `fixtures/service_cert.pem`: the service certificate the verification targets trust;
//! - `fixtures/receipts/*.json`: valid receipt responses the structure-aware target mutates;
//! - `seeds/<target>/*`: one file per seed, in the target's input format (see each target).
//!
//! Each run makes new keys, so fixtures and seeds are regenerated together (the old seeds no
//! longer verify under a new certificate).

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Duration;

use confidential_ledger::tls::{PinnedCertificate, client_config};
use confidential_ledger_sandbox::{FaultAction, Sandbox, SandboxOptions};
use serde_json::Value;

const API: &str = "2026-02-23";

type Result<T> = std::result::Result<T, Box<dyn Error>>;

struct Ledger {
    sandbox: Sandbox,
    http: reqwest::Client,
    admin: String,
}

/// An answer, kept whole.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// The `error_from_parts` input format: status line, headers, blank line, body.
    fn as_error_seed(&self) -> String {
        let mut out = format!("{}\n", self.status);
        for (name, value) in &self.headers {
            out.push_str(&format!("{name}: {value}\n"));
        }
        out.push('\n');
        out.push_str(&self.body);
        out
    }
}

impl Ledger {
    async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Result<Answer> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = if path.contains("api-version=") {
            format!("{}{path}", self.sandbox.ledger_endpoint())
        } else {
            format!(
                "{}{path}{sep}api-version={API}",
                self.sandbox.ledger_endpoint()
            )
        };
        let mut request = self.http.request(method, url).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter(|(name, _)| name.as_str() != "date")
            .map(|(n, v)| {
                (
                    n.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = response.text().await?;
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    async fn get(&self, path: &str) -> Result<Answer> {
        self.request(reqwest::Method::GET, path, &self.admin, None)
            .await
    }

    async fn write(&self, collection: &str, contents: &str, tags: Option<&str>) -> Result<String> {
        let mut path = format!("/app/transactions?collectionId={collection}");
        if let Some(tags) = tags {
            path.push_str(&format!("&tags={tags}"));
        }
        let answer = self
            .request(
                reqwest::Method::POST,
                &path,
                &self.admin,
                Some(serde_json::json!({ "contents": contents })),
            )
            .await?;
        if answer.status != 200 {
            return Err(format!("write answered {}: {}", answer.status, answer.body).into());
        }
        answer
            .headers
            .iter()
            .find(|(n, _)| n == "x-ms-ccf-transaction-id")
            .map(|(_, v)| v.clone())
            .ok_or_else(|| "no transaction id header".into())
    }

    async fn wait_committed(&self, id: &str) -> Result<()> {
        for _ in 0..500 {
            let status = self.get(&format!("/app/transactions/{id}/status")).await?;
            if status.json()["state"] == "Committed" {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Err(format!("{id} was not committed").into())
    }

    /// Asks until the answer is no longer `Loading`; returns every answer.
    async fn until_ready(&self, path: &str) -> Result<Vec<Answer>> {
        let mut answers = Vec::new();
        for _ in 0..50 {
            let answer = self.get(path).await?;
            let loading = answer.json()["state"] == "Loading";
            answers.push(answer);
            if !loading {
                return Ok(answers);
            }
        }
        Err(format!("{path} stayed Loading").into())
    }
}

/// Writes `seeds/<target>/<name>`.
fn seed(root: &Path, target: &str, name: &str, bytes: impl AsRef<[u8]>) -> Result<()> {
    let dir = root.join("seeds").join(target);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(name), bytes)?;
    Ok(())
}

/// The same JSON with the receipt's keys in snake_case, as some ledgers wrote them.
fn snake_case(receipt: &Value) -> Value {
    match receipt {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let snake: String = k
                        .chars()
                        .flat_map(|c| {
                            if c.is_ascii_uppercase() {
                                vec!['_', c.to_ascii_lowercase()]
                            } else {
                                vec![c]
                            }
                        })
                        .collect();
                    (snake, snake_case(v))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(snake_case).collect()),
        other => other.clone(),
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no parent directory")?
        .to_path_buf();
    let options = SandboxOptions {
        page_size: 3,
        ..SandboxOptions::for_tests()
    };
    let sandbox = Sandbox::start(options).await?;
    sandbox.add_user("seed-admin", &["Administrator"]).await?;
    let admin = sandbox.mint_token("seed-admin");
    let pinned = PinnedCertificate::from_pem(sandbox.service_certificate_pem())?;
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(client_config(&pinned, None)?)
        .build()?;
    let ledger = Ledger {
        sandbox,
        http,
        admin,
    };

    // Entries before and after a rotation of the service identity.
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            ledger
                .write("subledger:0", &format!("entry {i}"), None)
                .await?,
        );
    }
    ids.push(ledger.write("audit", "tagged", Some("alpha,beta")).await?);
    ledger.wait_committed(ids.last().ok_or("no ids")?).await?;
    ledger.sandbox.rotate_service_identity().await?;
    for i in 0..3 {
        ids.push(
            ledger
                .write("subledger:0", &format!("after rotation {i}"), None)
                .await?,
        );
    }
    ledger.wait_committed(ids.last().ok_or("no ids")?).await?;

    let fixtures = root.join("fixtures");
    std::fs::create_dir_all(fixtures.join("receipts"))?;
    std::fs::write(
        fixtures.join("service_cert.pem"),
        ledger.sandbox.service_certificate_pem(),
    )?;

    // Receipts: before the rotation (with service endorsements) and after.
    for (n, id) in ids.iter().enumerate() {
        let answers = ledger
            .until_ready(&format!("/app/transactions/{id}/receipt"))
            .await?;
        for (k, answer) in answers.iter().enumerate() {
            let value = answer.json();
            let ready = value["state"] == "Ready";
            let name = format!("response_{n}_{k}.json");
            seed(&root, "receipt_parse", &name, &answer.body)?;
            if !ready {
                continue;
            }
            seed(&root, "receipt_verify", &name, &answer.body)?;
            let receipt = serde_json::to_string_pretty(&value["receipt"])?;
            seed(
                &root,
                "receipt_parse",
                &format!("receipt_{n}.json"),
                &receipt,
            )?;
            seed(
                &root,
                "receipt_verify",
                &format!("receipt_{n}.json"),
                &receipt,
            )?;
            let mut snake = value.clone();
            snake["receipt"] = snake_case(&value["receipt"]);
            let snake = serde_json::to_string(&snake)?;
            seed(&root, "receipt_parse", &format!("snake_{n}.json"), &snake)?;
            seed(&root, "receipt_verify", &format!("snake_{n}.json"), &snake)?;
        }
    }
    let endorsed = ledger
        .until_ready(&format!("/app/transactions/{}/receipt", ids[1]))
        .await?;
    let current = ledger
        .until_ready(&format!("/app/transactions/{}/receipt", ids[6]))
        .await?;
    for (name, answers) in [("endorsed.json", endorsed), ("current.json", current)] {
        let last = answers.last().ok_or("no answer")?;
        if last.json()["receipt"]["serviceEndorsements"].is_array() != (name == "endorsed.json") {
            return Err(format!("{name}: unexpected service endorsements").into());
        }
        std::fs::write(fixtures.join("receipts").join(name), &last.body)?;
    }

    // Transaction ids, as the ledger writes them.
    for (n, id) in ids.iter().enumerate() {
        seed(&root, "transaction_id", &format!("id_{n}"), id)?;
    }
    for (name, text) in [
        ("zero", "0.0"),
        ("max", "18446744073709551615.18446744073709551615"),
        ("leading_zero", "02.5"),
        ("overflow", "18446744073709551616.1"),
    ] {
        seed(&root, "transaction_id", name, text)?;
    }

    // Pages of every paged list: "<item field>\n<body>".
    let mut pages = Vec::new();
    let first = ledger
        .until_ready("/app/transactions?collectionId=subledger:0")
        .await?;
    let mut next = first
        .last()
        .and_then(|a| a.json()["nextLink"].as_str().map(str::to_string));
    pages.extend(first.into_iter().map(|a| ("entries", a)));
    while let Some(link) = next {
        let answers = ledger.until_ready(&link).await?;
        next = answers
            .last()
            .and_then(|a| a.json()["nextLink"].as_str().map(str::to_string));
        pages.extend(answers.into_iter().map(|a| ("entries", a)));
    }
    for (field, path) in [
        ("collections", "/app/collections"),
        ("tags", "/app/collections/tags?collectionId=audit"),
        ("members", "/app/governance/members"),
        ("ledgerUsers", "/app/ledgerUsers"),
        ("ledgerUsers", "/app/users?api-version=2024-08-22-preview"),
    ] {
        pages.push((field, ledger.get(path).await?));
    }
    for (n, (field, page)) in pages.iter().enumerate() {
        seed(
            &root,
            "decode_page",
            &format!("page_{n}"),
            format!("{field}\n{}", page.body),
        )?;
    }

    // Error answers: "<status>\n<headers>\n\n<body>".
    let stranger = ledger.sandbox.mint_token("not-a-user");
    let mut errors = vec![
        ledger.get("/app/transactions/not-an-id/status").await?,
        ledger
            .get("/app/transactions/current?collectionId=empty")
            .await?,
        ledger
            .get(&format!("/app/transactions/{}", "9.99999"))
            .await?,
        ledger
            .get(&format!(
                "/app/transactions?fromTransactionId={}&toTransactionId={}",
                ids[3], ids[1]
            ))
            .await?,
        ledger
            .request(reqwest::Method::GET, "/app/collections", &stranger, None)
            .await?,
        ledger
            .request(
                reqwest::Method::GET,
                "/app/collections",
                "not.a.token",
                None,
            )
            .await?,
        ledger.get("/app/users/someone").await?,
    ];
    let faults = ledger.sandbox.faults();
    faults.inject(
        "GET",
        "/app/collections",
        1,
        FaultAction::status(503).retry_after(Duration::from_secs(2)),
    );
    faults.inject(
        "GET",
        "/app/collections",
        1,
        FaultAction::status(429).retry_after(Duration::from_millis(1500)),
    );
    errors.push(ledger.get("/app/collections").await?);
    errors.push(ledger.get("/app/collections").await?);
    for (n, answer) in errors.iter().enumerate() {
        if answer.status < 300 {
            return Err(
                format!("expected an error, got {}: {}", answer.status, answer.body).into(),
            );
        }
        seed(
            &root,
            "error_from_parts",
            &format!("error_{n}"),
            answer.as_error_seed(),
        )?;
    }
    for (name, text) in [
        (
            "gateway_html",
            "502\ncontent-type: text/html\n\n<html><body>Bad gateway</body></html>",
        ),
        (
            "retry_after_date",
            "503\nretry-after: Wed, 21 Oct 2037 07:28:00 GMT\n\n",
        ),
        (
            "retry_after_ms",
            "429\nretry-after-ms: 250\nx-ms-retry-after-ms: 300\n\n{\"error\":\"busy\"}",
        ),
        (
            "api_version_redirect",
            "301\n\n{\"error\":{\"code\":\"ApiVersionRedirect\",\"message\":\"use ledgerUsers\"}}",
        ),
    ] {
        seed(&root, "error_from_parts", name, text)?;
    }

    // The structure-aware target's inputs are mutation scripts; a few short ones to start.
    for (n, bytes) in [&[][..], &[0], &[1], &[0, 0, 1, 5, 9], &[1, 3, 3, 3, 3, 3]]
        .iter()
        .enumerate()
    {
        seed(&root, "receipt_mutate", &format!("script_{n}"), bytes)?;
    }

    let Ledger { sandbox, .. } = ledger;
    sandbox.shutdown().await;
    println!("fixtures and seeds written under {}", root.display());
    Ok(())
}
