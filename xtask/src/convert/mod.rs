//! Swagger 2.0 to OpenAPI 3.0.3, on `serde_json::Value`, keeping structure and dropping prose.
//!
//! One module per family of constructs:
//!
//! | module | Swagger 2.0 | OpenAPI 3.0.3 |
//! |---|---|---|
//! | [`refs`] | `#/definitions/X`, `#/parameters/X`, `common.json#/...` | `#/components/...`; external definitions copied in, external parameters inlined |
//! | [`schema`] | `definitions`, `x-nullable`, string `discriminator`, `type: file` | `components/schemas`, `nullable`, discriminator object, binary string |
//! | [`enums`] | `x-ms-enum.modelAsString: true` | open enum: `oneOf` of the known values (`XKnown`) and any string |
//! | [`parameters`] | non-body parameters, `collectionFormat` | `schema`-based parameters; csv arrays become strings |
//! | [`operations`] | `in: body`, `consumes`, merge-patch | `requestBody` with `application/json` and `x-original-content-type` |
//! | [`responses`] | `schema`, `produces`, `default`, response `headers` | `content`, explicit `4XX`/`5XX`, header `schema` |
//! | [`servers`] | `x-ms-parameterized-host`, `host`, `basePath` | `servers` with variables |
//! | [`prose`] | `description`, `summary`, examples | dropped |
//! | [`validate`] | | every `$ref` resolves, operation ids unique |
//!
//! Extensions written for the hand-written layer (they survive into `spec/*.json` and the
//! build script's operation table):
//!
//! - `x-original-content-type` on a `requestBody` whose real content type is not
//!   `application/json` (merge-patch: `application/merge-patch+json`).
//! - `x-ms-requestBody-name` on a `requestBody`: the Swagger body parameter's name.
//! - `x-collection-format` and `x-array-items` on a parameter that was a delimited array
//!   (`csv`): the parameter is a plain string the caller joins.
//! - `x-validation` on a parameter: the validation keywords of its schema (`minLength`, ...).
//! - `x-ms-pageable` on an operation, unchanged.
//! - `x-ms-enum` (`name`, `modelAsString`) on open enums.
//! - `x-default-response: true` on the `4XX`/`5XX` responses made from `default`.
//!
//! Progenitor panics on an operation whose success responses (or error responses) carry
//! different body types; such an operation is rejected here with
//! [`ConvertError::MixedResponseBodies`] naming it, rather than surfacing as a build-script panic.

pub mod enums;
pub mod operations;
pub mod parameters;
pub mod prose;
pub mod refs;
pub mod responses;
pub mod schema;
pub mod servers;
pub mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use refs::{RefKind, RefTarget};

/// The OpenAPI version written.
pub const OPENAPI_VERSION: &str = "3.0.3";

/// Why a document could not be converted.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// The input is not a Swagger 2.0 document.
    #[error("not a Swagger 2.0 document (\"swagger\": {found})")]
    NotSwagger2 {
        /// The value found in the `swagger` field.
        found: String,
    },
    /// A field has the wrong JSON type or a required field is missing.
    #[error("{at}: {problem}")]
    Malformed {
        /// Where in the input (a JSON-pointer-like path).
        at: String,
        /// What is wrong.
        problem: String,
    },
    /// A `$ref` this converter does not understand or that points nowhere.
    #[error("{at}: cannot resolve $ref \"{reference}\": {problem}")]
    UnresolvedRef {
        /// Where the reference is.
        at: String,
        /// The reference as written.
        reference: String,
        /// Why it cannot be resolved.
        problem: String,
    },
    /// A construct the converter deliberately does not translate.
    #[error("{at}: unsupported: {what}")]
    Unsupported {
        /// Where in the input.
        at: String,
        /// What is unsupported.
        what: String,
    },
    /// Two different schemas would get the same component name.
    #[error("schema name collision: \"{name}\" ({first}) differs from {second}")]
    NameCollision {
        /// The component name.
        name: String,
        /// Where the first schema came from.
        first: String,
        /// Where the second came from.
        second: String,
    },
    /// An operation whose success (or error) responses carry different bodies, which the
    /// client generator cannot express.
    #[error(
        "operation {operation}: {kind} responses {statuses} carry different bodies; the generated \
         client needs one body type per kind"
    )]
    MixedResponseBodies {
        /// The operation id.
        operation: String,
        /// `success` or `error`.
        kind: &'static str,
        /// The status codes involved.
        statuses: String,
    },
    /// Two operations share an operation id (or one has none).
    #[error("{at}: {problem}")]
    OperationId {
        /// Where.
        at: String,
        /// What is wrong.
        problem: String,
    },
    /// An external file could not be read or parsed.
    #[error("cannot load {file}: {problem}")]
    Load {
        /// The file, relative to the main document.
        file: String,
        /// Why.
        problem: String,
    },
}

/// Result alias for conversion.
pub type Result<T> = std::result::Result<T, ConvertError>;

/// Supplies the documents that `$ref`s name by file (`common.json#/...`).
pub trait Loader {
    /// The parsed document at `file`, a path relative to the main document's folder using `/`.
    fn load(&self, file: &str) -> Result<Value>;
}

/// Loads external documents from a folder on disk.
#[derive(Debug, Clone)]
pub struct DirLoader {
    dir: PathBuf,
}

impl DirLoader {
    /// Resolve files relative to `dir` (the main document's folder).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }
}

impl Loader for DirLoader {
    fn load(&self, file: &str) -> Result<Value> {
        let path = self.dir.join(Path::new(file));
        let text = std::fs::read_to_string(&path).map_err(|e| ConvertError::Load {
            file: file.to_string(),
            problem: format!("{}: {e}", path.display()),
        })?;
        serde_json::from_str(&text).map_err(|e| ConvertError::Load {
            file: file.to_string(),
            problem: format!("{}: invalid JSON: {e}", path.display()),
        })
    }
}

/// In-memory external documents, keyed by relative file name (for tests).
impl Loader for BTreeMap<String, Value> {
    fn load(&self, file: &str) -> Result<Value> {
        self.get(file).cloned().ok_or_else(|| ConvertError::Load {
            file: file.to_string(),
            problem: "no such document".to_string(),
        })
    }
}

/// No external documents: any file reference is an error.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoExternalFiles;

impl Loader for NoExternalFiles {
    fn load(&self, file: &str) -> Result<Value> {
        Err(ConvertError::Load {
            file: file.to_string(),
            problem: "external references are not available here".to_string(),
        })
    }
}

/// A converted document and what the converter had to say about it.
#[derive(Debug, Clone)]
pub struct Conversion {
    /// The OpenAPI 3.0.3 document.
    pub document: Value,
    /// Repairs and omissions worth telling a maintainer (invalid upstream schemas fixed up,
    /// constructs dropped). Empty for a clean input.
    pub notes: Vec<String>,
}

/// Convert a Swagger 2.0 document to OpenAPI 3.0.3.
///
/// `loader` supplies the files named by external `$ref`s (relative to the document's folder).
///
/// # Examples
///
/// ```
/// use serde_json::json;
/// use xtask::convert::{convert, NoExternalFiles};
///
/// let swagger = json!({
///     "swagger": "2.0",
///     "info": {"title": "T", "version": "1", "description": "dropped"},
///     "paths": {"/x": {"get": {
///         "operationId": "GetX",
///         "responses": {"200": {"description": "ok", "schema": {"type": "string"}}}
///     }}}
/// });
/// let out = convert(&swagger, &NoExternalFiles).unwrap().document;
/// assert_eq!(out["openapi"], "3.0.3");
/// assert_eq!(out["paths"]["/x"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["type"], "string");
/// assert!(out["info"].get("description").is_none());
/// ```
pub fn convert(input: &Value, loader: &dyn Loader) -> Result<Conversion> {
    let mut converter = Converter::new(input, loader)?;
    let document = converter.run()?;
    validate::check_document(&document)?;
    Ok(Conversion {
        document,
        notes: converter.notes,
    })
}

/// Where the converter is in the input: which file (`None` = the main document) and a
/// JSON-pointer-like path for messages.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub file: Option<String>,
    pub at: String,
}

impl Ctx {
    pub(crate) fn main(at: impl Into<String>) -> Self {
        Self {
            file: None,
            at: at.into(),
        }
    }

    pub(crate) fn child(&self, segment: &str) -> Self {
        Self {
            file: self.file.clone(),
            at: format!("{}/{}", self.at, segment),
        }
    }

    pub(crate) fn in_file(file: Option<String>, at: impl Into<String>) -> Self {
        Self {
            file,
            at: at.into(),
        }
    }

    /// The location, prefixed by the file when it is not the main document.
    pub(crate) fn describe(&self) -> String {
        match &self.file {
            Some(file) => format!("{file}#{}", self.at),
            None => self.at.clone(),
        }
    }

    pub(crate) fn malformed(&self, problem: impl Into<String>) -> ConvertError {
        ConvertError::Malformed {
            at: self.describe(),
            problem: problem.into(),
        }
    }

    pub(crate) fn unsupported(&self, what: impl Into<String>) -> ConvertError {
        ConvertError::Unsupported {
            at: self.describe(),
            what: what.into(),
        }
    }
}

/// A component schema and where it came from (for collision messages).
#[derive(Debug, Clone)]
pub(crate) struct Component {
    pub schema: Value,
    pub origin: String,
}

/// Conversion state for one main document.
pub(crate) struct Converter<'a> {
    pub main: &'a Value,
    loader: &'a dyn Loader,
    externals: BTreeMap<String, Value>,
    /// Output `components/schemas`.
    pub schemas: BTreeMap<String, Component>,
    /// Output `components/parameters` (the main document's non-body global parameters).
    pub parameters: BTreeMap<String, Value>,
    /// External definitions referenced but not yet copied in: (file, name).
    pending: Vec<(String, String)>,
    /// External definitions already copied in.
    imported: std::collections::BTreeSet<(String, String)>,
    pub notes: Vec<String>,
}

impl<'a> Converter<'a> {
    fn new(main: &'a Value, loader: &'a dyn Loader) -> Result<Self> {
        match main.get("swagger").and_then(Value::as_str) {
            Some("2.0") => {}
            other => {
                return Err(ConvertError::NotSwagger2 {
                    found: other.map_or_else(|| "missing".to_string(), |v| format!("\"{v}\"")),
                });
            }
        }
        if !main.is_object() {
            return Err(Ctx::main("").malformed("the document is not a JSON object"));
        }
        Ok(Self {
            main,
            loader,
            externals: BTreeMap::new(),
            schemas: BTreeMap::new(),
            parameters: BTreeMap::new(),
            pending: Vec::new(),
            imported: Default::default(),
            notes: Vec::new(),
        })
    }

    /// The document a context refers to: the main one or a loaded external file.
    pub(crate) fn document(&self, file: Option<&str>) -> &Value {
        match file {
            None => self.main,
            Some(f) => self.externals.get(f).unwrap_or(&Value::Null),
        }
    }

    /// Make sure an external file is loaded.
    pub(crate) fn ensure_loaded(&mut self, file: &str) -> Result<()> {
        if !self.externals.contains_key(file) {
            let doc = self.loader.load(file)?;
            self.externals.insert(file.to_string(), doc);
        }
        Ok(())
    }

    /// Look up the object a reference target names, loading its file if needed.
    pub(crate) fn resolve(&mut self, target: &RefTarget, ctx: &Ctx) -> Result<Value> {
        if let Some(file) = &target.file {
            self.ensure_loaded(file)?;
        }
        let doc = self.document(target.file.as_deref());
        doc.get(target.kind.section())
            .and_then(|section| section.get(&target.name))
            .cloned()
            .ok_or_else(|| ConvertError::UnresolvedRef {
                at: ctx.describe(),
                reference: target.original.clone(),
                problem: format!(
                    "{} has no {}/{}",
                    target.file.as_deref().unwrap_or("the document"),
                    target.kind.section(),
                    target.name
                ),
            })
    }

    /// The output `$ref` for a schema reference, scheduling the import of external definitions.
    pub(crate) fn schema_ref(&mut self, reference: &str, ctx: &Ctx) -> Result<String> {
        let target = RefTarget::parse(reference, ctx)?;
        if target.kind != RefKind::Definition {
            return Err(ConvertError::UnresolvedRef {
                at: ctx.describe(),
                reference: reference.to_string(),
                problem: "a schema must reference a definition".to_string(),
            });
        }
        // Fails early when the target does not exist.
        self.resolve(&target, ctx)?;
        if let Some(file) = &target.file {
            let key = (file.clone(), target.name.clone());
            if !self.imported.contains(&key) && !self.pending.contains(&key) {
                self.pending.push(key);
            }
        }
        Ok(refs::component_ref("schemas", &target.name))
    }

    /// Add a component schema, refusing a different schema under an existing name.
    pub(crate) fn add_schema(&mut self, name: &str, schema: Value, origin: String) -> Result<()> {
        if let Some(existing) = self.schemas.get(name) {
            if existing.schema == schema {
                return Ok(());
            }
            return Err(ConvertError::NameCollision {
                name: name.to_string(),
                first: existing.origin.clone(),
                second: origin,
            });
        }
        self.schemas
            .insert(name.to_string(), Component { schema, origin });
        Ok(())
    }

    /// Record a note for the maintainer.
    pub(crate) fn note(&mut self, ctx: &Ctx, text: impl AsRef<str>) {
        self.notes
            .push(format!("{}: {}", ctx.describe(), text.as_ref()));
    }

    fn run(&mut self) -> Result<Value> {
        let main = self.main;
        let root = Ctx::main("");

        for key in ["x-ms-paths", "securityDefinitions", "security"] {
            if main.get(key).is_some() {
                match key {
                    "x-ms-paths" => return Err(root.child(key).unsupported("x-ms-paths")),
                    _ => self.note(
                        &root.child(key),
                        "dropped: authentication is applied by the hand-written client",
                    ),
                }
            }
        }

        // Definitions of the main document, every one of them.
        if let Some(defs) = main.get("definitions") {
            let defs = defs
                .as_object()
                .ok_or_else(|| root.child("definitions").malformed("not an object"))?;
            for (name, def) in defs {
                let ctx = root.child("definitions").child(name);
                self.definition(name, def, &ctx)?;
            }
        }

        // Global non-body parameters become components; body ones are inlined where used.
        if let Some(params) = main.get("parameters") {
            let params = params
                .as_object()
                .ok_or_else(|| root.child("parameters").malformed("not an object"))?;
            for (name, param) in params {
                let ctx = root.child("parameters").child(name);
                if param.get("in").and_then(Value::as_str) == Some("body") {
                    continue;
                }
                let converted = self.non_body_parameter(param, &ctx)?;
                self.parameters.insert(name.clone(), converted);
            }
        }

        let paths = self.paths(&root)?;
        let servers = servers::servers(self, &root)?;

        // Copy in the external definitions the document referenced, transitively.
        while let Some((file, name)) = self.pending.pop() {
            if !self.imported.insert((file.clone(), name.clone())) {
                continue;
            }
            let ctx = Ctx::in_file(Some(file.clone()), format!("/definitions/{name}"));
            let def = self
                .document(Some(&file))
                .get("definitions")
                .and_then(|d| d.get(&name))
                .cloned()
                .ok_or_else(|| ctx.malformed("referenced definition disappeared"))?;
            self.definition(&name, &def, &ctx)?;
        }

        let mut info = Map::new();
        let src_info = main.get("info").cloned().unwrap_or(Value::Null);
        for key in ["title", "version"] {
            let value = src_info.get(key).and_then(Value::as_str).ok_or_else(|| {
                root.child("info")
                    .malformed(format!("info.{key} is missing"))
            })?;
            info.insert(key.to_string(), json!(value));
        }

        let mut components = Map::new();
        if !self.schemas.is_empty() {
            let schemas: Map<String, Value> = self
                .schemas
                .iter()
                .map(|(k, c)| (k.clone(), c.schema.clone()))
                .collect();
            components.insert("schemas".to_string(), Value::Object(schemas));
        }
        if !self.parameters.is_empty() {
            let params: Map<String, Value> = self
                .parameters
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            components.insert("parameters".to_string(), Value::Object(params));
        }

        let mut doc = Map::new();
        doc.insert("openapi".to_string(), json!(OPENAPI_VERSION));
        doc.insert("info".to_string(), Value::Object(info));
        doc.insert("servers".to_string(), servers);
        doc.insert("paths".to_string(), paths);
        if !components.is_empty() {
            doc.insert("components".to_string(), Value::Object(components));
        }
        Ok(Value::Object(doc))
    }

    /// Convert one named definition into component schema(s).
    fn definition(&mut self, name: &str, def: &Value, ctx: &Ctx) -> Result<()> {
        let converted = self.schema_body(def, ctx)?;
        let origin = ctx.describe();
        if let Some((open, known)) = enums::split_open_enum(name, &converted) {
            self.add_schema(&enums::known_name(name), known, origin.clone())?;
            self.add_schema(name, open, origin)
        } else {
            self.add_schema(name, converted, origin)
        }
    }

    /// Convert `paths`.
    fn paths(&mut self, root: &Ctx) -> Result<Value> {
        let main = self.main;
        let mut out = Map::new();
        let Some(paths) = main.get("paths") else {
            return Ok(Value::Object(out));
        };
        let paths = paths
            .as_object()
            .ok_or_else(|| root.child("paths").malformed("not an object"))?;
        for (path, item) in paths {
            let ctx = root.child("paths").child(&refs::escape_pointer(path));
            out.insert(path.clone(), operations::path_item(self, path, item, &ctx)?);
        }
        Ok(Value::Object(out))
    }
}
