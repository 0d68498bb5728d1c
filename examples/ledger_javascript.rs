//! Ledger JavaScript: deploy a user-defined function and run it with arguments, then deploy a
//! user-defined endpoint that keeps a counter in the ledger's key-value store and call it.
//!
//! ```sh
//! cargo run --example ledger_javascript
//! ```
//!
//! The embedded sandbox runs the JavaScript in QuickJS (the engine CCF embeds), under the
//! ledger's runtime options (heap, stack and time limits).

#[path = "common/mod.rs"]
mod common;

use std::collections::BTreeMap;

use confidential_ledger::client::ExecuteUserDefinedFunctionOptions;
use confidential_ledger::models::{
    Bundle, EndpointProperties, ExecutionStatus, ForwardingRequired, ForwardingRequiredKnown,
    Metadata, MethodToEndpointProperties, Mode, ModeKnown, ModuleDef,
};
use confidential_ledger::raw::ledger::ClientInfo;

/// A function: `main` greets its first argument; `checked` throws on bad input.
const FUNCTION: &str = r#"
export function main(name, times) {
    return Array(Number(times)).fill("hello " + name).join(", ");
}
export function checked(amount) {
    if (isNaN(Number(amount))) throw new Error("not a number: " + amount);
    return { doubled: Number(amount) * 2 };
}
"#;

/// An endpoint module: `GET /counter` and `PUT /counter` read and bump a counter kept in the
/// key-value map `counters`; a helper module does the byte conversions.
const COUNTER: &str = r#"
import { read, write } from "./lib/codec.js";
const key = ccf.strToBuf("visits");
export function get(request) {
    return { body: { visits: read(ccf.kv["counters"].get(key)) } };
}
export function bump(request) {
    const by = request.body.json().by ?? 1;
    const visits = read(ccf.kv["counters"].get(key)) + by;
    ccf.kv["counters"].set(key, write(visits));
    return { statusCode: 200, body: { visits } };
}
"#;
const CODEC: &str = r#"
export function read(buf) { return buf === undefined ? 0 : ccf.bufToJsonCompatible(buf); }
export function write(value) { return ccf.jsonCompatibleToBuf(value); }
"#;

fn route(function: &str, mode: ModeKnown) -> EndpointProperties {
    EndpointProperties {
        authn_policies: Vec::new(),
        forwarding_required: ForwardingRequired::Known(ForwardingRequiredKnown::Never),
        interpreter_reuse: None,
        js_function: Some(function.into()),
        js_module: Some("counter.js".into()),
        mode: Some(Mode::Known(mode)),
        openapi: serde_json::Map::new(),
        openapi_hidden: None,
        redirection_strategy: None,
    }
}

#[tokio::main]
async fn main() -> common::Result {
    let ledger = common::connect().await?;
    let client = &ledger.client;

    // A user-defined function, run with string arguments.
    client
        .create_user_defined_function("greeter", FUNCTION, None)
        .await?;
    let options = ExecuteUserDefinedFunctionOptions::new().arguments(["ledger", "2"]);
    let run = client
        .execute_user_defined_function("greeter", Some(options))
        .await?;
    println!("greeter returned {:?}", run.return_value);
    assert_eq!(run.status, ExecutionStatus::Succeeded);
    assert_eq!(
        run.return_value.as_deref(),
        Some("hello ledger, hello ledger")
    );

    // Another exported function; a non-string return value comes back as JSON.
    let options = ExecuteUserDefinedFunctionOptions::new()
        .exported_function_name("checked")
        .arguments(["21"]);
    let run = client
        .execute_user_defined_function("greeter", Some(options))
        .await?;
    assert_eq!(run.return_value.as_deref(), Some(r#"{"doubled":42}"#));
    // A function that throws is a failed run (the call itself succeeds).
    let options = ExecuteUserDefinedFunctionOptions::new()
        .exported_function_name("checked")
        .arguments(["abc"]);
    let run = client
        .execute_user_defined_function("greeter", Some(options))
        .await?;
    println!("checked(\"abc\"): {:?} {:?}", run.status, run.error_message);
    assert_eq!(run.status, ExecutionStatus::Failed);

    // A user-defined endpoint: GET reads (readonly), PUT writes (readwrite).
    let mut endpoints = BTreeMap::new();
    endpoints.insert(
        "/counter".to_string(),
        MethodToEndpointProperties {
            get: Some(route("get", ModeKnown::Readonly)),
            put: Some(route("bump", ModeKnown::Readwrite)),
            ..MethodToEndpointProperties::default()
        },
    );
    let bundle = Bundle {
        metadata: Metadata { endpoints },
        modules: vec![
            ModuleDef {
                name: "counter.js".into(),
                module: COUNTER.into(),
            },
            ModuleDef {
                name: "lib/codec.js".into(),
                module: CODEC.into(),
            },
        ],
    };
    client.create_user_defined_endpoint(&bundle, None).await?;

    // The endpoint is an ordinary HTTPS route of the ledger (`/app/counter`); this client
    // has no typed method for routes a bundle defines, so call it over the client's own
    // connection, which presents the client certificate the sandbox's administrator uses.
    if ledger.sandbox.is_some() {
        let raw = client.raw();
        let url = format!(
            "{}/app/counter?api-version={}",
            raw.baseurl(),
            client.options().api_version
        );
        let bumped = raw
            .client()
            .put(&url)
            .header("content-type", "application/json")
            .body(r#"{"by": 5}"#)
            .send()
            .await?;
        println!(
            "PUT /app/counter: {} {}",
            bumped.status(),
            bumped.text().await?
        );
        let read = raw.client().get(&url).send().await?;
        let status = read.status();
        let body = read.text().await?;
        println!("GET /app/counter: {status} {body}");
        assert_eq!(body, r#"{"visits":5}"#);
    }
    Ok(())
}
