//! A fault-injection proxy for reliability tests, on loopback only.
//!
//! [`FaultProxy`] sits between an HTTPS client and a ledger (in this workspace, the sandbox).
//! It terminates TLS with the ledger's own node identity (so a client pinned to the service
//! certificate accepts it), reads each HTTP/1.1 request, and per a seeded [`FaultPlan`]:
//!
//! - [`Fault::ResetBeforeForward`]: resets the client's connection; the ledger never sees the
//!   request.
//! - [`Fault::ResetAfterResponse`]: forwards it, reads the ledger's whole answer, then resets
//!   the client: the write happened, the answer is lost.
//! - [`Fault::Delay`]: waits, then forwards.
//! - [`Fault::Status`]: answers `503`/`429` (with `Retry-After`) in the service's error shape
//!   without forwarding.
//! - [`Fault::StatusAfterForward`]: forwards it, then answers an error status (`500`, `503`,
//!   `504`...) instead of the ledger's answer: the write happened, the client sees an error.
//! - [`Fault::CutBody`]: forwards it, relays the ledger's status and headers (the transaction
//!   id included) and half the body, then closes the connection.
//! - [`Fault::HoldAfterForward`]: forwards it, then holds the answer and resets the connection
//!   (a black hole after the write: the client times out).
//! - [`Fault::TamperJson`]: forwards it and relays the answer with one character of a JSON
//!   string changed (a forged or corrupted receipt, for verification tests).
//! - otherwise passes it through, over TLS to the ledger.
//!
//! Every run is bounded ([`Limits`]: lifetime, number of faults, delays, body sizes, upstream
//! timeouts), counted ([`ProxyStats`]) and logged request by request ([`Event`]).
//!
//! [`TcpRelay`] is the plain TCP counterpart: bytes pass unchanged, the upstream can be swapped
//! (a ledger restarted on another port) and every connection reset at once.
//!
//! # Examples
//!
//! ```no_run
//! use confidential_ledger_sandbox::{Sandbox, SandboxOptions};
//! use faultproxy::{Fault, FaultPlan, FaultProxy, ProxyConfig, RequestFilter, Rule, TlsIdentity};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let sandbox = Sandbox::start(SandboxOptions::for_tests()).await?;
//! let node = sandbox.node_tls_identity();
//! // The second write is executed but its answer is lost.
//! let plan = FaultPlan::none().rule(
//!     Rule::at(1, Fault::ResetAfterResponse).matching(RequestFilter::any().method("POST")),
//! );
//! let proxy = FaultProxy::start(
//!     ProxyConfig::new(
//!         sandbox.ledger_endpoint(),
//!         TlsIdentity::new(node.certificate_chain_pem, node.private_key_pem),
//!         sandbox.service_certificate_pem(),
//!     )
//!     .plan(plan),
//! )
//! .await?;
//! // ... run the client against proxy.endpoint() ...
//! assert_eq!(proxy.stats().reset_after_response, 1);
//! # Ok(())
//! # }
//! ```

mod error;
mod fault;
mod http;
mod lifecycle;
mod limits;
mod plan;
mod socket;
mod stats;
mod tcp;
mod tls;

pub use error::ProxyError;
pub use fault::{Fault, FaultKind};
pub use http::{FaultProxy, ProxyConfig};
pub use limits::Limits;
pub use plan::{Cause, FaultPlan, PlanError, RequestFilter, Rule};
pub use stats::{Event, Outcome, ProxyStats};
pub use tcp::{RelayStats, TcpRelay};
pub use tls::TlsIdentity;
