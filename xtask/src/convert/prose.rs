//! Prose: the converted spec holds structure only.
//!
//! Descriptions, summaries, titles, examples and tool provenance are dropped. The keys below are
//! removed only where they are keywords (on schema, parameter, operation, response and info
//! objects); a *property* named `description` is structure and is kept.

/// Keyword keys that carry prose and are dropped wherever they are keywords.
pub const PROSE_KEYS: &[&str] = &[
    "description",
    "summary",
    "title",
    "example",
    "examples",
    "externalDocs",
    "x-ms-examples",
    "x-typespec-generated",
];

/// Whether `key`, used as a keyword, is prose.
pub fn is_prose(key: &str) -> bool {
    PROSE_KEYS.contains(&key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_keys_are_recognised_and_structure_is_not() {
        for key in ["description", "summary", "x-ms-examples", "example"] {
            assert!(is_prose(key), "{key}");
        }
        for key in ["type", "x-ms-pageable", "x-ms-enum", "required", "readOnly"] {
            assert!(!is_prose(key), "{key}");
        }
    }
}
