//! Receipt verification throughput, against the cost of the ECDSA verifications it cannot
//! avoid, measured in the same process.
//!
//! `cargo bench --bench receipt -- [--out DIR] [--seconds S] [--batch-only]`
//!
//! Measures receipts per second for:
//! - `ecdsa_p256`: one raw P-256 ECDSA verification (DER signature, 32-byte prehash) with the
//!   portable RustCrypto arithmetic;
//! - `ecdsa_p256_ring`: one raw P-256 ECDSA verification (DER signature over a 32-byte message)
//!   with ring's assembly: the floor of a verification on this machine;
//! - `fresh`: parse the receipt JSON and verify it with [`verify`] (no cache: the service
//!   certificate and the node certificate are decoded, two ECDSA verifications);
//! - `chain_cached`: parse and verify with a verifier that already checked the node
//!   certificate (signature cache off, so one ECDSA verification per receipt);
//! - `batch`: parse and verify receipts that share one signature with a warm verifier (hashes
//!   only), and the same without the JSON parsing (`batch_parsed`).
//!
//! The measurements run interleaved, in rounds (each round times every measurement once), so a
//! machine whose load changes affects them alike; each rate is the median over the rounds, and
//! each ratio the median of the per-round ratios.
//!
//! With `--out DIR` it also writes the receipts and the service certificate there, and the
//! rates as `rust.json`, for `benches/receipt.sh` to time the official Python verifier on the
//! same files. `--batch-only` measures `fresh`, `batch` and `batch_parsed` only.
//!
//! `--fresh-count N` times nothing: it verifies N receipts fresh (as `fresh` does) and exits,
//! for an instruction count that machine load cannot move:
//! `valgrind --tool=callgrind` of `--fresh-count 1` and `--fresh-count 201`, the difference
//! divided by 200 is the instructions of one fresh verification, one-time initialisation left
//! out (`benches/receipt.sh --callgrind` does this).
//!
//! With `--receipts DIR` it measures receipts read from DIR instead of the made-up ledger:
//! `DIR/service_cert.pem` and `DIR/batch/*.json` (receipts fetched from a ledger, the layout
//! `--out` writes; `benches/side_by_side.sh` uses it for a sandbox's receipts). `fresh`
//! then cycles through those receipts too, and `--out` only receives the rates.

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

const ROUNDS: usize = 7;

/// One measurement: a closure verifying `per_call` receipts per call.
struct Measure<'a> {
    name: &'static str,
    per_call: usize,
    f: Box<dyn FnMut() + 'a>,
    calls_per_round: u64,
    rates: Vec<f64>,
}

impl<'a> Measure<'a> {
    fn new(name: &'static str, per_call: usize, f: impl FnMut() + 'a) -> Self {
        Measure {
            name,
            per_call,
            f: Box::new(f),
            calls_per_round: 1,
            rates: Vec::new(),
        }
    }

    fn median(&self) -> f64 {
        median(self.rates.clone())
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs the measurements in interleaved rounds of about `seconds / ROUNDS` in total each.
fn run(seconds: f64, measures: &mut [Measure<'_>]) {
    for m in measures.iter_mut() {
        // Warm up and size a round.
        let start = Instant::now();
        let mut calls = 0u64;
        while start.elapsed() < Duration::from_millis(100) {
            (m.f)();
            calls += 1;
        }
        m.calls_per_round = ((calls as f64) * seconds / ROUNDS as f64 / 0.1).max(1.0) as u64;
    }
    for _ in 0..ROUNDS {
        for m in measures.iter_mut() {
            let t = Instant::now();
            for _ in 0..m.calls_per_round {
                (m.f)();
            }
            let receipts = m.calls_per_round as f64 * m.per_call as f64;
            m.rates.push(receipts / t.elapsed().as_secs_f64());
        }
    }
}

/// Median over the rounds of `cost(a) / (k * cost(b))`.
fn ratio(a: &Measure<'_>, b: &Measure<'_>, k: f64) -> f64 {
    median(
        a.rates
            .iter()
            .zip(&b.rates)
            .map(|(ra, rb)| rb / (k * ra))
            .collect(),
    )
}

fn main() {
    let mut out: Option<PathBuf> = None;
    let mut seconds = 2.0;
    let mut batch_only = false;
    let mut given: Option<PathBuf> = None;
    let mut fresh_count: Option<usize> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--out" => out = args.next().map(PathBuf::from),
            "--receipts" => given = args.next().map(PathBuf::from),
            "--seconds" => seconds = args.next().and_then(|s| s.parse().ok()).unwrap_or(seconds),
            "--batch-only" => batch_only = true,
            "--fresh-count" => fresh_count = args.next().and_then(|s| s.parse().ok()),
            _ => {} // `cargo bench` passes `--bench`.
        }
    }

    // A P-256 ledger like real ones: 1000 transactions under one signature (a range audit),
    // and 200 transactions each under its own signature.
    let (pem, batch_texts, distinct_pem, distinct_texts) = match &given {
        Some(dir) => {
            let pem =
                std::fs::read_to_string(dir.join("service_cert.pem")).expect("service_cert.pem");
            let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("batch"))
                .expect("batch directory")
                .map(|e| e.expect("directory entry").path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            files.sort();
            let texts: Vec<String> = files
                .iter()
                .map(|p| std::fs::read_to_string(p).expect("receipt file"))
                .collect();
            assert!(!texts.is_empty(), "no receipts in {}", dir.display());
            (pem.clone(), texts.clone(), pem, texts)
        }
        None => {
            let shared = fixture(Curve::P256, Curve::P256, 1000, 1000);
            let distinct = fixture(Curve::P256, Curve::P256, 200, 1);
            (
                shared.service.pem.clone(),
                (1..=1000)
                    .map(|s| shared.ledger.receipt(s).to_string())
                    .collect(),
                distinct.service.pem.clone(),
                (1..distinct.ledger.next_seqno())
                    .filter(|s| distinct.ledger.signature_at(*s).is_none())
                    .map(|s| distinct.ledger.receipt(s).to_string())
                    .collect(),
            )
        }
    };
    let options = &VerifyOptions::new();

    if let Some(n) = fresh_count {
        for i in 0..n {
            let r: Receipt =
                serde_json::from_str(&distinct_texts[i % distinct_texts.len()]).expect("parses");
            black_box(verify(&r, &distinct_pem, options).expect("verifies"));
        }
        return;
    }

    // Raw ECDSA P-256 verification: the floor.
    let signing = p256::ecdsa::SigningKey::from_slice(&[7; 32]).expect("key");
    let key = *signing.verifying_key();
    let digest = [9u8; 32];
    let sig: p256::ecdsa::Signature =
        p256::ecdsa::signature::hazmat::PrehashSigner::sign_prehash(&signing, &digest)
            .expect("sign");
    let der = sig.to_der();
    let sec1 = key.to_sec1_point(false);
    let message = [9u8; 32];
    let ring_sig: p256::ecdsa::Signature = p256::ecdsa::signature::Signer::sign(&signing, &message);
    let ring_der = ring_sig.to_der();

    let chain_only = ReceiptVerifier::with_options(
        &distinct_pem,
        VerifierOptions::new().signature_cache_capacity(0),
    )
    .expect("verifier");
    let verifier = ReceiptVerifier::new(&pem).expect("verifier");
    let parsed: Vec<Receipt> = batch_texts
        .iter()
        .map(|t| serde_json::from_str(t).expect("parses"))
        .collect();
    verifier.verify(&parsed[0], options).expect("verifies");

    let mut measures = Vec::new();
    if !batch_only {
        measures.push(Measure::new("ecdsa_p256", 1, || {
            let s = p256::ecdsa::DerSignature::from_bytes(black_box(der.as_bytes())).expect("der");
            key.verify_prehash(black_box(&digest), &s)
                .expect("verifies");
        }));
        measures.push(Measure::new("ecdsa_p256_ring", 1, || {
            ring::signature::UnparsedPublicKey::new(
                &ring::signature::ECDSA_P256_SHA256_ASN1,
                black_box(sec1.as_bytes()),
            )
            .verify(black_box(&message), black_box(ring_der.as_bytes()))
            .expect("verifies");
        }));
        let texts = distinct_texts.clone();
        let chain_only = &chain_only;
        let mut i = 0;
        measures.push(Measure::new("chain_cached", 1, move || {
            let r: Receipt = serde_json::from_str(&texts[i % texts.len()]).expect("parses");
            chain_only.verify(&r, options).expect("verifies");
            i += 1;
        }));
    }
    let mut i = 0;
    measures.push(Measure::new("fresh", 1, move || {
        let r: Receipt =
            serde_json::from_str(&distinct_texts[i % distinct_texts.len()]).expect("parses");
        verify(&r, &distinct_pem, options).expect("verifies");
        i += 1;
    }));
    let verifier = &verifier;
    let batch_texts_ref = &batch_texts;
    measures.push(Measure::new("batch", batch_texts.len(), move || {
        for t in batch_texts_ref {
            let r: Receipt = serde_json::from_str(t).expect("parses");
            verifier.verify(&r, options).expect("verifies");
        }
    }));
    let parsed_ref = &parsed;
    measures.push(Measure::new("batch_parsed", parsed.len(), move || {
        for r in parsed_ref {
            verifier.verify(black_box(r), options).expect("verifies");
        }
    }));
    if !batch_only {
        measures.push(Measure::new("parse_only", batch_texts.len(), move || {
            for t in batch_texts_ref {
                black_box(serde_json::from_str::<Receipt>(t).expect("parses"));
            }
        }));
    }

    run(seconds, &mut measures);

    let mut rates = serde_json::Map::new();
    for m in &measures {
        let r = m.median();
        println!("{:<16} {r:>12.0} /s  {:>9.2} us", m.name, 1e6 / r);
        rates.insert(m.name.to_owned(), r.into());
    }
    let find = |name: &str| measures.iter().find(|m| m.name == name);
    if let (Some(ecdsa), Some(fresh), Some(cached)) =
        (find("ecdsa_p256"), find("fresh"), find("chain_cached"))
    {
        let f = ratio(fresh, ecdsa, 2.0);
        let c = ratio(cached, ecdsa, 1.0);
        println!("fresh        = {f:.2} x two ECDSA verifications (per-round median)");
        println!("chain_cached = {c:.2} x one ECDSA verification (per-round median)");
        if let Some(ring) = find("ecdsa_p256_ring") {
            let fr = ratio(fresh, ring, 2.0);
            println!("fresh        = {fr:.2} x two ring ECDSA verifications (per-round median)");
            rates.insert("fresh_vs_two_ring_ecdsa".into(), fr.into());
        }
        rates.insert("fresh_vs_two_ecdsa".into(), f.into());
        rates.insert("chain_cached_vs_one_ecdsa".into(), c.into());
    }

    if let Some(dir) = out {
        std::fs::create_dir_all(dir.join("batch")).expect("output dir");
        if given.is_none() {
            std::fs::write(dir.join("service_cert.pem"), &pem).expect("write");
            for (i, t) in batch_texts.iter().enumerate() {
                std::fs::write(dir.join("batch").join(format!("{i:04}.json")), t).expect("write");
            }
        }
        let name = if batch_only {
            "rust_batch.json"
        } else {
            "rust.json"
        };
        std::fs::write(dir.join(name), serde_json::Value::Object(rates).to_string())
            .expect("write");
    }
}
