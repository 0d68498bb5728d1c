//! Paged lists: the first page through the generated operation, later pages by following the
//! ledger's server-relative `nextLink`s through the same pipeline.

use std::time::SystemTime;

use futures::future::{BoxFuture, FutureExt};
use progenitor_client::ResponseValue;
use reqwest::Url;
use reqwest::header::{ACCEPT, HeaderValue};
use serde::de::DeserializeOwned;
use tracing::Instrument;

use super::{CallOptions, ConfidentialLedgerClient};
use crate::Error;
use crate::pager::{PageRequest, Pager, PagerOptions, RawPage, decode_page};
use crate::pipeline::{OperationContext, retry_after};

/// Fetches the first page of a list (the generated operation with its parameters).
pub(super) type FirstPage<G> = Box<
    dyn Fn(ConfidentialLedgerClient, CallOptions) -> BoxFuture<'static, Result<RawPage<G>, Error>>
        + Send
        + Sync,
>;

/// A generated page as the pager wants it: items, next link, `Loading`, `Retry-After`.
/// `split` takes the page apart, failing for a page it cannot understand.
pub(super) fn raw_page<P, G>(
    response: ResponseValue<P>,
    split: impl FnOnce(P) -> Result<(Vec<G>, Option<String>, bool), Error>,
) -> Result<RawPage<G>, Error> {
    let retry_after = retry_after(response.headers(), SystemTime::now());
    let (items, next_link, loading) = split(response.into_inner())?;
    Ok(RawPage {
        items,
        next_link: next_link.filter(|link| !link.is_empty()),
        loading,
        retry_after,
    })
}

/// The items and next link of a page without a state.
pub(super) fn ready<G>(
    items: Vec<G>,
    next_link: Option<String>,
) -> Result<(Vec<G>, Option<String>, bool), Error> {
    Ok((items, next_link, false))
}

impl ConfidentialLedgerClient {
    /// A pager over the list operation `operation_id`, whose items are under `item_name`:
    /// the first page from `first`, the next ones from their links; every item converted with
    /// `convert` (an item that does not fit fails its page with a
    /// [`Decode`](crate::ErrorKind::Decode) error).
    pub(super) fn pager<G, T>(
        &self,
        method: &'static str,
        item_name: &'static str,
        call: CallOptions,
        first: FirstPage<G>,
        convert: fn(G) -> Result<T, Error>,
    ) -> Pager<T, Error>
    where
        G: DeserializeOwned + Send + 'static,
        T: Send + 'static,
    {
        let client = self.clone();
        let options = PagerOptions {
            polling: self.inner.options.polling.clone(),
            loading_timeout: self.inner.options.wait_timeout,
            max_retry_after: self.inner.options.retry.max_retry_after,
            ..PagerOptions::default()
        };
        Pager::new(move |request: PageRequest| {
            let client = client.clone();
            let call = call.clone();
            let page = match request {
                PageRequest::First => first(client.clone(), call),
                PageRequest::Next(link) => {
                    async move { client.next_page::<G>(method, item_name, &link, &call).await }
                        .boxed()
                }
            };
            async move {
                let page = page.await?;
                let items = page
                    .items
                    .into_iter()
                    .map(convert)
                    .collect::<Result<Vec<T>, Error>>()?;
                Ok(RawPage {
                    items,
                    next_link: page.next_link,
                    loading: page.loading,
                    retry_after: page.retry_after,
                })
            }
            .instrument(ConfidentialLedgerClient::span(method, None))
        })
        .with_options(options)
    }

    /// A pager that fails at once with `err` (invalid parameters), sending nothing.
    pub(super) fn failed_pager<T: Send + 'static>(err: Error) -> Pager<T, Error> {
        let mut err = Some(err);
        Pager::new(move |_| {
            let err = err
                .take()
                .unwrap_or_else(|| Error::invalid_input("the list's parameters are invalid"));
            async move { Err(err) }
        })
    }

    /// `GET link` (a server-relative next link) for the list operation `operation_id`.
    async fn next_page<G: DeserializeOwned>(
        &self,
        operation_id: &'static str,
        item_name: &str,
        link: &str,
        call: &CallOptions,
    ) -> Result<RawPage<G>, Error> {
        let url = self.next_link_url(link)?;
        let logging_enable = call.logging_enable;
        let deadline = self.deadline_for(call);
        self.with_pinned_connections(|connections| {
            let url = url.clone();
            async move {
                let request = connections
                    .pipeline
                    .http_client()
                    .get(url)
                    .header(ACCEPT, HeaderValue::from_static("application/json"))
                    .build()?;
                let mut op = OperationContext::new(operation_id);
                if let Some(enabled) = logging_enable {
                    op = op.logging_enable(enabled);
                }
                if let Some(deadline) = deadline {
                    op = op.deadline(deadline);
                }
                let response = connections.pipeline.send(request, &op).await?;
                let retry_after = retry_after(response.headers(), SystemTime::now());
                let body = response.bytes().await?;
                let page = decode_page::<G>(&body, item_name).map_err(|e| {
                    Error::decode(format!("a page of {operation_id} is malformed: {e}"), &body)
                        .with_operation(operation_id)
                })?;
                Ok(page.with_retry_after(retry_after))
            }
        })
        .await
    }

    fn next_link_url(&self, link: &str) -> Result<Url, Error> {
        next_link_url(&self.inner.endpoint, link)
    }
}

/// The URL of a next link, which must be server-relative (`/app/...`): a link to anywhere
/// else is refused, never followed.
fn next_link_url(endpoint: &Url, link: &str) -> Result<Url, Error> {
    let relative = link.starts_with('/') && !link.starts_with("//") && !link.contains('\\');
    if !relative {
        return Err(Error::decode(
            "the ledger sent a nextLink that is not server-relative (/app/...); it is not \
             followed",
            link.as_bytes(),
        ));
    }
    endpoint.join(link).map_err(|e| {
        Error::decode(
            format!("the ledger sent a malformed nextLink: {e}"),
            link.as_bytes(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn only_server_relative_next_links_are_followed() {
        let endpoint = Url::parse("https://ledger.example.com/").unwrap();
        let url = next_link_url(
            &endpoint,
            "/app/transactions?api-version=2026-02-23&fromTransactionId=2.30",
        )
        .unwrap();
        assert_eq!(
            url.as_str(),
            "https://ledger.example.com/app/transactions?api-version=2026-02-23&fromTransactionId=2.30"
        );
        // Server-relative means from the origin, whatever the endpoint's path.
        let behind_gateway = Url::parse("https://gateway.example.com/ledger/").unwrap();
        assert_eq!(
            next_link_url(&behind_gateway, "/app/collections")
                .unwrap()
                .as_str(),
            "https://gateway.example.com/app/collections"
        );
        for link in [
            "https://elsewhere.example.com/app/transactions",
            "//elsewhere.example.com/app/transactions",
            "app/transactions",
            "/\\elsewhere.example.com",
            "",
        ] {
            let err = next_link_url(&endpoint, link).unwrap_err();
            assert!(
                matches!(err.kind(), ErrorKind::Decode { .. }),
                "{link}: {err}"
            );
        }
    }
}
