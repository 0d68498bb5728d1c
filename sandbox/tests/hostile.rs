//! Hostile callers: anonymous enumeration of endpoints, and floods of idle and half-open
//! connections while a ledger user keeps writing.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use confidential_ledger_sandbox::{Sandbox, SandboxOptions};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Client, client_config};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

#[tokio::test]
async fn callers_who_are_not_ledger_users_cannot_tell_which_paths_exist() {
    let s = Sandbox::start(SandboxOptions::for_tests()).await.unwrap();
    let admin = Client::admin(&s);
    let bundle = json!({
        "metadata": { "endpoints": { "/custom/thing": { "get": { "js_module": "m.js", "js_function": "f" } } } },
        "modules": [{ "name": "m.js", "module": "export function f() {}" }]
    });
    assert!(
        admin
            .put("/app/userDefinedEndpoints", bundle)
            .await
            .status
            .is_success()
    );
    // Known, user-defined, unknown, wrong method, outside /app, with and without api-version.
    let probes: [(Method, &str); 7] = [
        (Method::GET, "/app/transactions?api-version=2026-02-23"),
        (Method::POST, "/app/transactions?api-version=2026-02-23"),
        (Method::GET, "/app/custom/thing?api-version=2026-02-23"),
        (Method::GET, "/app/no/such/thing?api-version=2026-02-23"),
        (Method::DELETE, "/app/collections?api-version=2026-02-23"),
        (Method::GET, "/app/collections"),
        (Method::GET, "/elsewhere"),
    ];
    // As the administrator the answers differ (that is what an attacker would exploit).
    let mut known = std::collections::BTreeSet::new();
    for (method, path) in &probes {
        let r = admin
            .send_raw(method.clone(), format!("{}{path}", admin.base), None)
            .await;
        known.insert(r.status);
    }
    assert!(known.len() > 2, "{known:?}");

    let stranger = {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["stranger".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        Client::new(
            &s.ledger_endpoint(),
            &s.service_certificate_pem(),
            Some((&cert.pem(), &key.serialize_pem())),
        )
    };
    let callers = [
        ("anonymous", Client::anonymous(&s), StatusCode::UNAUTHORIZED),
        (
            "bad token",
            Client::bearer(&s, "not.a.token".into()),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "token of a non-user",
            Client::bearer(&s, s.mint_token("nobody")),
            StatusCode::FORBIDDEN,
        ),
        ("certificate of a non-user", stranger, StatusCode::FORBIDDEN),
    ];
    for (who, client, status) in callers {
        let mut answers = std::collections::BTreeSet::new();
        for (method, path) in &probes {
            let body = (*method == Method::POST)
                .then(|| ("application/json", json!({ "contents": "x" }).to_string()));
            let r = client
                .send_raw(method.clone(), format!("{}{path}", client.base), body)
                .await;
            assert_eq!(r.status, status, "{who} {method} {path}: {r:?}");
            answers.insert((r.status, r.body.to_string()));
        }
        assert_eq!(answers.len(), 1, "{who} can tell paths apart: {answers:?}");
    }
    s.shutdown().await;
}

#[tokio::test]
async fn wait_for_commit_answers_pending_for_a_slow_commit_never_503() {
    let s = Sandbox::start(
        SandboxOptions::for_tests()
            .signature_interval(Duration::from_secs(3600))
            .signature_every(1_000_000)
            .wait_for_commit_timeout(Duration::from_millis(200)),
    )
    .await
    .unwrap();
    let admin = Client::admin(&s).with_api("2026-07-31-preview");
    let r = admin
        .post(
            "/app/transactions?waitForCommit=true",
            json!({ "contents": "slow" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["state"], "Pending", "{r:?}");
    assert!(r.body.get("receipt").is_none());
    let id = r.txid.expect("the id of the applied write");
    let status = admin.get(&format!("/app/transactions/{id}/status")).await;
    assert_eq!(status.body["state"], "Pending");
    // It commits at the next signature (a rotation signs), and is readable then.
    s.rotate_service_identity().await.unwrap();
    admin.wait_committed(&id).await;
    s.shutdown().await;
}

/// Raises the open-file limit to its hard maximum; returns the soft limit in force.
fn raise_fd_limit() -> u64 {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        limit.current = limit.maximum;
        let _ = setrlimit(Resource::Nofile, limit);
    }
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// A client for `s` whose connections go to the IPv4 listener (the one being flooded).
fn admin_via(s: &Sandbox, addr: SocketAddr) -> Client {
    let mut c = Client::admin(s);
    let (cert, key) = (s.admin_certificate_pem(), s.admin_private_key_pem());
    c.http = reqwest::Client::builder()
        .tls_backend_preconfigured(client_config(
            &s.service_certificate_pem(),
            Some((&cert, &key)),
        ))
        .resolve("localhost", addr)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    c
}

fn open(flood: &[TcpStream]) -> usize {
    flood.iter().filter(|c| !closed(c)).count()
}

/// Whether the server closed `stream` (end of file or reset).
fn closed(stream: &TcpStream) -> bool {
    let mut buf = [0u8; 64];
    match stream.try_read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => false,
        Err(_) => true,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_idle_and_half_open_connections_cannot_keep_a_ledger_user_out() {
    // Each flood socket costs two descriptors here (client and server side).
    let per_listener = ((raise_fd_limit().saturating_sub(200)) / 5).min(600) as usize;
    assert!(per_listener >= 150, "too few file descriptors for the test");
    let cap = per_listener / 3;
    let s = Sandbox::start(
        SandboxOptions::for_tests()
            .max_connections(cap)
            // Long enough that only the cap can close the flood within the test.
            .header_read_timeout(Duration::from_secs(300))
            .idle_timeout(Duration::from_secs(300)),
    )
    .await
    .unwrap();
    let ledger = s.ledger_address();
    let identity: SocketAddr = s
        .identity_endpoint()
        .trim_start_matches("https://")
        .parse()
        .unwrap();

    // A ledger user writing all along, on one kept-alive connection.
    let writer = admin_via(&s, ledger);
    writer.write("before the flood").await;
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let writing = {
        let (stop, written) = (stop.clone(), written.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let r = writer
                    .post(
                        "/app/transactions",
                        json!({ "contents": "during the flood" }),
                    )
                    .await;
                assert_eq!(r.status, StatusCode::OK, "{r:?}");
                written.fetch_add(1, Ordering::SeqCst);
            }
        })
    };

    // The flood: idle connections, half-sent TLS hellos, half-sent HTTP headers.
    let mut flood = Vec::new();
    for i in 0..per_listener {
        let mut l = TcpStream::connect(ledger).await.unwrap();
        if i % 2 == 0 {
            l.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
                .await
                .unwrap();
        }
        let mut id = TcpStream::connect(identity).await.unwrap();
        if i % 2 == 0 {
            id.write_all(b"GET /ledgerIdentity/sandbox HTTP/1.1\r\nHost: x\r\n")
                .await
                .unwrap();
        }
        flood.push(l);
        flood.push(id);
    }
    let before = written.load(Ordering::SeqCst);

    // A ledger user connecting fresh during the flood gets in, on both listeners.
    let fresh = admin_via(&s, ledger);
    for i in 0..5 {
        fresh.write(&format!("fresh client {i}")).await;
    }
    let r = support::plain_http(&s)
        .get(format!("{}/ledgerIdentity/sandbox", s.identity_endpoint()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["ledgerId"], "sandbox");

    // Beyond the caps the flood was closed.
    let start = Instant::now();
    while open(&flood) > 2 * cap {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{} flood connections open, the caps are {cap} per listener",
            open(&flood)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::SeqCst);
    writing.await.unwrap();
    assert!(
        written.load(Ordering::SeqCst) > before,
        "the writer was kept out"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn idle_and_half_sent_connections_are_closed_by_the_timeouts() {
    let s = Sandbox::start(
        SandboxOptions::for_tests()
            .header_read_timeout(Duration::from_millis(500))
            .idle_timeout(Duration::from_millis(800)),
    )
    .await
    .unwrap();
    let identity: SocketAddr = s
        .identity_endpoint()
        .trim_start_matches("https://")
        .parse()
        .unwrap();
    let mut held = Vec::new();
    for i in 0..10 {
        for addr in [s.ledger_address(), identity] {
            let mut c = TcpStream::connect(addr).await.unwrap();
            match i % 3 {
                0 => {}
                1 => c.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00]).await.unwrap(),
                _ => c.write_all(b"GET / HTTP/1.1\r\nHo").await.unwrap(),
            }
            held.push(c);
        }
    }
    // A kept-alive connection that finished its request is closed once idle, too.
    let mut kept = TcpStream::connect(identity).await.unwrap();
    kept.write_all(b"GET /ledgerIdentity/sandbox HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    held.push(kept);
    let start = Instant::now();
    while open(&held) > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{} connections outlived the timeouts",
            open(&held)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Meanwhile and afterwards, requests are served.
    assert_eq!(
        Client::admin(&s).get("/app/collections").await.status,
        StatusCode::OK
    );
    s.shutdown().await;
}
