//! [`ReceiptVerifier`]: verification against one service certificate, with caches.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use sha2::{Digest as _, Sha256};

use super::Receipt;
use super::cache::BoundedCache;
use super::certificate::{Certificate, PublicKey};
use super::commit_evidence::{self, TxId};
use super::root_signature;
use super::{
    ApplicationClaim, CertificateRole, ReceiptError, ReceiptLeaf, ReceiptResponse, Sha256Digest,
    Verified, VerifyOptions, claims_digest, encoding, merkle,
};

/// Chains with more endorsements than this are verified but not cached, which bounds the size
/// of a cache entry.
pub const MAX_CACHED_ENDORSEMENTS: usize = 16;

/// Chains whose certificates (PEM text) add up to more bytes than this are verified but not
/// cached, which bounds the size of a cache entry.
pub const MAX_CACHED_CHAIN_TEXT: usize = 16 * 1024;

/// Cache sizes of a [`ReceiptVerifier`].
///
/// # Defaults
///
/// 256 certificate chains and 16384 signatures: about 7 MiB at most, and well under 1 MiB
/// for a ledger's usual handful of chains (see [`ReceiptVerifier`] for the bound). A capacity
/// of 0 disables that cache.
///
/// # Examples
///
/// ```
/// use confidential_ledger::receipt::VerifierOptions;
///
/// let options = VerifierOptions::new().chain_cache_capacity(16).signature_cache_capacity(0);
/// assert_eq!(options.signature_cache_capacity, 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifierOptions {
    /// How many verified certificate chains (node certificate + endorsements) to keep.
    pub chain_cache_capacity: usize,
    /// How many verified (signature, Merkle root, chain) triples to keep.
    pub signature_cache_capacity: usize,
}

impl Default for VerifierOptions {
    fn default() -> Self {
        VerifierOptions {
            chain_cache_capacity: 256,
            signature_cache_capacity: 16384,
        }
    }
}

impl VerifierOptions {
    /// The default capacities.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps at most `capacity` verified certificate chains (0: none).
    #[must_use]
    pub fn chain_cache_capacity(mut self, capacity: usize) -> Self {
        self.chain_cache_capacity = capacity;
        self
    }

    /// Keeps at most `capacity` verified signatures (0: none).
    #[must_use]
    pub fn signature_cache_capacity(mut self, capacity: usize) -> Self {
        self.signature_cache_capacity = capacity;
        self
    }
}

/// How much a [`ReceiptVerifier`] has cached, and how often the caches answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct CacheStats {
    /// Verified certificate chains held.
    pub chains: usize,
    /// Verified signatures held.
    pub signatures: usize,
    /// Verifications that reused a verified chain.
    pub chain_hits: u64,
    /// Verifications that reused a verified signature.
    pub signature_hits: u64,
}

/// A certificate chain that verified up to the service certificate.
struct VerifiedChain {
    key: PublicKey,
    node_id: Sha256Digest,
    /// Validity period of each certificate, node first, service last.
    validity: Box<[(CertificateRole, SystemTime, SystemTime)]>,
    /// The PEM texts it was verified from (kept only when it is cached: a chain found in the
    /// cache is compared with them).
    cert: Box<str>,
    endorsements: Box<[Box<str>]>,
    /// Its key in the chain cache, unless too large to cache or the cache is off.
    cache_key: Option<[u8; 32]>,
}

impl VerifiedChain {
    /// True when `receipt` carries exactly this chain.
    fn is_chain_of(&self, receipt: &Receipt) -> bool {
        let endorsements = receipt.service_endorsements.as_deref().unwrap_or_default();
        *self.cert == *receipt.cert
            && self.endorsements.len() == endorsements.len()
            && self
                .endorsements
                .iter()
                .zip(endorsements)
                .all(|(a, b)| **a == **b)
    }
}

/// Verifies receipts against one service certificate, remembering what it has verified.
///
/// Build one per ledger identity (the service certificate you trust, typically the one your
/// client pins) and share it: it is `Send + Sync`, and verifying many receipts with it is what
/// batch verification is.
///
/// # Caching
///
/// - **Certificate chains.** Once the node certificate and `serviceEndorsements` of a receipt
///   have been checked up to the service certificate, later receipts with the same chain
///   (byte for byte) skip the certificate decoding and the endorsement signatures.
/// - **Signatures.** Once a signature has verified over a Merkle root under a chain, later
///   receipts with the same signature, the same chain (byte for byte) and a leaf and proof that
///   lead to the same root skip the ECDSA verification and the chain lookup by digest.
///
/// Each receipt's leaf, proof, commit evidence, node id and claims are still recomputed every
/// time, so a receipt sharing a signature costs a handful of SHA-256 computations. Only
/// successes are cached: a rejected receipt is checked in full again.
///
/// Memory is bounded: each cache holds at most its capacity (rounded up to an even number) of
/// entries ([`VerifierOptions`]), least recently used entries going first. A signature entry
/// takes at most about 140 bytes (two 32-byte digests in a hash table). A chain entry takes
/// about 300 bytes, plus 48 bytes and the PEM text of each certificate; chains with more than
/// [`MAX_CACHED_ENDORSEMENTS`] endorsements or more than [`MAX_CACHED_CHAIN_TEXT`] bytes of
/// PEM are verified but not cached. With the default capacities the caches therefore never
/// exceed about 7 MiB (2.3 MiB of signatures, 4.5 MiB of chains at the maximum size; a ledger's
/// real chains are about 1 KiB each).
///
/// # Examples
///
/// ```no_run
/// use confidential_ledger::receipt::{ReceiptResponse, ReceiptVerifier, VerifyOptions};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let service_pem = std::fs::read("service_cert.pem")?;
/// let verifier = ReceiptVerifier::new(&service_pem)?;
/// for file in ["2.15.json", "2.16.json", "2.17.json"] {
///     let response = ReceiptResponse::from_json(&std::fs::read_to_string(file)?)?;
///     let verified = verifier.verify_response(&response, &VerifyOptions::new())?;
///     println!("{:?} is in the ledger under root {}", verified.transaction_id, verified.root);
/// }
/// # Ok(())
/// # }
/// ```
pub struct ReceiptVerifier {
    service: Certificate,
    /// The DER service certificate, hashed only when its fingerprint is asked for.
    service_der: Box<[u8]>,
    chains: BoundedCache<Arc<VerifiedChain>>,
    /// (signature, root) digest -> key of the chain it verified under.
    signatures: BoundedCache<[u8; 32]>,
}

impl fmt::Debug for ReceiptVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceiptVerifier")
            .field(
                "service_certificate_sha256",
                &self.service_certificate_sha256(),
            )
            .field("cache", &self.cache_stats())
            .finish()
    }
}

impl ReceiptVerifier {
    /// A verifier trusting `service_certificate_pem` (the ledger's service certificate, as the
    /// identity service returns it; trailing NUL characters and surrounding whitespace are
    /// ignored), with the default cache sizes.
    ///
    /// # Errors
    ///
    /// [`ReceiptError::Certificate`] (role [`CertificateRole::Service`]) when the text is not
    /// one PEM certificate with an ECDSA P-256 or P-384 key.
    pub fn new(service_certificate_pem: impl AsRef<[u8]>) -> Result<Self, ReceiptError> {
        Self::with_options(service_certificate_pem, VerifierOptions::default())
    }

    /// Like [`new`](Self::new), with the cache sizes of `options`.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    pub fn with_options(
        service_certificate_pem: impl AsRef<[u8]>,
        options: VerifierOptions,
    ) -> Result<Self, ReceiptError> {
        let der = encoding::pem_certificate_lenient(service_certificate_pem.as_ref())
            .map_err(|e| ReceiptError::certificate(CertificateRole::Service, e))?;
        Self::from_der_with_options(&der, options)
    }

    /// A verifier trusting the DER service certificate `der` (for instance the certificate a
    /// client pins), with the default cache sizes.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    pub fn from_der(der: &[u8]) -> Result<Self, ReceiptError> {
        Self::from_der_with_options(der, VerifierOptions::default())
    }

    /// A verifier trusting the DER service certificate `der`, with the cache sizes of
    /// `options`.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    pub fn from_der_with_options(
        der: &[u8],
        options: VerifierOptions,
    ) -> Result<Self, ReceiptError> {
        let service = Certificate::from_der(der)
            .map_err(|e| ReceiptError::certificate(CertificateRole::Service, e))?;
        Ok(ReceiptVerifier {
            service,
            service_der: der.into(),
            chains: BoundedCache::new(options.chain_cache_capacity),
            signatures: BoundedCache::new(options.signature_cache_capacity),
        })
    }

    /// SHA-256 of the DER service certificate this verifier trusts.
    pub fn service_certificate_sha256(&self) -> Sha256Digest {
        Sha256Digest::of(&self.service_der)
    }

    /// Verifies `receipt`: see the [module documentation](super) for the steps.
    ///
    /// # Errors
    ///
    /// The [`ReceiptError`] of the first step that failed.
    pub fn verify(
        &self,
        receipt: &Receipt,
        options: &VerifyOptions,
    ) -> Result<Verified, ReceiptError> {
        let expected = expected_transaction_id(options)?;
        self.verify_parts(
            receipt,
            expected.as_deref(),
            options.application_claims.as_deref(),
            options.validity_time,
        )
    }

    /// Verifies the receipt of a receipt response. Unless `options` says otherwise, the
    /// response's own `transactionId` is the expected transaction id (for receipts that name
    /// one: not signature-transaction receipts) and its `applicationClaims` (when present) the
    /// claims to check, so this proves the response is consistent and in the ledger; pass the
    /// transaction id you asked for in `options` to also prove it answers your question.
    ///
    /// # Errors
    ///
    /// [`ReceiptError::NotReady`] when the response has no receipt yet, otherwise as
    /// [`verify`](Self::verify).
    pub fn verify_response(
        &self,
        response: &ReceiptResponse,
        options: &VerifyOptions,
    ) -> Result<Verified, ReceiptError> {
        let receipt = response
            .receipt
            .as_ref()
            .ok_or_else(|| ReceiptError::NotReady {
                state: response.state.to_string(),
            })?;
        let own_id = Some(response.transaction_id.as_str())
            .filter(|id| !id.is_empty() && receipt.leaf_components().is_some());
        let expected = expected_transaction_id(options)?;
        let transaction_id = expected.as_deref().or(own_id);
        let claims = options
            .application_claims
            .as_deref()
            .or(response.application_claims.as_deref());
        self.verify_parts(receipt, transaction_id, claims, options.validity_time)
    }

    /// Sizes and hit counts of the caches.
    pub fn cache_stats(&self) -> CacheStats {
        CacheStats {
            chains: self.chains.len(),
            signatures: self.signatures.len(),
            chain_hits: self.chains.hits(),
            signature_hits: self.signatures.hits(),
        }
    }

    /// Empties the caches.
    pub fn clear_cache(&self) {
        self.chains.clear();
        self.signatures.clear();
    }

    fn verify_parts(
        &self,
        receipt: &Receipt,
        transaction_id: Option<&str>,
        claims: Option<&[ApplicationClaim]>,
        validity_time: Option<SystemTime>,
    ) -> Result<Verified, ReceiptError> {
        // Step 1: the leaf, and the commit evidence it contains.
        let (leaf, tx_id, stated_claims) = match &receipt.leaf {
            ReceiptLeaf::Components(c) => {
                let leaf = merkle::leaf_of(c)?;
                let tx_id = commit_evidence::parse_commit_evidence(&c.commit_evidence).map_err(
                    |reason| ReceiptError::CommitEvidence {
                        commit_evidence: c.commit_evidence.clone(),
                        reason,
                    },
                )?;
                let claims = match &c.claims_digest {
                    // Already validated by `leaf_of`.
                    Some(hex) => Sha256Digest::from_hex(hex).ok(),
                    None => None,
                };
                (leaf, Some(tx_id), claims)
            }
            ReceiptLeaf::Digest(hex) => {
                let leaf = Sha256Digest::from_hex(hex)
                    .map_err(|e| ReceiptError::malformed("leaf", e.to_string()))?;
                (leaf, None, None)
            }
        };

        // Step 2: the root.
        let root = merkle::root_of(leaf, &receipt.proof)?;
        if let Some(stated) = &receipt.root {
            let stated = Sha256Digest::from_hex(stated)
                .map_err(|e| ReceiptError::malformed("root", e.to_string()))?;
            if stated != root {
                return Err(ReceiptError::Root {
                    computed: root,
                    stated,
                });
            }
        }

        // Step 6: the transaction asked about.
        if let Some(expected) = transaction_id {
            let wanted = commit_evidence::parse_tx_id(expected)
                .ok_or_else(|| ReceiptError::InvalidTransactionId(expected.to_owned()))?;
            if tx_id != Some(wanted) {
                return Err(ReceiptError::TransactionId {
                    expected: expected.to_owned(),
                    found: tx_id.map(|t: TxId| t.to_string()),
                });
            }
        }

        // Step 7: the application claims.
        if let Some(claims) = claims {
            check_claims(claims, stated_claims, receipt.leaf_components().is_some())?;
        }

        // Steps 5 and 3, from the caches when this signature already verified over this root
        // under this very chain. A signature is only ever found through its chain, so without
        // both caches there is no key to compute.
        let signature_key: Option<[u8; 32]> =
            (self.signatures.is_enabled() && self.chains.is_enabled()).then(|| {
                Sha256::new()
                    .chain_update(receipt.signature.as_bytes())
                    .chain_update(root.as_bytes())
                    .finalize()
                    .into()
            });
        let cached = signature_key
            .and_then(|key| self.signatures.get(&key))
            .and_then(|chain_key| self.chains.get(&chain_key))
            .filter(|chain| chain.is_chain_of(receipt));
        let (chain, signature_verified) = match cached {
            Some(chain) => {
                self.signatures.record_hit();
                self.chains.record_hit();
                (chain, true)
            }
            None => (self.chain(receipt)?, false),
        };

        // Step 5 (continued): validity periods, when asked.
        if let Some(at) = validity_time {
            for &(role, not_before, not_after) in chain.validity.iter() {
                if !(not_before <= at && at <= not_after) {
                    return Err(ReceiptError::CertificateValidity {
                        role,
                        at,
                        not_before,
                        not_after,
                    });
                }
            }
        }

        // Step 4: the node id.
        if let Some(stated) = &receipt.node_id {
            let stated = Sha256Digest::from_hex(stated)
                .map_err(|e| ReceiptError::malformed("nodeId", e.to_string()))?;
            if stated != chain.node_id {
                return Err(ReceiptError::NodeId {
                    expected: chain.node_id,
                    stated,
                });
            }
        }

        // Step 3: the node's signature over the root.
        if !signature_verified {
            check_signature(&chain.key, root, &receipt.signature)?;
            if let (Some(signature_key), Some(chain_key)) = (signature_key, chain.cache_key) {
                self.signatures.insert(signature_key, chain_key);
            }
        }

        Ok(Verified {
            transaction_id: tx_id.map(|t| t.to_string()),
            leaf,
            root,
            node_id: chain.node_id,
            claims_digest: stated_claims,
        })
    }

    /// The verified chain of `receipt`, from the cache or checked now.
    fn chain(&self, receipt: &Receipt) -> Result<Arc<VerifiedChain>, ReceiptError> {
        let endorsements = receipt.service_endorsements.as_deref().unwrap_or_default();
        // No key (and no hashing of the certificates) when the chain cache is off.
        let key = self
            .chains
            .is_enabled()
            .then(|| chain_key(&receipt.cert, endorsements));
        if let Some(chain) = key.and_then(|key| self.chains.get(&key)) {
            self.chains.record_hit();
            return Ok(chain);
        }

        let mut certs = Vec::with_capacity(endorsements.len() + 1);
        certs.push((
            CertificateRole::Node,
            receipt_certificate(&receipt.cert, CertificateRole::Node)?,
        ));
        for (i, pem) in endorsements.iter().enumerate() {
            let role = CertificateRole::Endorsement(i);
            certs.push((role, receipt_certificate(pem, role)?));
        }
        for (index, (subject, cert)) in certs.iter().enumerate() {
            let (issuer, issuer_key) = match certs.get(index + 1) {
                Some((role, next)) => (*role, &next.key),
                None => (CertificateRole::Service, &self.service.key),
            };
            if !cert.is_signed_by(issuer_key) {
                return Err(ReceiptError::Endorsement {
                    index,
                    subject: *subject,
                    issuer,
                });
            }
        }

        let validity = certs
            .iter()
            .map(|(role, c)| (*role, c.not_before, c.not_after))
            .chain(std::iter::once((
                CertificateRole::Service,
                self.service.not_before,
                self.service.not_after,
            )))
            .collect();
        let text = receipt.cert.len() + endorsements.iter().map(String::len).sum::<usize>();
        let cache_key = key.filter(|_| {
            endorsements.len() <= MAX_CACHED_ENDORSEMENTS && text <= MAX_CACHED_CHAIN_TEXT
        });
        let node = certs.swap_remove(0).1;
        let chain = Arc::new(VerifiedChain {
            node_id: node.key.spki_sha256(),
            key: node.key,
            validity,
            cert: if cache_key.is_some() {
                receipt.cert.as_str().into()
            } else {
                Box::default()
            },
            endorsements: if cache_key.is_some() {
                endorsements.iter().map(|e| e.as_str().into()).collect()
            } else {
                Box::default()
            },
            cache_key,
        });
        if let Some(key) = cache_key {
            self.chains.insert(key, Arc::clone(&chain));
        }
        Ok(chain)
    }
}

/// Step 3: the signature must verify under the node key with the root as the prehash.
fn check_signature(
    key: &PublicKey,
    root: Sha256Digest,
    signature: &str,
) -> Result<(), ReceiptError> {
    let der = encoding::base64_strict(signature)
        .map_err(|e| ReceiptError::malformed("signature", format!("invalid base64: {e}")))?;
    match root_signature::verify(key, root.as_bytes(), &der) {
        Some(true) => Ok(()),
        Some(false) => Err(ReceiptError::Signature { root }),
        None => Err(ReceiptError::malformed(
            "signature",
            "not a DER ECDSA signature for the node key's curve",
        )),
    }
}

/// Step 7: compares the claims digest of `claims` with the one the receipt states.
fn check_claims(
    claims: &[ApplicationClaim],
    stated: Option<Sha256Digest>,
    has_components: bool,
) -> Result<(), ReceiptError> {
    if claims.is_empty() {
        // No claims: the leaf states 32 zero bytes, or (very old receipts) nothing.
        return match stated {
            Some(d) if !d.is_zero() => Err(ReceiptError::ClaimsDigest {
                computed: Sha256Digest::ZERO,
                stated: Some(d),
            }),
            None if !has_components => Err(ReceiptError::ClaimsDigest {
                computed: Sha256Digest::ZERO,
                stated: None,
            }),
            _ => Ok(()),
        };
    }
    let computed = claims_digest(claims)?;
    if stated == Some(computed) {
        Ok(())
    } else {
        Err(ReceiptError::ClaimsDigest { computed, stated })
    }
}

/// Decodes a certificate carried in a receipt (strict PEM).
fn receipt_certificate(pem: &str, role: CertificateRole) -> Result<Certificate, ReceiptError> {
    let der = encoding::pem_certificate_strict(pem)
        .map_err(|e| ReceiptError::certificate(role, format!("not a PEM certificate: {e}")))?;
    Certificate::from_der(&der).map_err(|e| ReceiptError::certificate(role, e))
}

/// Cache key of a chain: SHA-256 over the length-prefixed PEM texts.
fn chain_key(node: &str, endorsements: &[String]) -> [u8; 32] {
    let mut h = Sha256::new();
    for pem in std::iter::once(node).chain(endorsements.iter().map(String::as_str)) {
        h.update((pem.len() as u64).to_le_bytes());
        h.update(pem.as_bytes());
    }
    h.finalize().into()
}

/// Verifies `receipt` against `service_certificate_pem` without caching: the one-shot form of
/// [`ReceiptVerifier::verify`]. See the [module documentation](super) for the steps.
///
/// # Errors
///
/// [`ReceiptError::Certificate`] when the service certificate is unusable, otherwise the
/// [`ReceiptError`] of the first step that failed.
///
/// # Examples
///
/// ```no_run
/// use confidential_ledger::receipt::{Receipt, VerifyOptions, verify};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let receipt = Receipt::from_json(&std::fs::read_to_string("receipt.json")?)?;
/// let service_pem = std::fs::read("service_cert.pem")?;
/// let verified = verify(&receipt, &service_pem, &VerifyOptions::new().transaction_id("2.15"))?;
/// assert_eq!(verified.transaction_id.as_deref(), Some("2.15"));
/// # Ok(())
/// # }
/// ```
pub fn verify(
    receipt: &Receipt,
    service_certificate_pem: impl AsRef<[u8]>,
    options: &VerifyOptions,
) -> Result<Verified, ReceiptError> {
    let uncached = VerifierOptions::new()
        .chain_cache_capacity(0)
        .signature_cache_capacity(0);
    ReceiptVerifier::with_options(service_certificate_pem, uncached)?.verify(receipt, options)
}

/// The transaction id [`VerifyOptions`] asks for, as text, or why it is not one.
fn expected_transaction_id(options: &VerifyOptions) -> Result<Option<String>, ReceiptError> {
    options
        .transaction_id
        .as_ref()
        .map(|id| {
            id.get()
                .map(|id| id.to_string())
                .map_err(|e| ReceiptError::InvalidTransactionId(e.input().to_owned()))
        })
        .transpose()
}
