//! Reading a success body: streamed, bounded, and handed on as an [`Answer`] (the answer and
//! its bytes), or rebuilt into a response the generated code can decode.
//!
//! - A `Content-Length` above the limit is refused before the body is read.
//! - Otherwise the body is read chunk by chunk and refused as soon as it passes the limit; the
//!   connection is dropped then, so the server's remaining bytes are never read.
//! - A body that breaks off (connection cut, timeout) keeps the answer's status and
//!   `x-ms-ccf-transaction-id` in the error: for a write, the id of a transaction that may have
//!   been applied.

use bytes::Bytes;
use reqwest::ResponseBuilderExt;
use reqwest::header::CONTENT_LENGTH;

use crate::{Error, ErrorKind};

/// A success answer whose body was read: the response (its body drained; status, headers and
/// the rest as they arrived) and the body's bytes.
pub(crate) struct Answer {
    pub(crate) response: reqwest::Response,
    pub(crate) body: Bytes,
}

impl Answer {
    /// The answer as one response again, for the generated code to decode.
    pub(crate) fn into_response(self) -> reqwest::Response {
        rebuild(head_of(self.response), self.body)
    }
}

/// Reads the body of `response` (a success answer) up to `max_bytes`, named `limit`, and
/// returns the bytes with the response.
///
/// A body that arrives in one chunk (the usual answer) is handed on as that chunk, without a
/// copy; only a body in several chunks is gathered into one buffer.
pub(crate) async fn read(
    mut response: reqwest::Response,
    limit: &'static str,
    max_bytes: u64,
) -> Result<Answer, Error> {
    let status = response.status();
    let declared = response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(length) = declared
        && length > max_bytes
    {
        return Err(Error::response_too_large(
            limit,
            max_bytes,
            format!("its Content-Length is {length} bytes"),
        )
        .with_answer_head(status, response.headers()));
    }
    let mut body = Gathered::default();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let total = body.len() as u64 + chunk.len() as u64;
                if total > max_bytes {
                    return Err(Error::response_too_large(
                        limit,
                        max_bytes,
                        format!("more than {max_bytes} bytes arrived"),
                    )
                    .with_answer_head(status, response.headers()));
                }
                // Never more than the limit up front, whatever the server declared.
                let capacity = declared.unwrap_or(0).min(max_bytes).min(1024 * 1024);
                body.push(chunk, usize::try_from(capacity).unwrap_or(0));
            }
            Ok(None) => break,
            Err(err) => {
                // reqwest reports a body that breaks off as a decoding failure; it is a
                // transport failure (or a timeout) that happened after the answer began.
                let kind = if err.is_timeout() {
                    ErrorKind::Timeout
                } else {
                    ErrorKind::Transport
                };
                let what = if err.is_timeout() {
                    "the answer's body did not arrive in time"
                } else {
                    "the connection broke while the answer's body was read"
                };
                return Err(Error::new(
                    kind,
                    format!(
                        "the ledger answered HTTP {status}, then {what} ({} bytes had arrived)",
                        body.len()
                    ),
                )
                .with_source(err)
                .with_answer_head(status, response.headers()));
            }
        }
    }
    Ok(Answer {
        response,
        body: body.into_bytes(),
    })
}

/// The chunks of a body read so far: the first as it arrived, the rest (if any) gathered
/// with it into one buffer.
#[derive(Default)]
struct Gathered {
    first: Option<Bytes>,
    more: Vec<u8>,
}

impl Gathered {
    /// Bytes read so far.
    fn len(&self) -> usize {
        self.first.as_ref().map_or(self.more.len(), Bytes::len)
    }

    /// Adds `chunk`; `capacity` is the buffer to start with when a second chunk arrives.
    fn push(&mut self, chunk: Bytes, capacity: usize) {
        if self.first.is_none() && self.more.is_empty() {
            self.first = Some(chunk);
            return;
        }
        if let Some(first) = self.first.take() {
            self.more.reserve(capacity.max(first.len() + chunk.len()));
            self.more.extend_from_slice(&first);
        }
        self.more.extend_from_slice(&chunk);
    }

    fn into_bytes(self) -> Bytes {
        self.first.unwrap_or_else(|| Bytes::from(self.more))
    }
}

/// The head of `response` (status, version, headers, extensions and URL), without its body.
fn head_of(mut response: reqwest::Response) -> http::response::Parts {
    let url = response.url().clone();
    let version = response.version();
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let mut extensions = std::mem::take(response.extensions_mut());
    // The builder is the public way to set the URL reqwest reports for a response.
    let mut parts = match http::Response::builder().url(url).body(()) {
        Ok(response) => response.into_parts().0,
        // Only a status or header given to the builder can fail it; none is.
        Err(_) => http::Response::new(()).into_parts().0,
    };
    parts.status = status;
    parts.version = version;
    parts.headers = headers;
    // The URL joins the answer's own extensions (one entry moved) rather than those joining
    // the builder's (every entry moved, the map grown).
    if !extensions.is_empty() {
        extensions.extend(std::mem::take(&mut parts.extensions));
        parts.extensions = extensions;
    }
    parts
}

/// A response with `head` and the already-read `body`, for the generated code to decode.
fn rebuild(head: http::response::Parts, body: Bytes) -> reqwest::Response {
    reqwest::Response::from(http::Response::from_parts(head, reqwest::Body::from(body)))
}
