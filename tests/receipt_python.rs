//! Cross-verification with implementations this project did not write: the official Python
//! client's `verify_receipt` and CCF's `ccf.receipt` functions (`tests/python/cross_verify.py`)
//! must accept what this crate accepts and reject what it rejects, except where they lack a
//! check this crate has or are more lenient about encodings, each listed below with its reason.
//! CCF's `ccf.merkletree` must also compute the roots the test ledgers signed.

mod receipt_support;

use std::path::PathBuf;
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use confidential_ledger::receipt::{ApplicationClaim, Receipt, VerifyOptions, verify};
use receipt_support::{
    Components, Curve, Ledger, Style, fixture, hex, node, recovered, service, sha256,
};
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Accept,
    Reject,
}
use Verdict::{Accept, Reject};

struct Case {
    name: String,
    receipt: Value,
    service_cert: String,
    claims: Option<Value>,
    transaction_id: Option<String>,
    /// What this crate decides.
    rust: Verdict,
    /// What the official client's verifier decides, and what CCF's functions decide; they
    /// differ from `rust` only with a reason.
    azure: Verdict,
    ccf: Verdict,
    why: &'static str,
}

struct Cases(Vec<Case>);

impl Cases {
    /// A case all three verifiers decide alike.
    fn same(
        &mut self,
        name: impl Into<String>,
        receipt: Value,
        cert: &str,
        verdict: Verdict,
    ) -> &mut Case {
        self.with(name, receipt, cert, verdict, verdict, verdict, "")
    }

    #[allow(clippy::too_many_arguments)]
    fn with(
        &mut self,
        name: impl Into<String>,
        receipt: Value,
        cert: &str,
        rust: Verdict,
        azure: Verdict,
        ccf: Verdict,
        why: &'static str,
    ) -> &mut Case {
        self.0.push(Case {
            name: name.into(),
            receipt,
            service_cert: cert.to_owned(),
            claims: None,
            transaction_id: None,
            rust,
            azure,
            ccf,
            why,
        });
        self.0.last_mut().expect("just pushed")
    }
}

const CCF_NO_NODE_ID: &str = "ccf.receipt has no node id check";
const NO_TX_CHECK: &str =
    "neither Python verifier checks the commit evidence against a transaction id";
const NO_CE_FORMAT: &str = "neither Python verifier checks the commit evidence format";
const AZURE_NO_SIGNATURE_TX: &str =
    "azure verify_receipt requires leafComponents, so it rejects signature-transaction receipts";
const AZURE_NEEDS_CLAIMS_DIGEST: &str =
    "azure verify_receipt requires a claimsDigest, which old receipts lack";
const LENIENT_HEX: &str = "Python's bytes.fromhex accepts upper-case hex; receipts are lower case and this crate requires it";
const LENIENT_PEM: &str =
    "Python parses PEM with any line width; this crate requires the layout ledgers write";
const LENIENT_BASE64: &str =
    "Python's b64decode ignores non-zero trailing bits; this crate requires canonical base64";
const CCF_BOTH_SIDES: &str =
    "ccf.receipt.root takes `left` when a proof step has both keys; the others reject the step";
const CCF_NO_CLAIMS: &str = "ccf.receipt does not check application claims";

/// Replaces the character at byte `pos` of the string at `pointer` with its neighbour in
/// `alphabet`.
fn mutate(receipt: &Value, pointer: &str, pos: usize, alphabet: &[u8]) -> Value {
    let mut v = receipt.clone();
    let s = v
        .pointer(pointer)
        .and_then(Value::as_str)
        .expect("string field")
        .to_owned();
    let mut bytes = s.into_bytes();
    let i = alphabet
        .iter()
        .position(|&b| b == bytes[pos])
        .expect("character of the alphabet");
    bytes[pos] = alphabet[(i + 1) % alphabet.len()];
    *v.pointer_mut(pointer).expect("field") =
        Value::String(String::from_utf8(bytes).expect("ASCII"));
    v
}

const HEX: &[u8] = b"0123456789abcdef";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Single-character changes spread over every signed or hashed field of `receipt`, each
/// keeping the field well-formed (a neighbour in its alphabet), so only the cryptography can
/// reject them. Positions whose change could only alter unused base64 bits are skipped.
fn sampled_mutations(cases: &mut Cases, label: &str, receipt: &Value, cert: &str) {
    let mut fields: Vec<(String, &[u8])> =
        vec![("/signature".into(), BASE64), ("/cert".into(), BASE64)];
    if let Some(lc) = receipt.get("leafComponents") {
        for k in ["writeSetDigest", "claimsDigest"] {
            if lc.get(k).is_some() {
                fields.push((format!("/leafComponents/{k}"), HEX));
            }
        }
        fields.push(("/leafComponents/commitEvidence".into(), HEX));
    }
    if receipt.get("nodeId").is_some() {
        fields.push(("/nodeId".into(), HEX));
    }
    for (i, step) in receipt["proof"]
        .as_array()
        .expect("proof")
        .iter()
        .enumerate()
    {
        let side = if step.get("left").is_some() {
            "left"
        } else {
            "right"
        };
        fields.push((format!("/proof/{i}/{side}"), HEX));
    }
    if let Some(e) = receipt.get("serviceEndorsements").and_then(Value::as_array) {
        for i in 0..e.len() {
            fields.push((format!("/serviceEndorsements/{i}"), BASE64));
        }
    }
    for (pointer, alphabet) in fields {
        let text = receipt
            .pointer(&pointer)
            .and_then(Value::as_str)
            .expect("field")
            .to_owned();
        // Positions in the field's alphabet, away from the end of base64 bodies.
        let candidates: Vec<usize> = text
            .bytes()
            .enumerate()
            .filter(|&(i, b)| alphabet.contains(&b) && (alphabet == HEX || i + 70 < text.len()))
            .filter(|&(i, _)| {
                !(pointer.ends_with("commitEvidence") && i < text.rfind(':').unwrap_or(0))
            })
            .map(|(i, _)| i)
            .collect();
        let step = (candidates.len() / 12).max(1);
        for &pos in candidates.iter().step_by(step) {
            let name = format!("{label}: {pointer} char {pos} changed");
            let m = mutate(receipt, &pointer, pos, alphabet);
            if pointer == "/nodeId" {
                cases.with(name, m, cert, Reject, Reject, Accept, CCF_NO_NODE_ID);
            } else {
                cases.same(name, m, cert, Reject);
            }
        }
    }
}

fn build() -> (Cases, Vec<Value>) {
    let mut cases = Cases(Vec::new());
    let mut trees = Vec::new();
    let mut add_trees = |ledger: &Ledger| {
        for sig in &ledger.signatures {
            let leaves: Vec<String> = ledger.leaves[..sig.seqno].iter().map(|l| hex(l)).collect();
            trees.push(json!({"leaves": leaves, "root": hex(&sig.root)}));
        }
    };

    // Valid receipts on every curve pair, with left and right proof steps.
    for (sc, nc) in [
        (Curve::P256, Curve::P256),
        (Curve::P384, Curve::P384),
        (Curve::P256, Curve::P384),
        (Curve::P384, Curve::P256),
    ] {
        let f = fixture(sc, nc, 40, 13);
        add_trees(&f.ledger);
        for seqno in [1, 2, 7, 13, 20, 27, 40] {
            let c = cases.same(
                format!("{sc:?}/{nc:?} tx {seqno}"),
                f.ledger.receipt(seqno),
                &f.service.pem,
                Accept,
            );
            c.transaction_id = Some(f.ledger.tx_id(seqno));
        }
        let sig = f.ledger.signatures[0].seqno;
        cases.with(
            format!("{sc:?}/{nc:?} signature tx {sig}"),
            f.ledger.receipt(sig),
            &f.service.pem,
            Accept,
            Reject,
            Accept,
            AZURE_NO_SIGNATURE_TX,
        );
    }

    let f = fixture(Curve::P256, Curve::P256, 24, 24);
    let pem = f.service.pem.as_str();
    // Claims: right ones, wrong ones.
    let response = f.ledger.response(13);
    let claims = response["applicationClaims"].clone();
    let c = cases.same("tx 13 with its claims", f.ledger.receipt(13), pem, Accept);
    c.claims = Some(claims);
    let forged = serde_json::to_value(vec![ApplicationClaim::ledger_entry(
        "subledger:0",
        "entry 12!",
        b"secret 12",
    )])
    .expect("claims");
    let c = cases.with(
        "tx 13 with forged claims",
        f.ledger.receipt(13),
        pem,
        Reject,
        Reject,
        Accept,
        CCF_NO_CLAIMS,
    );
    c.claims = Some(forged);

    // Shapes.
    let snake = Style {
        snake_case: true,
        no_node_id: false,
    };
    cases.same(
        "snake_case receipt",
        f.ledger.receipt_styled(10, snake),
        pem,
        Accept,
    );
    let no_id = Style {
        snake_case: false,
        no_node_id: true,
    };
    cases.same(
        "receipt without nodeId",
        f.ledger.receipt_styled(10, no_id),
        pem,
        Accept,
    );

    // Damage every verifier catches.
    let base = f.ledger.receipt(10);
    let other = service(Curve::P256, "python other service");
    let other_node = node(Curve::P256, "python other node", &other);
    cases.same(
        "another ledger's service certificate",
        base.clone(),
        &other.pem,
        Reject,
    );
    cases.same(
        "node certificate of another ledger",
        with(&base, "/cert", json!(other_node.pem)),
        pem,
        Reject,
    );
    cases.with(
        "nodeId of another node",
        with(&base, "/nodeId", json!(hex(&other_node.key.node_id()))),
        pem,
        Reject,
        Reject,
        Accept,
        CCF_NO_NODE_ID,
    );
    let mut short = base.clone();
    short["proof"].as_array_mut().expect("proof").pop();
    cases.same("proof step dropped", short, pem, Reject);
    let mut flipped = base.clone();
    let h = flipped["proof"][0]["right"].take();
    flipped["proof"][0] = json!({"left": h});
    cases.same("proof step on the wrong side", flipped, pem, Reject);
    let other_root_sig = B64.encode(f.node.key.sign_prehash(&sha256(&[b"another root"])));
    cases.same(
        "signature over another root",
        with(&base, "/signature", json!(other_root_sig)),
        pem,
        Reject,
    );
    sampled_mutations(&mut cases, "P-256 tx 10", &base, pem);

    // Checks the Python verifiers do not have.
    let c = cases.with(
        "transaction id mismatch",
        base.clone(),
        pem,
        Reject,
        Accept,
        Accept,
        NO_TX_CHECK,
    );
    c.transaction_id = Some("2.11".into());
    let mut ledger = Ledger::new(2);
    let ce_service = service(Curve::P256, "python ce service");
    let ce_node = node(Curve::P256, "python ce node", &ce_service);
    ledger.append_components(Components {
        write_set_digest: sha256(&[b"x"]),
        commit_evidence: "ce:2.1".into(),
        claims_digest: Some([0; 32]),
        claims: None,
    });
    ledger.append_components(Components {
        write_set_digest: sha256(&[b"y"]),
        commit_evidence: "ce:2.2:ABC".into(),
        claims_digest: Some([0; 32]),
        claims: None,
    });
    ledger.sign(&ce_node, &[]);
    add_trees(&ledger);
    cases.with(
        "malformed commit evidence, correctly signed",
        ledger.receipt(1),
        &ce_service.pem,
        Reject,
        Accept,
        Accept,
        NO_CE_FORMAT,
    );
    cases.with(
        "commit evidence with upper-case nonce, correctly signed",
        ledger.receipt(2),
        &ce_service.pem,
        Reject,
        Accept,
        Accept,
        NO_CE_FORMAT,
    );

    // Encodings the Python verifiers accept and this crate does not.
    let wsd = base["leafComponents"]["writeSetDigest"]
        .as_str()
        .expect("wsd")
        .to_uppercase();
    cases.with(
        "upper-case write set digest",
        with(&base, "/leafComponents/writeSetDigest", json!(wsd)),
        pem,
        Reject,
        Accept,
        Accept,
        LENIENT_HEX,
    );
    let node_id = base["nodeId"].as_str().expect("node id").to_uppercase();
    cases.with(
        "upper-case nodeId",
        with(&base, "/nodeId", json!(node_id)),
        pem,
        Reject,
        Accept,
        Accept,
        LENIENT_HEX,
    );
    let der = receipt_support::pem_to_der(base["cert"].as_str().expect("cert"));
    let body = B64.encode(&der);
    let rewrapped = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        body.as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).expect("ASCII"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    cases.with(
        "node certificate PEM with 76-character lines",
        with(&base, "/cert", json!(rewrapped)),
        pem,
        Reject,
        Accept,
        Accept,
        LENIENT_PEM,
    );
    if let Some(sig) = non_canonical_base64(base["signature"].as_str().expect("signature")) {
        cases.with(
            "signature base64 with non-zero trailing bits",
            with(&base, "/signature", json!(sig)),
            pem,
            Reject,
            Accept,
            Accept,
            LENIENT_BASE64,
        );
    }
    let mut both = base.clone();
    let right = both["proof"][0]["right"].clone();
    both["proof"][0] = json!({"right": right, "left": "00".repeat(32)});
    cases.with(
        "proof step with both sides",
        both,
        pem,
        Reject,
        Reject,
        Reject,
        "",
    );
    let mut both_left_valid = f.ledger.receipt(10);
    let (index, left) = both_left_valid["proof"]
        .as_array()
        .expect("proof")
        .iter()
        .enumerate()
        .find_map(|(i, s)| s.get("left").cloned().map(|l| (i, l)))
        .expect("a left step");
    both_left_valid["proof"][index] = json!({"left": left, "right": "00".repeat(32)});
    cases.with(
        "proof step with both sides, left correct",
        both_left_valid,
        pem,
        Reject,
        Reject,
        Accept,
        CCF_BOTH_SIDES,
    );

    // A recovered service.
    let r = recovered();
    add_trees(&r.ledger);
    for (era, seqnos) in r.under.iter().enumerate() {
        let c = cases.same(
            format!("recovered era {era}"),
            r.ledger.receipt(seqnos[1]),
            &r.current.pem,
            Accept,
        );
        c.transaction_id = Some(r.ledger.tx_id(seqnos[1]));
    }
    let era0 = r.ledger.receipt(r.under[0][2]);
    let mut bare = era0.clone();
    bare.as_object_mut()
        .expect("object")
        .remove("serviceEndorsements");
    cases.same(
        "recovered era 0 without endorsements",
        bare,
        &r.current.pem,
        Reject,
    );
    let mut swapped = era0.clone();
    swapped["serviceEndorsements"]
        .as_array_mut()
        .expect("endorsements")
        .swap(0, 1);
    cases.same(
        "recovered era 0 with endorsements swapped",
        swapped,
        &r.current.pem,
        Reject,
    );
    sampled_mutations(&mut cases, "recovered era 0", &era0, &r.current.pem);

    // Old receipts: no claims digest; `leaf` and `root`.
    let old_service = service(Curve::P256, "python old service");
    let old_node = node(Curve::P256, "python old node", &old_service);
    let mut old = Ledger::new(1);
    for i in 0..3 {
        let ce = old.commit_evidence(old.next_seqno());
        old.append_components(Components {
            write_set_digest: sha256(&[format!("old {i}").as_bytes()]),
            commit_evidence: ce,
            claims_digest: None,
            claims: None,
        });
    }
    old.sign(&old_node, &[]);
    add_trees(&old);
    cases.with(
        "receipt without claims digest",
        old.receipt(2),
        &old_service.pem,
        Accept,
        Reject,
        Accept,
        AZURE_NEEDS_CLAIMS_DIGEST,
    );
    let mut leaf_root = old.receipt(2);
    let o = leaf_root.as_object_mut().expect("object");
    o.remove("leafComponents");
    o.insert("leaf".into(), json!(hex(&old.leaves[2])));
    o.insert("root".into(), json!(hex(&old.signatures[0].root)));
    cases.with(
        "oldest shape: leaf and root",
        leaf_root,
        &old_service.pem,
        Accept,
        Reject,
        Accept,
        AZURE_NO_SIGNATURE_TX,
    );

    // The real recorded receipt, when the reference data is here.
    if let Some((cert, receipt)) = recorded() {
        let c = cases.same("recorded receipt of a real ledger", receipt, &cert, Accept);
        c.transaction_id = Some("8.6032".into());
    }
    (cases, trees)
}

fn with(v: &Value, pointer: &str, new: Value) -> Value {
    let mut v = v.clone();
    *v.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer} exists")) = new;
    v
}

/// `text` with the last base64 character before the padding changed in its unused bits only.
fn non_canonical_base64(text: &str) -> Option<String> {
    let pad = text.len() - text.trim_end_matches('=').len();
    if pad == 0 {
        return None;
    }
    let pos = text.len() - pad - 1;
    let c = text.as_bytes()[pos];
    let i = BASE64.iter().position(|&b| b == c)?;
    // One '=' leaves 2 unused bits, two leave 4: the lowest is unused either way, and zero.
    let j = i ^ 1;
    let mut bytes = text.as_bytes().to_vec();
    bytes[pos] = BASE64[j];
    String::from_utf8(bytes).ok()
}

fn recorded() -> Option<(String, Value)> {
    let path = testkit::shared::path(
        "recordings/python/test_confidential_ledger_client.pyTestConfidentialLedgerClienttest_append_entry_flow_aad_user.json",
    )?;
    let session: Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    let entries = session["Entries"].as_array()?;
    let cert = entries
        .iter()
        .find_map(|e| e["ResponseBody"]["ledgerTlsCertificate"].as_str())?;
    let receipt = entries.iter().rev().find_map(|e| {
        let r = &e["ResponseBody"]["receipt"];
        r.get("cert").map(|_| r.clone())
    })?;
    Some((cert.to_owned(), receipt))
}

fn rust_verdict(case: &Case) -> Verdict {
    let Ok(receipt) = serde_json::from_value::<Receipt>(case.receipt.clone()) else {
        return Reject;
    };
    let mut options = VerifyOptions::new();
    if let Some(tx) = &case.transaction_id {
        options = options.transaction_id(tx);
    }
    if let Some(claims) = &case.claims {
        options = options
            .application_claims(serde_json::from_value(claims.clone()).expect("claims parse"));
    }
    match verify(&receipt, &case.service_cert, &options) {
        Ok(_) => Accept,
        Err(_) => Reject,
    }
}

fn python_verdict(v: &Value) -> Verdict {
    if v.as_str() == Some("ok") {
        Accept
    } else {
        Reject
    }
}

#[test]
fn python_verifiers_agree_with_this_crate() {
    let (cases, trees) = build();
    // This crate's own verdicts first: the table above states them.
    for case in &cases.0 {
        assert_eq!(
            rust_verdict(case),
            case.rust,
            "this crate on {:?}",
            case.name
        );
    }
    let Some(python) = testkit::python::interpreter() else {
        return;
    };

    let dir = std::env::temp_dir().join(format!("receipt-cross-verify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let input = dir.join("cases.json");
    let payload = json!({
        "cases": cases.0.iter().map(|c| json!({
            "name": c.name,
            "receipt": c.receipt,
            "service_cert": c.service_cert,
            "application_claims": c.claims,
        })).collect::<Vec<_>>(),
        "trees": trees,
    });
    std::fs::write(&input, payload.to_string()).expect("write cases");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/cross_verify.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg(&input)
        .output()
        .expect("run Python");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "cross_verify.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Value = serde_json::from_slice(&out.stdout).expect("script prints JSON");

    let mut disagreements = Vec::new();
    let rows = results["cases"].as_array().expect("cases");
    assert_eq!(rows.len(), cases.0.len());
    let (mut rejected, mut differences) = (0, 0);
    for (case, row) in cases.0.iter().zip(rows) {
        assert_eq!(row["name"].as_str(), Some(case.name.as_str()));
        for (verifier, expected) in [("azure", case.azure), ("ccf", case.ccf)] {
            let got = python_verdict(&row[verifier]);
            if got != expected {
                disagreements.push(format!(
                    "{}: {verifier} {got:?}, expected {expected:?} ({})",
                    case.name, row[verifier]
                ));
            }
        }
        if case.rust == Reject {
            rejected += 1;
        }
        if case.azure != case.rust || case.ccf != case.rust {
            differences += 1;
            assert!(
                !case.why.is_empty(),
                "{}: a difference needs its reason",
                case.name
            );
        }
    }
    for tree in results["trees"].as_array().expect("trees") {
        if tree["ok"] != json!(true) {
            disagreements.push(format!(
                "ccf.merkletree root differs for tree {}",
                tree["index"]
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
    assert!(
        cases.0.len() > 150 && rejected > 100,
        "{} cases, {rejected} rejected",
        cases.0.len()
    );
    eprintln!(
        "{} cases ({rejected} rejected by this crate, {differences} documented differences) and {} Merkle trees agree",
        cases.0.len(),
        results["trees"].as_array().map_or(0, Vec::len)
    );
}
