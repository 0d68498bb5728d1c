//! Redirects: which to follow, where credentials may go, and the primary node's address.
//!
//! reqwest's own redirect handling is switched off (`redirect::Policy::none()`, set by
//! [`PipelineBuilder::build`](super::PipelineBuilder::build)) so that every redirect passes
//! through the rules here:
//!
//! - `307` and `308` are followed for every method, with the same method and body (the ledger
//!   sends writes to its primary node this way); `301` and `302` are followed for `GET` and
//!   `HEAD` only. At most [`PipelineOptions::max_redirects`](super::PipelineOptions::max_redirects)
//!   hops.
//! - A target is followed only when it is **inside the ledger**: the same scheme and port as
//!   the ledger's endpoint, and a host that is the ledger's host or a subdomain of it (for
//!   `https://myledger.confidential-ledger.azure.com`, also
//!   `https://node-1.myledger.confidential-ledger.azure.com`, never
//!   `https://myledger.confidential-ledger.azure.com.evil.example`), with no user information.
//!   Anything else fails with [`RedirectRefused`](crate::ErrorKind::RedirectRefused) and
//!   nothing at all is sent there, so a credential can never follow a redirect out of the
//!   ledger.
//! - The bearer token is attached per hop, only to targets inside the ledger.
//! - When a write was redirected, the target's host and port (the primary) are remembered and
//!   later writes go there directly. The address is forgotten when any request gets a 5xx
//!   answer or a transport error, and the next write asks the ledger's endpoint again.

use std::sync::{Mutex, PoisonError};

use reqwest::header::HeaderValue;
use reqwest::{Method, StatusCode, Url};

use crate::Error;

/// The ledger's endpoint, as far as redirect decisions go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LedgerOrigin {
    scheme: String,
    host: String,
    port: Option<u16>,
    host_is_domain: bool,
    /// `scheme://host[:port]` as a URL of the ledger's own host serializes it: a URL that
    /// starts with it and then its path is inside the ledger without further checks.
    origin: String,
}

impl LedgerOrigin {
    /// The origin of `endpoint`.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput) unless it is an `http` or `https` URL
    /// with a host and without user information.
    pub(crate) fn new(endpoint: &Url) -> Result<Self, Error> {
        if !matches!(endpoint.scheme(), "https" | "http") {
            return Err(Error::invalid_input(format!(
                "the ledger endpoint must be an https URL, not {}",
                endpoint.scheme()
            )));
        }
        if !endpoint.username().is_empty() || endpoint.password().is_some() {
            return Err(Error::invalid_input(
                "the ledger endpoint must not contain user information",
            ));
        }
        let Some(host) = endpoint.host_str() else {
            return Err(Error::invalid_input("the ledger endpoint has no host"));
        };
        let host = host.to_ascii_lowercase();
        // `port()` is the explicit port, which URLs leave out when it is the scheme's default.
        let origin = match endpoint.port() {
            Some(port) => format!("{}://{host}:{port}", endpoint.scheme()),
            None => format!("{}://{host}", endpoint.scheme()),
        };
        Ok(Self {
            scheme: endpoint.scheme().to_owned(),
            host,
            port: endpoint.port_or_known_default(),
            host_is_domain: endpoint.domain().is_some(),
            origin,
        })
    }

    /// `Ok` when `target` is inside the ledger (see the [module documentation](self)),
    /// otherwise why not.
    pub(crate) fn admits(&self, target: &Url) -> Result<(), String> {
        // The usual request, to the ledger's own host: one comparison of its text (the
        // authority ends at the path's `/`, so no user information, other host or port fits).
        if target
            .as_str()
            .strip_prefix(self.origin.as_str())
            .is_some_and(|rest| rest.starts_with('/'))
        {
            return Ok(());
        }
        self.check(target)
    }

    /// [`admits`](Self::admits) part by part: scheme, user information, host, port.
    fn check(&self, target: &Url) -> Result<(), String> {
        if target.scheme() != self.scheme {
            return Err(format!(
                "its scheme {} is not the ledger's ({})",
                target.scheme(),
                self.scheme
            ));
        }
        if !target.username().is_empty() || target.password().is_some() {
            return Err("it carries user information".to_owned());
        }
        let Some(host) = target.host_str() else {
            return Err("it has no host".to_owned());
        };
        // Compared without a lowercased copy (this runs for every request).
        let same_host = host.eq_ignore_ascii_case(&self.host);
        let subdomain = self.host_is_domain
            && target.domain().is_some()
            && host.len() > self.host.len() + 1
            && host.is_char_boundary(host.len() - self.host.len())
            && host[host.len() - self.host.len()..].eq_ignore_ascii_case(&self.host)
            && host[..host.len() - self.host.len()].ends_with('.');
        if !same_host && !subdomain {
            return Err(format!(
                "its host {} is neither the ledger's host ({}) nor a subdomain of it",
                host.to_ascii_lowercase(),
                self.host
            ));
        }
        if target.port_or_known_default() != self.port {
            return Err(format!(
                "its port {} is not the ledger's ({})",
                port_text(target.port_or_known_default()),
                port_text(self.port)
            ));
        }
        Ok(())
    }
}

fn port_text(port: Option<u16>) -> String {
    port.map_or_else(|| "none".to_owned(), |p| p.to_string())
}

/// True when a response with `status` to a `method` request is a redirect to follow.
pub(crate) fn follows(status: StatusCode, method: &Method) -> bool {
    match status {
        StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT => true,
        StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND => {
            *method == Method::GET || *method == Method::HEAD
        }
        _ => false,
    }
}

/// The target of a `Location` header, relative to the URL that answered.
///
/// # Errors
///
/// [`RedirectRefused`](crate::ErrorKind::RedirectRefused) when it is not a valid URL.
pub(crate) fn resolve(current: &Url, location: &HeaderValue) -> Result<Url, Error> {
    let text = String::from_utf8_lossy(location.as_bytes());
    let Ok(utf8) = location.to_str() else {
        return Err(Error::redirect_refused(
            text,
            "the Location header is not valid text",
        ));
    };
    current.join(utf8.trim()).map_err(|e| {
        Error::redirect_refused(
            shown_location(utf8),
            format!("the Location header is not a valid URL ({e})"),
        )
    })
}

/// A URL for messages and logs: without user information.
pub(crate) fn shown(url: &Url) -> String {
    let mut url = url.clone();
    // Only fails for URLs that cannot have user information; nothing to remove then.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.to_string()
}

/// The text of a `Location` that did not parse, with anything before an `@` in the
/// authority dropped (it could be user information).
fn shown_location(location: &str) -> String {
    match location.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
                None => location.to_owned(),
            }
        }
        None => location.to_owned(),
    }
}

/// The primary node's host and port, once a write was redirected there.
#[derive(Debug, Default)]
pub(crate) struct PrimaryCache(Mutex<Option<(String, Option<u16>)>>);

impl PrimaryCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(String, Option<u16>)>> {
        // Held only to copy a value in or out; a poisoned lock still holds a valid value.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Remembers `target`'s host and port (callers check it is inside the ledger first).
    pub(crate) fn remember(&self, target: &Url) {
        if let Some(host) = target.host_str() {
            *self.lock() = Some((host.to_owned(), target.port()));
        }
    }

    pub(crate) fn forget(&self) {
        *self.lock() = None;
    }

    /// `host[:port]` of the remembered primary.
    pub(crate) fn get(&self) -> Option<String> {
        self.lock().as_ref().map(|(host, port)| match port {
            Some(port) => format!("{host}:{port}"),
            None => host.clone(),
        })
    }

    /// `url` pointed at the remembered primary; `None` when there is none (no copy of `url`
    /// is made then).
    pub(crate) fn route(&self, url: &Url) -> Option<Url> {
        let (host, port) = self.lock().clone()?;
        let mut routed = url.clone();
        if routed.set_host(Some(&host)).is_err() || routed.set_port(port).is_err() {
            return None;
        }
        Some(routed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    fn ledger() -> LedgerOrigin {
        LedgerOrigin::new(&url("https://myledger.confidential-ledger.azure.com")).unwrap()
    }

    #[test]
    fn the_ledger_host_and_its_subdomains_are_inside() {
        let ledger = ledger();
        for inside in [
            "https://myledger.confidential-ledger.azure.com/app/transactions",
            "https://MyLedger.Confidential-Ledger.Azure.com:443/x",
            "https://node-1.myledger.confidential-ledger.azure.com/app/transactions?a=b",
            "https://a.b.myledger.confidential-ledger.azure.com/",
        ] {
            assert_eq!(ledger.admits(&url(inside)), Ok(()), "{inside}");
        }
    }

    #[test]
    fn everything_else_is_outside() {
        let ledger = ledger();
        for (outside, why) in [
            (
                "http://myledger.confidential-ledger.azure.com/",
                "scheme http",
            ),
            (
                "https://myledger.confidential-ledger.azure.com:8443/",
                "port 8443",
            ),
            ("https://evil.example/", "host evil.example"),
            (
                "https://myledger.confidential-ledger.azure.com.evil.example/",
                "host",
            ),
            ("https://xmyledger.confidential-ledger.azure.com/", "host"),
            ("https://otherledger.confidential-ledger.azure.com/", "host"),
            ("https://confidential-ledger.azure.com/", "host"),
            ("https://myledger.confidential-ledger.azure.com./", "host"),
            (
                "https://user:pw@myledger.confidential-ledger.azure.com/",
                "user information",
            ),
            ("https://127.0.0.1/", "host 127.0.0.1"),
            (
                "ftp://myledger.confidential-ledger.azure.com/",
                "scheme ftp",
            ),
        ] {
            let reason = ledger.admits(&url(outside)).unwrap_err();
            assert!(reason.contains(why), "{outside}: {reason}");
        }
    }

    #[test]
    fn ip_endpoints_admit_only_themselves() {
        let ledger = LedgerOrigin::new(&url("http://127.0.0.1:8080")).unwrap();
        assert_eq!(ledger.admits(&url("http://127.0.0.1:8080/a")), Ok(()));
        assert!(ledger.admits(&url("http://127.0.0.2:8080/a")).is_err());
        assert!(ledger.admits(&url("http://localhost:8080/a")).is_err());
        assert!(ledger.admits(&url("http://127.0.0.1:8081/a")).is_err());
    }

    #[test]
    fn the_shortcut_for_the_ledgers_own_host_agrees_with_the_full_check() {
        for (endpoint, target) in [
            (
                "https://myledger.confidential-ledger.azure.com",
                "https://myledger.confidential-ledger.azure.com/app",
            ),
            (
                "https://MyLedger.confidential-ledger.azure.com:443/",
                "https://myledger.confidential-ledger.azure.com:443/a?b=c",
            ),
            (
                "https://ledger.test:8443",
                "https://ledger.test:8443/app/transactions",
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080/"),
            ("https://[::1]:9443", "https://[::1]:9443/app"),
            ("https://[::1]", "https://[0:0::1]/app"),
        ] {
            let ledger = LedgerOrigin::new(&url(endpoint)).unwrap();
            let target = url(target);
            assert!(
                target.as_str().starts_with(&format!("{}/", ledger.origin)),
                "{endpoint} -> {target}: the shortcut applies"
            );
            assert_eq!(ledger.check(&target), Ok(()), "{endpoint} -> {target}");
        }
        // Near misses take the full check, which refuses them.
        let ledger = LedgerOrigin::new(&url("https://ledger.test:8443")).unwrap();
        for outside in [
            "https://ledger.test:8444/",
            "https://ledger.test:84/",
            "https://ledger.test/",
            "https://ledger.test.evil:8443/",
            "https://u@ledger.test:8443/",
            "http://ledger.test:8443/",
        ] {
            assert!(ledger.admits(&url(outside)).is_err(), "{outside}");
        }
    }

    #[test]
    fn endpoints_are_checked() {
        for bad in [
            "ftp://ledger",
            "https://u:p@ledger.test",
            "unix:/run/ledger",
        ] {
            assert!(LedgerOrigin::new(&url(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn which_redirects_are_followed() {
        for method in [
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::PUT,
            Method::DELETE,
        ] {
            assert!(follows(StatusCode::TEMPORARY_REDIRECT, &method));
            assert!(follows(StatusCode::PERMANENT_REDIRECT, &method));
            assert!(!follows(StatusCode::SEE_OTHER, &method));
            assert!(!follows(StatusCode::NOT_MODIFIED, &method));
        }
        assert!(follows(StatusCode::MOVED_PERMANENTLY, &Method::GET));
        assert!(follows(StatusCode::FOUND, &Method::HEAD));
        assert!(!follows(StatusCode::MOVED_PERMANENTLY, &Method::PATCH));
        assert!(!follows(StatusCode::FOUND, &Method::POST));
    }

    #[test]
    fn locations_resolve_relative_to_the_current_url() {
        let current = url("https://ledger.test/app/transactions?api-version=1");
        let target = resolve(&current, &HeaderValue::from_static("/app/x?y=1")).unwrap();
        assert_eq!(target.as_str(), "https://ledger.test/app/x?y=1");
        let target = resolve(
            &current,
            &HeaderValue::from_static("https://node.ledger.test/app/transactions"),
        )
        .unwrap();
        assert_eq!(target.host_str(), Some("node.ledger.test"));
        let err = resolve(
            &current,
            &HeaderValue::from_static("https://u:secret@[bad/x"),
        )
        .unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(matches!(
            err.kind(),
            crate::ErrorKind::RedirectRefused { location } if location == "https://[bad/x"
        ));
        let binary = HeaderValue::from_bytes(b"https://\xffhost/").unwrap();
        assert!(resolve(&current, &binary).is_err());
    }

    #[test]
    fn the_primary_cache_routes_and_forgets() {
        let cache = PrimaryCache::default();
        let write = url("https://ledger.test/app/transactions?api-version=1");
        assert_eq!(cache.route(&write), None);
        cache.remember(&url("https://primary.ledger.test:8443/whatever"));
        assert_eq!(cache.get().as_deref(), Some("primary.ledger.test:8443"));
        let routed = cache.route(&write).unwrap();
        assert_eq!(
            routed.as_str(),
            "https://primary.ledger.test:8443/app/transactions?api-version=1"
        );
        cache.forget();
        assert_eq!(cache.get(), None);
        assert_eq!(
            shown(&url("https://u:p@h.test/x")),
            "https://h.test/x",
            "user information is never shown"
        );
    }
}
