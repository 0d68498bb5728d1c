//! Receipt parsing: any bytes, as a receipt or a receipt response.
//!
//! Properties: parsing never panics; whatever parses serialises and parses back to an equal
//! value (receipts keep every field as written, so nothing may be lost or changed on the way).
#![no_main]

use confidential_ledger::receipt::{Receipt, ReceiptResponse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(receipt) = Receipt::from_json(text) {
        let _ = receipt.leaf_components();
        let again = serde_json::to_string(&receipt).expect("a parsed receipt serialises");
        let back = Receipt::from_json(&again).expect("a serialised receipt parses");
        assert_eq!(back, receipt, "round trip through {again}");
    }
    if let Ok(response) = ReceiptResponse::from_json(text) {
        let _ = response.state.to_string();
        let again = serde_json::to_string(&response).expect("a parsed response serialises");
        let back = ReceiptResponse::from_json(&again).expect("a serialised response parses");
        assert_eq!(back, response, "round trip through {again}");
    }
});
