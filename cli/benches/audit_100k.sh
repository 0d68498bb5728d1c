#!/usr/bin/env bash
# Bench (not run in CI): `cledger audit` of ENTRIES entries (default 100,000) against a local
# sandbox, next to `cledger list` of the same range without receipts.
#
#   cli/benches/audit_100k.sh [ENTRIES] [CONCURRENCY]
#
# Builds cledger in release, starts `cledger sandbox` on a temporary directory, writes the
# entries with `cledger write --each-line`, then measures with /usr/bin/time -v (wall time,
# peak RSS, CPU) the listing and the audit, and the sandbox's CPU time during each (from
# /proc). The audit's own report gives the time spent verifying receipts. Prints a summary;
# the raw files stay in $KEEP if set. CLEDGER=path uses that binary instead of building one.
set -euo pipefail
cd "$(dirname "$0")/../.."
ENTRIES=${1:-100000}
CONCURRENCY=${2:-32}
if [ -n "${CLEDGER:-}" ]; then
    BIN=$CLEDGER # a cledger built elsewhere (checking this script with a debug build)
else
    cargo build --release -p confidential-ledger-cli
    BIN=${CARGO_TARGET_DIR:-target}/release/cledger
fi
WORK=${KEEP:-$(mktemp -d)}
mkdir -p "$WORK"
SANDBOX_PID=
cleanup() {
    if [ -n "$SANDBOX_PID" ]; then kill -INT "$SANDBOX_PID" 2>/dev/null || true; wait "$SANDBOX_PID" 2>/dev/null || true; fi
    if [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

"$BIN" sandbox --data-dir "$WORK/ledger" > "$WORK/env" 2> "$WORK/sandbox.log" &
SANDBOX_PID=$!
for _ in $(seq 600); do
    if [ "$(wc -l < "$WORK/env")" -ge 6 ]; then break; fi
    sleep 0.1
done
# shellcheck disable=SC1091
. "$WORK/env"

# CPU seconds (user + system) of the sandbox so far.
sandbox_cpu() {
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$SANDBOX_PID/stat"
}
# "wall seconds, peak RSS KiB, user+sys seconds" from a /usr/bin/time -v output.
time_fields() {
    awk -F': ' '
        /Elapsed \(wall clock\)/ { n = split($2, p, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + p[i] }
        /Maximum resident set size/ { rss = $2 }
        /User time/ { u = $2 } /System time/ { s = $2 }
        END { printf "%.2f %d %.2f", w, rss, u + s }' "$1"
}

echo "writing $ENTRIES entries..." >&2
start=$(date +%s.%N)
seq "$ENTRIES" | sed 's/^/bench entry /' \
    | "$BIN" write --each-line --collection bench --concurrency 64 --wait > /dev/null
echo "written in $(awk -v a="$start" -v b="$(date +%s.%N)" "BEGIN { printf \"%.1f\", b - a }") s" >&2

cpu0=$(sandbox_cpu)
/usr/bin/time -v "$BIN" list --collection bench --json > "$WORK/list.jsonl" 2> "$WORK/list.time"
cpu1=$(sandbox_cpu)
/usr/bin/time -v "$BIN" audit --collection bench --concurrency "$CONCURRENCY" --no-progress \
    --report "$WORK/report.json" 2> "$WORK/audit.time" || true
cpu2=$(sandbox_cpu)

read -r list_wall list_rss list_cpu <<< "$(time_fields "$WORK/list.time")"
read -r audit_wall audit_rss audit_cpu <<< "$(time_fields "$WORK/audit.time")"
listed=$(wc -l < "$WORK/list.jsonl")
python3 - "$WORK/report.json" <<PY
import json, sys
r = json.load(open(sys.argv[1]))
entries, wall = r["entries"], float("$audit_wall")
print(f"entries: {entries} audited ({r['verified']} verified, {r['failed']} failed), {$listed} listed")
print(f"list  : {float('$list_wall'):8.2f} s wall, {$listed / max(float('$list_wall'), 1e-9):9.0f} entries/s, "
      f"peak RSS {int('$list_rss') / 1024:6.1f} MiB, cledger CPU {float('$list_cpu'):7.2f} s, "
      f"sandbox CPU {float('$cpu1') - float('$cpu0'):7.2f} s")
print(f"audit : {wall:8.2f} s wall, {entries / max(wall, 1e-9):9.0f} entries/s, "
      f"peak RSS {int('$audit_rss') / 1024:6.1f} MiB, cledger CPU {float('$audit_cpu'):7.2f} s, "
      f"sandbox CPU {float('$cpu2') - float('$cpu1'):7.2f} s")
print(f"audit / list wall time: {wall / max(float('$list_wall'), 1e-9):.1f}x")
print(f"verification: {r['verifySeconds']:.2f} s = {100 * r['verifySeconds'] / max(wall, 1e-9):.1f} % of the audit's wall time "
      f"(target <= 10 %); concurrency $CONCURRENCY")
PY
