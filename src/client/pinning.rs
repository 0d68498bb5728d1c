//! The pinned certificate and the connections built on it, and how they are replaced when
//! the ledger's service certificate changes.

use std::sync::{Arc, OnceLock, PoisonError};

use crate::http_client::http_builder;
use crate::pipeline::Pipeline;
use crate::receipt::ReceiptVerifier;
use crate::tls::{PinnedCertificate, client_config};
use crate::{CertificateCredential, ClientOptions, Error, IdentityServiceClient};

use super::ConfidentialLedgerClient;

/// The connections of a client, all verified against one pinned certificate.
pub(super) struct PinnedConnections {
    /// Counts the pins this client has had, from 0.
    pub(super) generation: u64,
    pub(super) pinned: PinnedCertificate,
    pub(super) pipeline: Pipeline,
    /// Verifies receipts against `pinned`; made on first use.
    verifier: OnceLock<Arc<ReceiptVerifier>>,
}

impl PinnedConnections {
    pub(super) fn new(generation: u64, pinned: PinnedCertificate, pipeline: Pipeline) -> Self {
        Self {
            generation,
            pinned,
            pipeline,
            verifier: OnceLock::new(),
        }
    }

    /// The receipt verifier trusting the pinned certificate, shared by every call over this
    /// connections (so its caches are too).
    ///
    /// # Errors
    ///
    /// [`InvalidReceipt`](crate::ErrorKind::InvalidReceipt) when the certificate cannot verify
    /// receipts (its key is not ECDSA P-256 or P-384).
    pub(super) fn verifier(&self) -> Result<Arc<ReceiptVerifier>, Error> {
        if let Some(verifier) = self.verifier.get() {
            return Ok(Arc::clone(verifier));
        }
        let verifier = Arc::new(ReceiptVerifier::from_der(self.pinned.der())?);
        Ok(Arc::clone(self.verifier.get_or_init(|| verifier)))
    }
}

/// The reqwest client builder for connections to the ledger pinned to `pinned`.
pub(super) fn ledger_http(
    options: &ClientOptions,
    pinned: &PinnedCertificate,
    certificate: Option<&CertificateCredential>,
) -> Result<reqwest::ClientBuilder, Error> {
    http_builder(options, client_config(pinned, certificate)?)
}

impl ConfidentialLedgerClient {
    /// After a pin mismatch seen over `failed`: the connections to try again with, or why there
    /// is none (to add to the mismatch error).
    pub(super) async fn refresh_after_mismatch(
        &self,
        failed: &Arc<PinnedConnections>,
    ) -> Result<Arc<PinnedConnections>, String> {
        let Some(identity) = &self.inner.identity else {
            return Err(
                "the service certificate was given to the client, which never replaces it; \
                 build the client with the new certificate, or let it fetch the certificate \
                 from the identity service"
                    .to_owned(),
            );
        };
        match self.refetch(identity, failed.generation).await {
            Ok(Some(fresh)) => Ok(fresh),
            Ok(None) => Err(format!(
                "the identity service still publishes the pinned certificate for ledger {}, so \
                 the server that answered is not serving that ledger's identity",
                self.inner.ledger_id
            )),
            Err(e) => Err(format!(
                "fetching the ledger's identity again from {} failed: {e}",
                identity.endpoint()
            )),
        }
    }

    /// Fetches the ledger's identity and, when it differs from the pin of generation `seen`,
    /// switches to connections pinned to it. Returns the connections to use when the pin changed
    /// (here, or meanwhile in another call), `None` when it is unchanged.
    async fn refetch(
        &self,
        identity: &IdentityServiceClient,
        seen: u64,
    ) -> Result<Option<Arc<PinnedConnections>>, Error> {
        let _one_at_a_time = self.inner.refresh.lock().await;
        let current = self.connections();
        if current.generation != seen {
            return Ok(Some(current));
        }
        let fetched = identity
            .get_ledger_identity(&self.inner.ledger_id, None)
            .await?
            .pinned_certificate()?;
        if fetched == current.pinned {
            return Ok(None);
        }
        let http = ledger_http(
            &self.inner.options,
            &fetched,
            self.inner.certificate.as_ref(),
        )?;
        let pipeline = current.pipeline.with_http_client(http)?;
        tracing::info!(
            target: "confidential_ledger::client",
            ledger_id = %self.inner.ledger_id,
            old = %current.pinned.fingerprint(),
            new = %fetched.fingerprint(),
            "the ledger's service certificate changed; pinned the new one"
        );
        let fresh = Arc::new(PinnedConnections::new(
            current.generation + 1,
            fetched,
            pipeline,
        ));
        *self
            .inner
            .connections
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::clone(&fresh);
        Ok(Some(fresh))
    }

    /// The connections to verify receipts with after a receipt failed to chain to the pin of
    /// `seen`: a new one if the ledger's identity changed, `None` otherwise (also when the
    /// certificate was given, or the lookup failed: the verification error stands).
    pub(super) async fn refresh_for_receipt(&self, seen: u64) -> Option<Arc<PinnedConnections>> {
        let identity = self.inner.identity.as_ref()?;
        match self.refetch(identity, seen).await {
            Ok(fresh) => fresh,
            Err(e) => {
                tracing::warn!(
                    target: "confidential_ledger::client",
                    error = %e,
                    "cannot fetch the ledger's identity to verify a receipt signed under another certificate"
                );
                None
            }
        }
    }

    /// Fetches the ledger's identity from the identity service now and pins it if it changed.
    /// Returns whether the pin changed. The client does this by itself after a pin mismatch;
    /// call it when you know the certificate rotated.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput) when the client was given its
    /// certificate (there is nothing to fetch); the error of the identity lookup.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// if client.refresh_service_certificate().await? {
    ///     println!("now trusting {}", client.service_certificate().fingerprint());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn refresh_service_certificate(&self) -> Result<bool, Error> {
        let Some(identity) = &self.inner.identity else {
            return Err(Error::invalid_input(
                "the client was given its service certificate; there is nothing to fetch",
            ));
        };
        let seen = self.connections().generation;
        Ok(self.refetch(identity, seen).await?.is_some())
    }
}
