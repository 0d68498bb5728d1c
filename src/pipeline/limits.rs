//! How many bytes of a response body the client reads before it gives up: one limit per kind
//! of answer, sized from the service's own limits.
//!
//! The pipeline reads every success body itself, as a stream, before the generated code sees
//! it: a `Content-Length` above the limit is refused before a byte of the body is read, and a
//! body without one is counted while it streams and refused as soon as it passes the limit. Either way the error is
//! [`ResponseTooLarge`](crate::ErrorKind::ResponseTooLarge), naming the limit and its value.
//! Error bodies are read up to [`ResponseLimits::error_bytes`] and the rest is ignored (the
//! error is reported from what was read).

/// One MiB.
const MIB: u64 = 1024 * 1024;

/// The most bytes of each kind of response body the client reads; see the
/// [module documentation](self).
///
/// # Defaults
///
/// | field | default | answers | why |
/// |---|---|---|---|
/// | [`entry_bytes`](Self::entry_bytes) | 8 MiB | `get_ledger_entry`, `get_current_ledger_entry`, `create_ledger_entry` | an entry holds at most 1 MiB of contents; JSON escaping can grow that 6× (`\u00XX`), plus the envelope |
/// | [`receipt_bytes`](Self::receipt_bytes) | 8 MiB | `get_receipt` | a receipt is a few KiB of proof and certificates; its claims can repeat an entry |
/// | [`page_bytes`](Self::page_bytes) | 64 MiB | every `list_*` page | a page holds about 1000 items; 64 KiB per item on average |
/// | [`identity_bytes`](Self::identity_bytes) | 256 KiB | `get_ledger_identity` | one PEM certificate, a few KiB |
/// | [`error_bytes`](Self::error_bytes) | 64 KiB | every error answer | `{"error": {"code", "message"}}`; the rest is ignored, not refused |
/// | [`other_bytes`](Self::other_bytes) | 16 MiB | everything else (users, roles, governance, programmability) | JavaScript bundles and enclave quotes are the largest |
///
/// # Examples
///
/// ```
/// use confidential_ledger::ClientOptions;
/// use confidential_ledger::pipeline::ResponseLimits;
///
/// let mut options = ClientOptions::default();
/// options.response_limits.page_bytes = 256 * 1024 * 1024;
/// assert_eq!(ResponseLimits::default().entry_bytes, 8 * 1024 * 1024);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseLimits {
    /// The largest answer of an entry read or write.
    pub entry_bytes: u64,
    /// The largest receipt answer.
    pub receipt_bytes: u64,
    /// The largest page of a list.
    pub page_bytes: u64,
    /// The largest answer of the identity service.
    pub identity_bytes: u64,
    /// The most bytes of an error answer read (the rest is ignored).
    pub error_bytes: u64,
    /// The largest answer of any other operation.
    pub other_bytes: u64,
}

impl Default for ResponseLimits {
    fn default() -> Self {
        Self {
            entry_bytes: 8 * MIB,
            receipt_bytes: 8 * MIB,
            page_bytes: 64 * MIB,
            identity_bytes: 256 * 1024,
            error_bytes: 64 * 1024,
            other_bytes: 16 * MIB,
        }
    }
}

/// Which limit applies to a success body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    Entry,
    Receipt,
    Page,
    Identity,
    Other,
}

impl BodyKind {
    /// The kind of answer of the operation `operation_id`.
    pub(crate) fn of(operation_id: &str) -> Self {
        match operation_id {
            "get_ledger_entry" | "get_current_ledger_entry" | "create_ledger_entry" => Self::Entry,
            "get_receipt" => Self::Receipt,
            "get_ledger_identity" => Self::Identity,
            id if id.starts_with("list_") => Self::Page,
            _ => Self::Other,
        }
    }
}

impl ResponseLimits {
    /// The limit for `kind`: its name (as the field is called) and its value.
    pub(crate) fn for_kind(&self, kind: BodyKind) -> (&'static str, u64) {
        match kind {
            BodyKind::Entry => ("entry_bytes", self.entry_bytes),
            BodyKind::Receipt => ("receipt_bytes", self.receipt_bytes),
            BodyKind::Page => ("page_bytes", self.page_bytes),
            BodyKind::Identity => ("identity_bytes", self.identity_bytes),
            BodyKind::Other => ("other_bytes", self.other_bytes),
        }
    }

    /// How many bytes of an error answer are read ([`error_bytes`](Self::error_bytes), as a
    /// length this platform can hold).
    pub(crate) fn error_read_limit(&self) -> usize {
        usize::try_from(self.error_bytes).unwrap_or(usize::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_get_the_limit_of_their_answer() {
        let limits = ResponseLimits::default();
        let name = |id: &str| limits.for_kind(BodyKind::of(id)).0;
        assert_eq!(name("get_ledger_entry"), "entry_bytes");
        assert_eq!(name("create_ledger_entry"), "entry_bytes");
        assert_eq!(name("get_receipt"), "receipt_bytes");
        assert_eq!(name("list_ledger_entries"), "page_bytes");
        assert_eq!(name("list_tags"), "page_bytes");
        assert_eq!(name("get_ledger_identity"), "identity_bytes");
        assert_eq!(name("get_constitution"), "other_bytes");
        assert_eq!(limits.for_kind(BodyKind::Entry).1, 8 * MIB);
        // An entry of 1 MiB of contents, every byte escaped as \u00XX, fits.
        assert!(6 * MIB + 4096 < limits.entry_bytes);
    }
}
