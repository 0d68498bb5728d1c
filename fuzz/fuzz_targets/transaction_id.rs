//! Transaction id parsing.
//!
//! Properties: parsing never panics; an accepted string is exactly what `Display` writes back
//! (the parser accepts only the canonical form), and so is its serde form; a rejected one has
//! an error quoting the input (cut to 64 characters); ids built from any two numbers survive
//! `Display` then parsing, and order like `(view, seqno)`.
#![no_main]

use std::cmp::Ordering;

use confidential_ledger::TransactionId;
use libfuzzer_sys::fuzz_target;

fn numbers(data: &[u8]) -> Option<(u64, u64, u64, u64)> {
    let word = |i: usize| -> Option<u64> {
        Some(u64::from_le_bytes(
            data.get(i * 8..i * 8 + 8)?.try_into().ok()?,
        ))
    };
    Some((word(0)?, word(1)?, word(2)?, word(3)?))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        match text.parse::<TransactionId>() {
            Ok(id) => {
                assert_eq!(id.to_string(), text);
                let json = serde_json::to_string(&id).expect("serialises");
                assert_eq!(json, format!("\"{text}\""));
                let back: TransactionId = serde_json::from_str(&json).expect("deserialises");
                assert_eq!(back, id);
            }
            Err(e) => {
                let quoted: String = text.chars().take(64).collect();
                if text.chars().count() > 64 {
                    assert_eq!(e.input(), format!("{quoted}..."));
                } else {
                    assert_eq!(e.input(), text);
                }
                let _ = (e.kind(), e.to_string());
                let json = serde_json::to_string(text).expect("a string serialises");
                assert!(serde_json::from_str::<TransactionId>(&json).is_err());
            }
        }
    }
    if let Some((v1, s1, v2, s2)) = numbers(data) {
        let a = TransactionId::new(v1, s1);
        let b = TransactionId::new(v2, s2);
        assert_eq!(a.to_string().parse::<TransactionId>().ok(), Some(a));
        let expected: Ordering = (v1, s1).cmp(&(v2, s2));
        assert_eq!(a.cmp(&b), expected);
    }
});
