//! Mutual TLS: the client certificate is presented when configured.

use confidential_ledger::CertificateCredential;
use confidential_ledger::tls::find_pin_mismatch;

use crate::pki::{Authority, LEDGER_HOST};
use crate::server::{Options, Server, within};
use crate::through_reqwest::{http_client, url};

/// A node server that requires a client certificate issued by `client_ca`.
async fn strict_node(service: &Authority, client_ca: &Authority) -> Server {
    let node = service.node();
    Server::start(
        vec![node.cert.clone()],
        node.key_der(),
        Options {
            client_ca: Some(client_ca.cert.clone()),
            ..Options::default()
        },
    )
    .await
}

#[tokio::test]
async fn the_client_certificate_is_presented_and_identifies_the_user() {
    let service = Authority::service("CCF Service");
    let users = Authority::service("Users CA");
    let user = users.leaf("ledger user", &[]);
    let credential = CertificateCredential::from_pem_parts(&user.cert_pem, &user.key_pem).unwrap();
    let mut server = strict_node(&service, &users).await;

    let http = http_client(&service, Some(&credential), server.addr);
    let response = within(http.get(url(LEDGER_HOST, server.addr)).send())
        .await
        .unwrap();
    let body = response.text().await.unwrap();

    let seen = server.next_handshake().await.unwrap();
    assert_eq!(
        seen.client_fingerprint.as_deref(),
        Some(credential.user_id())
    );
    assert_eq!(body, format!("HTTP/2.0 client={}", credential.user_id()));
    assert_eq!(
        credential.user_id(),
        confidential_ledger::certificate_fingerprint(&user.cert).unwrap()
    );
}

#[tokio::test]
async fn the_whole_client_chain_is_sent() {
    let service = Authority::service("CCF Service");
    let root = Authority::service("Users Root");
    let intermediate = root.intermediate("Users Intermediate");
    let user = intermediate.leaf("ledger user", &[]);
    // Chain and key in one PEM, key first: order between key and certificates does not matter.
    let pem = format!("{}{}{}", user.key_pem, user.cert_pem, intermediate.pem);
    let credential = CertificateCredential::from_pem(pem).unwrap();
    assert_eq!(credential.certificate_chain().len(), 2);
    let mut server = strict_node(&service, &root).await;

    let http = http_client(&service, Some(&credential), server.addr);
    let response = within(http.get(url(LEDGER_HOST, server.addr)).send())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let seen = server.next_handshake().await.unwrap();
    assert_eq!(
        seen.client_fingerprint.as_deref(),
        Some(credential.user_id())
    );
}

#[tokio::test]
async fn without_a_client_certificate_a_strict_server_refuses() {
    let service = Authority::service("CCF Service");
    let users = Authority::service("Users CA");
    let mut server = strict_node(&service, &users).await;

    let http = http_client(&service, None, server.addr);
    let err = within(http.get(url(LEDGER_HOST, server.addr)).send())
        .await
        .unwrap_err();
    assert!(find_pin_mismatch(&err).is_none(), "{err:?}");
    let refused = server.next_handshake().await.unwrap_err();
    assert!(refused.contains("certificate"), "{refused}");
}
