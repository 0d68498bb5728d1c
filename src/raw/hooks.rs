//! The generated clients' hooks: every request of a generated operation goes through the
//! [`Pipeline`].
//!
//! The generator (`build/generator.rs`) gives each generated `Client` an inner value of type
//! [`HookState`] and requires an implementation of `progenitor_client::ClientHooks` for it
//! (`HooksMode::Expected`); this module holds both implementations, for
//! [`generated::ledger::Client`](crate::raw::ledger::Client) and
//! [`generated::identity::Client`](crate::raw::identity::Client). Their `exec` hook:
//!
//! - drops the `api-version` *header* the generated code adds (the service reads the query
//!   parameter, which carries the version the caller chose);
//! - sends a `+` in the path as `%2B`: the ledger decodes path parameters with CCF's URL
//!   decoding, where `+` is a space, and the generated code's path encoding leaves `+` as it
//!   is (no fixed path of either API holds a `+`, so every `+` there is part of a parameter,
//!   such as a user id);
//! - sends the body with the content type the operation table names (merge patch for the
//!   `PATCH` operations; see [`operation_context`]);
//! - applies the call's body logging setting;
//! - sends the request through the [`Pipeline`] (authentication, retries, redirects, user agent,
//!   tracing) and hands the pipeline's errors back through the *carrier* response
//!   ([`CARRIER_STATUS`](crate::error::CARRIER_STATUS)): convert a generated operation's error with
//!   `Error::from` to get them back intact.
//!
//! This is how [`ConfidentialLedgerClient`](crate::ConfidentialLedgerClient) runs every
//! operation; the same works for anyone using the generated client directly.
//!
//! # Examples
//!
//! The raw generated client over a pipeline, as an escape hatch:
//!
//! ```no_run
//! use confidential_ledger::raw::ledger;
//! use confidential_ledger::raw::HookState;
//! use confidential_ledger::pipeline::Pipeline;
//! use confidential_ledger::Error;
//!
//! # async fn run(pipeline: Pipeline) -> Result<(), Error> {
//! let raw = ledger::Client::new_with_client(
//!     "https://myledger.confidential-ledger.azure.com",
//!     pipeline.http_client().clone(),
//!     HookState::new(pipeline.clone()),
//! );
//! let constitution = raw.get_constitution("2026-02-23").await.map_err(Error::from)?;
//! println!("{}", constitution.digest);
//! # Ok(()) }
//! ```

use std::sync::Arc;

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::HeaderValue;

use crate::Error;
use crate::pipeline::{OperationContext, Pipeline};
use crate::raw::operation_facts::find;
use crate::raw::{identity, ledger};

/// The content type the generated operations send bodies with.
const JSON_CONTENT_TYPE: &str = "application/json";

/// The [`OperationContext`] for a request the generated code built for `operation_id`: as
/// [`OperationContext::new`], and, when the spec says the operation's body has another content
/// type than the `application/json` the generated code sends (the `PATCH` operations take
/// [`MERGE_PATCH_JSON`](crate::pipeline::MERGE_PATCH_JSON)), a request with a body is sent with
/// that content type. The content type comes from the operation tables
/// ([`ledger::OPERATIONS`] and [`identity::OPERATIONS`]); an operation id that is in neither
/// keeps its content type.
///
/// # Examples
///
/// ```
/// use confidential_ledger::raw::operation_context;
///
/// let url = "https://myledger.confidential-ledger.azure.com/app/ledgerUsers/u1";
/// let mut request = reqwest::Request::new(reqwest::Method::PATCH, url.parse().unwrap());
/// *request.body_mut() = Some(reqwest::Body::from("{}"));
/// let op = operation_context("create_or_update_ledger_user", &request);
/// assert_eq!(op.content_type().unwrap(), "application/merge-patch+json");
/// ```
pub fn operation_context(
    operation_id: impl Into<std::borrow::Cow<'static, str>>,
    request: &reqwest::Request,
) -> OperationContext {
    let op = OperationContext::new(operation_id);
    // Only a body has a content type to set: no lookup for the others.
    if request.body().is_none() {
        return op;
    }
    let facts = find(ledger::OPERATIONS, op.operation_id())
        .or_else(|| find(identity::OPERATIONS, op.operation_id()));
    match facts.and_then(|facts| facts.request_content_type) {
        Some(content_type) if content_type != JSON_CONTENT_TYPE => {
            op.with_content_type(HeaderValue::from_static(content_type))
        }
        _ => op,
    }
}

/// The name of the header progenitor adds to every request with the spec's version (parsed
/// once: removing by a `&str` parses and validates the name on every call).
const API_VERSION_HEADER: reqwest::header::HeaderName =
    reqwest::header::HeaderName::from_static("api-version");

/// What the generated clients' hooks need: the pipeline to send through, and the settings of
/// the call being made.
///
/// Cheap to clone (the pipeline is shared).
///
/// # Examples
///
/// ```no_run
/// use confidential_ledger::raw::HookState;
/// # fn run(pipeline: confidential_ledger::pipeline::Pipeline) {
/// let state = HookState::new(pipeline).logging_enable(true);
/// assert_eq!(state.logging_enabled(), Some(true));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct HookState {
    pipeline: Pipeline,
    logging_enable: Option<bool>,
    deadline: Option<tokio::time::Instant>,
    // Shared with each request's `OperationContext` without a copy.
    client_request_id: Option<Arc<str>>,
}

impl HookState {
    /// Sends every request through `pipeline`, with the pipeline's own body logging setting.
    pub fn new(pipeline: Pipeline) -> Self {
        Self {
            pipeline,
            logging_enable: None,
            deadline: None,
            client_request_id: None,
        }
    }

    /// Sends every request made with this state with `id` as its `x-ms-client-request-id`
    /// (see [`OperationContext::with_client_request_id`]) instead of a fresh one each.
    #[must_use]
    pub fn client_request_id(mut self, id: impl Into<String>) -> Self {
        self.client_request_id = Some(Arc::from(id.into()));
        self
    }

    /// [`client_request_id`](Self::client_request_id) with an id shared with the caller (no
    /// copy).
    pub(crate) fn shared_client_request_id(mut self, id: Arc<str>) -> Self {
        self.client_request_id = Some(id);
        self
    }

    /// Ends every request made with this state at `deadline` (see
    /// [`OperationContext::deadline`]), instead of after the pipeline's call timeout.
    #[must_use]
    pub fn deadline(mut self, deadline: tokio::time::Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Logs (or does not log) the bodies of the requests made with this state at `DEBUG`,
    /// whatever the pipeline's setting.
    #[must_use]
    pub fn logging_enable(mut self, enabled: bool) -> Self {
        self.logging_enable = Some(enabled);
        self
    }

    /// The body logging setting of calls made with this state (`None`: the pipeline's).
    pub fn logging_enabled(&self) -> Option<bool> {
        self.logging_enable
    }

    /// The former name of [`logging_enable`](Self::logging_enable).
    #[deprecated(note = "renamed to `logging_enable`, the name of the setting everywhere")]
    #[must_use]
    pub fn log_bodies(self, enabled: bool) -> Self {
        self.logging_enable(enabled)
    }

    /// The former name of [`logging_enabled`](Self::logging_enabled).
    #[deprecated(note = "renamed to `logging_enabled`")]
    pub fn logs_bodies(&self) -> Option<bool> {
        self.logging_enabled()
    }

    /// The pipeline requests go through.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// Sends a request the generated code built for `operation_id`. Never fails: a failure is
    /// returned as a carrier response.
    ///
    /// A plain function returning the pipeline's future: the request is adjusted before it is
    /// handed over, so no future here keeps it (or the call's context) as well.
    fn exec(
        &self,
        mut request: reqwest::Request,
        operation_id: &'static str,
    ) -> impl Future<Output = reqwest::Response> + Send + '_ {
        request.headers_mut().remove(API_VERSION_HEADER);
        encode_plus_in_path(request.url_mut());
        let op = operation_context(operation_id, &request).with_call_settings(
            self.logging_enable,
            self.deadline,
            self.client_request_id.as_ref(),
        );
        futures::FutureExt::map(self.pipeline.send_generated(request, op), |result| {
            result.unwrap_or_else(Error::into_response)
        })
    }
}

/// Replaces every `+` in the path of `url` with `%2B`, so that the ledger, which decodes a
/// `+` in a path parameter as a space, reads a `+`.
fn encode_plus_in_path(url: &mut reqwest::Url) {
    if url.path().contains('+') {
        let path = url.path().replace('+', "%2B");
        url.set_path(&path);
    }
}

impl ClientHooks<HookState> for ledger::Client {
    // A combinator, not an `async fn`: that would keep `request` as its argument beside the
    // future it is moved into, in every call's future.
    fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> impl Future<Output = reqwest::Result<reqwest::Response>> {
        futures::FutureExt::map(self.inner().exec(request, info.operation_id), Ok)
    }
}

impl ClientHooks<HookState> for identity::Client {
    // A combinator, not an `async fn`: that would keep `request` as its argument beside the
    // future it is moved into, in every call's future.
    fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> impl Future<Output = reqwest::Result<reqwest::Response>> {
        futures::FutureExt::map(self.inner().exec(request, info.operation_id), Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::MERGE_PATCH_JSON;
    use reqwest::Method;

    #[test]
    fn a_plus_in_the_path_is_sent_percent_encoded_and_the_query_is_left_alone() {
        let mut url =
            reqwest::Url::parse("https://l.test/app/ledgerUsers/a+b%2Bc+?api-version=1&x=a+b")
                .unwrap();
        encode_plus_in_path(&mut url);
        assert_eq!(
            url.as_str(),
            "https://l.test/app/ledgerUsers/a%2Bb%2Bc%2B?api-version=1&x=a+b"
        );
        let mut plain = reqwest::Url::parse("https://l.test/app/ledgerUsers/5F:23%20x").unwrap();
        encode_plus_in_path(&mut plain);
        assert_eq!(plain.as_str(), "https://l.test/app/ledgerUsers/5F:23%20x");
    }

    #[test]
    fn content_types_come_from_the_operation_tables() {
        let with_body = |method: Method| {
            let mut request = reqwest::Request::new(method, "https://l.test/".parse().unwrap());
            *request.body_mut() = Some(reqwest::Body::from("{}"));
            request
        };
        for id in [
            "create_or_update_ledger_user",
            "create_or_update_user",
            "update_runtime_options",
            "update_user_defined_role",
        ] {
            let op = operation_context(id, &with_body(Method::PATCH));
            assert_eq!(op.content_type().unwrap(), MERGE_PATCH_JSON, "{id}");
            assert!(!op.is_non_idempotent(&Method::PATCH));
        }
        // A PUT of the same resource takes plain JSON.
        let op = operation_context("create_user_defined_role", &with_body(Method::PUT));
        assert!(op.content_type().is_none());
        // An operation the tables do not know keeps its content type, PATCH or not.
        let op = operation_context("x", &with_body(Method::PATCH));
        assert!(op.content_type().is_none());
        // Without a body there is no content type to set.
        let bare = reqwest::Request::new(Method::PATCH, "https://l.test/".parse().unwrap());
        let op = operation_context("update_runtime_options", &bare);
        assert!(op.content_type().is_none());
        let op = operation_context("create_ledger_entry", &with_body(Method::POST));
        assert!(op.content_type().is_none());
        assert!(op.is_non_idempotent(&Method::POST));
        assert!(!op.non_idempotent(false).is_non_idempotent(&Method::POST));
    }
}
