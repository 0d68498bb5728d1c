"""Verify receipt test vectors with implementations this project did not write.

Usage: cross_verify.py CASES_JSON

CASES_JSON (written by tests/receipt_python.rs) holds:
  cases: [{name, receipt, service_cert, application_claims (or null)}]
  trees: [{leaves: [hex], root: hex}]

For each case, two verifiers give a verdict, "ok" or "error: <reason>":
  azure: azure.confidentialledger.receipt.verify_receipt, the official client's verifier
         (leaf, proof, signature, node id, endorsements, application claims).
  ccf:   CCF's own functions from ccf.receipt (root, verify, check_endorsements) with the
         leaf computed as ccf.ledger computes it for snapshot receipts. It has no node id,
         claims, commit evidence or transaction id checks.
For each tree, ccf.merkletree.MerkleTree over the leaves must give the root.

Prints {"cases": [{name, azure, ccf}], "trees": [{index, ok, root}]} as JSON on stdout.
"""

import json
import sys
from hashlib import sha256

import ccf.merkletree
import ccf.receipt
from azure.confidentialledger.receipt import verify_receipt
from cryptography.x509 import load_pem_x509_certificate


def get(d, camel, snake):
    if camel in d:
        return d[camel]
    return d.get(snake)


def ccf_verify(receipt, service_cert_pem):
    node_cert = load_pem_x509_certificate(receipt["cert"].encode())
    endorsements = [
        load_pem_x509_certificate(e.encode())
        for e in (get(receipt, "serviceEndorsements", "service_endorsements") or [])
    ]
    service_cert = load_pem_x509_certificate(service_cert_pem.encode())
    ccf.receipt.check_endorsements(node_cert, service_cert, endorsements)

    components = get(receipt, "leafComponents", "leaf_components")
    if components is not None:
        write_set_digest = bytes.fromhex(
            get(components, "writeSetDigest", "write_set_digest")
        )
        commit_evidence_digest = sha256(
            get(components, "commitEvidence", "commit_evidence").encode()
        ).digest()
        claims = get(components, "claimsDigest", "claims_digest")
        parts = write_set_digest + commit_evidence_digest
        if claims is not None:
            parts += bytes.fromhex(claims)
        leaf = sha256(parts).hexdigest()
    else:
        leaf = receipt["leaf"]
    root = ccf.receipt.root(leaf, receipt["proof"])
    ccf.receipt.verify(root, receipt["signature"], node_cert)


def verdict(fn):
    try:
        fn()
        return "ok"
    except Exception as e:  # any failure is a rejection
        return f"error: {type(e).__name__}: {e}"[:300]


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        data = json.load(f)
    out = {"cases": [], "trees": []}
    for case in data["cases"]:
        receipt = case["receipt"]
        cert = case["service_cert"]
        claims = case.get("application_claims")
        azure = verdict(
            lambda: verify_receipt(
                json.loads(json.dumps(receipt)), cert, application_claims=claims
            )
        )
        ccf_result = verdict(lambda: ccf_verify(receipt, cert))
        out["cases"].append({"name": case["name"], "azure": azure, "ccf": ccf_result})
    for i, tree in enumerate(data["trees"]):
        t = ccf.merkletree.MerkleTree()
        for leaf in tree["leaves"]:
            t.add_leaf(bytes.fromhex(leaf), do_hash=False)
        root = t.get_merkle_root().hex()
        out["trees"].append({"index": i, "ok": root == tree["root"], "root": root})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
