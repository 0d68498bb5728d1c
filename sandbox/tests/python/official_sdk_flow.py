"""A full flow of the official Python client (azure-confidentialledger) against a sandbox,
with certificate authentication, and CCF's own receipt checks (ccf.receipt).

Usage: official_sdk_flow.py ENDPOINT IDENTITY_ENDPOINT LEDGER_ID SERVICE_CERT ADMIN_PEM OLD_TXID

OLD_TXID is a transaction committed before the service identity was rotated: its receipt
must verify through its service endorsements. Prints one JSON object with what it saw.
"""

import json
import sys
from hashlib import sha256

import ccf.receipt
from azure.confidentialledger import (
    ConfidentialLedgerCertificateCredential,
    ConfidentialLedgerClient,
)
from azure.confidentialledger.certificate import ConfidentialLedgerCertificateClient
from azure.confidentialledger.receipt import verify_receipt
from azure.core.exceptions import HttpResponseError
from cryptography.x509 import load_pem_x509_certificate

endpoint, identity_endpoint, ledger_id, service_cert_path, admin_pem, old_txid = sys.argv[1:7]
# An 8th argument: a bearer token to authenticate with instead of the client certificate.
token = sys.argv[7] if len(sys.argv) > 7 else None
FAST = {"polling_interval": 0.02}
seen = {}

identity = ConfidentialLedgerCertificateClient(identity_endpoint).get_ledger_identity(ledger_id)
service_cert = open(service_cert_path, encoding="utf-8").read()
assert identity["ledgerId"] == ledger_id, identity
assert identity["ledgerTlsCertificate"] == service_cert, "identity endpoint serves the service cert"

class StaticToken:
    """A TokenCredential (azure-core's protocol) handing out one bearer token."""

    def get_token(self, *scopes, **kwargs):
        import time

        from azure.core.credentials import AccessToken

        return AccessToken(token, int(time.time()) + 3600)


client = ConfidentialLedgerClient(
    endpoint,
    credential=StaticToken() if token else ConfidentialLedgerCertificateCredential(admin_pem),
    ledger_certificate_path=service_cert_path,
)


def ccf_check(receipt_response):
    """CCF's checks: leaf from its components, root from the proof, signature over the root
    by the node certificate, node certificate endorsed by the service certificate."""
    r = receipt_response["receipt"]
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
    ccf.receipt.check_endorsements(
        node_cert, load_pem_x509_certificate(service_cert.encode()), endorsements
    )
    return len(endorsements)


# Create an entry and wait for its commit.
created = client.begin_create_ledger_entry({"contents": "Hello from Python"}, **FAST).result()
txid = created["transactionId"]
seen["created"] = created

entry = client.begin_get_ledger_entry(txid, **FAST).result()
seen["entry"] = entry

receipt = client.begin_get_receipt(txid, **FAST).result()
verify_receipt(receipt["receipt"], service_cert, application_claims=receipt.get("applicationClaims"))
seen["receipt_state"] = receipt["state"]
seen["receipt_endorsements"] = ccf_check(receipt)

# The receipt of a transaction signed before the identity rotation.
old = client.begin_get_receipt(old_txid, **FAST).result()
verify_receipt(old["receipt"], service_cert, application_claims=old.get("applicationClaims"))
seen["old_receipt_endorsements"] = ccf_check(old)

seen["current"] = client.get_current_ledger_entry()

# A second collection and a ranged, paged list.
ids = []
for i in range(7):
    r = client.begin_create_ledger_entry(
        {"contents": f"ranged {i}"}, collection_id="python", polling=False
    ).result()
    ids.append(r["transactionId"])
client.begin_wait_for_commit(ids[-1], **FAST).result()
listed = list(
    client.list_ledger_entries(
        collection_id="python", from_transaction_id=ids[1], to_transaction_id=ids[5]
    )
)
seen["ranged"] = [e["contents"] for e in listed]
seen["all_python"] = [e["contents"] for e in client.list_ledger_entries(collection_id="python")]
seen["collections"] = sorted(c["collectionId"] for c in client.list_collections())

# Users (the client's api version, 2022-05-13, has single-role users).
fingerprint = "7F:75:58:60:70:A8:B6:15:A2:CD:24:55:25:B9:64:49:F8:BF:F0:E3:4D:92:EA:B2:8C:30:E6:2D:F4:77:30:1F"
seen["user_created"] = client.create_or_update_user(fingerprint, {"assignedRole": "Contributor"})
seen["user_got"] = client.get_user(fingerprint)
client.delete_user(fingerprint)
try:
    client.get_user(fingerprint)
    seen["user_after_delete"] = "still there"
except HttpResponseError as e:
    seen["user_after_delete"] = e.status_code

# Governance reads.
constitution = client.get_constitution()
assert constitution["digest"] == sha256(constitution["script"].encode()).hexdigest()
members = list(client.list_consortium_members())
seen["members"] = len(members)
quotes = client.get_enclave_quotes()
seen["quote_nodes"] = list(quotes["enclaveQuotes"].keys())
seen["current_node"] = quotes["currentNodeId"]

# A failing call surfaces the service's error code.
try:
    client.get_ledger_entry("99.99999999")
    seen["bad_id"] = "no error"
except HttpResponseError as e:
    seen["bad_id"] = [e.status_code, e.error.code if e.error else None]

print(json.dumps(seen))
