"""Verifies a receipt answer (JSON on stdin, as GET /app/transactions/{id}/receipt returns it)
with CCF's own checks (ccf.receipt): leaf from its components, root from the proof, the
signature over the root by the node certificate, and the node certificate endorsed by the
service certificate. Usage: python ccf_verify_receipt.py SERVICE_CERT_PATH < receipt.json
Prints the number of service endorsements used."""
import json
import sys
from hashlib import sha256

import ccf.receipt
from cryptography.x509 import load_pem_x509_certificate

service_cert = open(sys.argv[1], encoding="utf-8").read()
r = json.load(sys.stdin)["receipt"]
lc = r["leafComponents"]
leaf = sha256(
    bytes.fromhex(lc["writeSetDigest"])
    + sha256(lc["commitEvidence"].encode()).digest()
    + bytes.fromhex(lc["claimsDigest"])
).hexdigest()
root = ccf.receipt.root(leaf, r["proof"])
node_cert = load_pem_x509_certificate(r["cert"].encode())
ccf.receipt.verify(root, r["signature"], node_cert)
endorsements = [load_pem_x509_certificate(e.encode()) for e in r.get("serviceEndorsements", [])]
ccf.receipt.check_endorsements(node_cert, load_pem_x509_certificate(service_cert.encode()), endorsements)
print(len(endorsements))
