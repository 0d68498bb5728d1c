//! The commit watcher: every commit wait of a client shares one stream of status polls, and
//! settles exactly (a commit settles the earlier transactions of its view only, a rollback the
//! later ones; earlier views are asked about on their own).

use std::collections::HashMap;
use std::future::IntoFuture;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use confidential_ledger::client::WaitForCommitOptions;
use confidential_ledger::poller::PollingOptions;
use confidential_ledger::{ClientOptions, ErrorKind, StaticTokenCredential, TransactionId};
use futures::future::join_all;

use crate::hostile::{Answer, Hostile};
use crate::support::{builder_at, counting_proxy, sandbox, token_for, within};

/// The transaction of a status request's path (`/app/transactions/{id}/status?...`).
fn status_of(path: &str) -> Option<TransactionId> {
    let rest = path.strip_prefix("/app/transactions/")?;
    let (id, _) = rest.split_once("/status")?;
    id.parse().ok()
}

/// A ledger that rolled back: view 1 ran to seqno 8, view 2 from 9 to 20 (its later
/// transactions were rolled back), view 3 from 21. Everything is `Pending` for the first
/// `pending_answers` status requests.
async fn rolled_back_ledger(pending_answers: usize) -> Hostile {
    let answered = Arc::new(AtomicUsize::new(0));
    let script = move |seen: &crate::hostile::Seen, _: usize| {
        let Some(id) = status_of(&seen.path) else {
            return Answer::json(404, r#"{"error":{"code":"NotFound","message":"no"}}"#);
        };
        let state = if answered.fetch_add(1, Ordering::SeqCst) < pending_answers {
            "Pending"
        } else {
            match (id.view, id.seqno) {
                (1, s) if s <= 8 => "Committed",
                (2, s) if (9..=20).contains(&s) => "Committed",
                (3, s) if s >= 21 => "Committed",
                _ => "Invalid",
            }
        };
        Answer::json(
            200,
            &format!(r#"{{"state":"{state}","transactionId":"{id}"}}"#),
        )
        .header("x-ms-ccf-transaction-id", "3.50")
    };
    Hostile::start(script).await
}

#[tokio::test]
async fn rollbacks_and_earlier_views_are_settled_exactly() {
    let server = rolled_back_ledger(3).await;
    let client = server.client(ClientOptions::default()).await;
    let ids = ["2.10", "2.20", "2.30", "1.5", "1.15", "3.25"];
    let waits = ids.map(|id| client.wait_for_commit(id, None));
    let results = within(join_all(waits.into_iter().map(IntoFuture::into_future))).await;
    let outcome: HashMap<&str, Result<(), ErrorKind>> = ids
        .iter()
        .zip(results)
        .map(|(id, result)| (*id, result.map(|_| ()).map_err(|e| e.kind().clone())))
        .collect();
    assert_eq!(outcome["2.10"], Ok(()));
    assert_eq!(outcome["2.20"], Ok(()));
    assert_eq!(
        outcome["2.30"],
        Err(ErrorKind::TransactionInvalid),
        "rolled back"
    );
    assert_eq!(
        outcome["1.5"],
        Ok(()),
        "an earlier view is asked about on its own"
    );
    assert_eq!(outcome["1.15"], Err(ErrorKind::TransactionInvalid));
    assert_eq!(outcome["3.25"], Ok(()));

    let asked: Vec<TransactionId> = server
        .requests()
        .iter()
        .filter_map(|seen| status_of(&seen.path))
        .collect();
    // Each round asks about the lowest wait of each view (while all are pending, nothing
    // else); once a commit is found, one follow-up asks about the rest: no transaction is
    // asked about more often than the rounds that found everything pending, plus one.
    assert!(asked.contains(&TransactionId::new(1, 5)), "{asked:?}");
    // (The ledger answered the first three requests, one round, pending.)
    let pending_rounds = 1;
    for id in ids {
        let id: TransactionId = id.parse().expect("an id");
        let times = asked.iter().filter(|&&a| a == id).count();
        assert!(
            times <= pending_rounds + 1,
            "{id} asked {times} times: {asked:?}"
        );
    }
    assert!(asked.len() <= 3 * (pending_rounds + 1) + 3, "{asked:?}");

    // Once known, a commit or a rollback is answered without a request.
    let before = server.requests().len();
    within(client.wait_for_commit("2.15", None)).await.unwrap();
    let err = within(client.wait_for_commit("2.40", None))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::TransactionInvalid, "{err}");
    assert_eq!(server.requests().len(), before);
}

#[tokio::test]
async fn a_wait_with_its_own_polling_polls_on_its_own() {
    let server = rolled_back_ledger(0).await;
    let client = server.client(ClientOptions::default()).await;
    let fixed = PollingOptions::fixed(std::time::Duration::from_millis(5));
    let own = WaitForCommitOptions::new().polling(fixed.clone());
    let waits = [
        client.wait_for_commit("2.10", Some(own)),
        client.wait_for_commit("2.20", None).with_polling(fixed),
    ];
    for result in within(join_all(waits.into_iter().map(IntoFuture::into_future))).await {
        result.unwrap();
    }
    let asked: Vec<TransactionId> = server
        .requests()
        .iter()
        .filter_map(|seen| status_of(&seen.path))
        .collect();
    assert_eq!(
        asked.len(),
        2,
        "one request per wait, each its own: {asked:?}"
    );
    assert!(asked.contains(&TransactionId::new(2, 10)), "{asked:?}");
}

#[tokio::test]
async fn concurrent_waits_of_a_client_share_one_stream_of_status_polls() {
    const WRITES: usize = 24;
    let sandbox = sandbox().await;
    let proxy = counting_proxy(&sandbox).await;
    let token = token_for(&sandbox, "watcher", &["Contributor"]).await;
    let client = within(
        builder_at(&sandbox, &proxy.endpoint())
            .credential(StaticTokenCredential::new(token))
            .build(),
    )
    .await
    .unwrap();
    let mut waits = Vec::new();
    for n in 0..WRITES {
        waits.push(
            within(client.begin_create_ledger_entry(format!("watched {n}"), None))
                .await
                .unwrap(),
        );
    }
    let written = within(join_all(waits.into_iter().map(IntoFuture::into_future))).await;
    for result in &written {
        assert!(result.is_ok(), "{result:?}");
    }
    let status_polls = proxy
        .events()
        .iter()
        .filter(|event| event.method == "GET" && event.path.contains("/status"))
        .count();
    assert!(
        (1..WRITES).contains(&status_polls),
        "{status_polls} status polls for {WRITES} waits"
    );
    assert_eq!(client.commit_watcher_polls(), status_polls as u64);
    // A commit already seen is known: waiting again sends nothing.
    let id = written[0].as_ref().unwrap().transaction_id;
    within(client.wait_for_commit(id, None)).await.unwrap();
    let after = proxy
        .events()
        .iter()
        .filter(|event| event.path.contains("/status"))
        .count();
    assert_eq!(after, status_polls);
}

#[tokio::test]
async fn an_awaited_watched_wait_reports_each_answer_as_progress() {
    use confidential_ledger::models::TransactionState;
    use futures::StreamExt;

    // Three pending answers, then the commit.
    let server = rolled_back_ledger(3).await;
    let client = server.client(ClientOptions::default()).await;
    let poller = client.wait_for_commit("2.10", None);
    assert_eq!((poller.polls(), poller.status()), (0, None));
    let progress = tokio::spawn(poller.progress().collect::<Vec<_>>());
    let status = within(poller).await.unwrap();
    assert_eq!(status.state, TransactionState::Committed);
    let updates = within(progress).await.unwrap();
    let seen: Vec<_> = updates
        .iter()
        .map(|update| (update.status.clone(), update.polls))
        .collect();
    assert_eq!(
        seen,
        (1..=3)
            .map(|polls| (Some(TransactionState::Pending), polls))
            .collect::<Vec<_>>(),
        "one update per pending answer, and the stream ends with the wait"
    );
}

#[tokio::test]
async fn a_watched_wait_stepped_by_hand_keeps_its_progress_stream() {
    use confidential_ledger::models::TransactionState;
    use futures::StreamExt;

    let server = rolled_back_ledger(2).await;
    let client = server.client(ClientOptions::default()).await;
    let mut poller = client.wait_for_commit("3.30", None);
    // The stream is taken before the wait is stepped: the steps still report to it.
    let progress = tokio::spawn(poller.progress().collect::<Vec<_>>());
    assert_eq!(within(poller.poll_once()).await.unwrap(), None);
    assert_eq!(poller.polls(), 1);
    assert_eq!(poller.status(), Some(&TransactionState::Pending));
    let status = within(poller).await.unwrap();
    assert_eq!(status.transaction_id, TransactionId::new(3, 30));
    let polls: Vec<u32> = within(progress)
        .await
        .unwrap()
        .iter()
        .map(|update| update.polls)
        .collect();
    assert_eq!(polls, [1, 2]);
}

#[tokio::test]
async fn a_watched_wait_that_times_out_counts_its_answers() {
    // Pending for ever.
    let server = rolled_back_ledger(usize::MAX).await;
    let client = server.client(ClientOptions::default()).await;
    let err = within(
        client
            .wait_for_commit("2.10", None)
            .with_timeout(std::time::Duration::from_millis(300)),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Timeout, "{err}");
    let asked = || {
        server
            .requests()
            .iter()
            .filter(|seen| status_of(&seen.path).is_some())
            .count()
    };
    let answered = asked();
    // The answers received, and the one waited for when the time ran out (a request in flight
    // then was asked but not answered).
    let polls: usize = err
        .to_string()
        .split_once(" polls)")
        .and_then(|(before, _)| before.rsplit_once('(')?.1.parse().ok())
        .unwrap_or_else(|| panic!("no poll count in {err}"));
    assert!(
        (2..=answered + 1).contains(&polls),
        "{err} after {answered} requests"
    );
    // The wait is over: the watcher stops asking (a round in flight may still end).
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let settled = asked();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(asked(), settled, "no request after the wait ended");
}

#[tokio::test]
async fn watched_waits_whose_status_requests_never_answer_end_at_their_timeouts() {
    // Every status request hangs: the watcher's round never ends (the client's call timeout
    // is a minute), yet each wait ends at its own timeout, and a later wait is not held
    // behind the hung round either.
    let server = Hostile::start(|_, _| Answer::Hang).await;
    let client = server.client(ClientOptions::default()).await;
    let timeout = std::time::Duration::from_millis(300);
    let started = std::time::Instant::now();
    let waits = ["2.10", "2.11"].map(|id| {
        client
            .wait_for_commit(id, None)
            .with_timeout(timeout)
            .into_future()
    });
    for result in
        crate::support::within_for(std::time::Duration::from_secs(5), join_all(waits)).await
    {
        let err = result.expect_err("nothing ever answers");
        assert_eq!(err.kind(), &ErrorKind::Timeout, "{err}");
    }
    let later = client.wait_for_commit("2.12", None).with_timeout(timeout);
    let err = crate::support::within_for(std::time::Duration::from_secs(5), later)
        .await
        .expect_err("nothing ever answers");
    assert_eq!(err.kind(), &ErrorKind::Timeout, "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert!(
        server
            .requests()
            .iter()
            .any(|seen| status_of(&seen.path).is_some()),
        "the watcher asked"
    );
}
