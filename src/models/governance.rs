//! What the ledger publishes about how it is governed and where it runs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::raw::ledger::types;

/// The ledger's constitution: the JavaScript that decides which governance proposals pass,
/// and its digest.
///
/// # Examples
///
/// ```no_run
/// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
/// let constitution = client.get_constitution(None).await?;
/// assert!(constitution.digest_matches(), "the digest is the SHA-256 of the script");
/// println!("{}", constitution.script);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Constitution {
    /// Hex SHA-256 of the script's UTF-8 bytes, as the ledger states it.
    pub digest: String,
    /// The script.
    pub script: String,
}

impl Constitution {
    /// True when [`digest`](Self::digest) is the SHA-256 of [`script`](Self::script) (hex,
    /// compared without regard to case).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::models::Constitution;
    ///
    /// # fn check(constitution: &Constitution) {
    /// if !constitution.digest_matches() {
    ///     eprintln!("the ledger's constitution digest does not match its script");
    /// }
    /// # }
    /// ```
    pub fn digest_matches(&self) -> bool {
        let computed = Sha256::digest(self.script.as_bytes());
        let hex = base16ct::lower::encode_string(&computed);
        hex.eq_ignore_ascii_case(self.digest.trim())
    }

    pub(crate) fn from_generated(c: types::Constitution) -> Self {
        // Exhaustive: a field added upstream is a compile error here (see xtask/coverage.json).
        let types::Constitution { digest, script } = c;
        Self { digest, script }
    }
}

/// A member of the consortium that governs the ledger.
///
/// # Examples
///
/// ```no_run
/// use futures::TryStreamExt;
/// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
/// let members: Vec<_> = client.list_consortium_members(None).try_collect().await?;
/// for member in members {
///     println!("member {} has certificate {}", member.id, member.certificate);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConsortiumMember {
    /// The member's id: hex SHA-256 of its certificate's DER.
    pub id: String,
    /// The member's certificate (PEM).
    pub certificate: String,
}

impl ConsortiumMember {
    pub(crate) fn from_generated(m: types::ConsortiumMember) -> Self {
        let types::ConsortiumMember { certificate, id } = m;
        Self { id, certificate }
    }
}

/// The attestation quotes of the ledger's nodes, which prove what code runs in their
/// enclaves.
///
/// # Examples
///
/// ```no_run
/// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
/// let quotes = client.get_enclave_quotes(None).await?;
/// assert!(quotes.enclave_quotes.contains_key(&quotes.current_node_id));
/// for (node, quote) in &quotes.enclave_quotes {
///     println!("node {node}: quote version {}", quote.quote_version);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EnclaveQuotes {
    /// The node that answered.
    pub current_node_id: String,
    /// Each node's quote, by node id.
    pub enclave_quotes: BTreeMap<String, EnclaveQuote>,
}

impl EnclaveQuotes {
    pub(crate) fn from_generated(e: types::ConfidentialLedgerEnclaves) -> Self {
        let types::ConfidentialLedgerEnclaves {
            current_node_id,
            enclave_quotes,
        } = e;
        Self {
            current_node_id,
            enclave_quotes: enclave_quotes
                .into_iter()
                .map(|(node, q)| {
                    let types::EnclaveQuote {
                        mrenclave,
                        node_id,
                        quote_version,
                        raw,
                    } = q;
                    (
                        node,
                        EnclaveQuote {
                            node_id,
                            mrenclave,
                            quote_version,
                            raw,
                        },
                    )
                })
                .collect(),
        }
    }
}

/// One node's attestation quote.
///
/// # Examples
///
/// ```
/// use confidential_ledger::models::EnclaveQuote;
///
/// fn platform(quote: &EnclaveQuote) -> &'static str {
///     if quote.mrenclave.is_some() { "SGX" } else { "SEV-SNP" }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EnclaveQuote {
    /// The node's id.
    pub node_id: String,
    /// The enclave's measurement (SGX nodes only; absent on SEV-SNP nodes).
    pub mrenclave: Option<String>,
    /// The quote format's version.
    pub quote_version: String,
    /// The quote, hex.
    pub raw: String,
}
