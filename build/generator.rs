//! The generator settings for every raw client: the ONE place to change how progenitor
//! generates code. The build script and, through the files it writes, the snapshot tests use
//! exactly these settings.
//!
//! - `InterfaceStyle::Positional`: one `async fn` per operation taking its parameters in order
//!   (path parameters, then query parameters sorted by name, then the body).
//! - `TagStyle::Merged`: all operations on one `Client` (Positional + Separate panics).
//! - `BTreeMap` for maps: deterministic order in values and snapshots.
//! - `PartialEq` on every type (typify gives untagged enums, such as the open enums, only
//!   `Clone` and `Debug`), so callers and tests can compare values.
//! - Inner type `crate::raw::HookState` and `HooksMode::Expected`: every generated `Client`
//!   carries the HTTP pipeline (auth, retries, redirects, content types, logging) and the
//!   per-call settings, and a missing `ClientHooks` implementation is a compile error. The
//!   implementations are hand-written in `src/raw/hooks.rs`; the generated code is never edited.

use openapiv3::OpenAPI;
use proc_macro2::TokenStream;
use progenitor_impl::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle};

/// The settings.
pub fn settings() -> GenerationSettings {
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Positional)
        .with_tag(TagStyle::Merged)
        .with_map_type("::std::collections::BTreeMap")
        .with_derive("PartialEq")
        .with_inner_type(quote::quote!(crate::raw::HookState))
        .with_hooks(HooksMode::Expected);
    settings
}

/// Generate the client code for one OpenAPI document.
pub fn generate(spec: &OpenAPI) -> Result<TokenStream, progenitor_impl::Error> {
    Generator::new(&settings()).generate_tokens(spec)
}
