"""Times the official Python receipt verifier on the receipts written by the Rust bench.

Usage: receipt_python.py DIR [SECONDS]

DIR holds service_cert.pem and batch/*.json (receipts sharing one signature). Prints JSON:
{"verify": receipts/s of verify_receipt on parsed receipts,
 "parse_verify": receipts/s of json.loads + verify_receipt}.
"""

import json
import pathlib
import sys
import time

from azure.confidentialledger.receipt import verify_receipt


def rate(seconds, items, fn):
    # Median of five rounds, each over the items as many times as fits.
    rounds = []
    per_round = seconds / 5
    for _ in range(5):
        n = 0
        start = time.perf_counter()
        while time.perf_counter() - start < per_round:
            for item in items:
                fn(item)
            n += len(items)
        rounds.append(n / (time.perf_counter() - start))
    rounds.sort()
    return rounds[2]


def main():
    directory = pathlib.Path(sys.argv[1])
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
    cert = (directory / "service_cert.pem").read_text()
    texts = [p.read_text() for p in sorted((directory / "batch").glob("*.json"))][:200]
    receipts = [json.loads(t) for t in texts]
    for r in receipts[:3]:
        verify_receipt(r, cert)  # they verify
    out = {
        "verify": rate(seconds, receipts, lambda r: verify_receipt(r, cert)),
        "parse_verify": rate(seconds, texts, lambda t: verify_receipt(json.loads(t), cert)),
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
