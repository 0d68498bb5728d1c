//! The legacy single-role user calls (`get_user`, `create_or_update_user`, `delete_user`,
//! `list_users`) fail with `ApiVersionRedirect` on the default api-version, so they are
//! deprecated at compile time, naming their replacement, in the async client and in the
//! blocking twin alike. Read from the sources (a deprecation is an attribute, not behaviour a
//! program can observe).

use std::path::Path;

use quote::ToTokens;

const LEGACY: [(&str, &str); 4] = [
    ("get_user", "get_ledger_user"),
    ("create_or_update_user", "create_or_update_ledger_user"),
    ("delete_user", "delete_ledger_user"),
    ("list_users", "list_ledger_users"),
];

/// The `note` of each method's `#[deprecated]`, by name, in the `impl` blocks of `file`.
fn deprecation_notes(file: &str) -> Vec<(String, Option<String>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let text = std::fs::read_to_string(&path).expect("the source is readable");
    let parsed = syn::parse_file(&text).expect("the source parses");
    let mut found = Vec::new();
    for item in parsed.items {
        let syn::Item::Impl(block) = item else {
            continue;
        };
        for member in block.items {
            let syn::ImplItem::Fn(method) = member else {
                continue;
            };
            let note = method
                .attrs
                .iter()
                .find(|a| a.path().is_ident("deprecated"))
                .map(|a| a.to_token_stream().to_string());
            found.push((method.sig.ident.to_string(), note));
        }
    }
    found
}

#[test]
fn the_legacy_user_calls_are_deprecated_naming_the_ledger_user_calls() {
    for file in ["src/client/users.rs", "src/blocking/client.rs"] {
        let methods = deprecation_notes(file);
        for (legacy, replacement) in LEGACY {
            let (_, note) = methods
                .iter()
                .find(|(name, _)| name == legacy)
                .unwrap_or_else(|| panic!("{file} has no method {legacy}"));
            let note = note
                .as_deref()
                .unwrap_or_else(|| panic!("{file}: {legacy} is not #[deprecated]"));
            assert!(
                note.contains(&format!("use {replacement}")),
                "{file}: {legacy}'s deprecation does not name {replacement}: {note}"
            );
        }
        // The replacements themselves are not deprecated.
        for (_, replacement) in LEGACY {
            let (_, note) = methods
                .iter()
                .find(|(name, _)| name == replacement)
                .unwrap_or_else(|| panic!("{file} has no method {replacement}"));
            assert!(note.is_none(), "{file}: {replacement} is deprecated");
        }
    }
}
