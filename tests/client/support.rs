//! Sandboxes and clients for the tests.

use std::future::IntoFuture;
use std::time::Duration;

use confidential_ledger::{
    CertificateCredential, ClientBuilder, ClientOptions, ConfidentialLedgerClient,
    StaticTokenCredential,
};
use confidential_ledger_sandbox::{Sandbox, SandboxOptions};

/// The longest any single step of a test may take before it is a failure (a hang).
pub const STEP: Duration = Duration::from_secs(30);

/// Fails the test if `future` (a future, or a poller) takes longer than [`STEP`].
pub async fn within<F: IntoFuture>(future: F) -> F::Output {
    tokio::time::timeout(STEP, future.into_future())
        .await
        .expect("the step did not finish in time")
}

/// A sandbox with the test settings (a signature every 10 ms, one `Loading` answer per
/// historical read).
pub async fn sandbox() -> Sandbox {
    sandbox_with(SandboxOptions::for_tests()).await
}

/// A sandbox with `options`.
pub async fn sandbox_with(options: SandboxOptions) -> Sandbox {
    Sandbox::start(options).await.expect("the sandbox starts")
}

/// Options for tests: fast retries (the schedule is not what is tested here).
pub fn fast_options() -> ClientOptions {
    let mut options = ClientOptions::default();
    options.retry.initial_delay = Duration::from_millis(5);
    options.retry.max_delay = Duration::from_millis(50);
    options
}

/// A builder for a client of `sandbox` that fetches its certificate from the sandbox's
/// identity endpoint.
pub fn builder(sandbox: &Sandbox) -> ClientBuilder {
    ConfidentialLedgerClient::builder(sandbox.ledger_endpoint())
        .identity_endpoint(sandbox.identity_endpoint())
        .identity_root_certificate_pem(sandbox.identity_ca_certificate_pem())
        .ledger_id(sandbox.ledger_id())
        .options(fast_options())
}

/// The administrator's client certificate.
pub fn admin_certificate(sandbox: &Sandbox) -> CertificateCredential {
    CertificateCredential::from_pem_parts(
        sandbox.admin_certificate_pem(),
        sandbox.admin_private_key_pem(),
    )
    .expect("the sandbox's admin certificate loads")
}

/// A client authenticated as the sandbox's administrator (mutual TLS).
pub async fn admin(sandbox: &Sandbox) -> ConfidentialLedgerClient {
    within(
        builder(sandbox)
            .certificate_credential(admin_certificate(sandbox))
            .build(),
    )
    .await
    .expect("the admin client builds")
}

/// A client authenticated with a bearer token for `oid`, after adding `oid` to the ledger
/// with `roles` (none: not a user).
pub async fn token_user(sandbox: &Sandbox, oid: &str, roles: &[&str]) -> ConfidentialLedgerClient {
    if !roles.is_empty() {
        sandbox
            .add_user(oid, roles)
            .await
            .expect("the user is added");
    }
    within(
        builder(sandbox)
            .credential(StaticTokenCredential::new(sandbox.mint_token(oid)))
            .build(),
    )
    .await
    .expect("the token client builds")
}
