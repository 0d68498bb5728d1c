//! The coverage gate: what the generated clients offer against what the hand-written client
//! uses, named item by item.
//!
//! `xtask/coverage.json` lists, per spec (`ledger`, `identity`):
//!
//! - `wrapped`: the operations the client wraps (progenitor's method names), each of which the
//!   client's sources must call (`.<operation>(` in `src/` outside `src/blocking/`, whose twin
//!   forwards to the async client);
//! - `not_wrapped`: operations deliberately left to the raw client, each with its reason;
//! - `surfaced_fields`: the response fields (`Schema.field`, reachable from the success
//!   responses of wrapped operations) the public models carry;
//! - `hidden_fields`: response fields deliberately not surfaced, each with its reason.
//!
//! [`gaps`] names every generated operation in neither operation list, every response field in
//! neither field list, and every listed item the spec or the sources no longer have. The SDK's
//! `tests/api_coverage.rs` runs it on `spec/` and `src/`; `xtask/tests/maintainer.rs` runs it on
//! a simulated upstream update.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use proc_macro2::{TokenStream, TokenTree};
use serde::Deserialize;
use serde_json::Value;

/// The coverage lists, relative to the workspace root.
pub const COVERAGE_FILE: &str = "xtask/coverage.json";

/// The coverage lists of every spec, by spec name (`ledger`, `identity`).
pub type Coverage = BTreeMap<String, SpecCoverage>;

/// The coverage lists of one spec.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecCoverage {
    /// Operations the client wraps.
    pub wrapped: BTreeSet<String>,
    /// Operations deliberately not wrapped, with the reason.
    #[serde(default)]
    pub not_wrapped: BTreeMap<String, String>,
    /// Response fields the public models carry (`Schema.field`).
    pub surfaced_fields: BTreeSet<String>,
    /// Response fields deliberately not surfaced, with the reason.
    #[serde(default)]
    pub hidden_fields: BTreeMap<String, String>,
}

/// One thing the gate found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Gap {
    /// A generated operation in neither list.
    UnwrappedOperation {
        /// The spec.
        spec: String,
        /// The method name.
        operation: String,
    },
    /// A listed operation the spec no longer has.
    OperationNotInSpec {
        /// The spec.
        spec: String,
        /// The method name.
        operation: String,
    },
    /// An operation listed as wrapped that the client's sources never call.
    WrappedButNotCalled {
        /// The spec.
        spec: String,
        /// The method name.
        operation: String,
    },
    /// An operation listed as not wrapped that the client's sources call.
    CalledButListedNotWrapped {
        /// The spec.
        spec: String,
        /// The method name.
        operation: String,
    },
    /// A response field in neither field list.
    UnlistedField {
        /// The spec.
        spec: String,
        /// `Schema.field`.
        field: String,
        /// A wrapped operation whose response carries it.
        operation: String,
    },
    /// A listed field that no wrapped operation's response carries any more.
    FieldNotInSpec {
        /// The spec.
        spec: String,
        /// `Schema.field`.
        field: String,
    },
    /// An item in two lists, or listed with an empty reason.
    BadListing {
        /// The spec.
        spec: String,
        /// What is wrong.
        problem: String,
    },
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Gap::UnwrappedOperation { spec, operation } => write!(
                f,
                "{spec} operation `{operation}` is not wrapped by the client: wrap it (and add it to `wrapped` in {COVERAGE_FILE}) or add it to `not_wrapped` with the reason"
            ),
            Gap::OperationNotInSpec { spec, operation } => write!(
                f,
                "{spec} operation `{operation}` is listed in {COVERAGE_FILE} but the spec no longer has it: remove its wrapper and its entry"
            ),
            Gap::WrappedButNotCalled { spec, operation } => write!(
                f,
                "{spec} operation `{operation}` is listed as wrapped but no client source calls `.{operation}(`"
            ),
            Gap::CalledButListedNotWrapped { spec, operation } => write!(
                f,
                "{spec} operation `{operation}` is listed as not wrapped but the client calls it: move it to `wrapped`"
            ),
            Gap::UnlistedField {
                spec,
                field,
                operation,
            } => write!(
                f,
                "{spec} response field `{field}` (of `{operation}`) is neither surfaced nor hidden: carry it in the public model (and list it in `surfaced_fields`) or add it to `hidden_fields` with the reason"
            ),
            Gap::FieldNotInSpec { spec, field } => write!(
                f,
                "{spec} response field `{field}` is listed in {COVERAGE_FILE} but no wrapped operation returns it any more"
            ),
            Gap::BadListing { spec, problem } => write!(f, "{spec}: {problem}"),
        }
    }
}

/// Parse the coverage lists.
///
/// # Examples
///
/// ```
/// let coverage = xtask::coverage::parse(r#"{"ledger": {"wrapped": ["get_x"], "surfaced_fields": ["X.id"]}}"#).unwrap();
/// assert!(coverage["ledger"].wrapped.contains("get_x"));
/// assert!(xtask::coverage::parse(r#"{"ledger": {"wraped": []}}"#).is_err());
/// ```
pub fn parse(text: &str) -> Result<Coverage, String> {
    serde_json::from_str(text).map_err(|e| format!("{COVERAGE_FILE}: {e}"))
}

/// Progenitor's method name for an operation id (`CreateLedgerEntry` → `create_ledger_entry`),
/// computed as the SDK's build script does.
///
/// # Examples
///
/// ```
/// assert_eq!(xtask::coverage::method_name("GetLedgerIdentity"), "get_ledger_identity");
/// ```
pub fn method_name(operation_id: &str) -> String {
    use heck::ToSnakeCase;
    let cleaned: String = operation_id
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    cleaned.to_snake_case()
}

const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch"];

/// Every operation of a converted spec: method name → operation.
///
/// # Examples
///
/// ```
/// use serde_json::json;
///
/// let spec = json!({"paths": {"/x": {"get": {"operationId": "GetX"}}}});
/// let ops = xtask::coverage::operations(&spec);
/// assert_eq!(ops.keys().collect::<Vec<_>>(), ["get_x"]);
/// ```
pub fn operations(spec: &Value) -> BTreeMap<String, &Value> {
    let mut out = BTreeMap::new();
    for item in spec
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|m| m.values())
    {
        for method in METHODS {
            if let Some(op) = item.get(*method)
                && let Some(id) = op.get("operationId").and_then(Value::as_str)
            {
                out.insert(method_name(id), op);
            }
        }
    }
    out
}

/// The response fields (`Schema.field`) reachable from the success responses of `operations`,
/// each with the first operation (by name) that returns it.
///
/// # Examples
///
/// ```
/// use serde_json::json;
///
/// let spec = json!({
///     "paths": {"/x": {"get": {"operationId": "GetX", "responses": {"200": {"content": {
///         "application/json": {"schema": {"$ref": "#/components/schemas/X"}}}}}}}},
///     "components": {"schemas": {
///         "X": {"type": "object", "properties": {"id": {"type": "string"},
///               "parts": {"type": "array", "items": {"$ref": "#/components/schemas/Part"}}}},
///         "Part": {"type": "object", "properties": {"size": {"type": "integer"}}}}}
/// });
/// let fields = xtask::coverage::response_fields(&spec, ["get_x"]);
/// assert_eq!(fields.keys().collect::<Vec<_>>(), ["Part.size", "X.id", "X.parts"]);
/// ```
pub fn response_fields<'a>(
    spec: &Value,
    operations_of_interest: impl IntoIterator<Item = &'a str>,
) -> BTreeMap<String, String> {
    let ops = operations(spec);
    let mut fields = BTreeMap::new();
    for name in operations_of_interest {
        let Some(op) = ops.get(name) else { continue };
        for (status, response) in op
            .get("responses")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if !status.starts_with('2') {
                continue;
            }
            for media in response
                .get("content")
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|m| m.values())
            {
                if let Some(schema) = media.get("schema") {
                    let mut visited = BTreeSet::new();
                    walk(spec, schema, "response", name, &mut visited, &mut fields);
                }
            }
        }
    }
    fields
}

fn walk(
    spec: &Value,
    schema: &Value,
    owner: &str,
    operation: &str,
    visited: &mut BTreeSet<String>,
    fields: &mut BTreeMap<String, String>,
) {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference
            .rsplit('/')
            .next()
            .unwrap_or(reference)
            .to_string();
        if !visited.insert(name.clone()) {
            return;
        }
        if let Some(target) = spec.pointer(reference.trim_start_matches('#')) {
            walk(spec, target, &name, operation, visited, fields);
        }
        return;
    }
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (field, property) in properties {
            let key = format!("{owner}.{field}");
            fields
                .entry(key.clone())
                .or_insert_with(|| operation.to_string());
            walk(spec, property, &key, operation, visited, fields);
        }
    }
    for nested in ["items", "additionalProperties"] {
        if let Some(inner) = schema.get(nested).filter(|v| v.is_object()) {
            walk(spec, inner, owner, operation, visited, fields);
        }
    }
    for combinator in ["oneOf", "anyOf", "allOf"] {
        for inner in schema
            .get(combinator)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            walk(spec, inner, owner, operation, visited, fields);
        }
    }
}

/// Every method called as `.name(` in the Rust files under `src` (recursively), skipping the
/// folders named in `skip`. Comments and doc text are not tokens, so they do not count.
///
/// # Examples
///
/// ```
/// let dir = std::env::temp_dir().join(format!("xtask-calls-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("a.rs"), "/// raw.not_me()\nfn f() { raw.get_x(1).await; }").unwrap();
/// let calls = xtask::coverage::method_calls(&dir, &[]).unwrap();
/// assert!(calls.contains("get_x") && !calls.contains("not_me"));
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn method_calls(src: &Path, skip: &[&str]) -> Result<BTreeSet<String>, String> {
    let mut calls = BTreeSet::new();
    collect_calls(src, skip, &mut calls)?;
    Ok(calls)
}

fn collect_calls(dir: &Path, skip: &[&str], calls: &mut BTreeSet<String>) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            if name.is_some_and(|n| skip.contains(&n.as_str())) {
                continue;
            }
            collect_calls(&path, skip, calls)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let tokens = TokenStream::from_str(&text)
                .map_err(|e| format!("{} does not tokenize: {e}", path.display()))?;
            scan(tokens, calls);
        }
    }
    Ok(())
}

fn scan(tokens: TokenStream, calls: &mut BTreeSet<String>) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    for (i, token) in tokens.iter().enumerate() {
        if let TokenTree::Group(group) = token {
            scan(group.stream(), calls);
        }
        if let (TokenTree::Punct(dot), Some(TokenTree::Ident(name)), Some(TokenTree::Group(args))) =
            (token, tokens.get(i + 1), tokens.get(i + 2))
            && dot.as_char() == '.'
            && args.delimiter() == proc_macro2::Delimiter::Parenthesis
        {
            calls.insert(name.to_string());
        }
    }
}

/// Everything the gate finds for spec `name` (a converted document), given its coverage
/// lists and the methods the client's sources call; empty when covered.
///
/// # Examples
///
/// ```
/// use std::collections::BTreeSet;
/// use serde_json::json;
/// use xtask::coverage::{gaps, parse};
///
/// let spec = json!({"paths": {"/x": {"get": {"operationId": "GetX"}},
///                             "/y": {"get": {"operationId": "GetY"}}}});
/// let lists = parse(r#"{"ledger": {"wrapped": ["get_x"], "surfaced_fields": []}}"#).unwrap();
/// let calls: BTreeSet<String> = ["get_x".to_string()].into();
/// let found = gaps("ledger", &spec, &lists["ledger"], &calls);
/// assert_eq!(found.len(), 1);
/// assert!(found[0].to_string().contains("`get_y` is not wrapped"));
/// ```
pub fn gaps(name: &str, spec: &Value, lists: &SpecCoverage, calls: &BTreeSet<String>) -> Vec<Gap> {
    let spec_name = || name.to_string();
    let mut out = Vec::new();
    let ops = operations(spec);
    for op in ops.keys() {
        let wrapped = lists.wrapped.contains(op);
        let unwrapped = lists.not_wrapped.contains_key(op);
        if !wrapped && !unwrapped {
            out.push(Gap::UnwrappedOperation {
                spec: spec_name(),
                operation: op.clone(),
            });
        }
        if wrapped && unwrapped {
            out.push(Gap::BadListing {
                spec: spec_name(),
                problem: format!("operation `{op}` is both wrapped and not_wrapped"),
            });
        }
    }
    for op in lists.wrapped.iter().chain(lists.not_wrapped.keys()) {
        if !ops.contains_key(op) {
            out.push(Gap::OperationNotInSpec {
                spec: spec_name(),
                operation: op.clone(),
            });
        }
    }
    for op in &lists.wrapped {
        if ops.contains_key(op) && !calls.contains(op) {
            out.push(Gap::WrappedButNotCalled {
                spec: spec_name(),
                operation: op.clone(),
            });
        }
    }
    for (op, reason) in &lists.not_wrapped {
        if calls.contains(op) {
            out.push(Gap::CalledButListedNotWrapped {
                spec: spec_name(),
                operation: op.clone(),
            });
        }
        if reason.trim().is_empty() {
            out.push(Gap::BadListing {
                spec: spec_name(),
                problem: format!("operation `{op}` is not wrapped without a reason"),
            });
        }
    }

    let fields = response_fields(
        spec,
        lists
            .wrapped
            .iter()
            .filter(|op| ops.contains_key(*op))
            .map(String::as_str),
    );
    for (field, operation) in &fields {
        let surfaced = lists.surfaced_fields.contains(field);
        let hidden = lists.hidden_fields.contains_key(field);
        if !surfaced && !hidden {
            out.push(Gap::UnlistedField {
                spec: spec_name(),
                field: field.clone(),
                operation: operation.clone(),
            });
        }
        if surfaced && hidden {
            out.push(Gap::BadListing {
                spec: spec_name(),
                problem: format!("field `{field}` is both surfaced and hidden"),
            });
        }
    }
    for field in lists
        .surfaced_fields
        .iter()
        .chain(lists.hidden_fields.keys())
    {
        if !fields.contains_key(field) {
            out.push(Gap::FieldNotInSpec {
                spec: spec_name(),
                field: field.clone(),
            });
        }
    }
    for (field, reason) in &lists.hidden_fields {
        if reason.trim().is_empty() {
            out.push(Gap::BadListing {
                spec: spec_name(),
                problem: format!("field `{field}` is hidden without a reason"),
            });
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Run the gate on a workspace: the documents in `spec_dir` (`ledger.json`, `identity.json`),
/// the lists in `coverage_file` and the calls in `src_dir` (outside `src/blocking/`).
///
/// # Examples
///
/// ```
/// let root = xtask::workspace_root();
/// let gaps = xtask::coverage::check(
///     &root.join("spec"),
///     &root.join(xtask::coverage::COVERAGE_FILE),
///     &root.join("src"),
/// )
/// .unwrap();
/// assert!(gaps.is_empty(), "{gaps:?}");
/// ```
pub fn check(spec_dir: &Path, coverage_file: &Path, src_dir: &Path) -> Result<Vec<Gap>, String> {
    let text = std::fs::read_to_string(coverage_file)
        .map_err(|e| format!("cannot read {}: {e}", coverage_file.display()))?;
    let lists = parse(&text)?;
    let calls = method_calls(src_dir, &["blocking"])?;
    let mut out = Vec::new();
    for name in ["ledger", "identity"] {
        let path = spec_dir.join(format!("{name}.json"));
        let spec: Value = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
            .and_then(|t| {
                serde_json::from_str(&t).map_err(|e| format!("{}: {e}", path.display()))
            })?;
        let empty = SpecCoverage::default();
        let spec_lists = lists.get(name).unwrap_or(&empty);
        out.extend(gaps(name, &spec, spec_lists, &calls));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> Value {
        json!({
            "paths": {
                "/x": {"get": {"operationId": "GetX", "responses": {"200": {"content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/X"}}}}}}},
                "/y": {"delete": {"operationId": "DeleteY", "responses": {"204": {}}}}
            },
            "components": {"schemas": {"X": {"type": "object", "properties": {
                "id": {"type": "string"}, "nextLink": {"type": "string"}}}}}
        })
    }

    fn lists(text: &str) -> SpecCoverage {
        parse(&format!("{{\"ledger\": {text}}}"))
            .unwrap()
            .remove("ledger")
            .unwrap()
    }

    fn calls(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_covered_spec_has_no_gaps() {
        let l = lists(
            r#"{"wrapped": ["get_x"], "not_wrapped": {"delete_y": "admin only"},
                "surfaced_fields": ["X.id"], "hidden_fields": {"X.nextLink": "the pager follows it"}}"#,
        );
        assert_eq!(gaps("ledger", &spec(), &l, &calls(&["get_x"])), []);
    }

    #[test]
    fn every_kind_of_gap_is_named() {
        let l = lists(
            r#"{"wrapped": ["get_x", "get_gone"], "not_wrapped": {"delete_y": " "},
                "surfaced_fields": ["X.id", "X.old"], "hidden_fields": {}}"#,
        );
        let found = gaps("ledger", &spec(), &l, &calls(&["delete_y"]));
        let text: Vec<String> = found.iter().map(ToString::to_string).collect();
        for want in [
            "`get_gone` is listed in xtask/coverage.json but the spec no longer has it",
            "`get_x` is listed as wrapped but no client source calls `.get_x(`",
            "`delete_y` is listed as not wrapped but the client calls it",
            "`delete_y` is not wrapped without a reason",
            "response field `X.nextLink` (of `get_x`) is neither surfaced nor hidden",
            "response field `X.old` is listed in xtask/coverage.json but no wrapped operation returns it",
        ] {
            assert!(
                text.iter().any(|t| t.contains(want)),
                "missing `{want}`: {text:#?}"
            );
        }
        assert_eq!(found.len(), 6, "{text:#?}");
    }

    #[test]
    fn an_unlisted_operation_is_named() {
        let l = lists(r#"{"wrapped": ["get_x"], "surfaced_fields": ["X.id", "X.nextLink"]}"#);
        assert_eq!(
            gaps("ledger", &spec(), &l, &calls(&["get_x"])),
            [Gap::UnwrappedOperation {
                spec: "ledger".into(),
                operation: "delete_y".into()
            }]
        );
    }

    #[test]
    fn calls_in_comments_strings_and_skipped_folders_do_not_count() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("blocking")).unwrap();
        std::fs::write(
            dir.path().join("a.rs"),
            "// raw.in_comment()\nfn f() { let s = \"raw.in_string()\"; g(|raw| async move { raw.real(1).await }); }",
        )
        .unwrap();
        std::fs::write(dir.path().join("blocking/b.rs"), "fn g() { c.twin(); }").unwrap();
        let found = method_calls(dir.path(), &["blocking"]).unwrap();
        assert!(found.contains("real"), "{found:?}");
        for absent in ["in_comment", "in_string", "twin"] {
            assert!(!found.contains(absent), "{found:?}");
        }
        std::fs::write(dir.path().join("bad.rs"), "fn f() { \"unterminated }").unwrap();
        assert!(
            method_calls(dir.path(), &[])
                .unwrap_err()
                .contains("bad.rs")
        );
    }
}
