//! Receipt verification: any bytes, parsed as a receipt response or a bare receipt, verified
//! against a fixed service certificate (`fixtures/service_cert.pem`, from `seedgen`).
//!
//! Properties: verification never panics; the caching verifier (shared by every input, so its
//! caches hold what earlier inputs left, and fresh per input, verifying twice) and the one-shot
//! uncached `verify` always agree, on success and on the error.
#![no_main]

use std::sync::OnceLock;

use confidential_ledger::receipt::{
    Receipt, ReceiptError, ReceiptResponse, ReceiptVerifier, Verified, VerifyOptions, verify,
};
use libfuzzer_sys::fuzz_target;

const SERVICE_CERT: &str = include_str!("../fixtures/service_cert.pem");

fn shared() -> &'static ReceiptVerifier {
    static VERIFIER: OnceLock<ReceiptVerifier> = OnceLock::new();
    VERIFIER.get_or_init(|| ReceiptVerifier::new(SERVICE_CERT).expect("fixture certificate"))
}

fn same(what: &str, a: &Result<Verified, ReceiptError>, b: &Result<Verified, ReceiptError>) {
    match (a, b) {
        (Ok(x), Ok(y)) => assert_eq!(format!("{x:?}"), format!("{y:?}"), "{what}"),
        (Err(x), Err(y)) => assert_eq!(x.to_string(), y.to_string(), "{what}"),
        _ => panic!("{what} disagree: {a:?} vs {b:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (receipt, options) = match ReceiptResponse::from_json(text) {
        Ok(response) => {
            // What verify_response does: check against the response's own id and claims.
            let fresh = ReceiptVerifier::new(SERVICE_CERT).expect("fixture certificate");
            let first = fresh.verify_response(&response, &VerifyOptions::new());
            let second = fresh.verify_response(&response, &VerifyOptions::new());
            same("cold and warm caches", &first, &second);
            let from_shared = shared().verify_response(&response, &VerifyOptions::new());
            same("fresh and shared verifiers", &first, &from_shared);
            let Some(receipt) = response.receipt.clone() else {
                return;
            };
            let mut options = VerifyOptions::new();
            if !response.transaction_id.is_empty() && receipt.leaf_components().is_some() {
                options = options.transaction_id(response.transaction_id.clone());
            }
            if let Some(claims) = response.application_claims.clone() {
                options = options.application_claims(claims);
            }
            let uncached = verify(&receipt, SERVICE_CERT, &options);
            same("cached and uncached", &first, &uncached);
            (receipt, options)
        }
        Err(_) => match Receipt::from_json(text) {
            Ok(receipt) => (receipt, VerifyOptions::new()),
            Err(_) => return,
        },
    };
    let cached = shared().verify(&receipt, &options);
    let uncached = verify(&receipt, SERVICE_CERT, &options);
    same("shared and uncached", &cached, &uncached);
});
