#!/usr/bin/env bash
# Side-by-side benchmark: this client vs a bare reqwest loop vs the official Python client
# (azure-confidentialledger, sync) and, for writes and status reads, the official JavaScript
# client (@azure-rest/confidential-ledger on Node, installed here with npm; skipped with a
# message without Node), against ONE sandbox started here, on the same work:
#   1. writes/s, 1 and 32 in flight (and this client's exactly-once writes, with requests/write;
#      and committed writes/s beside plain writes/s, in turns, with 64 in flight);
#   2. transaction-status reads/s (the per-call cost without the server's disk);
#   3. committed-write latency (mean, p50, p90, p99) and status polls per write, with 16 and
#      with 64 writers, and how long after its commit became visible each write was seen
#      (from the sandbox's commit log); then committed writes/s and both latency runs again on
#      a second sandbox signing every 100 ms instead of every second;
#   4. a ranged read of 100,000 entries: entries/s and peak RSS of the reading process;
#   5. receipt verification/s on receipts fetched from the sandbox.
# Writes docs/benchmarks.md (the machine, the settings, a table per measurement).
#
# Usage: benches/side_by_side.sh [--rounds N] [--seconds S] [--latency-seconds S]
#                                 [--range-entries N] [--receipts N] [--out FILE]
#   --rounds N           throughput rounds, Rust and Python alternating (default 3)
#   --seconds S          length of each throughput window (default 3)
#   --latency-seconds S  length of the latency window (default 60)
#   --range-entries N    entries in the ranged read (default 100000)
#   --receipts N         receipts fetched and verified (default 200)
#   --out FILE           the report (default docs/benchmarks.md)
# A quick check that everything works end to end (about 2 minutes after the build):
#   benches/side_by_side.sh --rounds 1 --seconds 1 --latency-seconds 5 --range-entries 5000 --out /tmp/b.md
# Needs the Rust toolchain and Python 3 with pip and venv (for .ci/python-env).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

given_args="$*"
# The defaults (benches/python/report.py DEFAULTS says a run with less is a quick check).
rounds=3
seconds=3
latency_seconds=60
range_entries=100000
receipt_count=200
out=docs/benchmarks.md
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --latency-seconds) latency_seconds=$2; shift 2 ;;
    --range-entries) range_entries=$2; shift 2 ;;
    --receipts) receipt_count=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
command_line="benches/side_by_side.sh${given_args:+ $given_args}"

# The workload (also written into the report).
concurrency=1,32
latency_writers=16
# A second latency run with this many writers (where one poll stream serves many more waits).
latency_writers_many=64
# Committed writes/s (write and wait for the commit) beside plain writes/s, this many in flight.
committed_in_flight=64
signature_interval_ms=1000
# The commit measurements (committed writes/s and both latency runs) again on a second sandbox
# signing this often.
fast_signature_interval_ms=100
signature_every=5000

# The sandbox is on loopback: keep every client away from proxies.
unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy ALL_PROXY all_proxy
export NO_PROXY=localhost,127.0.0.1 no_proxy=localhost,127.0.0.1

target=${CARGO_TARGET_DIR:-$root/target}
echo "== Python environment (.ci/python-env)"
.ci/python-env
python=$target/python-env/bin/python

echo "== JavaScript environment (npm @azure-rest/confidential-ledger, in $target/js-env)"
js_dir=$target/js-env
js=
if command -v node > /dev/null && command -v npm > /dev/null; then
  if [ ! -d "$js_dir/node_modules/@azure-rest/confidential-ledger" ]; then
    mkdir -p "$js_dir"
    npm install --silent --no-audit --no-fund --prefix "$js_dir" @azure-rest/confidential-ledger > /dev/null \
      || echo "   npm install failed: the JavaScript client is skipped"
  fi
  if [ -d "$js_dir/node_modules/@azure-rest/confidential-ledger" ]; then
    # Run from there, so that Node finds the package.
    cp benches/js/side_by_side.mjs "$js_dir/side_by_side.mjs"
    js=yes
  fi
else
  echo "   Node.js (node and npm) not found: the JavaScript client is skipped"
fi

echo "== Building (release)"
cargo build --release --quiet -p confidential-ledger-sandbox --bin confidential-ledger-sandbox
sandbox_bin=$target/release/confidential-ledger-sandbox
executables=$(cargo bench --no-run --quiet --bench side_by_side --bench receipt \
  --message-format=json | "$python" -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and "bench" in m["target"]["kind"]:
        print(m["target"]["name"], m["executable"])
')
bench_bin=$(awk '$1 == "side_by_side" { print $2 }' <<<"$executables")
receipt_bin=$(awk '$1 == "receipt" { print $2 }' <<<"$executables")
[ -x "$bench_bin" ] && [ -x "$receipt_bin" ] || { echo "bench executables not found" >&2; exit 1; }

# On the target directory's disk (not tmpfs): the sandbox fsyncs every acknowledged write.
mkdir -p "$target"
work=$(mktemp -d "$target/side-by-side.XXXXXX")
results=$work/results
mkdir -p "$results"
# shellcheck source=support/sandbox.sh
. benches/support/sandbox.sh
cleanup() {
  stop_sandbox
  if [ -n "${KEEP_WORK:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

measure_start=$SECONDS
cat /proc/loadavg > "$results/loadavg_start"
echo "== Starting the sandbox (signature every $signature_interval_ms ms or $signature_every writes)"
commit_log=$work/ledger.commits
start_sandbox "$sandbox_bin" "$work/ledger" \
  --signature-interval-ms "$signature_interval_ms" --signature-every "$signature_every" \
  --commit-log "$commit_log"
cp "$sandbox" "$results/sandbox.json"

rust() { "$bench_bin" "$@" --sandbox "$sandbox"; }
py() { "$python" benches/python/side_by_side.py "$@" --sandbox "$sandbox"; }
jsb() { node "$js_dir/side_by_side.mjs" "$@" --sandbox "$sandbox"; }

echo "== Writing $range_entries entries to collection 'range' (64 in flight)"
rust prefill --collection range --count "$range_entries" --concurrency 64 > "$results/prefill.json"
read -r first last < <("$python" -c '
import json, sys
p = json.load(open(sys.argv[1]))
print(p["first"], p["last"])' "$results/prefill.json")
echo "   range $first .. $last"

echo "== Fetching $receipt_count receipts"
rust receipts --collection range --count "$receipt_count" --out "$work/receipts" > "$results/receipts.json"

for r in $(seq "$rounds"); do
  echo "== Round $r of $rounds"
  # Rust first in odd rounds, Python first in even ones.
  order="rust python"
  [ $((r % 2)) -eq 0 ] && order="python rust"
  for side in $order; do
    if [ "$side" = rust ]; then
      rust writes --seconds "$seconds" --concurrency "$concurrency" --round "$r" \
        --committed-in-flight "$committed_in_flight" > "$results/writes_rust_$r.json"
      rust status --seconds "$seconds" --concurrency "$concurrency" --round "$r" --id "$first" > "$results/status_rust_$r.json"
      rust range --collection range --from "$first" --to "$last" > "$results/range_rust_$r.json"
      "$receipt_bin" --receipts "$work/receipts" --out "$work/receipt_rates" --seconds 2 --batch-only > /dev/null
      mv "$work/receipt_rates/rust_batch.json" "$results/receipts_rust_$r.json"
    else
      py writes --seconds "$seconds" --threads "$concurrency" > "$results/writes_python_$r.json"
      py status --seconds "$seconds" --threads "$concurrency" --id "$first" > "$results/status_python_$r.json"
      py range --collection range --from "$first" --to "$last" > "$results/range_python_$r.json"
      "$python" benches/receipt_python.py "$work/receipts" 2 > "$results/receipts_python_$r.json"
      if [ -n "$js" ]; then
        jsb writes --seconds "$seconds" --concurrency "$concurrency" > "$results/writes_js_$r.json"
        jsb status --seconds "$seconds" --concurrency "$concurrency" --id "$first" > "$results/status_js_$r.json"
      fi
    fi
  done
done

# Committed-write latency: every variant at once for $latency_seconds s with $1 writers each,
# into $results/$2.json (and Python's beside it, into latency_python.json, when $3 is "python");
# with the sandbox's commit log, also how long after its commit each write was seen.
latency_run() {
  echo "== Committed-write latency: every variant at once for ${latency_seconds} s, $1 writers each"
  local start_at python_latency=
  start_at=$(( $(date +%s) + 5 ))
  if [ "${3:-}" = python ]; then
    py latency --seconds "$latency_seconds" --writers "$1" --think 1 --start-at "$start_at" \
      > "$results/latency_python.json" &
    python_latency=$!
  fi
  rust latency --seconds "$latency_seconds" --writers "$1" --think 1 --start-at "$start_at" \
    --commit-log "$commit_log" > "$results/$2.json"
  if [ -n "$python_latency" ]; then wait "$python_latency"; fi
}
latency_run "$latency_writers" latency_rust python
latency_run "$latency_writers_many" latency_rust_w${latency_writers_many}

# The same commit measurements with signatures ten times as often, on a fresh sandbox.
stop_sandbox
echo "== Starting a second sandbox (signature every $fast_signature_interval_ms ms or $signature_every writes)"
commit_log=$work/ledger-fast.commits
start_sandbox "$sandbox_bin" "$work/ledger-fast" \
  --signature-interval-ms "$fast_signature_interval_ms" --signature-every "$signature_every" \
  --commit-log "$commit_log"
for r in $(seq "$rounds"); do
  echo "== Committed writes/s, ${fast_signature_interval_ms} ms signatures: round $r of $rounds"
  rust committed --seconds "$seconds" --in-flight "$committed_in_flight" > "$results/committed_fast_$r.json"
done
latency_run "$latency_writers" latency_rust_fast
latency_run "$latency_writers_many" latency_rust_fast_w${latency_writers_many}
cat /proc/loadavg > "$results/loadavg_end"

cat > "$results/settings.json" <<EOF
{"rounds": $rounds, "seconds": $seconds, "latency_seconds": $latency_seconds,
 "concurrency": "$concurrency", "range_entries": $range_entries, "receipt_count": $receipt_count,
 "latency_writers": $latency_writers, "latency_writers_many": $latency_writers_many,
 "committed_in_flight": $committed_in_flight,
 "signature_interval_ms": $signature_interval_ms,
 "fast_signature_interval_ms": $fast_signature_interval_ms,
 "signature_every": $signature_every, "command": "$command_line",
 "measure_seconds": $((SECONDS - measure_start))}
EOF

echo "== Report"
mkdir -p "$(dirname "$out")"
"$python" benches/python/report.py "$results" "$work" "$out"
echo "wrote $out"
