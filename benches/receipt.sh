#!/usr/bin/env bash
# Receipt verification benchmark: the Rust verifier (release build) and the official Python
# verifier on the same receipts, with the ratios the project aims for.
# Usage: benches/receipt.sh [SECONDS_PER_MEASUREMENT]   (default 2)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${1:-2}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

cargo bench --quiet --bench receipt -- --out "$dir" --seconds "$seconds"
.ci/python-env
python=${CARGO_TARGET_DIR:-$root/target}/python-env/bin/python
"$python" benches/receipt_python.py "$dir" "$((seconds * 2))" > "$dir/python.json"

"$python" - "$dir" <<'PY'
import json, pathlib, sys
d = pathlib.Path(sys.argv[1])
r = json.loads((d / "rust.json").read_text())
p = json.loads((d / "python.json").read_text())
us = lambda rate: 1e6 / rate
print(f"python_verify   {p['verify']:>12.0f} /s  {us(p['verify']):>9.2f} us  (azure verify_receipt, parsed receipt)")
print(f"python_parse    {p['parse_verify']:>12.0f} /s  {us(p['parse_verify']):>9.2f} us  (json.loads + verify_receipt)")
print()
fresh = us(r["fresh"]) / (2 * us(r["ecdsa_p256"]))
cached = us(r["chain_cached"]) / us(r["ecdsa_p256"])
batch = r["batch"] / p["parse_verify"]
batch_parsed = r["batch_parsed"] / p["verify"]
goal = lambda ok: "meets goal" if ok else "MISSES goal"
print(f"fresh verify      = {fresh:.2f} x two ECDSA verifications   (goal <= 1.5: {goal(fresh <= 1.5)})")
print(f"chain cached      = {cached:.2f} x one ECDSA verification    (goal <= 1.5: {goal(cached <= 1.5)})")
print(f"batch (parse+verify) = {batch:.0f} x Python json.loads + verify_receipt (goal >= 50: {goal(batch >= 50)})")
print(f"batch (verify only)  = {batch_parsed:.0f} x Python verify_receipt           (goal >= 50: {goal(batch_parsed >= 50)})")
print(f"fresh verify      = {r['fresh'] / p['verify']:.1f} x Python verify_receipt")
PY
