//! The fault proxy against the sandbox: each fault does exactly what it says, seeded schedules
//! are reproducible, and the bounds hold.

mod support;

use std::time::{Duration, Instant};

use confidential_ledger_sandbox::SandboxOptions;
use faultproxy::{
    Cause, Fault, FaultPlan, FaultProxy, Limits, Outcome, PlanError, ProxyConfig, ProxyError,
    RequestFilter, Rule, TcpRelay, TlsIdentity,
};
use reqwest::{StatusCode, Version};
use serde_json::Value;
use support::{Ledger, RawConnection, is_reset, transaction_id};

fn writes() -> RequestFilter {
    RequestFilter::any()
        .method("POST")
        .path_prefix("/app/transactions")
}

async fn proxy(ledger: &Ledger, plan: FaultPlan) -> FaultProxy {
    FaultProxy::start(ledger.proxy_config(plan))
        .await
        .expect("proxy starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pass_through_relays_answers_over_one_kept_alive_http11_connection() {
    let ledger = Ledger::start().await;
    let proxy = proxy(&ledger, FaultPlan::none()).await;
    let mut connection =
        RawConnection::open(&ledger.sandbox, proxy.local_addr().port(), &ledger.token).await;
    // The client offered h2 and http/1.1; the proxy accepts only HTTP/1.1.
    assert_eq!(connection.alpn.as_deref(), Some(&b"http/1.1"[..]));

    let mut ids = Vec::new();
    for i in 0..3 {
        let answer = connection
            .write("pass", &format!("entry {i}"))
            .await
            .unwrap();
        assert_eq!(answer.status, 200);
        assert_eq!(answer.headers["content-type"], "application/json");
        ids.push(
            answer.headers["x-ms-ccf-transaction-id"]
                .to_str()
                .unwrap()
                .to_string(),
        );
        let body: Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(body["collectionId"], "pass");
    }
    let current = connection
        .send("GET", "/app/transactions/current?collectionId=pass", "")
        .await
        .unwrap();
    let current: Value = serde_json::from_slice(&current.body).unwrap();
    assert_eq!(current["contents"], "entry 2");
    assert_eq!(current["transactionId"], ids[2].as_str());
    assert_eq!(
        ledger.contents("pass").await,
        ["entry 0", "entry 1", "entry 2"]
    );

    let stats = proxy.stats();
    assert_eq!(stats.connections, 1, "one kept-alive connection: {stats:?}");
    assert_eq!(
        (stats.requests, stats.forwarded, stats.passed_through),
        (4, 4, 4)
    );
    assert_eq!(stats.faults(), 0);
    let events = proxy.events();
    assert_eq!(
        events.iter().map(|e| e.number).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    assert!(events.iter().all(|e| e.connection == 0
        && e.fault.is_none()
        && e.outcome == Outcome::Answered { status: 200 }));
    assert_eq!(events[0].method, "POST");
    assert!(events[3].path.starts_with("/app/transactions/current?"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reqwest_client_pinned_to_the_service_certificate_accepts_the_proxy() {
    let ledger = Ledger::start().await;
    let proxy = proxy(&ledger, FaultPlan::none()).await;
    let client = ledger.client(&proxy.endpoint());
    let response = client.write("reqwest", "through the proxy").await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.version(), Version::HTTP_11);
    assert!(transaction_id(&response).is_some());
    assert_eq!(ledger.contents("reqwest").await, ["through the proxy"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_before_forward_never_reaches_the_ledger() {
    let ledger = Ledger::start().await;
    let plan = FaultPlan::none().rule(Rule::at(0, Fault::ResetBeforeForward).matching(writes()));
    let proxy = proxy(&ledger, plan).await;
    let client = ledger.client(&proxy.endpoint());

    let error = client
        .write("before", "never written")
        .await
        .expect_err("the connection is reset");
    assert!(is_reset(&error), "a TCP reset, not a close: {error:?}");
    assert_eq!(proxy.stats().forwarded, 0);

    let kept = client.write("before", "written").await.unwrap();
    assert_eq!(kept.status(), StatusCode::OK);
    assert_eq!(ledger.contents("before").await, ["written"]);

    let stats = proxy.stats();
    assert_eq!(stats.reset_before_forward, 1);
    assert_eq!((stats.requests, stats.forwarded), (2, 1));
    assert!(stats.connections >= 2, "the reset connection is not reused");
    let events = proxy.events();
    assert_eq!(events[0].outcome, Outcome::ResetBeforeForward);
    assert_eq!(events[0].cause, Some(Cause::Rule(0)));
    assert_eq!(events[1].outcome, Outcome::Answered { status: 200 });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_after_response_executes_the_write_and_loses_the_answer() {
    let ledger = Ledger::start().await;
    let plan = FaultPlan::none().rule(Rule::at(0, Fault::ResetAfterResponse).matching(writes()));
    let proxy = proxy(&ledger, plan).await;
    let client = ledger.client(&proxy.endpoint());

    let error = client
        .write("after", "answer lost")
        .await
        .expect_err("the connection is reset");
    assert!(is_reset(&error), "a TCP reset, not a close: {error:?}");
    // The ledger executed it (and made it durable) before the proxy reset the client.
    assert_eq!(ledger.contents("after").await, ["answer lost"]);

    let stats = proxy.stats();
    assert_eq!(stats.reset_after_response, 1);
    assert_eq!(
        (stats.requests, stats.forwarded, stats.passed_through),
        (1, 1, 0)
    );
    assert_eq!(
        proxy.events()[0].outcome,
        Outcome::ResetAfterResponse { status: 200 }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_statuses_answer_in_the_service_shape_without_forwarding() {
    let ledger = Ledger::start().await;
    let plan = FaultPlan::none()
        .rule(
            Rule::at(0, Fault::unavailable().retry_after(Duration::from_secs(2)))
                .matching(writes()),
        )
        .rule(
            Rule::at(
                1,
                Fault::throttled().retry_after(Duration::from_millis(1500)),
            )
            .matching(writes()),
        );
    let proxy = proxy(&ledger, plan).await;
    let client = ledger.client(&proxy.endpoint());

    let unavailable = client.write("status", "refused 1").await.unwrap();
    assert_eq!(unavailable.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(unavailable.headers()["retry-after"], "2");
    assert_eq!(unavailable.headers()["content-type"], "application/json");
    let headers = unavailable.headers().clone();
    let body = unavailable.bytes().await.unwrap();
    let error =
        confidential_ledger::Error::from_parts(StatusCode::SERVICE_UNAVAILABLE, &headers, &body);
    assert_eq!(error.error_code(), Some("ServiceUnavailable"));
    assert_eq!(error.retry_after(), Some(Duration::from_secs(2)));
    assert!(error.is_retryable());

    let throttled = client.write("status", "refused 2").await.unwrap();
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(throttled.headers()["retry-after"], "2", "1.5 s rounds up");
    let headers = throttled.headers().clone();
    let body = throttled.bytes().await.unwrap();
    let error =
        confidential_ledger::Error::from_parts(StatusCode::TOO_MANY_REQUESTS, &headers, &body);
    assert_eq!(error.error_code(), Some("TooManyRequests"));
    assert!(error.is_throttled());

    let accepted = client.write("status", "accepted").await.unwrap();
    assert_eq!(accepted.status(), StatusCode::OK);
    assert_eq!(ledger.contents("status").await, ["accepted"]);

    let stats = proxy.stats();
    assert_eq!((stats.statuses, stats.forwarded), (2, 1));
    assert!(stats.connections >= 1);
    let outcomes: Vec<_> = proxy.events().into_iter().map(|e| e.outcome).collect();
    assert_eq!(
        outcomes,
        [
            Outcome::Injected { status: 503 },
            Outcome::Injected { status: 429 },
            Outcome::Answered { status: 200 }
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delay_waits_then_forwards() {
    let ledger = Ledger::start().await;
    let delay = Duration::from_millis(300);
    let plan = FaultPlan::none().rule(Rule::at(0, Fault::Delay(delay)).matching(writes()));
    let proxy = proxy(&ledger, plan).await;
    let client = ledger.client(&proxy.endpoint());

    let started = Instant::now();
    let response = client.write("delay", "late").await.unwrap();
    // A lower bound only: the proxy held the request at least this long.
    assert!(started.elapsed() >= delay);
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(ledger.contents("delay").await, ["late"]);
    let stats = proxy.stats();
    assert_eq!(
        (stats.delayed, stats.forwarded, stats.passed_through),
        (1, 1, 0)
    );
    assert_eq!(proxy.events()[0].outcome, Outcome::Answered { status: 200 });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_after_forward_executes_the_write_and_answers_an_error() {
    let ledger = Ledger::start().await;
    let plan = FaultPlan::none()
        .rule(Rule::at(0, Fault::status_after_forward(503)).matching(writes()))
        .rule(Rule::at(1, Fault::status_after_forward(500)).matching(writes()))
        .rule(Rule::at(2, Fault::status_after_forward(504)).matching(writes()));
    let proxy = proxy(&ledger, plan).await;
    let client = ledger.client(&proxy.endpoint());

    for (i, status) in [503, 500, 504].into_iter().enumerate() {
        let answer = client
            .write("after", &format!("applied {i}"))
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), status);
        assert!(
            transaction_id(&answer).is_none(),
            "the ledger's answer is replaced, its transaction id with it"
        );
        let body: Value = answer.json().await.unwrap();
        assert!(body["error"]["code"].is_string(), "{body}");
    }
    // The ledger executed all three.
    assert_eq!(
        ledger.contents("after").await,
        ["applied 0", "applied 1", "applied 2"]
    );
    let stats = proxy.stats();
    assert_eq!(stats.statuses_after_forward, 3);
    assert_eq!((stats.forwarded, stats.statuses), (3, 0));
    assert_eq!(stats.faults(), 3);
    assert_eq!(
        proxy.events()[0].outcome,
        Outcome::AnsweredInstead {
            upstream: 200,
            status: 503
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_body_relays_the_head_and_half_the_body_then_closes() {
    let ledger = Ledger::start().await;
    let plan = FaultPlan::none().rule(Rule::at(0, Fault::CutBody).matching(writes()));
    let proxy = proxy(&ledger, plan).await;
    let client = ledger.client(&proxy.endpoint());

    let answer = client.write("cut", "applied").await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let id = transaction_id(&answer).expect("the head carries the transaction id");
    let length: usize = answer.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(length > 0);
    let error = answer.bytes().await.expect_err("the body is cut");
    assert!(error.is_body() || error.is_decode(), "{error:?}");
    assert_eq!(ledger.contents("cut").await, ["applied"]);
    client.wait_committed(&id).await;

    // The next write goes through on a new connection.
    let answer = client.write("cut", "next").await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    answer.bytes().await.unwrap();
    let stats = proxy.stats();
    assert_eq!((stats.cut_bodies, stats.faults()), (1, 1));
    // The status polls went through the proxy too; everything was forwarded.
    assert_eq!(stats.forwarded, stats.requests);
    assert_eq!(proxy.events()[0].outcome, Outcome::CutBody { status: 200 });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_after_forward_executes_the_write_then_resets() {
    let ledger = Ledger::start().await;
    let hold = Duration::from_millis(200);
    let plan =
        FaultPlan::none().rule(Rule::at(0, Fault::HoldAfterForward(hold)).matching(writes()));
    let proxy = proxy(&ledger, plan).await;
    let client = ledger.client(&proxy.endpoint());

    let started = Instant::now();
    let error = client
        .write("held", "applied")
        .await
        .expect_err("never answered");
    assert!(is_reset(&error), "{error:?}");
    assert!(started.elapsed() >= hold);
    assert_eq!(ledger.contents("held").await, ["applied"]);
    let stats = proxy.stats();
    assert_eq!((stats.held_after_forward, stats.forwarded), (1, 1));
    assert_eq!(
        proxy.events()[0].outcome,
        Outcome::HeldThenReset { status: 200 }
    );
}

/// What the client saw for one write.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Status(u16),
    Reset,
}

async fn seeded_run(
    ledger: &Ledger,
    seed: u64,
    collection: &str,
) -> (Vec<Option<Fault>>, Vec<Seen>) {
    let plan = FaultPlan::seeded(seed)
        .matching(writes())
        .with(0.2, Fault::ResetBeforeForward)
        .with(0.2, Fault::ResetAfterResponse)
        .with(0.15, Fault::unavailable())
        .with(0.1, Fault::Delay(Duration::from_millis(1)));
    let proxy = proxy(ledger, plan.clone()).await;
    let client = ledger.client(&proxy.endpoint());
    let mut seen = Vec::new();
    for i in 0..30 {
        seen.push(match client.write(collection, &format!("{i}")).await {
            Ok(response) => Seen::Status(response.status().as_u16()),
            Err(e) => {
                assert!(is_reset(&e), "{e:?}");
                Seen::Reset
            }
        });
    }
    let faults: Vec<_> = proxy.events().into_iter().map(|e| e.fault).collect();
    // The proxy applied exactly the plan's draws, in order.
    let expected: Vec<_> = (0..30).map(|n| plan.random_fault(n)).collect();
    assert_eq!(faults, expected);
    // What the client saw follows from the fault.
    for (fault, seen) in faults.iter().zip(&seen) {
        let expected = match fault {
            Some(
                Fault::ResetBeforeForward | Fault::ResetAfterResponse | Fault::HoldAfterForward(_),
            ) => Seen::Reset,
            Some(Fault::Status { status, .. } | Fault::StatusAfterForward { status }) => {
                Seen::Status(*status)
            }
            Some(Fault::Delay(_) | Fault::CutBody | Fault::TamperJson(_)) | None => {
                Seen::Status(200)
            }
        };
        assert_eq!(*seen, expected);
    }
    // The ledger holds exactly the writes that were forwarded, in order.
    let forwarded: Vec<String> = faults
        .iter()
        .enumerate()
        .filter(|(_, f)| f.is_none_or(|f| f.forwards()))
        .map(|(i, _)| i.to_string())
        .collect();
    assert_eq!(ledger.contents(collection).await, forwarded);
    (faults, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seeded_schedule_is_reproduced_exactly() {
    let ledger = Ledger::start().await;
    let (faults_a, seen_a) = seeded_run(&ledger, 1234, "seed-a").await;
    let (faults_b, seen_b) = seeded_run(&ledger, 1234, "seed-b").await;
    let (faults_c, _) = seeded_run(&ledger, 4321, "seed-c").await;
    assert_eq!(faults_a, faults_b);
    assert_eq!(seen_a, seen_b);
    assert_ne!(faults_a, faults_c, "another seed, another schedule");
    // Every kind occurred, so the comparison covered them all.
    for kind in [
        Fault::ResetBeforeForward,
        Fault::ResetAfterResponse,
        Fault::unavailable(),
    ] {
        assert!(faults_a.contains(&Some(kind)), "{kind:?} in {faults_a:?}");
    }
    assert!(faults_a.contains(&None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fault_budget_and_the_filter_bound_the_faults() {
    let ledger = Ledger::start().await;
    let plan = FaultPlan::seeded(5)
        .matching(writes())
        .with(1.0, Fault::unavailable());
    let limits = Limits {
        max_faults: 3,
        ..Limits::default()
    };
    let proxy = FaultProxy::start(ledger.proxy_config(plan).limits(limits))
        .await
        .unwrap();
    let client = ledger.client(&proxy.endpoint());

    let mut statuses = Vec::new();
    for i in 0..5 {
        statuses.push(
            client
                .write("budget", &format!("{i}"))
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
        // Reads do not match the filter and are never faulted.
        let read = client.get("/app/collections").await.unwrap();
        assert_eq!(read.status(), StatusCode::OK);
    }
    assert_eq!(statuses, [503, 503, 503, 200, 200]);
    assert_eq!(ledger.contents("budget").await, ["3", "4"]);
    let stats = proxy.stats();
    assert_eq!(
        (stats.faults(), stats.statuses, stats.over_budget),
        (3, 3, 2)
    );
    assert_eq!(stats.passed_through, 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_statuses_keep_the_connection_alive() {
    let ledger = Ledger::start().await;
    let plan = FaultPlan::seeded(1).with(1.0, Fault::unavailable());
    let proxy = proxy(&ledger, plan).await;
    let mut connection =
        RawConnection::open(&ledger.sandbox, proxy.local_addr().port(), &ledger.token).await;
    for _ in 0..3 {
        let answer = connection.write("kept", "refused").await.unwrap();
        assert_eq!(answer.status, 503);
        let body: Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(body["error"]["code"], "ServiceUnavailable");
        assert!(body["error"]["message"].is_string());
    }
    let stats = proxy.stats();
    assert_eq!(
        (stats.connections, stats.statuses, stats.forwarded),
        (1, 3, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lifetime_bound_stops_the_proxy_and_resets_its_connections() {
    let ledger = Ledger::start().await;
    let limits = Limits {
        lifetime: Duration::from_millis(500),
        ..Limits::default()
    };
    let proxy = FaultProxy::start(ledger.proxy_config(FaultPlan::none()).limits(limits))
        .await
        .unwrap();
    let mut connection =
        RawConnection::open(&ledger.sandbox, proxy.local_addr().port(), &ledger.token).await;
    let answer = connection
        .send("GET", "/app/collections", "")
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    assert!(!proxy.is_stopped());

    tokio::time::timeout(Duration::from_secs(20), proxy.stopped())
        .await
        .expect("the proxy stops at the end of its lifetime");
    assert!(proxy.is_stopped());
    assert_eq!(proxy.stats().forced_resets, 1, "the open connection");
    assert!(
        connection
            .send("GET", "/app/collections", "")
            .await
            .is_err(),
        "the open connection was reset"
    );
    let fresh = ledger.client(&proxy.endpoint());
    let error = fresh
        .get("/app/collections")
        .await
        .expect_err("nobody listens");
    assert!(error.is_connect(), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_plans_and_foreign_upstreams_are_refused() {
    let ledger = Ledger::start().await;
    let too_long = FaultPlan::none().rule(Rule::at(0, Fault::Delay(Duration::from_secs(11))));
    match FaultProxy::start(ledger.proxy_config(too_long.clone())).await {
        Err(ProxyError::Plan(PlanError::DelayTooLong { limit, .. })) => {
            assert_eq!(limit, Duration::from_secs(10));
        }
        other => panic!("expected a refused delay, got {other:?}"),
    }

    let proxy = proxy(&ledger, FaultPlan::none()).await;
    assert!(matches!(proxy.set_plan(too_long), Err(ProxyError::Plan(_))));
    assert!(matches!(
        proxy.set_upstream("192.0.2.7:443".parse().unwrap()),
        Err(ProxyError::Config(_))
    ));
    // The previous plan (none) still applies.
    let client = ledger.client(&proxy.endpoint());
    assert_eq!(client.write("refused", "ok").await.unwrap().status(), 200);
    proxy
        .set_plan(FaultPlan::none().rule(Rule::at(0, Fault::throttled())))
        .unwrap();
    assert_eq!(client.write("refused", "no").await.unwrap().status(), 429);

    let node = ledger.sandbox.node_tls_identity();
    let identity = TlsIdentity::new(node.certificate_chain_pem, node.private_key_pem);
    let foreign = ProxyConfig::new(
        "https://example.com:443",
        identity.clone(),
        ledger.sandbox.service_certificate_pem(),
    );
    assert!(matches!(
        FaultProxy::start(foreign).await,
        Err(ProxyError::Config(_))
    ));
    let bad_key = ProxyConfig::new(
        ledger.sandbox.ledger_endpoint(),
        TlsIdentity::new(identity.certificate_chain_pem.clone(), "not a key"),
        ledger.sandbox.service_certificate_pem(),
    );
    assert!(matches!(
        FaultProxy::start(bad_key).await,
        Err(ProxyError::Tls(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_upstream_resets_the_client_rather_than_answering() {
    let ledger = Ledger::start().await;
    let proxy = proxy(&ledger, FaultPlan::none()).await;
    let client = ledger.client(&proxy.endpoint());
    let Ledger { sandbox, .. } = ledger;
    sandbox.shutdown().await;

    let error = client
        .write("gone", "unknown outcome")
        .await
        .expect_err("no answer without an upstream");
    // Not a 502 a client could take for a retryable status: the outcome is unknown.
    assert!(is_reset(&error), "{error:?}");
    let stats = proxy.stats();
    assert_eq!((stats.upstream_errors, stats.forwarded), (1, 0));
    assert_eq!(proxy.events()[0].outcome, Outcome::UpstreamFailed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tcp_relay_passes_tls_through_and_follows_a_restarted_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let options = || SandboxOptions::for_tests().data_dir(dir.path());
    let first = Ledger::start_with(options()).await;
    let relay = TcpRelay::start(first.sandbox.ledger_address(), Limits::default())
        .await
        .unwrap();
    let endpoint = format!("https://localhost:{}", relay.local_addr().port());
    let client = first.client(&endpoint);

    let response = client.write("relay", "before restart").await.unwrap();
    assert_eq!(response.status(), 200);
    // Bytes pass unchanged: the client and the sandbox negotiated HTTP/2 end to end.
    assert_eq!(response.version(), Version::HTTP_2);
    assert_eq!(relay.reset_connections(), 1);

    let old_port = first.sandbox.ledger_address().port();
    let Ledger { sandbox, .. } = first;
    sandbox.shutdown().await;
    let second = Ledger::start_with(options()).await;
    assert_ne!(second.sandbox.ledger_address().port(), old_port);
    relay.set_upstream(second.sandbox.ledger_address()).unwrap();

    // The same client, the same address, the restarted ledger (same identity, same data).
    let mut answer = None;
    for _ in 0..3 {
        match client.write("relay", "after restart").await {
            Ok(response) => {
                answer = Some(response.status());
                break;
            }
            // A pooled connection the reset killed; never written, so never executed.
            Err(e) => assert!(e.is_connect() || e.is_request(), "{e:?}"),
        }
    }
    assert_eq!(answer, Some(StatusCode::OK));
    assert_eq!(
        second.contents("relay").await,
        ["before restart", "after restart"]
    );
    let stats = relay.stats();
    assert_eq!(stats.forced_resets, 1);
    assert_eq!(stats.upstream_errors, 0);
    assert_eq!(stats.connections, stats.relayed);
}
