//! Governance and attestation: constitution, consortium members, enclave quotes.

use futures::FutureExt;

use super::ConfidentialLedgerClient;
use super::paging::{raw_page, ready};
use crate::models::{ConsortiumMember, Constitution, EnclaveQuotes};
use crate::options::method_options;
use crate::raw::ledger::types;
use crate::{Error, Pager};

method_options! {
    /// Options of [`get_constitution`](ConfidentialLedgerClient::get_constitution).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::GetConstitutionOptions;
    ///
    /// let options = GetConstitutionOptions::new().logging_enable(false);
    /// # let _ = options;
    /// ```
    pub struct GetConstitutionOptions {}
}

method_options! {
    /// Options of [`list_consortium_members`](ConfidentialLedgerClient::list_consortium_members).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::ListConsortiumMembersOptions;
    ///
    /// let options = ListConsortiumMembersOptions::new();
    /// # let _ = options;
    /// ```
    pub struct ListConsortiumMembersOptions {}
}

method_options! {
    /// Options of [`get_enclave_quotes`](ConfidentialLedgerClient::get_enclave_quotes).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::GetEnclaveQuotesOptions;
    ///
    /// let options = GetEnclaveQuotesOptions::new();
    /// # let _ = options;
    /// ```
    pub struct GetEnclaveQuotesOptions {}
}

impl ConfidentialLedgerClient {
    /// The ledger's constitution (check it with [`Constitution::digest_matches`]).
    ///
    /// # Errors
    ///
    /// The transport and service errors of the call.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let constitution = client.get_constitution(None).await?;
    /// assert!(constitution.digest_matches());
    /// # Ok(()) }
    /// ```
    pub async fn get_constitution(
        &self,
        options: Option<GetConstitutionOptions>,
    ) -> Result<Constitution, Error> {
        let options = options.unwrap_or_default();
        let api = self.api_version();
        let response = Self::traced(
            "get_constitution",
            self.run(&options.call, |raw| async move {
                raw.get_constitution(api).await
            }),
        )
        .await?;
        Ok(Constitution::from_generated(response.into_inner()))
    }

    /// The members of the consortium governing the ledger: a lazy [`Pager`].
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
    /// let members: Vec<_> = client.list_consortium_members(None).try_collect().await?;
    /// println!("{} members", members.len());
    /// # Ok(()) }
    /// ```
    pub fn list_consortium_members(
        &self,
        options: Option<ListConsortiumMembersOptions>,
    ) -> Pager<ConsortiumMember, Error> {
        let options = options.unwrap_or_default();
        self.pager(
            "list_consortium_members",
            "members",
            options.call,
            Box::new(|client, call| {
                async move {
                    let api = client.api_version();
                    let response = client
                        .run(&call, |raw| async move {
                            raw.list_consortium_members(api).await
                        })
                        .await?;
                    raw_page(response, |page: types::Consortium| {
                        ready(page.members, page.next_link)
                    })
                }
                .boxed()
            }),
            |m| Ok(ConsortiumMember::from_generated(m)),
        )
    }

    /// The attestation quotes of the ledger's nodes.
    ///
    /// # Errors
    ///
    /// The transport and service errors of the call.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let quotes = client.get_enclave_quotes(None).await?;
    /// println!("answered by node {}", quotes.current_node_id);
    /// # Ok(()) }
    /// ```
    pub async fn get_enclave_quotes(
        &self,
        options: Option<GetEnclaveQuotesOptions>,
    ) -> Result<EnclaveQuotes, Error> {
        let options = options.unwrap_or_default();
        let api = self.api_version();
        let response = Self::traced(
            "get_enclave_quotes",
            self.run(&options.call, |raw| async move {
                raw.get_enclave_quotes(api).await
            }),
        )
        .await?;
        Ok(EnclaveQuotes::from_generated(response.into_inner()))
    }
}
