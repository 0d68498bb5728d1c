//! Structure-aware receipt fuzzing: the input is a script of edits to a valid receipt response
//! (`fixtures/receipts/*.json`, from `seedgen`): bit flips, byte changes, truncations,
//! insertions and replacements of any value, removals, renamed or added keys, copies of one
//! value over another (a proof step over the leaf, an endorsement over the node certificate),
//! swapped proof sides, snake_case keys.
//!
//! Property: a mutated receipt verifies (asking for the original transaction id) only if what a
//! signature or a hash covers is unchanged: the same certificates, leaf components, proof and
//! signature. Unknown keys, key spellings, a dropped `nodeId`, an empty endorsement list and
//! whitespace inside PEM text may differ. The uncached verifier must agree with the caching one.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use confidential_ledger::receipt::{
    Receipt, ReceiptLeaf, ReceiptResponse, ReceiptVerifier, Verified, VerifyOptions, verify,
};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const SERVICE_CERT: &str = include_str!("../fixtures/service_cert.pem");
const RECEIPTS: [&str; 2] = [
    include_str!("../fixtures/receipts/endorsed.json"),
    include_str!("../fixtures/receipts/current.json"),
];

struct Base {
    value: Value,
    transaction_id: String,
    signed: String,
}

struct World {
    verifier: ReceiptVerifier,
    bases: Vec<Base>,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let verifier = ReceiptVerifier::new(SERVICE_CERT).expect("fixture certificate");
        let bases = RECEIPTS
            .iter()
            .map(|text| {
                let response = ReceiptResponse::from_json(text).expect("fixture receipt parses");
                let options = VerifyOptions::new().transaction_id(response.transaction_id.clone());
                let verified = verifier
                    .verify_response(&response, &options)
                    .expect("fixture receipt verifies");
                let receipt = response.receipt.as_ref().expect("fixture receipt is ready");
                Base {
                    value: serde_json::from_str(text).expect("fixture JSON"),
                    transaction_id: response.transaction_id.clone(),
                    signed: signed_content(receipt, &verified),
                }
            })
            .collect();
        World { verifier, bases }
    })
}

/// What signatures and hashes cover, in a canonical form.
fn signed_content(receipt: &Receipt, verified: &Verified) -> String {
    let squeeze = |pem: &str| pem.split_ascii_whitespace().collect::<String>();
    let mut r = receipt.clone();
    r.cert = squeeze(&r.cert);
    r.node_id = None;
    r.additional_properties.clear();
    r.is_signature_transaction = None;
    r.service_endorsements = r
        .service_endorsements
        .filter(|e| !e.is_empty())
        .map(|e| e.iter().map(|pem| squeeze(pem)).collect());
    if r.root.as_deref() == Some(verified.root.to_string().as_str()) {
        r.root = None;
    }
    if let ReceiptLeaf::Components(c) = &mut r.leaf {
        c.additional_properties.clear();
    }
    serde_json::to_string(&r).expect("a receipt serialises")
}

#[derive(Arbitrary, Debug)]
enum Edit {
    FlipBit { at: u16, bit: u8 },
    SetByte { at: u16, byte: u8 },
    Truncate { len: u16 },
    Insert { at: u16, text: String },
    Replace(String),
    Null,
    Number(i64),
    Bool(bool),
    Upper,
    CrLf,
    CopyFrom(u16),
}

#[derive(Arbitrary, Debug)]
enum Mutation {
    Edit {
        node: u16,
        edit: Edit,
    },
    Remove {
        node: u16,
    },
    Rename {
        node: u16,
        name: String,
    },
    Duplicate {
        node: u16,
    },
    Swap {
        a: u16,
        b: u16,
    },
    FlipSide {
        step: u8,
    },
    AddKey {
        node: u16,
        key: String,
        value: String,
    },
    SnakeCase,
}

#[derive(Arbitrary, Debug)]
struct Script {
    base: u8,
    mutations: Vec<Mutation>,
}

/// JSON pointers of every node under (and including) `value`.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                pointers(
                    v,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                pointers(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

fn pick(all: &[String], n: u16) -> Option<&str> {
    (!all.is_empty()).then(|| all[usize::from(n) % all.len()].as_str())
}

/// The parent pointer and the last key of `pointer`.
fn split(pointer: &str) -> Option<(&str, String)> {
    let (parent, key) = pointer.rsplit_once('/')?;
    Some((parent, key.replace("~1", "/").replace("~0", "~")))
}

fn edit_bytes(text: &str, edit: impl FnOnce(&mut Vec<u8>)) -> Value {
    let mut bytes = text.as_bytes().to_vec();
    edit(&mut bytes);
    Value::String(String::from_utf8_lossy(&bytes).into_owned())
}

fn apply_edit(value: &mut Value, node: &str, edit: Edit) {
    let copied = match &edit {
        Edit::CopyFrom(n) => {
            let mut all = Vec::new();
            pointers(value, String::new(), &mut all);
            pick(&all, *n).and_then(|p| value.pointer(p)).cloned()
        }
        _ => None,
    };
    let Some(target) = value.pointer_mut(node) else {
        return;
    };
    let text = target.as_str().map(str::to_string);
    *target = match (edit, text) {
        (Edit::FlipBit { at, bit }, Some(t)) if !t.is_empty() => edit_bytes(&t, |b| {
            let i = usize::from(at) % b.len();
            b[i] ^= 1 << (bit % 8);
        }),
        (Edit::SetByte { at, byte }, Some(t)) if !t.is_empty() => edit_bytes(&t, |b| {
            let i = usize::from(at) % b.len();
            b[i] = byte;
        }),
        (Edit::Truncate { len }, Some(t)) => edit_bytes(&t, |b| b.truncate(usize::from(len))),
        (Edit::Insert { at, text }, Some(t)) => edit_bytes(&t, |b| {
            let i = usize::from(at) % (b.len() + 1);
            b.splice(i..i, text.bytes());
        }),
        (Edit::Upper, Some(t)) => Value::String(t.to_ascii_uppercase()),
        (Edit::CrLf, Some(t)) => Value::String(t.replace('\n', "\r\n")),
        (Edit::Replace(s), _) => Value::String(s),
        (Edit::Null, _) => Value::Null,
        (Edit::Number(n), _) => Value::from(n),
        (Edit::Bool(b), _) => Value::Bool(b),
        (Edit::CopyFrom(_), _) => match copied {
            Some(v) => v,
            None => return,
        },
        // A string edit on a non-string, or on an empty string: leave it.
        _ => return,
    };
}

fn snake_case(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let old = std::mem::take(map);
            for (k, mut v) in old {
                snake_case(&mut v);
                let mut snake = String::new();
                for c in k.chars() {
                    if c.is_ascii_uppercase() {
                        snake.push('_');
                        snake.push(c.to_ascii_lowercase());
                    } else {
                        snake.push(c);
                    }
                }
                map.insert(snake, v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(snake_case),
        _ => {}
    }
}

fn apply(value: &mut Value, mutation: Mutation) {
    let mut all = Vec::new();
    pointers(value, String::new(), &mut all);
    match mutation {
        Mutation::Edit { node, edit } => {
            if let Some(p) = pick(&all, node) {
                apply_edit(value, p, edit);
            }
        }
        Mutation::Remove { node } => {
            let Some((parent, key)) = pick(&all, node).and_then(split) else {
                return;
            };
            match value.pointer_mut(parent) {
                Some(Value::Object(map)) => {
                    map.remove(&key);
                }
                Some(Value::Array(items)) => {
                    if let Ok(i) = key.parse::<usize>()
                        && i < items.len()
                    {
                        items.remove(i);
                    }
                }
                _ => {}
            }
        }
        Mutation::Rename { node, name } => {
            let Some((parent, key)) = pick(&all, node).and_then(split) else {
                return;
            };
            if let Some(Value::Object(map)) = value.pointer_mut(parent)
                && let Some(v) = map.remove(&key)
            {
                map.insert(name, v);
            }
        }
        Mutation::Duplicate { node } => {
            let Some((parent, key)) = pick(&all, node).and_then(split) else {
                return;
            };
            if let Some(Value::Array(items)) = value.pointer_mut(parent)
                && let Ok(i) = key.parse::<usize>()
                && i < items.len()
            {
                let copy = items[i].clone();
                items.insert(i, copy);
            }
        }
        Mutation::Swap { a, b } => {
            let (Some(a), Some(b)) = (pick(&all, a), pick(&all, b)) else {
                return;
            };
            // Only between nodes where neither contains the other.
            if a.starts_with(b) || b.starts_with(a) {
                return;
            }
            let (Some(va), Some(vb)) = (value.pointer(a).cloned(), value.pointer(b).cloned())
            else {
                return;
            };
            if let Some(t) = value.pointer_mut(a) {
                *t = vb;
            }
            if let Some(t) = value.pointer_mut(b) {
                *t = va;
            }
        }
        Mutation::FlipSide { step } => {
            let Some(Value::Array(proof)) = value.pointer_mut("/receipt/proof") else {
                return;
            };
            if proof.is_empty() {
                return;
            }
            let i = usize::from(step) % proof.len();
            if let Value::Object(map) = &mut proof[i] {
                let flipped = std::mem::take(map)
                    .into_iter()
                    .map(|(k, v)| match k.as_str() {
                        "left" => ("right".to_string(), v),
                        "right" => ("left".to_string(), v),
                        _ => (k, v),
                    })
                    .collect();
                *map = flipped;
            }
        }
        Mutation::AddKey {
            node,
            key,
            value: text,
        } => {
            let Some(p) = pick(&all, node) else {
                return;
            };
            if let Some(Value::Object(map)) = value.pointer_mut(p) {
                map.insert(key, Value::String(text));
            }
        }
        Mutation::SnakeCase => snake_case(value),
    }
}

fuzz_target!(|script: Script| {
    let world = world();
    let base = &world.bases[usize::from(script.base) % world.bases.len()];
    let mut value = base.value.clone();
    for mutation in script.mutations.into_iter().take(16) {
        apply(&mut value, mutation);
    }
    let text = serde_json::to_string(&value).expect("JSON serialises");
    let Ok(response) = ReceiptResponse::from_json(&text) else {
        return;
    };
    let options = VerifyOptions::new().transaction_id(base.transaction_id.clone());
    let result = world.verifier.verify_response(&response, &options);
    let Ok(verified) = result else {
        return;
    };
    let receipt = response
        .receipt
        .as_ref()
        .expect("a verified response has a receipt");
    assert_eq!(
        signed_content(receipt, &verified),
        base.signed,
        "a changed receipt verified: {text}"
    );
    assert_eq!(
        verified.transaction_id.as_deref(),
        Some(base.transaction_id.as_str())
    );
    let mut uncached_options = options.clone();
    if let Some(claims) = response.application_claims.clone() {
        uncached_options = uncached_options.application_claims(claims);
    }
    let uncached = verify(receipt, SERVICE_CERT, &uncached_options);
    assert!(
        uncached.is_ok(),
        "the uncached verifier disagrees: {uncached:?}"
    );
});
