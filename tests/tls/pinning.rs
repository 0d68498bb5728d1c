//! The pinning verifier at the TLS level: which chains and names it accepts, and how it fails.

use std::net::SocketAddr;
use std::sync::Arc;

use confidential_ledger::tls::{
    PinnedCertificate, client_config, find_pin_mismatch, find_tls_error,
};
use rustls::pki_types::ServerName;
use rustls::{CertificateError, ClientConfig};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::pki::{Authority, LEDGER_HOST, OTHER_HOST, p384_service};
use crate::server::{Options, Server, within};

fn pinned_config(service: &Authority) -> ClientConfig {
    let pinned = PinnedCertificate::from_pem(&service.pem).unwrap();
    client_config(&pinned, None).unwrap()
}

/// A TLS handshake with `config` to `addr`, naming `host`.
async fn handshake(config: ClientConfig, addr: SocketAddr, host: &str) -> std::io::Result<()> {
    let connector = TlsConnector::from(Arc::new(config));
    let tcp = within(TcpStream::connect(addr)).await?;
    let name = ServerName::try_from(host.to_owned()).unwrap();
    within(connector.connect(name, tcp)).await.map(drop)
}

#[tokio::test]
async fn accepts_a_node_certificate_issued_by_the_pinned_service_certificate() {
    let service = Authority::service("CCF Service");
    let mut server = Server::node(&service.node()).await;
    for host in [LEDGER_HOST, "myledger", "127.0.0.1"] {
        handshake(pinned_config(&service), server.addr, host)
            .await
            .unwrap_or_else(|e| panic!("{host}: {e}"));
        server.next_handshake().await.unwrap();
    }
}

#[tokio::test]
async fn accepts_a_p384_service_certificate() {
    let service = p384_service();
    let server = Server::node(&service.node()).await;
    handshake(pinned_config(&service), server.addr, LEDGER_HOST)
        .await
        .unwrap();
}

#[tokio::test]
async fn accepts_a_chain_through_an_intermediate_issued_by_the_pinned_certificate() {
    let service = Authority::service("CCF Service");
    let intermediate = service.intermediate("Intermediate");
    let node = intermediate.node();
    let server = Server::start(
        vec![node.cert.clone(), intermediate.cert.clone()],
        node.key_der(),
        Options::default(),
    )
    .await;
    handshake(pinned_config(&service), server.addr, LEDGER_HOST)
        .await
        .unwrap();
}

#[tokio::test]
async fn another_service_certificate_is_a_pin_mismatch() {
    let pinned = Authority::service("CCF Service");
    let other = Authority::service("Another Service");
    let node = other.node();
    let server = Server::node(&node).await;

    let err = handshake(pinned_config(&pinned), server.addr, LEDGER_HOST)
        .await
        .unwrap_err();
    let mismatch = find_pin_mismatch(&err).unwrap_or_else(|| panic!("not a pin mismatch: {err}"));
    assert_eq!(mismatch.reason(), &CertificateError::UnknownIssuer);
    assert_eq!(
        mismatch.pinned_fingerprint(),
        confidential_ledger::certificate_fingerprint(&pinned.cert).unwrap()
    );
    assert_eq!(
        mismatch.presented_fingerprint(),
        confidential_ledger::certificate_fingerprint(&node.cert).unwrap()
    );
}

#[tokio::test]
async fn a_replaced_service_key_with_the_same_name_is_a_pin_mismatch() {
    // After a disaster recovery the service certificate keeps its name but not its key.
    let before = Authority::service("CCF Service");
    let after = Authority::service("CCF Service");
    let server = Server::node(&after.node()).await;

    let err = handshake(pinned_config(&before), server.addr, LEDGER_HOST)
        .await
        .unwrap_err();
    let mismatch = find_pin_mismatch(&err).unwrap_or_else(|| panic!("not a pin mismatch: {err}"));
    assert_eq!(mismatch.reason(), &CertificateError::BadSignature);
}

#[tokio::test]
async fn a_service_certificate_of_another_key_type_is_a_pin_mismatch() {
    let before = Authority::service("CCF Service");
    let after = p384_service();
    let server = Server::node(&after.node()).await;
    let err = handshake(pinned_config(&before), server.addr, LEDGER_HOST)
        .await
        .unwrap_err();
    assert!(find_pin_mismatch(&err).is_some(), "{err}");
}

#[tokio::test]
async fn a_chain_rooted_elsewhere_is_a_pin_mismatch_even_when_it_carries_its_root() {
    let pinned = Authority::service("CCF Service");
    // A chain that is complete and valid, up to a root that is not the pinned certificate,
    // including an impostor with the pinned certificate's name.
    let impostor = Authority::service("CCF Service");
    let intermediate = impostor.intermediate("Intermediate");
    let node = intermediate.node();
    let server = Server::start(
        vec![
            node.cert.clone(),
            intermediate.cert.clone(),
            impostor.cert.clone(),
        ],
        node.key_der(),
        Options::default(),
    )
    .await;
    let err = handshake(pinned_config(&pinned), server.addr, LEDGER_HOST)
        .await
        .unwrap_err();
    assert!(find_pin_mismatch(&err).is_some(), "{err}");
}

#[tokio::test]
async fn the_right_certificate_for_another_host_is_a_host_name_error() {
    let service = Authority::service("CCF Service");
    let server = Server::node(&service.node()).await;
    let err = handshake(pinned_config(&service), server.addr, OTHER_HOST)
        .await
        .unwrap_err();
    assert!(find_pin_mismatch(&err).is_none(), "{err}");
    match find_tls_error(&err) {
        Some(rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext {
            expected,
            ..
        })) => assert_eq!(expected.to_str(), OTHER_HOST),
        other => panic!("expected a host name error, got {other:?} from {err}"),
    }
}

#[tokio::test]
async fn an_expired_node_certificate_is_rejected_and_is_not_a_pin_mismatch() {
    let service = Authority::service("CCF Service");
    let server = Server::node(&service.expired_node()).await;
    let err = handshake(pinned_config(&service), server.addr, LEDGER_HOST)
        .await
        .unwrap_err();
    assert!(find_pin_mismatch(&err).is_none(), "{err}");
    assert!(
        matches!(
            find_tls_error(&err),
            Some(rustls::Error::InvalidCertificate(
                CertificateError::ExpiredContext { .. }
            ))
        ),
        "{err}"
    );
}

#[tokio::test]
async fn the_server_is_offered_h2_then_http1() {
    let service = Authority::service("CCF Service");
    let mut server = Server::node(&service.node()).await;
    handshake(pinned_config(&service), server.addr, LEDGER_HOST)
        .await
        .unwrap();
    let seen = server.next_handshake().await.unwrap();
    assert_eq!(seen.alpn.as_deref(), Some(&b"h2"[..]));
    assert_eq!(seen.client_fingerprint, None);
}
