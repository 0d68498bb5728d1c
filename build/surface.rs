//! A compact listing of a generated client's public surface, for a reviewable snapshot: each
//! operation (method name, HTTP method and path, each parameter with its location, Rust type
//! and whether it is required, its validation and default, the return types, response headers,
//! paging and every other `x-` extension such as `x-ms-long-running-operation`), each type
//! (fields with their wire names, variants) and the validation constraints of the schemas.
//!
//! Building the listing also checks that every operation of the spec has its method and every
//! parameter its argument; a mismatch fails the build.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use render::tokens_to_string;

use super::facts::OperationFacts;

/// A generated method's arguments (name → Rust type) and return types.
struct Method {
    args: Vec<(String, String)>,
    output: String,
}

/// Render the listing of `file` (the generated code) for the operations `ops`.
pub fn listing(
    name: &str,
    file: &syn::File,
    ops: &[OperationFacts],
    constraints: &[String],
) -> Result<String, String> {
    let methods = methods(file);
    let types = types_module(file).ok_or("the generated code has no `types` module")?;

    let mut out = String::new();
    let _ = writeln!(
        out,
        "{name}: {} operations, {} types",
        ops.len(),
        types.len()
    );
    let _ = writeln!(out, "\noperations:");
    for op in ops {
        let method = methods.get(&op.id).ok_or_else(|| {
            format!(
                "operation {} has no generated method `{}`",
                op.operation_id, op.id
            )
        })?;
        let _ = writeln!(out, "  {}  {} {}", op.id, op.method, op.path);
        // Arguments in the generated signature's order, each with what the spec says of it.
        let mut params: BTreeMap<String, &super::facts::ParamFacts> = op
            .parameters
            .iter()
            .map(|p| (super::facts::method_name(&p.name), p))
            .collect();
        let mut body = op.body.as_ref();
        for (arg, ty) in &method.args {
            if arg == "body" {
                let b = body
                    .take()
                    .ok_or_else(|| format!("{}: argument `body` but no request body", op.id))?;
                let _ = write!(out, "    body {} -> body: {ty} [{}", b.name, b.content_type);
                if b.content_type != b.declared {
                    let _ = write!(out, ", declared {}", b.declared);
                }
                let _ = writeln!(out, "{}]", if b.required { "" } else { ", optional" });
                continue;
            }
            let p = params
                .remove(arg)
                .ok_or_else(|| format!("{}: argument `{arg}` is not in the spec", op.id))?;
            let mut line = format!(
                "    {} {} -> {arg}: {ty}{}",
                p.location,
                p.name,
                if p.required { "" } else { " (optional)" }
            );
            if let Some(format) = &p.collection_format {
                let _ = write!(line, " [{format}-joined list]");
            }
            if let Some(validation) = &p.validation {
                let _ = write!(line, " [validation {validation}]");
            }
            if let Some(default) = &p.default {
                let _ = write!(line, " [default {default}]");
            }
            let _ = writeln!(out, "{line}");
        }
        if let Some((arg, p)) = params.into_iter().next() {
            return Err(format!(
                "{}: parameter {} has no argument `{arg}`",
                op.id, p.name
            ));
        }
        if body.is_some() {
            return Err(format!(
                "{}: the request body has no argument `body`",
                op.id
            ));
        }
        let _ = writeln!(out, "    returns {}", method.output);
        let _ = writeln!(out, "    success {}", op.success_statuses.join(", "));
        if !op.response_headers.is_empty() {
            let _ = writeln!(
                out,
                "    response headers {}",
                op.response_headers.join(", ")
            );
        }
        if let Some((next, item)) = &op.pageable {
            let _ = writeln!(
                out,
                "    pageable items {item}, next link {}",
                next.as_deref().unwrap_or("(none)")
            );
        }
        for (extension, value) in &op.extensions {
            let _ = writeln!(out, "    extension {extension} {value}");
        }
    }
    let extra: Vec<&String> = methods
        .keys()
        .filter(|m| !ops.iter().any(|op| &&op.id == m))
        .collect();
    if !extra.is_empty() {
        return Err(format!("generated methods not in the spec: {extra:?}"));
    }

    let _ = writeln!(out, "\ntypes:");
    for line in types.values() {
        out.push_str(line);
    }

    let _ = writeln!(out, "\nconstraints:");
    if constraints.is_empty() {
        let _ = writeln!(out, "  (none)");
    }
    for line in constraints {
        let _ = writeln!(out, "  {line}");
    }
    Ok(out)
}

/// The async methods of `impl Client`.
fn methods(file: &syn::File) -> BTreeMap<String, Method> {
    let mut out = BTreeMap::new();
    for item in &file.items {
        let syn::Item::Impl(imp) = item else { continue };
        if imp.trait_.is_some() || tokens_to_string(&imp.self_ty) != "Client" {
            continue;
        }
        for member in &imp.items {
            let syn::ImplItem::Fn(f) = member else {
                continue;
            };
            if f.sig.asyncness.is_none() {
                continue;
            }
            let args = f
                .sig
                .inputs
                .iter()
                .filter_map(|input| match input {
                    syn::FnArg::Typed(pat) => {
                        Some((tokens_to_string(&pat.pat), tokens_to_string(&pat.ty)))
                    }
                    syn::FnArg::Receiver(_) => None,
                })
                .collect();
            let output = match &f.sig.output {
                syn::ReturnType::Type(_, ty) => tokens_to_string(ty),
                syn::ReturnType::Default => "()".to_string(),
            };
            out.insert(f.sig.ident.to_string(), Method { args, output });
        }
    }
    out
}

/// One listing block per type of the `types` module, keyed by type name.
fn types_module(file: &syn::File) -> Option<BTreeMap<String, String>> {
    let module = file.items.iter().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == "types" => m.content.as_ref(),
        _ => None,
    })?;
    let mut out = BTreeMap::new();
    for item in &module.1 {
        match item {
            syn::Item::Struct(s) => {
                let mut block = String::new();
                match &s.fields {
                    syn::Fields::Named(fields) => {
                        let _ = writeln!(block, "  struct {}", s.ident);
                        for field in &fields.named {
                            let name = field
                                .ident
                                .as_ref()
                                .map(|i| i.to_string())
                                .unwrap_or_default();
                            let wire = serde_rename(&field.attrs).unwrap_or_else(|| name.clone());
                            let _ = writeln!(
                                block,
                                "    {name}: {} \"{wire}\"{}",
                                tokens_to_string(&field.ty),
                                if has_serde_word(&field.attrs, "default") {
                                    " (optional)"
                                } else {
                                    ""
                                }
                            );
                        }
                    }
                    syn::Fields::Unnamed(fields) => {
                        let inner: Vec<String> = fields
                            .unnamed
                            .iter()
                            .map(|f| tokens_to_string(&f.ty))
                            .collect();
                        let _ = writeln!(block, "  struct {}({})", s.ident, inner.join(", "));
                    }
                    syn::Fields::Unit => {
                        let _ = writeln!(block, "  struct {}", s.ident);
                    }
                }
                out.insert(s.ident.to_string(), block);
            }
            syn::Item::Enum(e) => {
                let mut block = String::new();
                let untagged = if has_serde_word(&e.attrs, "untagged") {
                    " (untagged)"
                } else {
                    ""
                };
                let _ = writeln!(block, "  enum {}{untagged}", e.ident);
                for v in &e.variants {
                    let wire = serde_rename(&v.attrs)
                        .map(|w| format!(" \"{w}\""))
                        .unwrap_or_default();
                    let fields = match &v.fields {
                        syn::Fields::Unit => String::new(),
                        syn::Fields::Unnamed(f) => format!(
                            "({})",
                            f.unnamed
                                .iter()
                                .map(|f| tokens_to_string(&f.ty))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        syn::Fields::Named(f) => format!(
                            " {{ {} }}",
                            f.named
                                .iter()
                                .map(|f| format!(
                                    "{}: {}",
                                    f.ident.as_ref().map(|i| i.to_string()).unwrap_or_default(),
                                    tokens_to_string(&f.ty)
                                ))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    };
                    let _ = writeln!(block, "    {}{fields}{wire}", v.ident);
                }
                out.insert(e.ident.to_string(), block);
            }
            syn::Item::Type(t) => {
                out.insert(
                    t.ident.to_string(),
                    format!("  type {} = {}\n", t.ident, tokens_to_string(&t.ty)),
                );
            }
            _ => {}
        }
    }
    Some(out)
}

/// The `rename = "..."` of a `#[serde(...)]` attribute.
fn serde_rename(attrs: &[syn::Attribute]) -> Option<String> {
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let text = tokens_to_string(&attr.meta);
        if let Some(start) = text.find("rename = \"") {
            let rest = &text[start + "rename = \"".len()..];
            if let Some(end) = rest.find('"') {
                return Some(rest[..end].to_string());
            }
        }
    }
    None
}

/// Whether a `#[serde(...)]` attribute holds the word `word` (`untagged`, `default`).
fn has_serde_word(attrs: &[syn::Attribute], word: &str) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("serde"))
        .any(|a| {
            tokens_to_string(&a.meta)
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|w| w == word)
        })
}

/// Rendering of syntax as Rust source, formatted the way the generated code is.
mod render {
    use quote::ToTokens;

    /// A type (or any syntax that is valid in type position) as one line of source text, with
    /// the standard-library paths the generator spells out in full shortened.
    pub fn tokens_to_string<T: ToTokens>(tokens: &T) -> String {
        let raw = tokens.to_token_stream().to_string();
        let formatted = match syn::parse_str::<syn::File>(&format!("type __T = {raw};")) {
            Ok(file) => prettyplease::unparse(&file)
                .trim()
                .trim_start_matches("type __T = ")
                .trim_end_matches(';')
                .to_string(),
            // Patterns and attribute contents: token text is precise enough.
            Err(_) => return raw,
        };
        let one_line = formatted.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut s = one_line
            .replace("< ", "<")
            .replace(", >", ">")
            .replace(" >", ">");
        for (long, short) in [
            ("::std::option::Option", "Option"),
            ("::std::string::String", "String"),
            ("::std::vec::Vec", "Vec"),
            ("::std::collections::BTreeMap", "BTreeMap"),
            ("::serde_json::", "serde_json::"),
        ] {
            s = s.replace(long, short);
        }
        s
    }
}
