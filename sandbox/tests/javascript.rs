//! Ledger JavaScript: user-defined functions (`:execute`) and user-defined endpoints run in
//! the embedded engine, with the `ccf` API, the runtime limits and durable key-value writes.

mod support;

use confidential_ledger_sandbox::{Sandbox, SandboxOptions};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::Client;

async fn put_function(admin: &Client, id: &str, code: &str) {
    let r = admin
        .put(
            &format!("/app/userDefinedFunctions/{id}"),
            json!({ "code": code }),
        )
        .await;
    assert!(r.status.is_success(), "{:?}", r.body);
}

async fn execute(admin: &Client, id: &str, body: Value) -> Value {
    let r = admin
        .post(&format!("/app/userDefinedFunctions/{id}:execute"), body)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body
}

#[tokio::test]
async fn functions_run_with_arguments_and_answer_their_return_value() {
    let s = Sandbox::start(SandboxOptions::for_tests()).await.unwrap();
    let admin = Client::admin(&s);
    put_function(
        &admin,
        "calc",
        "export function main(a, b) { return a + b + arguments.length }\n\
         export function shape(x) { return { got: x, n: Number(x) * 2 } }\n\
         export function nothing() {}\n\
         export async function later(x) { return await Promise.resolve('later ' + x) }\n\
         export function store(k, v) { ccf.kv['items'].set(ccf.strToBuf(k), ccf.jsonCompatibleToBuf(v)); return 'stored' }\n\
         export function load(k) { return ccf.bufToJsonCompatible(ccf.kv['items'].get(ccf.strToBuf(k))) }\n\
         export function sha(x) { const d = ccf.crypto.digest('SHA-256', ccf.strToBuf(x));\n\
           return Array.from(new Uint8Array(d)).map(b => b.toString(16).padStart(2, '0')).join('') }",
    )
    .await;
    assert_eq!(
        execute(&admin, "calc", json!({ "arguments": ["1", "2"] })).await,
        json!({ "status": "Succeeded", "result": { "returnValue": "122" } })
    );
    assert_eq!(
        execute(
            &admin,
            "calc",
            json!({ "arguments": ["21"], "exportedFunctionName": "shape" })
        )
        .await["result"]["returnValue"],
        json!(r#"{"got":"21","n":42}"#)
    );
    assert_eq!(
        execute(&admin, "calc", json!({ "exportedFunctionName": "nothing" })).await,
        json!({ "status": "Succeeded", "result": {} })
    );
    assert_eq!(
        execute(
            &admin,
            "calc",
            json!({ "exportedFunctionName": "later", "arguments": ["x"] })
        )
        .await["result"]["returnValue"],
        json!("later x")
    );
    // ccf.crypto.digest: SHA-256 of "abc".
    assert_eq!(
        execute(
            &admin,
            "calc",
            json!({ "exportedFunctionName": "sha", "arguments": ["abc"] })
        )
        .await["result"]["returnValue"],
        json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    // Standalone functions read and write the key-value maps, durably.
    let stored = admin
        .post(
            "/app/userDefinedFunctions/calc:execute",
            json!({ "exportedFunctionName": "store", "arguments": ["k", "v"] }),
        )
        .await;
    assert_eq!(stored.body["result"]["returnValue"], "stored");
    assert_eq!(
        execute(
            &admin,
            "calc",
            json!({ "exportedFunctionName": "load", "arguments": ["k"] })
        )
        .await["result"]["returnValue"],
        json!("v")
    );
    // Arguments are strings, as the API declares them.
    let bad = admin
        .post(
            "/app/userDefinedFunctions/calc:execute",
            json!({ "arguments": [1] }),
        )
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::BAD_REQUEST, "InvalidInput")
    );
    let missing = admin
        .post("/app/userDefinedFunctions/none:execute", json!({}))
        .await;
    assert_eq!(missing.code(), "FunctionNotFound");
}

#[tokio::test]
async fn exceptions_fail_the_execution_with_details_only_when_asked() {
    let s = Sandbox::start(SandboxOptions::for_tests()).await.unwrap();
    let admin = Client::admin(&s);
    put_function(
        &admin,
        "thrower",
        "export function main(m) { throw new TypeError('bad ' + m) }\n\
         export function raw() { throw 'just a string' }",
    )
    .await;
    assert_eq!(
        execute(&admin, "thrower", json!({ "arguments": ["x"] })).await,
        json!({ "status": "Failed", "error": { "message": "Exception thrown while executing." } })
    );
    let detailed = execute(
        &admin,
        "thrower",
        json!({ "arguments": ["x"], "runtimeOptions": { "return_exception_details": true } }),
    )
    .await;
    assert_eq!(detailed["status"], "Failed");
    let message = detailed["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("TypeError: bad x"), "{message}");
    assert!(message.contains("thrower.js"), "a trace: {message}");
    let raw = execute(
        &admin,
        "thrower",
        json!({ "exportedFunctionName": "raw", "runtimeOptions": { "return_exception_details": true } }),
    )
    .await;
    assert_eq!(raw["error"]["message"], "just a string");
    let not_exported = execute(
        &admin,
        "thrower",
        json!({ "exportedFunctionName": "absent", "runtimeOptions": { "return_exception_details": true } }),
    )
    .await;
    assert!(
        not_exported["error"]["message"]
            .as_str()
            .unwrap()
            .contains("absent is not a function exported"),
        "{not_exported}"
    );
    put_function(&admin, "syntax", "export function main( {").await;
    assert_eq!(
        execute(&admin, "syntax", json!({})).await["status"],
        "Failed"
    );
}

#[tokio::test]
async fn runtime_limits_stop_hostile_scripts_and_the_sandbox_goes_on() {
    let s = Sandbox::start(SandboxOptions::for_tests()).await.unwrap();
    let admin = Client::admin(&s);
    put_function(
        &admin,
        "hostile",
        "export function spin() { for (;;) {} }\n\
         export function spinCatching() { for (;;) { try { for (;;) {} } catch (e) {} } }\n\
         export function hog() { const a = []; for (;;) a.push(new Array(100000).fill(1)) }\n\
         export function deep() { function f(n) { return f(n + 1) + 1 } return f(0) }\n\
         export function ok() { return 'still here' }",
    )
    .await;
    let details = json!({ "return_exception_details": true });
    for name in ["spin", "spinCatching"] {
        let mut options = details.clone();
        options["max_execution_time_ms"] = json!(100);
        assert_eq!(
            execute(
                &admin,
                "hostile",
                json!({ "exportedFunctionName": name, "runtimeOptions": options })
            )
            .await,
            json!({ "status": "Failed", "error": { "message": "Operation took too long to complete." } }),
            "{name}"
        );
    }
    // The ledger's own runtime options apply when the call sets none.
    admin
        .patch(
            "/app/userDefinedEndpoints/runtimeOptions",
            json!({ "max_execution_time_ms": 100 }),
        )
        .await;
    assert_eq!(
        execute(&admin, "hostile", json!({ "exportedFunctionName": "spin" })).await["error"]["message"],
        "Operation took too long to complete."
    );
    let mut options = details.clone();
    options["max_heap_bytes"] = json!(8 << 20);
    options["max_execution_time_ms"] = json!(20_000);
    let hog = execute(
        &admin,
        "hostile",
        json!({ "exportedFunctionName": "hog", "runtimeOptions": options }),
    )
    .await;
    assert_eq!(hog["status"], "Failed");
    assert!(
        hog["error"]["message"]
            .as_str()
            .unwrap()
            .contains("out of memory"),
        "{hog}"
    );
    // A small stack, the default one, and one larger than the sandbox allows (capped):
    // each ends in QuickJS's RangeError, never in an overflow of the host thread.
    for stack in [json!(64 * 1024), Value::Null, json!(u64::MAX)] {
        let mut options = details.clone();
        options["max_stack_bytes"] = stack.clone();
        options["max_execution_time_ms"] = json!(20_000);
        let deep = execute(
            &admin,
            "hostile",
            json!({ "exportedFunctionName": "deep", "runtimeOptions": options }),
        )
        .await;
        assert_eq!(deep["status"], "Failed");
        assert!(
            deep["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("RangeError: Maximum call stack size exceeded"),
            "{stack}: {deep}"
        );
    }
    assert_eq!(
        execute(&admin, "hostile", json!({ "exportedFunctionName": "ok" })).await["result"]["returnValue"],
        "still here"
    );
}

fn items_bundle() -> Value {
    let items = r#"
        import { reply } from "./lib/reply.js";
        export function read(request) {
            return reply(200, { method: "GET", id: request.params.id, query: request.query,
                                 caller: request.caller.policy, route: request.route });
        }
        export function create(request) {
            const body = request.body.json();
            return { statusCode: 201, body: { created: request.params.id, body },
                     headers: { "x-item": request.params.id } };
        }
        export function replace(request) {
            return { body: "text:" + request.body.text() };
        }
        export function patch(request) {
            return { body: request.body.arrayBuffer() };
        }
        export function remove(request) {
            return { statusCode: 204 };
        }
        export function put(request) {
            const kv = ccf.kv["items"];
            kv.set(ccf.strToBuf(request.params.id), ccf.jsonCompatibleToBuf(request.body.json()));
            return { statusCode: 200, body: { size: kv.size } };
        }
        export function get(request) {
            const v = ccf.kv["items"].get(ccf.strToBuf(request.params.id));
            if (v === undefined) return { statusCode: 404, body: { missing: request.params.id } };
            return { body: ccf.bufToJsonCompatible(v) };
        }
        export function del(request) {
            return { body: { deleted: ccf.kv["items"].delete(ccf.strToBuf(request.params.id)) } };
        }
        export function sneakyWrite(request) {
            ccf.kv["items"].set(ccf.strToBuf("sneaky"), ccf.strToBuf("x"));
            return { body: "wrote" };
        }
        export function count() {
            let n = 0;
            ccf.kv["items"].forEach((v, k) => { n += 1; });
            return { body: { n } };
        }
        export function bump() {
            const m = ccf.kv["counter"], k = ccf.strToBuf("n");
            const n = m.has(k) ? ccf.bufToJsonCompatible(m.get(k)) + 1 : 1;
            m.set(k, ccf.jsonCompatibleToBuf(n));
            return { body: { n } };
        }
        export function writeThenThrow() {
            ccf.kv["items"].set(ccf.strToBuf("never"), ccf.strToBuf("x"));
            throw new Error("after the write");
        }
        export function thrower() { throw new Error("endpoint failed"); }
        export function spin() { for (;;) {} }
        export function hello() { return { body: "hello, anyone" }; }
    "#;
    let reply = "export function reply(statusCode, body) { return { statusCode, body }; }";
    let route = |f: &str, mode: &str| {
        json!({ "js_module": "items.js", "js_function": f, "mode": mode,
                "authn_policies": ["user_cert", "jwt"], "forwarding_required": "never", "openapi": {} })
    };
    json!({
        "metadata": { "endpoints": {
            "/items/{id}": {
                "get": route("read", "readonly"),
                "post": route("create", "readwrite"),
                "put": route("replace", "readwrite"),
                "patch": route("patch", "readwrite"),
                "delete": route("remove", "readwrite"),
            },
            "/kv/{id}": {
                "put": route("put", "readwrite"),
                "get": route("get", "readonly"),
                "delete": route("del", "readwrite"),
            },
            "/kv-sneaky": { "post": route("sneakyWrite", "readonly") },
            "/kv-count": { "get": route("count", "readonly") },
            "/kv-bump": { "post": route("bump", "readwrite") },
            "/kv-throw": { "post": route("writeThenThrow", "readwrite") },
            "/fails": { "get": route("thrower", "readonly"), "post": route("spin", "readonly") },
            "/public": { "get": {
                "js_module": "items.js", "js_function": "hello", "mode": "readonly",
                "authn_policies": ["no_auth"]
            } },
        } },
        "modules": [
            { "name": "items.js", "module": items },
            { "name": "lib/reply.js", "module": reply },
        ]
    })
}

async fn call(c: &Client, method: Method, path: &str, body: Option<&str>) -> support::Reply {
    c.send_raw(
        method,
        c.url(path),
        body.map(|b| ("application/json", b.to_string())),
    )
    .await
}

#[tokio::test]
async fn endpoints_answer_each_method_with_params_query_and_body() {
    let s = Sandbox::start(SandboxOptions::for_tests()).await.unwrap();
    let admin = Client::admin(&s);
    let put = admin.put("/app/userDefinedEndpoints", items_bundle()).await;
    assert_eq!(put.status, StatusCode::CREATED);

    let get = call(&admin, Method::GET, "/app/items/a%20b?x=1", None).await;
    assert_eq!(get.status, StatusCode::OK);
    assert_eq!(
        get.body,
        json!({ "method": "GET", "id": "a b", "query": "x=1&api-version=2026-02-23",
                "caller": "user_cert", "route": "/items/{id}" })
    );
    let post = call(&admin, Method::POST, "/app/items/7", Some(r#"{"n":1}"#)).await;
    assert_eq!(post.status, StatusCode::CREATED);
    assert_eq!(post.body, json!({ "created": "7", "body": { "n": 1 } }));
    assert_eq!(post.headers["x-item"], "7");
    assert_eq!(post.headers["content-type"], "application/json");
    let put = call(&admin, Method::PUT, "/app/items/7", Some("héllo")).await;
    assert_eq!(put.body, json!("text:héllo"));
    assert_eq!(put.headers["content-type"], "text/plain");
    let patch = call(&admin, Method::PATCH, "/app/items/7", Some("bytes")).await;
    assert_eq!(patch.body, json!("bytes"));
    assert_eq!(patch.headers["content-type"], "application/octet-stream");
    let delete = call(&admin, Method::DELETE, "/app/items/7", None).await;
    assert_eq!(delete.status, StatusCode::NO_CONTENT);
    let head = call(&admin, Method::OPTIONS, "/app/items/7", None).await;
    assert_eq!(head.status, StatusCode::METHOD_NOT_ALLOWED);

    let thrown = call(&admin, Method::GET, "/app/fails", None).await;
    assert_eq!(
        (thrown.status, thrown.body.clone()),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "error": { "code": "InternalError", "message": "Exception thrown while executing." } })
        )
    );
    admin
        .patch(
            "/app/userDefinedEndpoints/runtimeOptions",
            json!({ "return_exception_details": true, "max_execution_time_ms": 100 }),
        )
        .await;
    let detailed = call(&admin, Method::GET, "/app/fails", None).await;
    assert_eq!(
        detailed.body["error"]["details"][0]["message"],
        "Error: endpoint failed"
    );
    let spun = call(&admin, Method::POST, "/app/fails", None).await;
    assert_eq!(
        (spun.status, spun.body["error"]["message"].clone()),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!("Operation took too long to complete.")
        )
    );

    // Only the no_auth route is open to anonymous callers.
    let anonymous = Client::anonymous(&s);
    let open = call(&anonymous, Method::GET, "/app/public", None).await;
    assert_eq!(
        (open.status, open.body),
        (StatusCode::OK, json!("hello, anyone"))
    );
    let closed = call(&anonymous, Method::GET, "/app/items/1", None).await;
    assert_eq!(closed.status, StatusCode::UNAUTHORIZED);
    // A token caller is seen as a jwt caller.
    let token = Client::bearer(&s, s.mint_token("oid-1"));
    admin
        .patch(
            "/app/ledgerUsers/oid-1",
            json!({ "assignedRoles": ["Reader"] }),
        )
        .await;
    let by_token = call(&token, Method::GET, "/app/items/1", None).await;
    assert_eq!(by_token.body["caller"], "jwt");
}

#[tokio::test]
async fn key_value_writes_are_durable_and_readonly_endpoints_refuse_them() {
    let dir = tempfile::tempdir().unwrap();
    let options = || SandboxOptions::for_tests().data_dir(dir.path());
    let s = Sandbox::start(options()).await.unwrap();
    let admin = Client::admin(&s);
    admin.put("/app/userDefinedEndpoints", items_bundle()).await;
    let put = call(&admin, Method::PUT, "/app/kv/k1", Some(r#"{"v":1}"#)).await;
    assert_eq!(put.body, json!({ "size": 1 }));
    call(&admin, Method::PUT, "/app/kv/k2", Some(r#"{"v":2}"#)).await;
    let got = call(&admin, Method::GET, "/app/kv/k1", None).await;
    assert_eq!(got.body, json!({ "v": 1 }));
    let deleted = call(&admin, Method::DELETE, "/app/kv/k2", None).await;
    assert_eq!(deleted.body, json!({ "deleted": true }));
    assert_eq!(
        call(&admin, Method::GET, "/app/kv/k2", None).await.status,
        StatusCode::NOT_FOUND
    );
    let sneaky = call(&admin, Method::POST, "/app/kv-sneaky", None).await;
    assert_eq!(
        (sneaky.status, sneaky.code()),
        (StatusCode::INTERNAL_SERVER_ERROR, "InternalError")
    );
    // A readwrite script that throws after writing writes nothing.
    let thrown = call(&admin, Method::POST, "/app/kv-throw", None).await;
    assert_eq!(thrown.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        call(&admin, Method::GET, "/app/kv-count", None).await.body,
        json!({ "n": 1 })
    );
    // Concurrent read-modify-writes lose no update: a script whose snapshot was overtaken
    // runs again (five callers can overtake one another at most four times, within the five
    // attempts, whatever the interleaving).
    let bump = || call(&admin, Method::POST, "/app/kv-bump", None);
    let (a, b, c, d, e) = tokio::join!(bump(), bump(), bump(), bump(), bump());
    let mut seen: Vec<i64> = [a, b, c, d, e]
        .into_iter()
        .map(|r| {
            assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
            r.body["n"].as_i64().unwrap()
        })
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, [1, 2, 3, 4, 5]);
    let last = admin.write("after kv").await;
    admin.wait_committed(&last).await;
    s.shutdown().await;

    let s = Sandbox::start(options()).await.unwrap();
    let admin = Client::admin(&s);
    assert_eq!(
        call(&admin, Method::GET, "/app/kv/k1", None).await.body,
        json!({ "v": 1 })
    );
    assert_eq!(
        call(&admin, Method::GET, "/app/kv-count", None).await.body,
        json!({ "n": 1 })
    );
}
