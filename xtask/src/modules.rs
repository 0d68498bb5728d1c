//! `cargo xtask modules [--check]`: the dependency graph of the crate's modules, and its cycles.
//!
//! Every file under `src/` is a module (`lib.rs` the root, `a.rs` and `a/mod.rs` module `a`,
//! `a/b.rs` module `a::b`). A module depends on another when its code names a path into it:
//! `use crate::a::...`, `crate::a::f()`, `use crate::{a, b::c}`, `super::...` (resolved from
//! the module it is written in, inline `mod x { .. }` blocks included). A path to a name the
//! root re-exports (`crate::Error`, through `pub use error::Error;` in `lib.rs`) depends on the
//! module it is re-exported from. Comments and doc text are not code (the tokenizer drops
//! them; intra-doc links are not dependencies), and neither are `#[cfg(test)]` modules: unit
//! tests may reach anywhere.
//!
//! The check ([`Graph::cycles`]) fails on any cycle between *top-level* modules (`client`,
//! `pipeline`, ...): a module's files may use each other freely, but top-level modules form
//! layers. [`Graph::cycles_within`] lists the cycles between the *second-level* modules inside
//! one top-level module, for information (a parent `mod.rs` and its children naturally refer
//! to each other, so those are not enforced).
//!
//! # Examples
//!
//! ```
//! use xtask::modules::Graph;
//!
//! let graph = Graph::from_sources([
//!     ("lib.rs", "mod a; mod b; pub use a::Thing;"),
//!     ("a.rs", "pub struct Thing; fn f() { crate::b::g(); }"),
//!     ("b.rs", "use crate::Thing; pub fn g() {}"),
//! ])
//! .unwrap();
//! assert_eq!(graph.cycles(), vec![vec!["a".to_string(), "b".to_string()]]);
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use proc_macro2::{Delimiter, TokenStream, TokenTree};

/// Why the graph could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ModulesError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file is not Rust tokens.
    #[error("cannot tokenize {path}: {message}")]
    Tokenize {
        /// The file, relative to `src/`.
        path: String,
        /// The tokenizer's message.
        message: String,
    },
    /// There is no `lib.rs` among the files.
    #[error("no lib.rs in the source tree")]
    NoRoot,
}

/// A module path from the crate root (`["client", "options"]`); empty for the root.
pub type ModulePath = Vec<String>;

/// The modules of a crate and what each depends on.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    /// Module -> the module paths it names (as written, resolved to start at the root).
    edges: BTreeMap<ModulePath, BTreeSet<ModulePath>>,
    /// Names the root re-exports -> the top-level module they come from.
    root_reexports: BTreeMap<String, String>,
    /// Top-level modules (declared in `lib.rs`).
    top_level: BTreeSet<String>,
    /// `include!`d files that were not given (their uses are unknown).
    missing_includes: BTreeSet<String>,
}

impl Graph {
    /// Reads every `.rs` file under `src_dir`.
    ///
    /// # Errors
    ///
    /// [`ModulesError`] when a file cannot be read or tokenized, or there is no `lib.rs`.
    pub fn read(src_dir: &Path, out_dir: Option<&Path>) -> Result<Self, ModulesError> {
        let mut includes = BTreeMap::new();
        if let Some(out_dir) = out_dir {
            let mut generated = Vec::new();
            collect_files(out_dir, out_dir, &mut generated)?;
            for (relative, path) in generated {
                let text = std::fs::read_to_string(&path)
                    .map_err(|source| ModulesError::Read { path, source })?;
                includes.insert(relative, text);
            }
        }
        let mut files = Vec::new();
        collect_files(src_dir, src_dir, &mut files)?;
        let mut sources = Vec::new();
        for (relative, path) in files {
            let text = std::fs::read_to_string(&path).map_err(|source| ModulesError::Read {
                path: path.clone(),
                source,
            })?;
            sources.push((relative, text));
        }
        Self::from_sources_with_includes(sources, &includes)
    }

    /// Builds the graph from `(path relative to src/, text)` pairs.
    ///
    /// # Errors
    ///
    /// [`ModulesError`] when a file cannot be tokenized or there is no `lib.rs`.
    pub fn from_sources<I, P, T>(sources: I) -> Result<Self, ModulesError>
    where
        I: IntoIterator<Item = (P, T)>,
        P: AsRef<str>,
        T: AsRef<str>,
    {
        Self::from_sources_with_includes(sources, &BTreeMap::new())
    }

    /// As [`from_sources`](Self::from_sources), reading the code of
    /// `include!(concat!(env!("OUT_DIR"), "/name.rs"))` from `includes` (file name -> text)
    /// as part of the module that includes it (the generated clients).
    ///
    /// # Errors
    ///
    /// [`ModulesError`] when a file cannot be tokenized or there is no `lib.rs`.
    pub fn from_sources_with_includes<I, P, T>(
        sources: I,
        includes: &BTreeMap<String, String>,
    ) -> Result<Self, ModulesError>
    where
        I: IntoIterator<Item = (P, T)>,
        P: AsRef<str>,
        T: AsRef<str>,
    {
        let mut graph = Graph::default();
        let mut has_root = false;
        for (relative, text) in sources {
            let relative = relative.as_ref();
            let Some(module) = module_of_file(relative) else {
                continue;
            };
            let tokens =
                TokenStream::from_str(text.as_ref()).map_err(|e| ModulesError::Tokenize {
                    path: relative.to_string(),
                    message: e.to_string(),
                })?;
            if module.is_empty() {
                has_root = true;
                graph.read_root(tokens.clone());
            }
            let mut visitor = Visitor {
                edges: &mut graph.edges,
                includes,
                missing: &mut graph.missing_includes,
            };
            visitor.walk(tokens, &module);
        }
        if !has_root {
            return Err(ModulesError::NoRoot);
        }
        Ok(graph)
    }

    /// Top-level modules and re-exports of the root.
    fn read_root(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < tokens.len() {
            if is_ident(&tokens[i], "mod") {
                if let Some(TokenTree::Ident(name)) = tokens.get(i + 1) {
                    self.top_level.insert(name.to_string());
                }
            } else if is_ident(&tokens[i], "use") {
                let end = (i..tokens.len())
                    .find(|&j| is_punct(&tokens[j], ';'))
                    .unwrap_or(tokens.len());
                let stream: TokenStream = tokens[i + 1..end].iter().cloned().collect();
                let mut leaves = Vec::new();
                use_tree_leaves(stream, Vec::new(), &mut leaves);
                for (path, exported) in leaves {
                    let path: Vec<String> = path
                        .into_iter()
                        .skip_while(|s| s == "crate" || s == "self")
                        .collect();
                    if let Some(first) = path.first() {
                        self.root_reexports.insert(exported, first.clone());
                    }
                }
                i = end;
            }
            i += 1;
        }
    }

    /// The top-level module a root-relative path depends on, if it names one.
    fn top_level_of(&self, path: &[String]) -> Option<String> {
        let first = path.first()?;
        if self.top_level.contains(first) {
            Some(first.clone())
        } else {
            self.root_reexports.get(first).cloned()
        }
    }

    /// Dependencies between top-level modules (self-dependencies left out).
    pub fn top_level_edges(&self) -> BTreeMap<String, BTreeSet<String>> {
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for name in &self.top_level {
            out.entry(name.clone()).or_default();
        }
        for (from, targets) in &self.edges {
            let Some(from_top) = from.first() else {
                continue; // the root re-exports everything; it is not a layer
            };
            for target in targets {
                if let Some(to) = self.top_level_of(target)
                    && &to != from_top
                {
                    out.entry(from_top.clone()).or_default().insert(to);
                }
            }
        }
        out
    }

    /// Why `from` depends on `to` (top-level modules): the modules and paths that name it.
    pub fn reasons(&self, from: &str, to: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (module, targets) in &self.edges {
            if module.first().map(String::as_str) != Some(from) {
                continue;
            }
            for target in targets {
                if self.top_level_of(target).as_deref() == Some(to) {
                    out.push(format!(
                        "{} uses crate::{}",
                        module.join("::"),
                        target.join("::")
                    ));
                }
            }
        }
        out
    }

    /// The cycles between top-level modules: each strongly connected component of more than
    /// one module, sorted.
    pub fn cycles(&self) -> Vec<Vec<String>> {
        strongly_connected(&self.top_level_edges())
    }

    /// The cycles between the second-level modules inside the top-level module `parent`
    /// (`parent` itself, its `mod.rs`, is one of the nodes).
    pub fn cycles_within(&self, parent: &str) -> Vec<Vec<String>> {
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let second = |path: &[String]| -> Option<String> {
            match path {
                [first, ..] if first != parent => None,
                [_, second, ..] if self.is_module(parent, second) => Some(second.clone()),
                [_, ..] => Some(String::new()),
                [] => None,
            }
        };
        for (from, targets) in &self.edges {
            let Some(from_second) = second(from) else {
                continue;
            };
            for target in targets {
                if let Some(to) = second(target)
                    && to != from_second
                {
                    edges.entry(from_second.clone()).or_default().insert(to);
                }
            }
        }
        strongly_connected(&edges)
            .into_iter()
            .map(|c| {
                c.into_iter()
                    .map(|m| {
                        if m.is_empty() {
                            parent.to_string()
                        } else {
                            format!("{parent}::{m}")
                        }
                    })
                    .collect()
            })
            .collect()
    }

    fn is_module(&self, parent: &str, child: &str) -> bool {
        self.edges
            .keys()
            .any(|m| m.len() >= 2 && m[0] == parent && m[1] == child)
    }

    /// The `include!`d files whose code was not available (no build output given).
    pub fn missing_includes(&self) -> &BTreeSet<String> {
        &self.missing_includes
    }

    /// The top-level modules.
    pub fn top_level(&self) -> &BTreeSet<String> {
        &self.top_level
    }
}

/// Walks tokens, recording each `crate::` and `super::` path under the module being read.
struct Visitor<'a> {
    edges: &'a mut BTreeMap<ModulePath, BTreeSet<ModulePath>>,
    includes: &'a BTreeMap<String, String>,
    missing: &'a mut BTreeSet<String>,
}

impl Visitor<'_> {
    fn walk(&mut self, tokens: TokenStream, module: &ModulePath) {
        self.edges.entry(module.clone()).or_default();
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        let mut cfg_test = false;
        while i < tokens.len() {
            match &tokens[i] {
                TokenTree::Punct(p) if p.as_char() == '#' => {
                    if let Some(TokenTree::Group(g)) = tokens.get(i + 1) {
                        if g.delimiter() == Delimiter::Bracket && is_cfg_test(g.stream()) {
                            cfg_test = true;
                        }
                        i += 2;
                        continue;
                    }
                }
                TokenTree::Ident(id) if id == "mod" => {
                    if let (Some(TokenTree::Ident(name)), Some(TokenTree::Group(body))) =
                        (tokens.get(i + 1), tokens.get(i + 2))
                        && body.delimiter() == Delimiter::Brace
                    {
                        if !cfg_test {
                            let mut inner = module.clone();
                            inner.push(name.to_string());
                            self.walk(body.stream(), &inner);
                        }
                        cfg_test = false;
                        i += 3;
                        continue;
                    }
                }
                TokenTree::Ident(id)
                    if id == "include" && tokens.get(i + 1).is_some_and(|t| is_punct(t, '!')) =>
                {
                    if let Some(TokenTree::Group(args)) = tokens.get(i + 2)
                        && let Some(name) = included_file(args.stream())
                    {
                        match self.includes.get(&name).map(|t| TokenStream::from_str(t)) {
                            Some(Ok(generated)) => self.walk(generated, module),
                            _ => {
                                self.missing.insert(name);
                            }
                        }
                    }
                    i += 3;
                    continue;
                }
                TokenTree::Ident(id) if id == "crate" || id == "super" => {
                    let (path, next) = read_path(&tokens, i);
                    if let Some(resolved) = resolve(&path, module) {
                        // `crate::{a, b::c}`: a group after the path holds several.
                        if let Some(TokenTree::Group(g)) = tokens.get(next)
                            && g.delimiter() == Delimiter::Brace
                            && ends_with_sep(&tokens, next)
                        {
                            let mut leaves = Vec::new();
                            use_tree_leaves(g.stream(), Vec::new(), &mut leaves);
                            for (leaf, _) in leaves {
                                let mut full = resolved.clone();
                                full.extend(leaf.into_iter().filter(|s| s != "self"));
                                self.record(module, full);
                            }
                            i = next + 1;
                            continue;
                        }
                        self.record(module, resolved);
                    }
                    i = next;
                    continue;
                }
                TokenTree::Group(g) => self.walk_nested(g.stream(), module),
                _ => {}
            }
            if !matches!(&tokens[i], TokenTree::Punct(p) if p.as_char() == '#') {
                // An attribute applies to the next item only.
                if matches!(&tokens[i], TokenTree::Punct(p) if p.as_char() == ';')
                    || matches!(&tokens[i], TokenTree::Group(g) if g.delimiter() == Delimiter::Brace)
                {
                    cfg_test = false;
                }
            }
            i += 1;
        }
    }

    /// A group that is not a module body: same module.
    fn walk_nested(&mut self, tokens: TokenStream, module: &ModulePath) {
        self.walk(tokens, module);
    }

    fn record(&mut self, module: &ModulePath, target: ModulePath) {
        if !target.is_empty() {
            self.edges.entry(module.clone()).or_default().insert(target);
        }
    }
}

/// The file name of `include!(concat!(env!("OUT_DIR"), "/name.rs"))`: the last string literal,
/// without its leading `/`.
fn included_file(args: TokenStream) -> Option<String> {
    fn last_literal(tokens: TokenStream) -> Option<String> {
        let mut found = None;
        for token in tokens {
            match token {
                TokenTree::Literal(l) => found = Some(l.to_string()),
                TokenTree::Group(g) => found = last_literal(g.stream()).or(found),
                _ => {}
            }
        }
        found
    }
    let literal = last_literal(args)?;
    let text = literal.strip_prefix('"')?.strip_suffix('"')?;
    Some(text.trim_start_matches('/').to_string())
}

/// `#[cfg(test)]` (also `#[cfg(all(test, ...))]`).
fn is_cfg_test(attr: TokenStream) -> bool {
    let tokens: Vec<TokenTree> = attr.into_iter().collect();
    match tokens.as_slice() {
        [TokenTree::Ident(cfg), TokenTree::Group(args)] if cfg == "cfg" => {
            let inner: Vec<TokenTree> = args.stream().into_iter().collect();
            match inner.as_slice() {
                [TokenTree::Ident(t)] => t == "test",
                [TokenTree::Ident(all), TokenTree::Group(list)] if all == "all" => list
                    .stream()
                    .into_iter()
                    .any(|t| matches!(&t, TokenTree::Ident(i) if i == "test")),
                _ => false,
            }
        }
        _ => false,
    }
}

/// Reads `crate::a::b` / `super::super::x` from `start`: the segments (including `crate` or
/// `super`) and the index after the path. A path ending in `::` leaves `next` at the token
/// after the separator (a `{...}` group for a use tree).
fn read_path(tokens: &[TokenTree], start: usize) -> (Vec<String>, usize) {
    let mut segments = Vec::new();
    let mut i = start;
    while let Some(TokenTree::Ident(id)) = tokens.get(i) {
        segments.push(id.to_string());
        i += 1;
        if is_sep(tokens, i) {
            i += 2;
        } else {
            break;
        }
    }
    (segments, i)
}

/// Whether the token before `index` ends a `::` separator.
fn ends_with_sep(tokens: &[TokenTree], index: usize) -> bool {
    index >= 2 && is_sep(tokens, index - 2)
}

fn is_sep(tokens: &[TokenTree], i: usize) -> bool {
    matches!(
        (tokens.get(i), tokens.get(i + 1)),
        (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b))) if a.as_char() == ':' && b.as_char() == ':'
    )
}

/// `crate::a::b` or `super::x` written in `module`, as a path from the root.
fn resolve(path: &[String], module: &ModulePath) -> Option<ModulePath> {
    let mut segments = path.iter();
    let mut base: ModulePath = match segments.next()?.as_str() {
        "crate" => Vec::new(),
        "super" => {
            let mut base = module.clone();
            base.pop()?;
            base
        }
        _ => return None,
    };
    let mut rest: Vec<String> = Vec::new();
    for segment in segments {
        if segment == "super" && rest.is_empty() {
            base.pop()?;
        } else {
            rest.push(segment.clone());
        }
    }
    base.extend(rest);
    Some(base)
}

/// The leaves of a use tree (`a::{b, c::d as e}, f`): each path and the name it binds.
fn use_tree_leaves(tokens: TokenStream, prefix: Vec<String>, out: &mut Vec<(Vec<String>, String)>) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut path = prefix.clone();
    let mut i = 0;
    let mut alias: Option<String> = None;
    let flush = |path: &mut Vec<String>, alias: &mut Option<String>, out: &mut Vec<_>| {
        if path.len() > prefix.len() {
            let name = alias
                .take()
                .unwrap_or_else(|| path.last().cloned().unwrap_or_default());
            out.push((std::mem::take(path), name));
        }
        *path = prefix.clone();
    };
    while i < tokens.len() {
        match &tokens[i] {
            TokenTree::Ident(id) if id == "as" => {
                if let Some(TokenTree::Ident(name)) = tokens.get(i + 1) {
                    alias = Some(name.to_string());
                }
                i += 2;
                continue;
            }
            TokenTree::Ident(id) if id == "pub" => {
                // `pub(crate) use` visibility arguments.
                if matches!(tokens.get(i + 1), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis)
                {
                    i += 1;
                }
            }
            TokenTree::Ident(id) => path.push(id.to_string()),
            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => {
                use_tree_leaves(g.stream(), path.clone(), out);
                path = prefix.clone();
            }
            TokenTree::Punct(p) if p.as_char() == ',' => flush(&mut path, &mut alias, out),
            TokenTree::Punct(p) if p.as_char() == '*' => {
                // A glob: the module itself.
                if path.len() > prefix.len() {
                    out.push((std::mem::take(&mut path), "*".to_string()));
                }
                path = prefix.clone();
            }
            _ => {}
        }
        i += 1;
    }
    flush(&mut path, &mut alias, out);
}

/// The strongly connected components of more than one node (Tarjan), sorted.
fn strongly_connected(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        if let Some(targets) = s.edges.get(v) {
            for w in targets {
                let w = w.as_str();
                if !s.index.contains_key(w) {
                    visit(s, w);
                    let low = s.low[v].min(s.low[w]);
                    s.low.insert(v, low);
                } else if s.on_stack.contains(w) {
                    let low = s.low[v].min(s.index[w]);
                    s.low.insert(v, low);
                }
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.out.push(component);
            }
        }
    }
    let mut state = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    let nodes: BTreeSet<&str> = edges
        .iter()
        .flat_map(|(k, v)| std::iter::once(k.as_str()).chain(v.iter().map(String::as_str)))
        .collect();
    for node in nodes {
        if !state.index.contains_key(node) {
            visit(&mut state, node);
        }
    }
    state.out.sort();
    state.out
}

/// `lib.rs` -> root, `a.rs` / `a/mod.rs` -> `a`, `a/b.rs` -> `a::b`; `None` for other files
/// (`main.rs`, `bin/`).
fn module_of_file(relative: &str) -> Option<ModulePath> {
    let relative = relative.replace('\\', "/");
    let stem = relative.strip_suffix(".rs")?;
    if stem == "lib" {
        return Some(Vec::new());
    }
    if stem == "main" || stem.starts_with("bin/") {
        return None;
    }
    let mut parts: Vec<String> = stem.split('/').map(str::to_string).collect();
    if parts.last().map(String::as_str) == Some("mod") {
        parts.pop();
    }
    Some(parts)
}

fn collect_files(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, PathBuf)>,
) -> Result<(), ModulesError> {
    let read = |path: &Path, source| ModulesError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| read(dir, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| read(dir, e))?;
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            collect_files(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            out.push((relative, path));
        }
    }
    Ok(())
}

fn is_ident(token: &TokenTree, name: &str) -> bool {
    matches!(token, TokenTree::Ident(id) if id == name)
}

fn is_punct(token: &TokenTree, c: char) -> bool {
    matches!(token, TokenTree::Punct(p) if p.as_char() == c)
}

/// A report of the cycles of `graph`, one paragraph per cycle with the uses that make it.
pub fn report(graph: &Graph, cycles: &[Vec<String>]) -> String {
    let mut out = String::new();
    for cycle in cycles {
        out.push_str(&format!("cycle between modules: {}\n", cycle.join(", ")));
        for from in cycle {
            for to in cycle {
                if from != to {
                    for reason in graph.reasons(from, to) {
                        out.push_str(&format!("  {from} -> {to}: {reason}\n"));
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(files: &[(&str, &str)]) -> Graph {
        Graph::from_sources(files.iter().copied()).unwrap()
    }

    #[test]
    fn super_paths_resolve_from_the_module_they_are_written_in() {
        let g = graph(&[
            ("lib.rs", "mod a; mod b;"),
            ("a/mod.rs", "mod x;"),
            ("a/x.rs", "use super::super::b::f; fn g() { super::h(); }"),
            ("b.rs", "mod inner { use super::super::a::Y; }"),
        ]);
        let edges = g.top_level_edges();
        assert_eq!(edges["a"], BTreeSet::from(["b".to_string()]));
        assert_eq!(edges["b"], BTreeSet::from(["a".to_string()]));
        assert_eq!(g.cycles(), vec![vec!["a".to_string(), "b".to_string()]]);
    }

    #[test]
    fn use_groups_comments_and_test_modules() {
        let g = graph(&[
            (
                "lib.rs",
                "pub mod a; pub mod b; pub mod c; pub use c::{Thing as Renamed, Other};",
            ),
            (
                "a.rs",
                "//! See [`crate::c`].\n/// crate::b::f\nuse crate::{Renamed, b::{self}};\n\
                 #[cfg(test)]\nmod tests { use crate::c::Other; }",
            ),
            ("b.rs", "pub fn f() {}"),
            ("c.rs", "#[cfg(test)] mod tests { use crate::a; }"),
        ]);
        let edges = g.top_level_edges();
        assert_eq!(
            edges["a"],
            BTreeSet::from(["b".to_string(), "c".to_string()])
        );
        assert!(edges["c"].is_empty(), "{edges:?}");
        assert!(g.cycles().is_empty());
    }

    #[test]
    fn cycles_within_a_module_are_listed_separately() {
        let g = graph(&[
            ("lib.rs", "mod a;"),
            ("a/mod.rs", "mod x; mod y;"),
            ("a/x.rs", "use super::y::Y; pub struct X;"),
            ("a/y.rs", "use crate::a::x::X; pub struct Y;"),
        ]);
        assert!(g.cycles().is_empty());
        assert_eq!(
            g.cycles_within("a"),
            vec![vec!["a::x".to_string(), "a::y".to_string()]]
        );
    }
}
