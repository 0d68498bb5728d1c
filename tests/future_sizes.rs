//! The futures of client calls stay small: an application holds them inline in its own
//! futures, and unoptimised builds copy them on the stack at every level of nesting (a test
//! thread's 2 MiB stack overflowed when one call's future doubled). The retry and redirect
//! loop, with reqwest's pending request, is boxed by the pipeline; this test fails if a
//! change brings it (or anything as large) back inline.

use confidential_ledger::{ConfidentialLedgerClient, TransactionId};

/// The most a call's future may take. Calls measure about 2.6-4.1 KiB with the pipeline's
/// call boxed (its future inline is 64 bytes) and the generated operation's future held once (an async block that awaits a
/// captured future holds it twice: writes then measure over 6 KiB), and about 11 KiB with the
/// loop inline.
const LIMIT: usize = 6 * 1024;

/// The size of the future `call` returns, without a client or a runtime.
fn future_size<Fut>(_call: impl FnOnce(&'static ConfidentialLedgerClient) -> Fut) -> usize {
    std::mem::size_of::<Fut>()
}

#[test]
fn client_call_futures_stay_small() {
    let id: TransactionId = "2.3".parse().unwrap();
    let sizes = [
        (
            "create_ledger_entry",
            future_size(|c| c.create_ledger_entry("x", None)),
        ),
        (
            "create_ledger_entry_and_wait",
            future_size(|c| c.create_ledger_entry_and_wait("x", None)),
        ),
        (
            "get_transaction_status",
            future_size(move |c| c.get_transaction_status(id, None)),
        ),
        (
            "get_current_ledger_entry",
            future_size(|c| c.get_current_ledger_entry(None)),
        ),
        (
            "get_ledger_user",
            future_size(|c| c.get_ledger_user("x", None)),
        ),
        (
            "get_constitution",
            future_size(|c| c.get_constitution(None)),
        ),
        (
            "get_enclave_quotes",
            future_size(|c| c.get_enclave_quotes(None)),
        ),
    ];
    for (call, size) in sizes {
        assert!(
            size <= LIMIT,
            "{call}: its future takes {size} bytes (limit {LIMIT})"
        );
    }
}

/// An application may hold thousands of commit waits at once (one per write in flight): a
/// poller is a few words, whatever waits behind it.
#[test]
fn pollers_stay_small() {
    use confidential_ledger::TransactionPoller;
    use confidential_ledger::models::{LedgerWriteResult, TransactionState};

    let size = std::mem::size_of::<TransactionPoller<LedgerWriteResult, TransactionState>>();
    assert!(size <= 128, "a commit wait's poller takes {size} bytes");
}
