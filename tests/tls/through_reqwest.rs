//! The configuration inside reqwest 0.13: requests over HTTP/2 and HTTP/1.1, and a pin mismatch
//! recognised through reqwest's error chain.

use std::net::SocketAddr;

use confidential_ledger::CertificateCredential;
use confidential_ledger::tls::{
    PinnedCertificate, client_config, find_pin_mismatch, find_tls_error,
};
use reqwest::Version;
use rustls::CertificateError;

use crate::pki::{Authority, LEDGER_HOST, OTHER_HOST};
use crate::server::{Options, Server, within};

/// A reqwest client pinned to `service`, resolving the test host names to `addr`.
pub fn http_client(
    service: &Authority,
    client_certificate: Option<&CertificateCredential>,
    addr: SocketAddr,
) -> reqwest::Client {
    let pinned = PinnedCertificate::from_pem(&service.pem).unwrap();
    reqwest::Client::builder()
        .use_preconfigured_tls(client_config(&pinned, client_certificate).unwrap())
        .resolve(LEDGER_HOST, addr)
        .resolve(OTHER_HOST, addr)
        .no_proxy()
        .build()
        .unwrap()
}

pub fn url(host: &str, addr: SocketAddr) -> String {
    format!("https://{host}:{}/app/transactions", addr.port())
}

#[tokio::test]
async fn a_request_goes_through_over_http2() {
    let service = Authority::service("CCF Service");
    let server = Server::node(&service.node()).await;
    let http = http_client(&service, None, server.addr);
    let response = within(http.get(url(LEDGER_HOST, server.addr)).send())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.version(), Version::HTTP_2);
    assert_eq!(response.text().await.unwrap(), "HTTP/2.0 client=none");
}

#[tokio::test]
async fn a_request_goes_through_over_http1_when_the_server_only_speaks_it() {
    let service = Authority::service("CCF Service");
    let node = service.node();
    let server = Server::start(
        vec![node.cert.clone()],
        node.key_der(),
        Options {
            alpn: vec![b"http/1.1"],
            ..Options::default()
        },
    )
    .await;
    let http = http_client(&service, None, server.addr);
    let response = within(http.get(url(LEDGER_HOST, server.addr)).send())
        .await
        .unwrap();
    assert_eq!(response.version(), Version::HTTP_11);
    assert_eq!(response.text().await.unwrap(), "HTTP/1.1 client=none");
}

#[tokio::test]
async fn a_pin_mismatch_is_recognisable_in_reqwests_error() {
    let pinned = Authority::service("CCF Service");
    let rotated = Authority::service("CCF Service");
    let server = Server::node(&rotated.node()).await;
    let http = http_client(&pinned, None, server.addr);

    let err = within(http.get(url(LEDGER_HOST, server.addr)).send())
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    {
        let mut e: Option<&(dyn std::error::Error + 'static)> = Some(&err);
        while let Some(x) = e {
            eprintln!("CHAIN: {x:?}");
            if let Some(io) = x.downcast_ref::<std::io::Error>() {
                eprintln!("  io inner: {:?}", io.get_ref().map(|i| i.to_string()));
            }
            e = x.source();
        }
    }
    let mismatch = find_pin_mismatch(&err).unwrap_or_else(|| panic!("no pin mismatch in {err:?}"));
    assert_eq!(mismatch.reason(), &CertificateError::BadSignature);
    assert_eq!(
        mismatch.pinned_fingerprint(),
        confidential_ledger::certificate_fingerprint(&pinned.cert).unwrap()
    );
}

#[tokio::test]
async fn a_host_name_error_is_recognisable_and_not_a_pin_mismatch() {
    let service = Authority::service("CCF Service");
    let server = Server::node(&service.node()).await;
    let http = http_client(&service, None, server.addr);
    let err = within(http.get(url(OTHER_HOST, server.addr)).send())
        .await
        .unwrap_err();
    assert!(find_pin_mismatch(&err).is_none(), "{err:?}");
    assert!(
        matches!(
            find_tls_error(&err),
            Some(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForNameContext { .. }
            ))
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn other_failures_are_neither() {
    // Nothing listens on this port any more.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let service = Authority::service("CCF Service");
    let http = http_client(&service, None, addr);
    let err = within(http.get(url(LEDGER_HOST, addr)).send())
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    assert!(find_pin_mismatch(&err).is_none());
    assert!(find_tls_error(&err).is_none());
}
