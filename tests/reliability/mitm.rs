//! Men in the middle: TLS servers the client must refuse before it sends anything.
//!
//! Each fake server is a [`TlsRecorder`]: it completes TCP, offers its certificate chain, asks
//! for a client certificate, and records every application byte it receives. A client that
//! refuses it leaves no completed handshake and no byte behind; in particular neither the
//! request body, nor a bearer token, nor (with TLS 1.2, where it would come before the
//! server's `Finished`) a client certificate. A control run against a recorder presenting the
//! ledger's real identity shows the recorder does see a request when the client trusts it.
//!
//! The TLS verifier itself is tested at the handshake level in `tests/tls/pinning.rs` (pin
//! mismatches, host names, expired nodes); these tests drive the whole client: every kind of
//! call, both ways to authenticate, both certificate sources (pinned by the caller, fetched from
//! the identity service with a refresh on mismatch).

use std::time::Duration;

use confidential_ledger::models::LedgerRole;
use confidential_ledger::options::HttpConfigurer;
use confidential_ledger::{
    ClientBuilder, ConfidentialLedgerClient, Error, ErrorKind, StaticTokenCredential,
};
use confidential_ledger_sandbox::Sandbox;
use futures::TryStreamExt;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    PKCS_ECDSA_P256_SHA256,
};

use crate::support::{
    TlsRecorder, TlsVersions, admin_certificate, builder_at, fast_options, sandbox, token_for,
    within,
};

const BODY_MARKER: &str = "mitm-body-marker";

fn dn(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn
}

/// A node certificate (PEM chain, key PEM) for `sans`, issued by the CA `ca_params`/`ca_key`.
fn node_certificate(
    ca_params: CertificateParams,
    ca_key: &KeyPair,
    sans: &[&str],
) -> (String, String) {
    let issuer = Issuer::new(ca_params, ca_key);
    let mut params =
        CertificateParams::new(sans.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
            .expect("node certificate parameters");
    params.distinguished_name = dn("CCF Node");
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("a node key");
    let cert = params.signed_by(&key, &issuer).expect("a node certificate");
    (cert.pem(), key.serialize_pem())
}

/// A self-signed `CN=CCF Service` CA of its own, and a node certificate it issued for every
/// name the sandbox's node certificate has.
fn impostor_chain(sandbox: &Sandbox) -> (String, String) {
    let mut ca = CertificateParams::default();
    ca.distinguished_name = dn("CCF Service");
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(1));
    let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("a CA key");
    let ledger = format!("{}.confidential-ledger.azure.com", sandbox.ledger_id());
    node_certificate(
        ca,
        &ca_key,
        &["localhost", "127.0.0.1", sandbox.ledger_id(), &ledger],
    )
}

/// A node certificate issued by the sandbox's real service key (read from its data
/// directory: the sandbox's keys are throwaway) for a host the client does not dial.
fn real_chain_for_another_host(sandbox: &Sandbox) -> (String, String) {
    let stored: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(sandbox.data_dir().join("identity.json"))
            .expect("the sandbox's identity file"),
    )
    .expect("the sandbox's identity file is JSON");
    let current = stored["generations"]
        .as_array()
        .and_then(|g| g.last())
        .expect("a service identity");
    let key_pem = current["service"]["key"].as_str().expect("the service key");
    assert_eq!(
        current["service"]["certificate"].as_str(),
        Some(sandbox.service_certificate_pem().as_str()),
        "the stored identity is the current one"
    );
    let ca_key = KeyPair::from_pem(key_pem).expect("the service key loads");
    let mut ca = CertificateParams::default();
    ca.distinguished_name = dn("CCF Service");
    node_certificate(
        ca,
        &ca_key,
        &[
            "attacker.example",
            "other-ledger.confidential-ledger.azure.com",
        ],
    )
}

/// Clients of a fake node at `endpoint`: a bearer token and the administrator's client
/// certificate, each with the certificate pinned by the caller and fetched from the identity
/// service.
async fn clients(
    sandbox: &Sandbox,
    endpoint: &str,
    token: &str,
    configure: impl Fn(ClientBuilder) -> ClientBuilder,
) -> Vec<(&'static str, ConfidentialLedgerClient)> {
    let pinned = || {
        ConfidentialLedgerClient::builder(endpoint)
            .ledger_id(sandbox.ledger_id())
            .service_certificate_pem(sandbox.service_certificate_pem())
            .options(no_retries())
    };
    let looked_up = || builder_at(sandbox, endpoint).options(no_retries());
    let mut out = Vec::new();
    for (name, builder) in [
        (
            "token, pinned",
            pinned().credential(StaticTokenCredential::new(token)),
        ),
        (
            "certificate, pinned",
            pinned().certificate_credential(admin_certificate(sandbox)),
        ),
        (
            "token, identity service",
            looked_up().credential(StaticTokenCredential::new(token)),
        ),
        (
            "certificate, identity service",
            looked_up().certificate_credential(admin_certificate(sandbox)),
        ),
    ] {
        let client = within(configure(builder).build())
            .await
            .unwrap_or_else(|e| panic!("{name}: the client builds: {e}"));
        out.push((name, client));
    }
    out
}

fn no_retries() -> confidential_ledger::ClientOptions {
    let mut options = fast_options();
    options.retry.max_retries = 0;
    options.request_timeout = Some(Duration::from_secs(5));
    options
}

/// Every kind of call: a write, reads, a receipt, a pager, user management. Each must fail.
async fn every_call_fails(client: &ConfidentialLedgerClient) -> Vec<Error> {
    let mut errors = Vec::new();
    errors.push(
        within(client.create_ledger_entry(BODY_MARKER, None))
            .await
            .expect_err("a write"),
    );
    errors.push(
        within(client.get_current_ledger_entry(None))
            .await
            .expect_err("a read"),
    );
    errors.push(
        within(client.get_receipt("2.1", None))
            .await
            .expect_err("a receipt"),
    );
    errors.push(
        within(client.list_ledger_entries(None).try_collect::<Vec<_>>())
            .await
            .expect_err("a list"),
    );
    errors.push(
        within(client.create_or_update_ledger_user(BODY_MARKER, &[LedgerRole::Reader], None))
            .await
            .expect_err("a user change"),
    );
    errors
}

/// Asserts the recorder was reached over TCP and got nothing past the handshake.
fn assert_nothing_received(recorder: &TlsRecorder, what: &str) {
    assert!(
        recorder.connections() > 0,
        "{what}: the client never connected"
    );
    assert_eq!(recorder.handshakes(), 0, "{what}: a handshake completed");
    assert!(
        recorder.received().is_empty(),
        "{what}: received {:?}",
        String::from_utf8_lossy(&recorder.received())
    );
}

#[tokio::test]
async fn a_server_with_another_service_certificate_is_refused_and_gets_nothing() {
    let sandbox = sandbox().await;
    let token = token_for(&sandbox, "mitm-victim", &["Administrator"]).await;
    let (chain, key) = impostor_chain(&sandbox);
    for versions in [TlsVersions::Default, TlsVersions::Tls12Only] {
        let impostor = TlsRecorder::start(&chain, &key, versions).await;
        let endpoint = format!("https://localhost:{}", impostor.port());
        for (name, client) in clients(&sandbox, &endpoint, &token, |b| b).await {
            for err in every_call_fails(&client).await {
                assert!(
                    matches!(err.kind(), ErrorKind::PinMismatch(_)),
                    "{versions:?} {name}: {err}"
                );
                assert!(!err.is_outcome_unknown(), "{name}: nothing was sent: {err}");
                assert!(!err.is_retryable(), "{name}: {err}");
            }
            // The pin stays the ledger's own.
            assert_eq!(
                client.service_certificate().fingerprint(),
                confidential_ledger::tls::PinnedCertificate::from_pem(
                    sandbox.service_certificate_pem()
                )
                .unwrap()
                .fingerprint()
            );
        }
        assert_nothing_received(&impostor, &format!("impostor {versions:?}"));
    }
}

#[tokio::test]
async fn the_ledgers_own_chain_for_another_host_name_is_refused_and_gets_nothing() {
    let sandbox = sandbox().await;
    let token = token_for(&sandbox, "mitm-victim", &["Administrator"]).await;

    // A certificate the ledger's real service key issued, for other names.
    let (chain, key) = real_chain_for_another_host(&sandbox);
    let recorder = TlsRecorder::start(&chain, &key, TlsVersions::Default).await;
    let endpoint = format!("https://localhost:{}", recorder.port());
    for (name, client) in clients(&sandbox, &endpoint, &token, |b| b).await {
        for err in every_call_fails(&client).await {
            assert_eq!(err.kind(), &ErrorKind::Tls, "{name}: {err}");
            assert!(!err.is_outcome_unknown(), "{name}: {err}");
        }
    }
    assert_nothing_received(&recorder, "the real chain for other names");

    // The ledger's real node certificate, dialled under a name it does not hold.
    let node = sandbox.node_tls_identity();
    let recorder = TlsRecorder::start(
        &node.certificate_chain_pem,
        &node.private_key_pem,
        TlsVersions::Default,
    )
    .await;
    let host = "not-the-ledger.example";
    let addr = recorder.addr();
    let endpoint = format!("https://{host}:{}", recorder.port());
    let resolve = move |builder: ClientBuilder| {
        let mut options = no_retries();
        options.configure_http = Some(HttpConfigurer::new(move |http| http.resolve(host, addr)));
        builder.options(options)
    };
    for (name, client) in clients(&sandbox, &endpoint, &token, resolve).await {
        for err in every_call_fails(&client).await {
            assert_eq!(err.kind(), &ErrorKind::Tls, "{name}: {err}");
            assert!(
                err.to_string().contains(host) || format!("{err:?}").contains(host),
                "{name}: the error names the host: {err}"
            );
        }
    }
    assert_nothing_received(&recorder, "the real node certificate under another name");
}

/// The control: the same recorder, presenting the ledger's real node identity under the name
/// the client dials, does receive the request with its body and token. So the recorders above
/// would have shown a leak.
#[tokio::test]
async fn control_a_trusted_recorder_does_see_the_request_and_the_token() {
    let sandbox = sandbox().await;
    let token = token_for(&sandbox, "mitm-victim", &["Administrator"]).await;
    let node = sandbox.node_tls_identity();
    let recorder = TlsRecorder::start(
        &node.certificate_chain_pem,
        &node.private_key_pem,
        TlsVersions::Default,
    )
    .await;
    let endpoint = format!("https://localhost:{}", recorder.port());
    let client = within(
        ConfidentialLedgerClient::builder(&endpoint)
            .ledger_id(sandbox.ledger_id())
            .service_certificate_pem(sandbox.service_certificate_pem())
            .credential(StaticTokenCredential::new(token.clone()))
            .options(no_retries())
            .build(),
    )
    .await
    .unwrap();
    let err = within(client.create_ledger_entry(BODY_MARKER, None))
        .await
        .expect_err("the recorder never answers");
    assert!(err.is_outcome_unknown(), "{err}");
    assert_eq!(recorder.handshakes(), 1);
    let received = String::from_utf8_lossy(&recorder.received()).to_ascii_lowercase();
    assert!(received.contains(BODY_MARKER), "{received}");
    assert!(
        received.contains(&format!(
            "authorization: bearer {}",
            token.to_ascii_lowercase()
        )),
        "{received}"
    );
}
