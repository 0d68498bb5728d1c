//! HTTP clients from [`ClientOptions`]: timeouts, proxy, the caller's changes, then the TLS
//! configuration (pinned for the ledger, public roots for the identity service).

use std::net::IpAddr;

use reqwest::Url;
use rustls::ClientConfig;
use rustls_platform_verifier::BuilderVerifierExt;

use crate::crypto::crypto_provider;
use crate::options::ProxyOptions;
use crate::tls::ALPN_PROTOCOLS;
use crate::{ClientOptions, Error, ErrorKind};

/// A `reqwest::ClientBuilder` with the transport settings of `options` and the TLS
/// configuration `tls` (which nothing can override).
///
/// # Errors
///
/// [`InvalidInput`](ErrorKind::InvalidInput) for a proxy URL reqwest does not accept.
pub(crate) fn http_builder(
    options: &ClientOptions,
    tls: ClientConfig,
) -> Result<reqwest::ClientBuilder, Error> {
    let mut builder = reqwest::Client::builder();
    if let Some(timeout) = options.connect_timeout {
        builder = builder.connect_timeout(timeout);
    }
    if let Some(timeout) = options.request_timeout {
        builder = builder.timeout(timeout);
    }
    builder = match &options.proxy {
        ProxyOptions::System => builder,
        ProxyOptions::Disabled => builder.no_proxy(),
        ProxyOptions::Url(url) => {
            // The URL may hold the proxy's credentials: never show it.
            let proxy = reqwest::Proxy::all(url.as_str()).map_err(|_| {
                Error::invalid_input(
                    "the proxy URL is not one reqwest accepts (http://, https:// or socks5:// \
                     with a host)",
                )
            })?;
            builder.proxy(proxy)
        }
    };
    if let Some(configure) = &options.configure_http {
        builder = configure.apply(builder);
    }
    Ok(builder.use_preconfigured_tls(tls))
}

/// TLS for servers with publicly trusted certificates (the identity service): the platform's
/// trust store, checked by rustls-platform-verifier with the ring provider.
///
/// # Errors
///
/// [`Tls`](ErrorKind::Tls) when the platform has no usable trust store.
pub(crate) fn public_tls() -> Result<ClientConfig, Error> {
    let builder = ClientConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .with_platform_verifier()
        .map_err(tls_error)?;
    let mut config = builder.with_no_client_auth();
    config.alpn_protocols = ALPN_PROTOCOLS.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}

/// TLS for the identity service with `extra_roots` (DER certificates) trusted besides the
/// platform's: for a local identity service whose certificate a private CA issued (the
/// sandbox's).
///
/// # Errors
///
/// [`Tls`](ErrorKind::Tls) when the platform has no usable trust store or a root is unusable.
pub(crate) fn public_tls_with_roots(
    extra_roots: &[rustls::pki_types::CertificateDer<'static>],
) -> Result<ClientConfig, Error> {
    if extra_roots.is_empty() {
        return public_tls();
    }
    let provider = crypto_provider();
    let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(
        extra_roots.iter().cloned(),
        provider.clone(),
    )
    .map_err(tls_error)?;
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .dangerous()
        .with_custom_certificate_verifier(std::sync::Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = ALPN_PROTOCOLS.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}

/// TLS for a plain-HTTP endpoint: never used for a handshake, but reqwest needs one.
pub(crate) fn unused_tls() -> Result<ClientConfig, Error> {
    let mut config = ClientConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    config.alpn_protocols = ALPN_PROTOCOLS.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}

fn tls_error(err: rustls::Error) -> Error {
    Error::new(
        ErrorKind::Tls,
        format!("cannot set up TLS with the platform's trusted certificates: {err}"),
    )
    .with_source(err)
}

/// Parses an endpoint URL: `https` with a host and no user information, query or fragment;
/// `http` too when `allow_loopback_http` and the host is a loopback address or `localhost`
/// (local test servers). A trailing `/` is dropped.
///
/// # Errors
///
/// [`InvalidInput`](ErrorKind::InvalidInput) naming `what` otherwise.
pub(crate) fn parse_endpoint(
    text: &str,
    what: &str,
    allow_loopback_http: bool,
) -> Result<Url, Error> {
    let url = Url::parse(text.trim())
        .map_err(|e| Error::invalid_input(format!("the {what} {text:?} is not a URL: {e}")))?;
    let Some(host) = url.host_str() else {
        return Err(Error::invalid_input(format!(
            "the {what} {text:?} has no host"
        )));
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid_input(format!(
            "the {what} must not contain user information"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid_input(format!(
            "the {what} {url} must not have a query or fragment"
        )));
    }
    match url.scheme() {
        "https" => {}
        "http" if allow_loopback_http && is_loopback(host) => {}
        "http" if allow_loopback_http => {
            return Err(Error::invalid_input(format!(
                "the {what} {url} must use https (plain http is accepted for loopback \
                 addresses only)"
            )));
        }
        scheme => {
            return Err(Error::invalid_input(format!(
                "the {what} {url} must be an https URL, not {scheme}"
            )));
        }
    }
    Ok(url)
}

/// `127.0.0.0/8`, `::1` or `localhost`.
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `url` as a base for `format!("{base}/app/...")`: without a trailing `/`.
pub(crate) fn base_url(url: &Url) -> String {
    url.as_str().trim_end_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_https_or_loopback_http() {
        let ok = parse_endpoint("https://ledger.example.com/", "ledger endpoint", false).unwrap();
        assert_eq!(base_url(&ok), "https://ledger.example.com");
        for bad in [
            "http://ledger.example.com",
            "ftp://ledger.example.com",
            "https://user:pw@ledger.example.com",
            "https://ledger.example.com/?x=1",
            "not a url",
        ] {
            let err = parse_endpoint(bad, "ledger endpoint", false).unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::InvalidInput, "{bad}");
            assert!(!err.to_string().contains("pw"), "{err}");
        }
        for loopback in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:2",
        ] {
            parse_endpoint(loopback, "identity endpoint", true).unwrap();
            assert!(parse_endpoint(loopback, "ledger endpoint", false).is_err());
        }
        let err =
            parse_endpoint("http://identity.example.com", "identity endpoint", true).unwrap_err();
        assert!(err.to_string().contains("loopback"), "{err}");
    }

    #[test]
    fn proxy_urls_are_checked_without_showing_them() {
        let mut options = ClientOptions {
            proxy: ProxyOptions::url("::not a url with secret::"),
            ..ClientOptions::default()
        };
        let err = http_builder(&options, unused_tls().unwrap()).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidInput);
        assert!(!err.to_string().contains("secret"), "{err}");
        options.proxy = ProxyOptions::url("http://u:p@proxy.test:3128");
        let _configured = http_builder(&options, unused_tls().unwrap()).unwrap();
    }
}
