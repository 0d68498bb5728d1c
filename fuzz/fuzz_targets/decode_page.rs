//! Page decoding (`decode_page`): input is `<item field>\n<body>`.
//!
//! Properties: decoding never panics, whatever the body and field name; a decoded page agrees
//! with a plain JSON reading of the same body (when that reading accepts it: skipped fields
//! are not validated): the items are the field's array (or none when
//! missing or null), the next link is `nextLink` or `@nextLink` when non-empty, and `Loading`
//! is the only loading state.
#![no_main]

use confidential_ledger::pager::decode_page;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn link(object: &serde_json::Map<String, Value>, name: &str) -> Option<String> {
    object
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fuzz_target!(|data: &[u8]| {
    let (field, body) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (
            String::from_utf8_lossy(&data[..i]).into_owned(),
            &data[i + 1..],
        ),
        None => ("entries".to_string(), data),
    };
    let typed = decode_page::<Value>(body, &field);
    // Typed items that cannot all be strings must not decode as strings.
    let strings = decode_page::<String>(body, &field);
    if let Ok(page) = &strings {
        let values = typed.as_ref().expect("strings are values");
        assert_eq!(page.items.len(), values.items.len());
    }
    let Ok(page) = typed else {
        return;
    };
    assert!(page.retry_after.is_none());
    // Fields the page does not read are skipped by serde_json's `IgnoredAny`, which neither
    // checks that their strings are UTF-8 nor that their numbers fit an f64; the model can
    // only judge bodies a plain JSON reading accepts (with invalid sequences replaced).
    let text = String::from_utf8_lossy(body);
    let object = match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(object)) => object,
        Ok(other) => panic!("decoded a body that is not an object: {other}"),
        Err(_) => return,
    };
    let items = match object.get(&field) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(other) => panic!("decoded items from a non-array {other}"),
    };
    assert_eq!(page.items, items);
    assert_eq!(
        page.next_link,
        link(&object, "nextLink").or_else(|| link(&object, "@nextLink"))
    );
    let state = if field == "state" {
        None
    } else {
        object.get("state")
    };
    match state {
        None | Some(Value::Null) => assert!(!page.loading),
        Some(Value::String(s)) if s == "Ready" => assert!(!page.loading),
        Some(Value::String(s)) if s == "Loading" => assert!(page.loading),
        Some(other) => panic!("accepted the state {other}"),
    }
});
