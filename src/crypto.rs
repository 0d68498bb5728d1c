//! The one rustls crypto provider of the crate, shared by TLS ([`tls`](crate::tls)) and the
//! client certificate's key ([`credential`](crate::credential)).

use std::sync::{Arc, OnceLock};

use rustls::crypto::CryptoProvider;

/// The crypto provider used for every TLS connection and key: rustls' `ring` provider.
///
/// Passed explicitly everywhere, so the process-wide default provider is neither needed nor
/// changed.
///
/// # Examples
///
/// ```
/// let provider = confidential_ledger::tls::crypto_provider();
/// assert!(!provider.cipher_suites.is_empty());
/// ```
pub fn crypto_provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    Arc::clone(PROVIDER.get_or_init(|| Arc::new(rustls::crypto::ring::default_provider())))
}
