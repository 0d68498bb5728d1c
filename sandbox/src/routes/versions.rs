//! Where answers differ by api-version: which versions follow the recorded behaviour of the
//! real service and which follow the 2026-02-23 spec (see the table in the sandbox README).
//!
//! The Python recordings (January–April 2025, api-versions 2024-08-22-preview and
//! 2024-12-09-preview) show user-defined roles answered in snake_case with JSON-string
//! bodies, and ledger-user updates that add roles; no recording exists at 2026-02-23 or
//! later, where the spec decides (camelCase role models, `204` for a deleted role, merge-patch
//! replacing `assignedRoles`).

/// The first api-version whose roles and ledger-user semantics follow the spec rather than the
/// recordings.
const FIRST_SPEC_SEMANTICS: &str = "2026-02-23";

/// The date part of an api-version (`"2024-12-09"` of `"2024-12-09-preview"`), if it has one.
fn date_of(version: &str) -> Option<&str> {
    let date = version.get(..10)?;
    (date.as_bytes().get(4) == Some(&b'-')).then_some(date)
}

/// Whether `version` answers `/app/roles` and `/app/ledgerUsers` as the recordings show
/// (every version before 2026-02-23, including the undated `0.1-preview`).
pub(crate) fn recorded_semantics(version: &str) -> bool {
    date_of(version).is_none_or(|date| date < FIRST_SPEC_SEMANTICS)
}

/// Whether an entry written at `version` carries a `LedgerEntryV1` application claim: from
/// 2026-02-23 on (the spec's receipts have `applicationClaims`); before, every recorded receipt
/// (2024-08-22-preview, 2024-12-09-preview) has none and an all-zero `claimsDigest`.
pub(crate) fn entries_carry_claims(version: &str) -> bool {
    !recorded_semantics(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_before_2026_02_23_follow_the_recordings() {
        for v in [
            "0.1-preview",
            "2022-05-13",
            "2024-08-22-preview",
            "2024-12-09-preview",
        ] {
            assert!(recorded_semantics(v), "{v}");
        }
        for v in ["2026-02-23", "2026-07-31-preview"] {
            assert!(!recorded_semantics(v), "{v}");
        }
    }
}
