//! Receipt verification throughput, against the cost of the ECDSA verifications it cannot
//! avoid, measured in the same process.
//!
//! `cargo bench --bench receipt -- [--out DIR] [--seconds S]`
//!
//! Prints receipts per second for:
//! - `ecdsa_p256`: one raw P-256 ECDSA verification (DER signature, 32-byte prehash);
//! - `fresh`: parse the receipt JSON and verify it with [`verify`] (no cache: the service
//!   certificate and the node certificate are decoded, two ECDSA verifications);
//! - `chain_cached`: parse and verify with a verifier that already checked the node
//!   certificate (signature cache off, so one ECDSA verification per receipt);
//! - `batch`: parse and verify receipts that share one signature with a warm verifier (hashes
//!   only), and the same without the JSON parsing (`batch_parsed`).
//!
//! With `--out DIR` it also writes the receipts and the service certificate there, and the
//! rates as `rust.json`, for `benches/receipt.sh` to time the official Python verifier on the
//! same files.

#[path = "../tests/receipt_support/mod.rs"]
mod receipt_support;

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use confidential_ledger::receipt::{
    Receipt, ReceiptVerifier, VerifierOptions, VerifyOptions, verify,
};
use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
use receipt_support::{Curve, fixture};

/// Receipts per second of `f` (which verifies `per_call` receipts): the median of five
/// rounds of about `seconds / 5` each.
fn rate(seconds: f64, per_call: usize, mut f: impl FnMut()) -> f64 {
    // Warm up and size a round.
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed() < Duration::from_millis(100) {
        f();
        calls += 1;
    }
    let per_round = ((calls as f64) * seconds / 5.0 / 0.1).max(1.0) as u64;
    let mut rates: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..per_round {
                f();
            }
            (per_round as f64 * per_call as f64) / t.elapsed().as_secs_f64()
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    rates[2]
}

fn main() {
    let mut out: Option<PathBuf> = None;
    let mut seconds = 2.0;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--out" => out = args.next().map(PathBuf::from),
            "--seconds" => seconds = args.next().and_then(|s| s.parse().ok()).unwrap_or(seconds),
            _ => {} // `cargo bench` passes `--bench`.
        }
    }

    // A P-256 ledger like real ones: 1000 transactions under one signature (a range audit),
    // and 200 transactions each under its own signature.
    let shared = fixture(Curve::P256, Curve::P256, 1000, 1000);
    let distinct = fixture(Curve::P256, Curve::P256, 200, 1);
    let pem = shared.service.pem.clone();
    let batch_texts: Vec<String> = (1..=1000)
        .map(|s| shared.ledger.receipt(s).to_string())
        .collect();
    let distinct_texts: Vec<String> = (1..distinct.ledger.next_seqno())
        .filter(|s| distinct.ledger.signature_at(*s).is_none())
        .map(|s| distinct.ledger.receipt(s).to_string())
        .collect();
    let options = VerifyOptions::new();

    // Raw ECDSA P-256 verification: the floor.
    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(
        p256::ecdsa::SigningKey::from_slice(&[7; 32])
            .expect("key")
            .verifying_key()
            .to_sec1_point(false)
            .as_bytes(),
    )
    .expect("key");
    let digest = [9u8; 32];
    let signing = p256::ecdsa::SigningKey::from_slice(&[7; 32]).expect("key");
    let sig: p256::ecdsa::Signature =
        p256::ecdsa::signature::hazmat::PrehashSigner::sign_prehash(&signing, &digest)
            .expect("sign");
    let der = sig.to_der();
    let ecdsa = rate(seconds, 1, || {
        let s = p256::ecdsa::DerSignature::from_bytes(black_box(der.as_bytes())).expect("der");
        key.verify_prehash(black_box(&digest), &s)
            .expect("verifies");
    });

    // Fresh: parse and verify with nothing cached.
    let distinct_pem = distinct.service.pem.clone();
    let mut i = 0;
    let fresh = rate(seconds, 1, || {
        let r: Receipt =
            serde_json::from_str(&distinct_texts[i % distinct_texts.len()]).expect("parses");
        verify(&r, &distinct_pem, &options).expect("verifies");
        i += 1;
    });

    // Chain cached, signatures not: one ECDSA per receipt.
    let chain_only = ReceiptVerifier::with_options(
        &distinct.service.pem,
        VerifierOptions::new().signature_cache_capacity(0),
    )
    .expect("verifier");
    let mut i = 0;
    let chain_cached = rate(seconds, 1, || {
        let r: Receipt =
            serde_json::from_str(&distinct_texts[i % distinct_texts.len()]).expect("parses");
        chain_only.verify(&r, &options).expect("verifies");
        i += 1;
    });

    // Batch: receipts sharing a signature, warm verifier.
    let verifier = ReceiptVerifier::new(&pem).expect("verifier");
    let parsed: Vec<Receipt> = batch_texts
        .iter()
        .map(|t| serde_json::from_str(t).expect("parses"))
        .collect();
    verifier.verify(&parsed[0], &options).expect("verifies");
    let batch = rate(seconds, batch_texts.len(), || {
        for t in &batch_texts {
            let r: Receipt = serde_json::from_str(t).expect("parses");
            verifier.verify(&r, &options).expect("verifies");
        }
    });
    let batch_parsed = rate(seconds, parsed.len(), || {
        for r in &parsed {
            verifier.verify(black_box(r), &options).expect("verifies");
        }
    });
    let parse_only = rate(seconds, batch_texts.len(), || {
        for t in &batch_texts {
            black_box(serde_json::from_str::<Receipt>(t).expect("parses"));
        }
    });

    let us = |r: f64| 1e6 / r;
    println!("ecdsa_p256      {ecdsa:>12.0} /s  {:>9.2} us", us(ecdsa));
    println!(
        "fresh           {fresh:>12.0} /s  {:>9.2} us  = {:.2} x two ECDSA verifications",
        us(fresh),
        us(fresh) / (2.0 * us(ecdsa))
    );
    println!(
        "chain_cached    {chain_cached:>12.0} /s  {:>9.2} us  = {:.2} x one ECDSA verification",
        us(chain_cached),
        us(chain_cached) / us(ecdsa)
    );
    println!(
        "batch           {batch:>12.0} /s  {:>9.2} us  (parse + verify, shared signature)",
        us(batch)
    );
    println!(
        "batch_parsed    {batch_parsed:>12.0} /s  {:>9.2} us  (verify only, shared signature)",
        us(batch_parsed)
    );
    println!(
        "parse_only      {parse_only:>12.0} /s  {:>9.2} us",
        us(parse_only)
    );

    if let Some(dir) = out {
        std::fs::create_dir_all(dir.join("batch")).expect("output dir");
        std::fs::write(dir.join("service_cert.pem"), &pem).expect("write");
        for (i, t) in batch_texts.iter().enumerate() {
            std::fs::write(dir.join("batch").join(format!("{i:04}.json")), t).expect("write");
        }
        let rates = serde_json::json!({
            "ecdsa_p256": ecdsa, "fresh": fresh, "chain_cached": chain_cached,
            "batch": batch, "batch_parsed": batch_parsed, "parse_only": parse_only,
        });
        std::fs::write(dir.join("rust.json"), rates.to_string()).expect("write");
    }
}
