//! Receipt test vectors built from scratch, the way a CCF ledger builds them: service and node
//! keys and certificates, a Merkle tree over many transactions with periodic signature
//! transactions, receipts in the shapes ledgers send, and service endorsements after a
//! recovery.
//!
//! Nothing here uses the code under test: the tree is computed with the recursive RFC 6962
//! definitions, node ids from rcgen's SubjectPublicKeyInfo, claims digests from the formula.

#![allow(dead_code)] // Each test binary uses part of it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, KeyInit, Mac};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::signature::hazmat::PrehashSigner as _;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, PublicKeyData, SerialNumber,
    SignatureAlgorithm,
};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

pub type Digest = [u8; 32];

pub fn sha256(parts: &[&[u8]]) -> Digest {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// PEM exactly as ledgers write it: 64-character lines, `\n` line ends.
pub fn pem(der: &[u8]) -> String {
    let b64 = B64.encode(der);
    let mut s = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        s.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        s.push('\n');
    }
    s.push_str("-----END CERTIFICATE-----\n");
    s
}

pub fn pem_to_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    B64.decode(body).expect("test PEM is valid")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Curve {
    P256,
    P384,
}

/// A deterministic ECDSA key usable by rcgen and for prehash signatures.
#[derive(Clone)]
pub struct Key {
    curve: Curve,
    p256: Option<p256::ecdsa::SigningKey>,
    p384: Option<p384::ecdsa::SigningKey>,
    point: Vec<u8>,
}

impl Key {
    pub fn new(curve: Curve, seed: &str) -> Key {
        let material = sha2::Sha512::digest(seed.as_bytes());
        match curve {
            Curve::P256 => {
                let k = p256::ecdsa::SigningKey::from_slice(&material[..32]).expect("valid scalar");
                let point = k.verifying_key().to_sec1_point(false).as_bytes().to_vec();
                Key {
                    curve,
                    p256: Some(k),
                    p384: None,
                    point,
                }
            }
            Curve::P384 => {
                let k = p384::ecdsa::SigningKey::from_slice(&material[..48]).expect("valid scalar");
                let point = k.verifying_key().to_sec1_point(false).as_bytes().to_vec();
                Key {
                    curve,
                    p256: None,
                    p384: Some(k),
                    point,
                }
            }
        }
    }

    pub fn curve(&self) -> Curve {
        self.curve
    }

    /// ECDSA over `digest` taken as the prehash, DER.
    pub fn sign_prehash(&self, digest: &[u8]) -> Vec<u8> {
        match (&self.p256, &self.p384) {
            (Some(k), _) => {
                let sig: p256::ecdsa::Signature = k.sign_prehash(digest).expect("prehash signing");
                sig.to_der().as_bytes().to_vec()
            }
            (_, Some(k)) => {
                let sig: p384::ecdsa::Signature = k.sign_prehash(digest).expect("prehash signing");
                sig.to_der().as_bytes().to_vec()
            }
            _ => unreachable!("a key has one curve"),
        }
    }

    /// SHA-256 of the DER SubjectPublicKeyInfo: the node id.
    pub fn node_id(&self) -> Digest {
        sha256(&[&self.subject_public_key_info()])
    }
}

impl PublicKeyData for Key {
    fn der_bytes(&self) -> &[u8] {
        &self.point
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        match self.curve {
            Curve::P256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            Curve::P384 => &rcgen::PKCS_ECDSA_P384_SHA384,
        }
    }
}

impl rcgen::SigningKey for Key {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        Ok(match (&self.p256, &self.p384) {
            (Some(k), _) => {
                let sig: p256::ecdsa::Signature = k.sign(msg);
                sig.to_der().as_bytes().to_vec()
            }
            (_, Some(k)) => {
                let sig: p384::ecdsa::Signature = k.sign(msg);
                sig.to_der().as_bytes().to_vec()
            }
            _ => unreachable!("a key has one curve"),
        })
    }
}

/// A key with its certificate.
#[derive(Clone)]
pub struct Identity {
    pub key: Key,
    pub params: CertificateParams,
    pub der: Vec<u8>,
    pub pem: String,
}

/// Validity from 2025-01-01 to 2025-04-01 unless changed.
fn params(cn: &str, serial: u8, ca: bool) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.serial_number = Some(SerialNumber::from_slice(&[serial, 0x42]));
    p.not_before = rcgen::date_time_ymd(2025, 1, 1);
    p.not_after = rcgen::date_time_ymd(2025, 4, 1);
    p.is_ca = if ca {
        IsCa::Ca(BasicConstraints::Constrained(1))
    } else {
        IsCa::ExplicitNoCa
    };
    p
}

fn identity(key: Key, params: CertificateParams, der: Vec<u8>) -> Identity {
    let pem = pem(&der);
    Identity {
        key,
        params,
        der,
        pem,
    }
}

/// A self-signed service identity (`CN=CCF Service`).
pub fn service(curve: Curve, seed: &str) -> Identity {
    let key = Key::new(curve, seed);
    let p = params("CCF Service", 1, true);
    let cert = p
        .self_signed(&key)
        .expect("self-signed service certificate");
    identity(key, p, cert.der().to_vec())
}

/// A node identity (`CN=CCF Node`) issued by `issuer`.
pub fn node(curve: Curve, seed: &str, issuer: &Identity) -> Identity {
    node_with_validity(curve, seed, issuer, (2025, 1, 2), (2025, 3, 30))
}

pub fn node_with_validity(
    curve: Curve,
    seed: &str,
    issuer: &Identity,
    from: (i32, u8, u8),
    to: (i32, u8, u8),
) -> Identity {
    let key = Key::new(curve, seed);
    let mut p = params("CCF Node", 2, false);
    p.not_before = rcgen::date_time_ymd(from.0, from.1, from.2);
    p.not_after = rcgen::date_time_ymd(to.0, to.1, to.2);
    p.subject_alt_names = vec![rcgen::SanType::DnsName(
        "ledger.confidential-ledger.azure.com"
            .try_into()
            .expect("valid DNS name"),
    )];
    let cert = p
        .signed_by(&key, &Issuer::from_params(&issuer.params, &issuer.key))
        .expect("node certificate");
    identity(key, p, cert.der().to_vec())
}

/// A node identity whose certificate carries `names` DNS names: a large certificate.
pub fn node_with_names(curve: Curve, seed: &str, issuer: &Identity, names: usize) -> Identity {
    let key = Key::new(curve, seed);
    let mut p = params("CCF Node", 3, false);
    p.subject_alt_names = (0..names)
        .map(|i| {
            rcgen::SanType::DnsName(
                format!("node-{i}.ledger.confidential-ledger.azure.com")
                    .try_into()
                    .expect("valid DNS name"),
            )
        })
        .collect();
    let cert = p
        .signed_by(&key, &Issuer::from_params(&issuer.params, &issuer.key))
        .expect("node certificate");
    identity(key, p, cert.der().to_vec())
}

/// After a recovery: `new_service` endorses the previous service identity (same subject and
/// key, CA), as ledgers do. Returns the endorsement certificate PEM.
pub fn endorse(previous: &Identity, new_service: &Identity) -> String {
    let mut p = previous.params.clone();
    p.serial_number = Some(SerialNumber::from_slice(&[7, 0x42]));
    let cert = p
        .signed_by(
            &previous.key,
            &Issuer::from_params(&new_service.params, &new_service.key),
        )
        .expect("endorsement certificate");
    pem(cert.der())
}

/// Merkle tree hash of `leaves` (RFC 6962 shape, no prefixes, leaves already hashed).
pub fn mth(leaves: &[Digest]) -> Digest {
    match leaves.len() {
        0 => panic!("no tree of zero leaves here"),
        1 => leaves[0],
        n => {
            let k = split(n);
            sha256(&[&mth(&leaves[..k]), &mth(&leaves[k..])])
        }
    }
}

/// The largest power of two strictly below `n`.
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// Inclusion path of leaf `i` in the tree of `leaves`, leaf end first.
pub fn path(leaves: &[Digest], i: usize) -> Vec<(bool, Digest)> {
    if leaves.len() == 1 {
        return Vec::new();
    }
    let k = split(leaves.len());
    if i < k {
        let mut p = path(&leaves[..k], i);
        p.push((false, mth(&leaves[k..])));
        p
    } else {
        let mut p = path(&leaves[k..], i - k);
        p.push((true, mth(&leaves[..k])));
        p
    }
}

/// What a transaction's leaf is made of.
#[derive(Clone, Debug)]
pub struct Components {
    pub write_set_digest: Digest,
    pub commit_evidence: String,
    pub claims_digest: Option<Digest>,
    /// The application claims behind `claims_digest`, as JSON.
    pub claims: Option<Value>,
}

impl Components {
    pub fn leaf(&self) -> Digest {
        let ce = sha256(&[self.commit_evidence.as_bytes()]);
        match &self.claims_digest {
            Some(c) => sha256(&[&self.write_set_digest, &ce, c]),
            None => sha256(&[&self.write_set_digest, &ce]),
        }
    }
}

/// A signature transaction: the root it signed, by whom, with which endorsements.
#[derive(Clone)]
pub struct SignatureTx {
    pub seqno: usize,
    pub root: Digest,
    pub signature: Vec<u8>,
    pub node: Identity,
    pub endorsements: Vec<String>,
}

/// A ledger's transaction log and Merkle tree.
pub struct Ledger {
    pub view: u64,
    pub leaves: Vec<Digest>,
    pub transactions: Vec<Option<Components>>,
    pub signatures: Vec<SignatureTx>,
    ledger_secret: Digest,
}

pub fn hmac_sha256(key: &[u8], data: &[u8]) -> Digest {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The LedgerEntryV1 claim digest `d`, from the formula.
pub fn ledger_entry_claim(collection_id: &str, contents: &str, secret: &[u8]) -> Digest {
    let inner = sha256(&[
        &hmac_sha256(secret, collection_id.as_bytes()),
        &hmac_sha256(secret, contents.as_bytes()),
    ]);
    sha256(&[b"LedgerEntryV1", &inner])
}

pub fn claims_digest(ds: &[Digest]) -> Digest {
    let mut parts: Vec<&[u8]> = Vec::new();
    let n = (ds.len() as u32).to_le_bytes();
    parts.push(&n);
    for d in ds {
        parts.push(d);
    }
    sha256(&parts)
}

impl Ledger {
    pub fn new(view: u64) -> Ledger {
        Ledger {
            view,
            leaves: vec![[0; 32]],
            transactions: vec![None],
            signatures: Vec::new(),
            ledger_secret: sha256(&[b"ledger secret"]),
        }
    }

    pub fn next_seqno(&self) -> usize {
        self.leaves.len()
    }

    pub fn commit_evidence(&self, seqno: usize) -> String {
        let commit_secret = hmac_sha256(&self.ledger_secret, format!("Commit {seqno}").as_bytes());
        let nonce = hmac_sha256(&commit_secret, format!("{}.{seqno}", self.view).as_bytes());
        format!("ce:{}.{seqno}:{}", self.view, hex(&nonce))
    }

    fn push(&mut self, c: Components) -> usize {
        let seqno = self.next_seqno();
        self.leaves.push(c.leaf());
        self.transactions.push(Some(c));
        seqno
    }

    /// Appends a user transaction, with a LedgerEntryV1 claim when `claim_secret` is given.
    pub fn append(&mut self, contents: &str, claim_secret: Option<&[u8]>) -> usize {
        let seqno = self.next_seqno();
        let (claims_digest, claims) = match claim_secret {
            Some(secret) => {
                let d = ledger_entry_claim("subledger:0", contents, secret);
                let claims = json!([{"kind": "LedgerEntry", "ledgerEntry": {
                    "collectionId": "subledger:0", "contents": contents,
                    "protocol": "LedgerEntryV1", "secretKey": B64.encode(secret)}}]);
                (claims_digest(&[d]), Some(claims))
            }
            None => ([0; 32], None),
        };
        self.push(Components {
            write_set_digest: sha256(&[b"write set ", contents.as_bytes()]),
            commit_evidence: self.commit_evidence(seqno),
            claims_digest: Some(claims_digest),
            claims,
        })
    }

    /// Appends a transaction with exactly these components.
    pub fn append_components(&mut self, c: Components) -> usize {
        self.push(c)
    }

    /// Appends a signature transaction: `node` signs the root of every leaf before it.
    pub fn sign(&mut self, node: &Identity, endorsements: &[String]) -> usize {
        let seqno = self.next_seqno();
        let root = mth(&self.leaves);
        let signature = node.key.sign_prehash(&root);
        self.signatures.push(SignatureTx {
            seqno,
            root,
            signature,
            node: node.clone(),
            endorsements: endorsements.to_vec(),
        });
        self.push(Components {
            write_set_digest: sha256(&[b"signature ", &root]),
            commit_evidence: self.commit_evidence(seqno),
            claims_digest: Some([0; 32]),
            claims: None,
        })
    }

    /// The first signature after `seqno`.
    pub fn signature_after(&self, seqno: usize) -> &SignatureTx {
        self.signatures
            .iter()
            .find(|s| s.seqno > seqno)
            .expect("a signature follows the transaction")
    }

    pub fn signature_at(&self, seqno: usize) -> Option<&SignatureTx> {
        self.signatures.iter().find(|s| s.seqno == seqno)
    }

    /// The receipt of transaction `seqno` in the current camelCase shape.
    pub fn receipt(&self, seqno: usize) -> Value {
        self.receipt_styled(seqno, Style::default())
    }

    pub fn receipt_styled(&self, seqno: usize, style: Style) -> Value {
        if let Some(sig) = self.signature_at(seqno) {
            // A signature transaction's receipt: its leaf is the root it signed.
            let mut r = serde_json::Map::new();
            r.insert("cert".into(), json!(sig.node.pem));
            r.insert("leaf".into(), json!(hex(&sig.root)));
            r.insert(
                key(style, "nodeId", "node_id"),
                json!(hex(&sig.node.key.node_id())),
            );
            r.insert("proof".into(), json!([]));
            if !sig.endorsements.is_empty() {
                r.insert(
                    key(style, "serviceEndorsements", "service_endorsements"),
                    json!(sig.endorsements),
                );
            }
            r.insert("signature".into(), json!(B64.encode(&sig.signature)));
            if style.snake_case {
                r.insert("is_signature_transaction".into(), json!(true));
            }
            return Value::Object(r);
        }
        let c = self.transactions[seqno]
            .as_ref()
            .expect("transaction 0 has no receipt");
        let sig = self.signature_after(seqno);
        let proof: Vec<Value> = path(&self.leaves[..sig.seqno], seqno)
            .into_iter()
            .map(|(left, d)| {
                if left {
                    json!({"left": hex(&d)})
                } else {
                    json!({"right": hex(&d)})
                }
            })
            .collect();
        let mut lc = serde_json::Map::new();
        lc.insert(
            key(style, "writeSetDigest", "write_set_digest"),
            json!(hex(&c.write_set_digest)),
        );
        lc.insert(
            key(style, "commitEvidence", "commit_evidence"),
            json!(c.commit_evidence),
        );
        if let Some(d) = &c.claims_digest {
            lc.insert(key(style, "claimsDigest", "claims_digest"), json!(hex(d)));
        }
        let mut r = serde_json::Map::new();
        r.insert("cert".into(), json!(sig.node.pem));
        r.insert(
            key(style, "leafComponents", "leaf_components"),
            Value::Object(lc),
        );
        if !style.no_node_id {
            r.insert(
                key(style, "nodeId", "node_id"),
                json!(hex(&sig.node.key.node_id())),
            );
        }
        r.insert("proof".into(), Value::Array(proof));
        if !sig.endorsements.is_empty() {
            r.insert(
                key(style, "serviceEndorsements", "service_endorsements"),
                json!(sig.endorsements),
            );
        }
        r.insert("signature".into(), json!(B64.encode(&sig.signature)));
        if style.snake_case {
            r.insert("is_signature_transaction".into(), json!(false));
        }
        Value::Object(r)
    }

    /// The full receipt response of transaction `seqno`.
    pub fn response(&self, seqno: usize) -> Value {
        let mut r = json!({
            "state": "Ready",
            "transactionId": self.tx_id(seqno),
            "receipt": self.receipt(seqno),
        });
        if let Some(Some(Components {
            claims: Some(claims),
            ..
        })) = self.transactions.get(seqno)
        {
            r["applicationClaims"] = claims.clone();
        }
        r
    }

    /// The transaction id of `seqno`, as its commit evidence states it.
    pub fn tx_id(&self, seqno: usize) -> String {
        let c = self.transactions[seqno].as_ref().expect("a transaction");
        c.commit_evidence
            .split(':')
            .nth(1)
            .expect("commit evidence names the transaction")
            .to_owned()
    }
}

#[derive(Clone, Copy, Default, Debug)]
pub struct Style {
    pub snake_case: bool,
    pub no_node_id: bool,
}

fn key(style: Style, camel: &str, snake: &str) -> String {
    if style.snake_case { snake } else { camel }.to_owned()
}

/// A ledger of `n` user transactions on the given curves, signed every `every` transactions
/// (and once at the end), with a LedgerEntry claim on every third transaction.
pub struct Fixture {
    pub service: Identity,
    pub node: Identity,
    pub ledger: Ledger,
}

pub fn fixture(service_curve: Curve, node_curve: Curve, n: usize, every: usize) -> Fixture {
    let tag = format!("{service_curve:?}/{node_curve:?}");
    let service = service(service_curve, &format!("service {tag}"));
    let node = node(node_curve, &format!("node {tag}"), &service);
    let mut ledger = Ledger::new(2);
    for i in 0..n {
        let secret = format!("secret {i}");
        let claim = (i % 3 == 0).then_some(secret.as_bytes());
        ledger.append(&format!("entry {i}"), claim);
        if (i + 1) % every == 0 {
            ledger.sign(&node, &[]);
        }
    }
    ledger.sign(&node, &[]);
    Fixture {
        service,
        node,
        ledger,
    }
}

/// A service that recovered twice: transactions signed by nodes of the first and second
/// service identities carry endorsements up to the third (current) one. The first node has a
/// P-384 key (issued by a P-256 service), the others P-256 keys.
pub struct Recovered {
    pub current: Identity,
    pub ledger: Ledger,
    /// Seqnos of user transactions signed under the first, second and current identity.
    pub under: [Vec<usize>; 3],
}

pub fn recovered() -> Recovered {
    let s1 = service(Curve::P256, "recovered service 1");
    let s2 = service(Curve::P256, "recovered service 2");
    let s3 = service(Curve::P256, "recovered service 3");
    let n1 = node(Curve::P384, "recovered node 1", &s1);
    let n2 = node(Curve::P256, "recovered node 2", &s2);
    let n3 = node(Curve::P256, "recovered node 3", &s3);
    let s1_by_s2 = endorse(&s1, &s2);
    let s2_by_s3 = endorse(&s2, &s3);
    let mut ledger = Ledger::new(1);
    let mut under: [Vec<usize>; 3] = Default::default();
    let eras: [(&Identity, Vec<String>); 3] = [
        (&n1, vec![s1_by_s2.clone(), s2_by_s3.clone()]),
        (&n2, vec![s2_by_s3.clone()]),
        (&n3, vec![]),
    ];
    for (era, (node, endorsements)) in eras.iter().enumerate() {
        for i in 0..5 {
            under[era].push(ledger.append(&format!("era {era} entry {i}"), None));
        }
        ledger.sign(node, endorsements);
        ledger.view += 1;
    }
    Recovered {
        current: s3,
        ledger,
        under,
    }
}
