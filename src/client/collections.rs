//! Collections and tags.

use futures::FutureExt;

use super::ConfidentialLedgerClient;
use super::exactly_once::is_marker;
use super::paging::{raw_page, ready};
use crate::models::Collection;
use crate::options::method_options;
use crate::raw::ledger::types;
use crate::validate;
use crate::{Error, Pager};

method_options! {
    /// Options of [`list_collections`](ConfidentialLedgerClient::list_collections).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::ListCollectionsOptions;
    ///
    /// let options = ListCollectionsOptions::new().logging_enable(true);
    /// # let _ = options;
    /// ```
    pub struct ListCollectionsOptions {}
}

method_options! {
    /// Options of [`list_tags`](ConfidentialLedgerClient::list_tags).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::ListTagsOptions;
    ///
    /// let options = ListTagsOptions::new().collection_id("audit");
    /// # let _ = options;
    /// ```
    pub struct ListTagsOptions {
        /// The collection whose tags to list (default: the ledger's default collection).
        pub collection_id: Option<String>,
        /// Also list the marker tags of exactly-once writes ([`is_marker`](crate::client::is_marker));
        /// by default they are left out.
        pub include_markers: bool,
    }
}

impl ListTagsOptions {
    /// Lists the tags of the collection `collection_id`.
    #[must_use]
    pub fn collection_id(mut self, collection_id: impl Into<String>) -> Self {
        self.collection_id = Some(collection_id.into());
        self
    }

    /// Lists the marker tags of exactly-once writes too (by default they are left out).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::ListTagsOptions;
    ///
    /// assert!(ListTagsOptions::new().include_markers(true).include_markers);
    /// assert!(!ListTagsOptions::new().include_markers);
    /// ```
    #[must_use]
    pub fn include_markers(mut self, include: bool) -> Self {
        self.include_markers = include;
        self
    }
}

impl ConfidentialLedgerClient {
    /// The ledger's collections: a lazy [`Pager`] (a `Stream` of [`Collection`]s).
    ///
    /// # Errors
    ///
    /// The stream yields the errors of the requests.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use futures::TryStreamExt;
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let ids: Vec<String> = client
    ///     .list_collections(None)
    ///     .map_ok(|c| c.collection_id)
    ///     .try_collect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn list_collections(
        &self,
        options: Option<ListCollectionsOptions>,
    ) -> Pager<Collection, Error> {
        let options = options.unwrap_or_default();
        self.pager(
            "list_collections",
            "collections",
            options.call,
            Box::new(|client, call| {
                async move {
                    let api = client.api_version();
                    let response = client
                        .run(&call, |raw| async move { raw.list_collections(api).await })
                        .await?;
                    raw_page(response, |page: types::PagedCollections| {
                        ready(page.collections, page.next_link)
                    })
                }
                .boxed()
            }),
            |c| Ok(Collection::from_generated(c)),
        )
    }

    /// The tags entries of a collection are filed under: a lazy [`Pager`] (a `Stream` of tag
    /// names). The marker tags of exactly-once writes ([`is_marker`]) are
    /// left out unless [`ListTagsOptions::include_markers`] asks for them (a page can then
    /// come back with fewer tags than the ledger sent, or none).
    ///
    /// # Errors
    ///
    /// The stream yields [`InvalidInput`](crate::ErrorKind::InvalidInput) first for a
    /// malformed collection id (nothing is sent), then the errors of the requests.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use futures::TryStreamExt;
    /// use confidential_ledger::client::ListTagsOptions;
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let tags: Vec<String> = client
    ///     .list_tags(Some(ListTagsOptions::new().collection_id("audit")))
    ///     .try_collect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn list_tags(&self, options: Option<ListTagsOptions>) -> Pager<String, Error> {
        let options = options.unwrap_or_default();
        if let Some(collection) = &options.collection_id
            && let Err(err) = validate::name("collection id", collection)
        {
            return Self::failed_pager(err.with_operation("list_tags"));
        }
        let (collection_id, include_markers) = (options.collection_id, options.include_markers);
        self.pager(
            "list_tags",
            "tags",
            options.call,
            Box::new(move |client, call| {
                let collection = collection_id.clone();
                async move {
                    let (api, collection) = (client.api_version(), collection.as_deref());
                    let response = client
                        .run(
                            &call,
                            |raw| async move { raw.list_tags(api, collection).await },
                        )
                        .await?;
                    raw_page(response, move |page: types::PagedTags| {
                        let tags = if include_markers {
                            page.tags
                        } else {
                            page.tags.into_iter().filter(|t| !is_marker(t)).collect()
                        };
                        ready(tags, page.next_link)
                    })
                }
                .boxed()
            }),
            Ok,
        )
    }
}
