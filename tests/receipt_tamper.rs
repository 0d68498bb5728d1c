//! Every single-byte change to any signed or hashed field of a valid receipt is rejected, even
//! by a verifier whose caches already hold the valid receipt's chain and signature.

mod receipt_support;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use confidential_ledger::receipt::{
    ProofStep, Receipt, ReceiptLeaf, ReceiptVerifier, VerifyOptions,
};
use receipt_support::{Curve, fixture, pem, pem_to_der, recovered};

/// A valid receipt, the service certificate it verifies against, and a label.
struct Case {
    label: &'static str,
    receipt: Receipt,
    service_pem: String,
    /// P-384 signatures, an order of magnitude slower to verify in debug builds.
    slow: bool,
}

fn cases() -> Vec<Case> {
    let f = fixture(Curve::P256, Curve::P256, 24, 24);
    // Transaction 10 of 25 leaves: its proof has steps on both sides; it carries a claim
    // digest of zero. Transaction 13 carries a LedgerEntry claim.
    let r = recovered();
    let parse = |v: serde_json::Value| -> Receipt { serde_json::from_value(v).expect("parses") };
    vec![
        Case {
            label: "P-256 transaction",
            receipt: parse(f.ledger.receipt(10)),
            service_pem: f.service.pem.clone(),
            slow: false,
        },
        Case {
            label: "P-256 transaction with claims",
            receipt: parse(f.ledger.receipt(13)),
            service_pem: f.service.pem.clone(),
            slow: false,
        },
        Case {
            label: "P-256 signature transaction",
            receipt: parse(f.ledger.receipt(25)),
            service_pem: f.service.pem.clone(),
            slow: false,
        },
        Case {
            label: "P-384 node with two endorsements",
            receipt: parse(r.ledger.receipt(r.under[0][2])),
            service_pem: r.current.pem.clone(),
            slow: true,
        },
    ]
}

/// Mutable access to each signed or hashed string field of a receipt, by name.
fn fields(r: &Receipt) -> Vec<String> {
    let mut names = vec!["cert".to_owned(), "signature".to_owned()];
    if r.node_id.is_some() {
        names.push("nodeId".to_owned());
    }
    match &r.leaf {
        ReceiptLeaf::Components(c) => {
            names.push("writeSetDigest".to_owned());
            names.push("commitEvidence".to_owned());
            if c.claims_digest.is_some() {
                names.push("claimsDigest".to_owned());
            }
        }
        ReceiptLeaf::Digest(_) => names.push("leaf".to_owned()),
    }
    names.extend((0..r.proof.len()).map(|i| format!("proof[{i}]")));
    let n = r.service_endorsements.as_ref().map_or(0, Vec::len);
    names.extend((0..n).map(|i| format!("serviceEndorsements[{i}]")));
    names
}

fn field_mut<'a>(r: &'a mut Receipt, name: &str) -> &'a mut String {
    let index =
        |prefix: &str| -> usize { name[prefix.len()..name.len() - 1].parse().expect("index") };
    match name {
        "cert" => &mut r.cert,
        "signature" => &mut r.signature,
        "nodeId" => r.node_id.as_mut().expect("node id"),
        "leaf" => match &mut r.leaf {
            ReceiptLeaf::Digest(d) => d,
            ReceiptLeaf::Components(_) => unreachable!(),
        },
        _ if name.starts_with("proof[") => match &mut r.proof[index("proof[")] {
            ProofStep::Left(h) | ProofStep::Right(h) => h,
        },
        _ if name.starts_with("serviceEndorsements[") => {
            &mut r.service_endorsements.as_mut().expect("endorsements")
                [index("serviceEndorsements[")]
        }
        _ => match &mut r.leaf {
            ReceiptLeaf::Components(c) => match name {
                "writeSetDigest" => &mut c.write_set_digest,
                "commitEvidence" => &mut c.commit_evidence,
                "claimsDigest" => c.claims_digest.as_mut().expect("claims digest"),
                _ => unreachable!("{name}"),
            },
            ReceiptLeaf::Digest(_) => unreachable!(),
        },
    }
}

const HEX: &[u8] = b"0123456789abcdef";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The bytes a field is written with: a change to another of them keeps the field well-formed,
/// so only the cryptography can reject it.
fn alphabet(field: &str) -> &'static [u8] {
    if field == "cert" || field == "signature" || field.starts_with("serviceEndorsements") {
        BASE64
    } else {
        HEX
    }
}

/// Bytes outside every field's alphabet that could pass for layout, padding, separators or a
/// different case: the replacements tried when not every ASCII byte is.
const AWKWARD: &[u8] = b"\0\t\n\r \"',-.:=\\_gzGZ\x7f";

/// Replacement bytes tried at a position holding `original`: bytes outside the field's
/// alphabet (every ASCII byte when `exhaustive`, otherwise [`AWKWARD`] and the other case of
/// `original`), which must be rejected as malformed, and `in_alphabet` bytes of the alphabet
/// (its neighbour, then its opposite; every one when `exhaustive`), which change the decoded
/// value and must be rejected by a hash or signature check.
fn replacements(original: u8, alphabet: &[u8], in_alphabet: usize, exhaustive: bool) -> Vec<u8> {
    let mut v: Vec<u8> = if exhaustive {
        (0u8..0x80).collect()
    } else {
        let mut v = AWKWARD.to_vec();
        v.push(original.to_ascii_uppercase());
        v.push(original.to_ascii_lowercase());
        v.retain(|b| !alphabet.contains(b));
        v
    };
    let i = alphabet.iter().position(|&b| b == original).unwrap_or(0);
    let picks = [1, alphabet.len() / 2];
    v.extend(
        picks
            .iter()
            .take(in_alphabet)
            .map(|k| alphabet[(i + k) % alphabet.len()]),
    );
    v.retain(|&b| b != original);
    v.sort_unstable();
    v.dedup();
    v
}

/// Tries replacements of every byte of every signed or hashed field of `case`; returns how many
/// mutated receipts were rejected. `exhaustive_short_fields`: every ASCII byte at every position
/// of the fields other than certificates.
fn sweep(case: &Case, exhaustive_short_fields: bool) -> usize {
    let mut tried = 0usize;
    let started = std::time::Instant::now();
    let verifier = ReceiptVerifier::new(&case.service_pem).expect("service certificate");
    // Warm the caches with the valid receipt: tampering must not ride on them.
    verifier
        .verify(&case.receipt, &VerifyOptions::new())
        .unwrap_or_else(|e| panic!("{}: {e}", case.label));
    for name in fields(&case.receipt) {
        let original = field_mut(&mut case.receipt.clone(), &name).clone();
        let long_field = name == "cert" || name.starts_with("serviceEndorsements");
        for pos in 0..original.len() {
            let byte = original.as_bytes()[pos];
            // One in-alphabet change per position for certificates (the DER test below changes
            // every byte of them) and for P-384 receipts (slow to verify in debug builds).
            let in_alphabet = if long_field || case.slow { 1 } else { 2 };
            let exhaustive = exhaustive_short_fields && !long_field;
            for r in replacements(byte, alphabet(&name), in_alphabet, exhaustive) {
                let mut bytes = original.clone().into_bytes();
                bytes[pos] = r;
                let mutated = String::from_utf8(bytes).expect("ASCII stays UTF-8");
                let mut receipt = case.receipt.clone();
                *field_mut(&mut receipt, &name) = mutated;
                let outcome = verifier.verify(&receipt, &VerifyOptions::new());
                assert!(
                    outcome.is_err(),
                    "{}: `{name}` byte {pos} {:?} -> {:?} accepted",
                    case.label,
                    char::from(byte),
                    char::from(r)
                );
                tried += 1;
            }
        }
    }
    // The caches were not polluted: the valid receipt still verifies, from the cache.
    assert!(
        verifier
            .verify(&case.receipt, &VerifyOptions::new())
            .is_ok()
    );
    eprintln!(
        "{}: {tried} mutations rejected in {:?}",
        case.label,
        started.elapsed()
    );
    tried
}

#[test]
fn every_single_byte_change_of_a_signed_or_hashed_field_is_rejected() {
    let cases = cases();
    // The first case gets every byte value at every position of its short fields.
    let tried: usize = std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .iter()
            .enumerate()
            .map(|(i, case)| s.spawn(move || sweep(case, i == 0)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .sum()
    });
    assert!(tried > 60_000, "only {tried} mutations tried");
}

/// Flips the low bit of each byte of the decoded (DER) certificates, and the low and high bits
/// of each byte of the signature: the receipt is rejected whatever byte of the signed structure
/// changes.
#[test]
fn every_single_byte_change_of_the_decoded_certificates_and_signature_is_rejected() {
    let mut tried = 0usize;
    for case in cases() {
        let verifier = ReceiptVerifier::new(&case.service_pem).expect("service certificate");
        assert!(
            verifier
                .verify(&case.receipt, &VerifyOptions::new())
                .is_ok()
        );
        let mut pems = vec!["cert".to_owned()];
        let n = case
            .receipt
            .service_endorsements
            .as_ref()
            .map_or(0, Vec::len);
        pems.extend((0..n).map(|i| format!("serviceEndorsements[{i}]")));
        for name in pems {
            let der = pem_to_der(field_mut(&mut case.receipt.clone(), &name));
            for pos in 0..der.len() {
                let mut d = der.clone();
                d[pos] ^= 0x01;
                let mut receipt = case.receipt.clone();
                *field_mut(&mut receipt, &name) = pem(&d);
                assert!(
                    verifier.verify(&receipt, &VerifyOptions::new()).is_err(),
                    "{}: `{name}` DER byte {pos} ^ 0x01 accepted",
                    case.label
                );
                tried += 1;
            }
        }
        let sig = B64.decode(&case.receipt.signature).expect("base64");
        for pos in 0..sig.len() {
            for flip in [0x01u8, 0x80] {
                let mut s = sig.clone();
                s[pos] ^= flip;
                let mut receipt = case.receipt.clone();
                receipt.signature = B64.encode(&s);
                assert!(
                    verifier.verify(&receipt, &VerifyOptions::new()).is_err(),
                    "{}: signature DER byte {pos} ^ {flip:#04x} accepted",
                    case.label
                );
                tried += 1;
            }
        }
    }
    assert!(tried > 2_500, "only {tried} mutations tried");
}
