//! Runs one piece of ledger JavaScript in a fresh QuickJS runtime on its own thread, under
//! the runtime limits: QuickJS's memory limit (heap), its stack limit and an interrupt
//! handler that stops the script at its deadline. Nothing a script does can stall the
//! async executor, exhaust the host's memory or overflow the host thread's stack.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rquickjs::function::Rest;
use rquickjs::loader::{ImportAttributes, Loader, Resolver};
use rquickjs::module::Declared;
use rquickjs::{Context, Ctx, Function, Module, Object, Runtime, Value};
use tokio::sync::Semaphore;

use super::kv::KvWrites;
use super::limits::Limits;

/// The `ccf` global and the host's helpers, evaluated before any user code.
const PRELUDE: &str = include_str!("prelude.js");

/// Scripts that may run at once; more wait for a slot.
static SLOTS: Semaphore = Semaphore::const_new(4);

/// Native stack of a script thread beyond the script's own stack limit.
const STACK_MARGIN: usize = 8 << 20;

/// The modules of a script and the function to call.
#[derive(Clone, Debug)]
pub(crate) struct Script {
    /// Module name (normalised, see [`module_name`]) and source.
    pub(crate) modules: HashMap<String, String>,
    /// The module holding the function.
    pub(crate) entry: String,
    /// The exported function to call.
    pub(crate) function: String,
}

/// What the function is called with.
#[derive(Clone, Debug)]
pub(crate) enum Call {
    /// A user-defined function: its string arguments, one parameter each.
    Function { arguments: Vec<String> },
    /// A user-defined endpoint: the request object (JSON without the body) and the body.
    Endpoint { request: String, body: Vec<u8> },
}

/// One execution.
#[derive(Clone, Debug)]
pub(crate) struct Run {
    pub(crate) script: Script,
    pub(crate) call: Call,
    /// The key-value maps the script sees, as `{map: {keyHex: valueHex}}`.
    pub(crate) kv_snapshot: String,
    /// Whether the script may write to the key-value maps.
    pub(crate) writable: bool,
    pub(crate) limits: Limits,
}

/// What a script returned.
#[derive(Debug)]
pub(crate) struct Finished {
    /// A function's return value as text (a string as it is, anything else as JSON; `None`
    /// for `undefined`), or an endpoint's response as the prelude encodes it.
    pub(crate) value: Option<String>,
    /// The key-value writes the script made.
    pub(crate) writes: KvWrites,
}

/// Why a script did not finish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Failure {
    /// The interrupt handler stopped it at its deadline.
    #[error("Operation took too long to complete.")]
    TimedOut,
    /// It threw (including QuickJS's out-of-memory and stack-overflow errors).
    #[error("{message}")]
    Exception {
        message: String,
        trace: Option<String>,
    },
    /// The engine could not be started.
    #[error("the JavaScript engine could not run the script: {0}")]
    Host(String),
}

/// Runs `run` on a dedicated thread and waits for it without blocking the executor.
pub(crate) async fn execute(run: Run) -> Result<Finished, Failure> {
    let _slot = SLOTS
        .acquire()
        .await
        .map_err(|e| Failure::Host(e.to_string()))?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    // Twice the script's stack, plus a margin: QuickJS checks its limit only at calls, and
    // the host's own frames (parser, exception unwinding) come on top.
    let stack = run
        .limits
        .max_stack_bytes
        .saturating_mul(2)
        .saturating_add(STACK_MARGIN);
    std::thread::Builder::new()
        .name("ledger-js".into())
        .stack_size(stack)
        .spawn(move || {
            let _ = tx.send(run_blocking(&run));
        })
        .map_err(|e| Failure::Host(e.to_string()))?;
    rx.await
        .map_err(|_| Failure::Host("the script thread ended without an answer".into()))?
}

/// A module's name as the loader knows it: relative to the bundle's root, without `.`,
/// `..` or a leading `/`.
pub(crate) fn module_name(base: &str, name: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    if name.starts_with("./") || name.starts_with("../") {
        parts.extend(base.split('/').filter(|s| !s.is_empty()));
        parts.pop();
    }
    for segment in name.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

struct BundleResolver;

impl Resolver for BundleResolver {
    fn resolve<'js>(
        &mut self,
        _ctx: &Ctx<'js>,
        base: &str,
        name: &str,
        _attributes: Option<ImportAttributes<'js>>,
    ) -> rquickjs::Result<String> {
        Ok(module_name(base, name))
    }
}

struct BundleLoader(HashMap<String, String>);

impl Loader for BundleLoader {
    fn load<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        name: &str,
        _attributes: Option<ImportAttributes<'js>>,
    ) -> rquickjs::Result<Module<'js, Declared>> {
        match self.0.get(name) {
            Some(source) => Module::declare(ctx.clone(), name, source.as_str()),
            None => Err(rquickjs::Error::new_loading_message(
                name,
                "no module of the bundle has this name",
            )),
        }
    }
}

fn run_blocking(run: &Run) -> Result<Finished, Failure> {
    let host = |e: rquickjs::Error| Failure::Host(e.to_string());
    let runtime = Runtime::new().map_err(host)?;
    runtime.set_memory_limit(run.limits.max_heap_bytes);
    runtime.set_max_stack_size(run.limits.max_stack_bytes);
    let timed_out = Arc::new(AtomicBool::new(false));
    let flag = timed_out.clone();
    let deadline = Instant::now() + run.limits.max_execution_time;
    runtime.set_interrupt_handler(Some(Box::new(move || {
        let late = Instant::now() >= deadline;
        if late {
            flag.store(true, Ordering::Relaxed);
        }
        late
    })));
    runtime.set_loader(BundleResolver, BundleLoader(run.script.modules.clone()));
    let context = Context::full(&runtime).map_err(host)?;
    context.with(|ctx| {
        let caught = |e: rquickjs::Error| failure(&ctx, e, &timed_out);
        in_context(&ctx, run).map_err(caught)
    })
}

fn in_context<'js>(ctx: &Ctx<'js>, run: &Run) -> rquickjs::Result<Finished> {
    let globals = ctx.globals();
    globals.set("__kvSnapshot", run.kv_snapshot.as_str())?;
    globals.set("__kvWritable", run.writable)?;
    globals.set("__sha256Hex", Function::new(ctx.clone(), sha256_hex)?)?;
    ctx.eval::<(), _>(PRELUDE)?;
    // Taken before user code runs, so that a script cannot replace them.
    let kv_writes: Function = globals.get("__kvWrites")?;
    let make_request: Function = globals.get("__makeRequest")?;
    let encode_response: Function = globals.get("__encodeResponse")?;
    for name in [
        "__kvWrites",
        "__makeRequest",
        "__encodeResponse",
        "__kvSnapshot",
        "__kvWritable",
        "__sha256Hex",
    ] {
        globals.remove(name)?;
    }
    let namespace: Object = Module::import(ctx, run.script.entry.as_str())?.finish()?;
    let function: Value = namespace.get(run.script.function.as_str())?;
    let Some(function) = function.as_function() else {
        return Err(rquickjs::Exception::throw_message(
            ctx,
            &format!(
                "{} is not a function exported by module {}",
                run.script.function, run.script.entry
            ),
        ));
    };
    let result: Value = match &run.call {
        Call::Function { arguments } => function.call((Rest(arguments.clone()),))?,
        Call::Endpoint { request, body } => {
            let request: Value = make_request.call((request.as_str(), hex::encode(body)))?;
            function.call((request,))?
        }
    };
    let result = match result.as_promise() {
        Some(promise) => promise.finish::<Value>()?,
        None => result,
    };
    let value = match &run.call {
        Call::Function { .. } => {
            if result.is_undefined() {
                None
            } else if let Some(s) = result.as_string() {
                Some(s.to_string()?)
            } else {
                ctx.json_stringify(result)?
                    .map(|s| s.to_string())
                    .transpose()?
            }
        }
        Call::Endpoint { .. } => Some(encode_response.call((result,))?),
    };
    let writes: String = kv_writes.call(())?;
    let writes = serde_json::from_str(&writes).map_err(|e| {
        rquickjs::Exception::throw_message(ctx, &format!("unreadable key-value writes: {e}"))
    })?;
    Ok(Finished { value, writes })
}

/// SHA-256 of hex-encoded bytes, hex-encoded: the host side of `ccf.crypto.digest` (the
/// prelude only ever passes the hex it made; anything else digests nothing).
fn sha256_hex(data: String) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(hex::decode(data).unwrap_or_default()))
}

/// The failure behind a QuickJS error: the deadline, or the pending exception.
fn failure(ctx: &Ctx<'_>, error: rquickjs::Error, timed_out: &AtomicBool) -> Failure {
    if timed_out.load(Ordering::Relaxed) {
        return Failure::TimedOut;
    }
    if !error.is_exception() {
        return Failure::Exception {
            message: error.to_string(),
            trace: None,
        };
    }
    let thrown = ctx.catch();
    if let Some(exception) = thrown.as_exception() {
        let name: Option<String> = exception.get("name").ok();
        let message = exception.message().unwrap_or_default();
        let message = match name {
            Some(n) if !n.is_empty() => format!("{n}: {message}"),
            _ => message,
        };
        return Failure::Exception {
            message,
            trace: exception.stack().filter(|s| !s.is_empty()),
        };
    }
    let message = match thrown.as_string() {
        Some(s) => s.to_string().unwrap_or_default(),
        None => ctx
            .json_stringify(thrown)
            .ok()
            .flatten()
            .and_then(|s| s.to_string().ok())
            .unwrap_or_else(|| "uncaught exception".into()),
    };
    Failure::Exception {
        message,
        trace: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_resolve_relative_to_the_importer() {
        assert_eq!(module_name("test.js", "./bar/baz.js"), "bar/baz.js");
        assert_eq!(module_name("a/b.js", "../c.js"), "c.js");
        assert_eq!(module_name("a/b.js", "./c.js"), "a/c.js");
        assert_eq!(module_name("", "/x/./y.js"), "x/y.js");
        assert_eq!(module_name("a/b.js", "../../../etc.js"), "etc.js");
    }
}
