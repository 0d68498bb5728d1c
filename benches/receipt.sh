#!/usr/bin/env bash
# Receipt verification benchmark: the Rust verifier (release build) against raw ECDSA in the
# same process, and against the official Python verifier on the same receipt files.
# Usage: benches/receipt.sh [SECONDS]   (time per measurement, default 2)
#        benches/receipt.sh --callgrind   (instructions per fresh verification, under valgrind)
#
# The Python and Rust batch measurements alternate three times and each ratio is the median of
# the three pairs, so a change in machine load affects both sides of a ratio alike.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${1:-2}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

if [ "$seconds" = "--callgrind" ]; then
  # Instruction counts do not move with machine load: the bench binary verifies N receipts
  # fresh and exits; the difference between N = 201 and N = 1 is 200 fresh verifications
  # (the first one also pays the one-time initialisation, left out this way).
  command -v valgrind >/dev/null || { echo "valgrind not found" >&2; exit 1; }
  bin=$(cargo bench --bench receipt --no-run 2>&1 | sed -n 's/.*Executable .*(\(.*\)).*/\1/p' | tail -1)
  count() {
    valgrind --tool=callgrind --callgrind-out-file="$dir/cg.$1" "$bin" --fresh-count "$1" \
      > /dev/null 2>&1
    sed -n 's/^summary: //p; s/^totals: //p' "$dir/cg.$1" | head -1
  }
  base=$(count 1)
  total=$(count 201)
  echo "fresh verify: $(( (total - base) / 200 )) instructions per receipt (callgrind, Rust)"
  exit 0
fi

.ci/python-env
python=${CARGO_TARGET_DIR:-$root/target}/python-env/bin/python

echo "== Rust (cargo bench --bench receipt, release profile)"
cargo bench --quiet --bench receipt -- --out "$dir" --seconds "$seconds"
for i in 1 2 3; do
  "$python" benches/receipt_python.py "$dir" "$seconds" > "$dir/python_$i.json"
  cargo bench --quiet --bench receipt -- --out "$dir" --seconds "$seconds" --batch-only > /dev/null
  mv "$dir/rust_batch.json" "$dir/rust_batch_$i.json"
done

"$python" - "$dir" <<'PY'
import json, pathlib, statistics, sys
d = pathlib.Path(sys.argv[1])
r = json.loads((d / "rust.json").read_text())
pairs = [(json.loads((d / f"rust_batch_{i}.json").read_text()),
          json.loads((d / f"python_{i}.json").read_text())) for i in (1, 2, 3)]
py_verify = statistics.median(p["verify"] for _, p in pairs)
py_parse = statistics.median(p["parse_verify"] for _, p in pairs)
batch = statistics.median(rb["batch"] / p["parse_verify"] for rb, p in pairs)
batch_parsed = statistics.median(rb["batch_parsed"] / p["verify"] for rb, p in pairs)
fresh_vs_python = statistics.median(rb["fresh"] / p["verify"] for rb, p in pairs)
print()
print("== Python (azure.confidentialledger.receipt.verify_receipt, same receipts)")
print(f"python_verify  {py_verify:>12.0f} /s  {1e6 / py_verify:>9.2f} us  (parsed receipt)")
print(f"python_parse   {py_parse:>12.0f} /s  {1e6 / py_parse:>9.2f} us  (json.loads + verify_receipt)")
print()
goal = lambda ok: "meets goal" if ok else "MISSES goal"
f, c = r["fresh_vs_two_ecdsa"], r["chain_cached_vs_one_ecdsa"]
print(f"fresh verify          = {f:.2f} x two ECDSA verifications  (goal <= 1.5: {goal(f <= 1.5)})")
fr = r["fresh_vs_two_ring_ecdsa"]
print(f"fresh verify          = {fr:.2f} x two ring (assembly) ECDSA verifications, the floor (not a goal)")
print(f"chain cached          = {c:.2f} x one ECDSA verification   (goal <= 1.5: {goal(c <= 1.5)})")
print(f"batch, parse + verify = {batch:.0f} x Python json.loads + verify_receipt  (goal >= 50: {goal(batch >= 50)})")
print(f"batch, verify only    = {batch_parsed:.0f} x Python verify_receipt  (goal >= 50: {goal(batch_parsed >= 50)})")
print(f"fresh verify          = {fresh_vs_python:.2f} x the Python verify_receipt rate  (goal >= 1.5: {goal(fresh_vs_python >= 1.5)})")
PY
