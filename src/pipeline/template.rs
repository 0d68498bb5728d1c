//! The request a call keeps for its attempts: every attempt and redirect hop sends a copy of
//! it, and a request whose body is a stream is sent once.

use std::sync::{Mutex, PoisonError};

use reqwest::{Method, Url};

/// The request kept for a call's attempts.
pub(super) struct Template {
    method: Method,
    source: Source,
}

/// Where each attempt's request comes from.
// The large variant is the usual one; boxing it would cost every call an allocation.
#[allow(clippy::large_enum_variant)]
enum Source {
    /// Any request whose body can be sent again, copied with `try_clone` (its URL is read
    /// where it is, without a copy).
    Copies(reqwest::Request),
    /// A request with a streamed body, sent at most once (boxed: rare, and larger than a
    /// request).
    Once(Box<Once>),
}

/// A request with a streamed body and its URL, kept for redirects and errors. Behind a lock
/// only so that a shared `Template` can hand it out (an attempt borrows the URL while it takes
/// the request).
struct Once {
    url: Url,
    request: Mutex<Option<reqwest::Request>>,
}

impl Template {
    /// Keeps `request`.
    pub(super) fn new(request: reqwest::Request) -> Self {
        let method = request.method().clone();
        // What `try_clone` checks, without making a copy: only a streamed body cannot be
        // sent again.
        let source = if request.body().is_none_or(|body| body.as_bytes().is_some()) {
            Source::Copies(request)
        } else {
            Source::Once(Box::new(Once {
                url: request.url().clone(),
                request: Mutex::new(Some(request)),
            }))
        };
        Self { method, source }
    }

    /// The request's method.
    pub(super) fn method(&self) -> &Method {
        &self.method
    }

    /// The request's own URL.
    pub(super) fn url(&self) -> &Url {
        match &self.source {
            Source::Copies(request) => request.url(),
            Source::Once(once) => &once.url,
        }
    }

    /// True when the request can be sent again.
    pub(super) fn replayable(&self) -> bool {
        !matches!(self.source, Source::Once(_))
    }

    /// A copy to send; a streamed body can be sent only once.
    pub(super) fn next(&self) -> Option<reqwest::Request> {
        match &self.source {
            Source::Copies(request) => request.try_clone(),
            Source::Once(once) => once
                .request
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: Method, body: Option<&'static str>) -> reqwest::Request {
        let mut request =
            reqwest::Request::new(method, "https://ledger.test/a?b=c".parse().unwrap());
        request
            .headers_mut()
            .insert("accept", "application/json".parse().unwrap());
        *request.body_mut() = body.map(reqwest::Body::from);
        request
    }

    fn same(a: &reqwest::Request, b: &reqwest::Request) {
        assert_eq!(a.method(), b.method());
        assert_eq!(a.url(), b.url());
        assert_eq!(a.headers(), b.headers());
        assert_eq!(a.version(), b.version());
        assert_eq!(a.timeout(), b.timeout());
        assert_eq!(
            a.body().map(|body| body.as_bytes()),
            b.body().map(|body| body.as_bytes())
        );
    }

    #[test]
    fn copies_are_the_request_and_streams_are_sent_once() {
        let expected = request(Method::PUT, Some("x"));
        let template = Template::new(expected.try_clone().unwrap());
        assert!(template.replayable());
        assert_eq!(template.method(), Method::PUT);
        for _ in 0..2 {
            same(&template.next().unwrap(), &expected);
        }

        let mut streamed = request(Method::POST, None);
        let chunks: Vec<Result<&'static str, std::io::Error>> = vec![Ok("x")];
        *streamed.body_mut() = Some(reqwest::Body::wrap_stream(futures::stream::iter(chunks)));
        let template = Template::new(streamed);
        assert!(!template.replayable());
        assert_eq!(template.url().as_str(), "https://ledger.test/a?b=c");
        assert!(template.next().is_some());
        assert!(template.next().is_none());
    }
}
