//! The request a call keeps for its attempts: every attempt and redirect hop sends a copy of
//! it, and a request whose body is a stream is sent once.
//!
//! A request the generated clients built is copied part by part (method, URL, headers,
//! version, timeout, body bytes) rather than with `reqwest::Request::try_clone`, which creates
//! and drops a settings map on every copy; their requests carry nothing else.

use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http_body::Body as _;
use reqwest::{Method, Url};

/// The request kept for a call's attempts.
pub(super) struct Template {
    method: Method,
    source: Source,
}

/// Where each attempt's request comes from.
enum Source {
    /// Any request whose body can be sent again, copied with `try_clone` (its URL is read
    /// where it is, without a copy).
    Copies(reqwest::Request),
    /// A request the generated clients built, without its body, and the body's bytes: copied
    /// part by part.
    Parts {
        request: reqwest::Request,
        body: Option<Bytes>,
    },
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
    /// Keeps `request`; `generated` says the generated clients built it (its extensions hold
    /// nothing but reqwest's timeout), which allows copies part by part.
    pub(super) fn new(mut request: reqwest::Request, generated: bool) -> Self {
        let method = request.method().clone();
        let source = match request.body().map(reqwest::Body::as_bytes) {
            // Only a streamed body cannot be sent again.
            Some(None) => Source::Once(Box::new(Once {
                url: request.url().clone(),
                request: Mutex::new(Some(request)),
            })),
            _ if !generated => Source::Copies(request),
            None => Source::Parts {
                request,
                body: None,
            },
            Some(Some(_)) => match request.body_mut().take().map(bytes_of) {
                Some(Ok(bytes)) => Source::Parts {
                    request,
                    body: Some(bytes),
                },
                // Not reached (the body is bytes); kept as it was all the same.
                Some(Err(body)) => {
                    *request.body_mut() = Some(body);
                    Source::Copies(request)
                }
                None => Source::Copies(request),
            },
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
            Source::Copies(request) | Source::Parts { request, .. } => request.url(),
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
            Source::Parts { request, body } => {
                let mut copy = reqwest::Request::new(self.method.clone(), request.url().clone());
                *copy.headers_mut() = request.headers().clone();
                *copy.version_mut() = request.version();
                if let Some(timeout) = request.timeout() {
                    *copy.timeout_mut() = Some(*timeout);
                }
                *copy.body_mut() = body.clone().map(reqwest::Body::from);
                Some(copy)
            }
            Source::Once(once) => once
                .request
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        }
    }
}

/// The bytes of a body that holds bytes (read at once, without a copy), or the body itself
/// when it is a stream.
fn bytes_of(mut body: reqwest::Body) -> Result<Bytes, reqwest::Body> {
    if body.as_bytes().is_none() {
        return Err(body);
    }
    // A body of bytes is ready at once: its one frame, then the end (at once for no bytes).
    match Pin::new(&mut body).poll_frame(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(Some(Ok(frame))) => frame.into_data().map_err(|_| body),
        Poll::Ready(None) => Ok(Bytes::new()),
        Poll::Ready(Some(Err(_))) | Poll::Pending => Err(body),
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
    fn copies_part_by_part_are_the_request() {
        for body in [None, Some(""), Some("{\"contents\":\"x\"}")] {
            let mut original = request(Method::POST, body);
            *original.timeout_mut() = Some(std::time::Duration::from_secs(3));
            let expected = original.try_clone().unwrap();
            let template = Template::new(original, true);
            assert!(matches!(template.source, Source::Parts { .. }), "{body:?}");
            assert!(template.replayable());
            assert_eq!(template.url(), expected.url());
            for _ in 0..2 {
                same(&template.next().unwrap(), &expected);
            }
        }
        let plain = Template::new(request(Method::GET, None), true);
        assert_eq!(plain.next().unwrap().timeout(), None);
    }

    #[test]
    fn other_requests_are_copied_by_reqwest_and_streams_sent_once() {
        let expected = request(Method::PUT, Some("x"));
        let template = Template::new(expected.try_clone().unwrap(), false);
        assert!(matches!(template.source, Source::Copies(_)));
        same(&template.next().unwrap(), &expected);

        let mut streamed = request(Method::POST, None);
        let chunks: Vec<Result<&'static str, std::io::Error>> = vec![Ok("x")];
        *streamed.body_mut() = Some(reqwest::Body::wrap_stream(futures::stream::iter(chunks)));
        let template = Template::new(streamed, true);
        assert!(!template.replayable());
        assert_eq!(template.url().as_str(), "https://ledger.test/a?b=c");
        assert!(template.next().is_some());
        assert!(template.next().is_none());
    }
}
