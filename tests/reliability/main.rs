//! Reliability and security of the client under load, faults, crashes and attack.
//!
//! | module | what it proves |
//! |---|---|
//! | [`through_proxy`] | 5,000 concurrent writes through a fault-injecting proxy (resets, error statuses before and after forwarding, cut bodies, held answers), in each write mode: every acknowledged write is in the ledger exactly once at its transaction id, nothing twice, nothing else; in exactly-once mode every write is acknowledged |
//! | [`commit_watcher`] | all commit waits of a client share one stream of status polls; a commit settles the earlier transactions of its view only, a rollback (`Invalid`) the later ones, earlier views are asked about on their own; a wait with its own polling polls on its own |
//! | [`exactly_once`] | exactly-once writes cost no extra request on the happy path; a cut body is a success with the id of its headers in every mode; a held answer is resolved by a lookup |
//! | [`crash`] | the sandbox binary killed with SIGKILL again and again under concurrent committed writes: nothing committed is lost, old receipts still verify, the same client resumes on its own |
//! | [`mitm`] | a server with another service certificate, or with the ledger's chain for another host name, is refused every time; it never receives a byte of a request |
//! | [`redirects`] | redirects out of the ledger (another host or port, or plain http), for every method, never carry `Authorization` |
//! | [`access`] | expired, wrong-audience and forged tokens are `Unauthorized`; a Contributor cannot manage users |
//! | [`user_ids`] | user ids with `:`, spaces, `/`, `%`, `+`, `#`, `?` and non-ASCII round-trip through every user call |
//! | [`hostile_server`] | a hostile ledger: huge and cut bodies, answers that never come, self-linking pages, a credential that hangs, `Retry-After` on status polls, identity answers for another ledger, zero transaction ids: every call ends, memory stays bounded, results are right |
//! | [`logging`] | TRACE logs of a whole session (both ways to authenticate) never show a token, a private key or an `Authorization` value |
//!
//! One test binary with a module per area (link time), each test with its own sandbox.
//! Counts are printed (`cargo test --test reliability -- --nocapture`).

mod access;
mod commit_watcher;
mod crash;
mod exactly_once;
mod hostile;
mod hostile_server;
mod logging;
mod mitm;
mod redirects;
mod sandbox_process;
mod support;
mod through_proxy;
mod user_ids;
