#!/usr/bin/env bash
# Instructions per call of this client and of the bare reqwest loop of
# benches/side_by_side.rs, counted by valgrind's callgrind in the client process only (the
# sandbox runs apart, uncounted): writes (`create_ledger_entry`) and transaction-status reads
# (`get_transaction_status`), and committed writes (a write, then its commit wait as a task
# of its own: the client only, against its own writes), one call at a time or --in-flight K at once (all on one thread,
# so that the count repeats: what K in flight adds is the work of keeping K calls apart, not
# the cost of cross-thread wake-ups). Each kind runs twice, with --small and
# --large calls; the difference divided by (large - small) is the cost of one call without
# the start-up (building the clients, the first TLS handshakes). Instruction counts do not
# move with the machine's load, unlike CPU time.
#
# Usage: benches/per_call.sh [--small N] [--large N] [--in-flight K] [--keep DIR]
#   --small N      calls in the short run (default 200)
#   --large N      calls in the long run (default 1200)
#   --in-flight K  calls at once (default 1)
#   --keep DIR  keep the callgrind outputs in DIR (for callgrind_annotate --inclusive=yes)
# Needs valgrind. Prints one line per kind and client: instructions per call, and the
# client's ratio to the bare loop.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

small=200
large=1200
in_flight=1
keep=
while [ $# -gt 0 ]; do
  case $1 in
    --small) small=$2; shift 2 ;;
    --large) large=$2; shift 2 ;;
    --in-flight) in_flight=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    *) echo "unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
[ "$large" -gt "$small" ] || { echo "--large must be more than --small" >&2; exit 2; }
command -v valgrind > /dev/null || { echo "valgrind not found" >&2; exit 1; }

unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy ALL_PROXY all_proxy
export NO_PROXY=localhost,127.0.0.1 no_proxy=localhost,127.0.0.1
target=${CARGO_TARGET_DIR:-$root/target}

# The sandbox is not measured: its debug build will do.
cargo build --quiet -p confidential-ledger-sandbox --bin confidential-ledger-sandbox
sandbox_bin=$target/debug/confidential-ledger-sandbox
bench_bin=$(cargo bench --no-run --quiet --bench side_by_side --message-format=json \
  | sed -n 's/.*"executable":"\([^"]*side_by_side[^"]*\)".*/\1/p' | tail -1)
[ -x "$bench_bin" ] || { echo "bench executable not found" >&2; exit 1; }

work=$(mktemp -d "$target/per-call.XXXXXX")
# shellcheck source=support/sandbox.sh
. benches/support/sandbox.sh
cleanup() {
  stop_sandbox
  rm -rf "$work"
}
trap cleanup EXIT
start_sandbox "$sandbox_bin" "$work/ledger"
[ -n "$keep" ] && mkdir -p "$keep"

# Instructions of one run: the `totals:` line callgrind writes at the end of its output.
instructions() {
  local out=$work/callgrind.$1.$2.$3
  valgrind --tool=callgrind --callgrind-out-file="$out" --quiet \
    "$bench_bin" calls --op "$1" --via "$2" --count "$3" --in-flight "$in_flight" --sandbox "$sandbox" > /dev/null
  [ -n "$keep" ] && cp "$out" "$keep/"
  awk '$1 == "totals:" || $1 == "summary:" { print $2; exit }' "$out"
}

for op in write status; do
  declare -A per_call=()
  for via in bare client; do
    a=$(instructions "$op" "$via" "$small")
    b=$(instructions "$op" "$via" "$large")
    per_call[$via]=$(( (b - a) / (large - small) ))
  done
  printf '%-9s bare %9d instructions/call   client %9d instructions/call   client/bare %.3f\n' \
    "$op" "${per_call[bare]}" "${per_call[client]}" \
    "$(echo "${per_call[client]} / ${per_call[bare]}" | bc -l)"
  [ "$op" = write ] && client_write=${per_call[client]}
  unset per_call
done
# A write whose commit wait is then a task of its own, against the client's plain write. The
# commit watcher's status polls are included: how many a write shares depends on how many
# writes a signature commits at once, which under callgrind's slowdown varies from run to
# run (by about 2,000 instructions per write in trials), unlike the rest of these counts.
a=$(instructions committed client "$small")
b=$(instructions committed client "$large")
committed=$(( (b - a) / (large - small) ))
printf '%-9s client %9d instructions/call, %d more than a write (%.3f of it)\n' \
  committed "$committed" "$(( committed - client_write ))" \
  "$(echo "$committed / $client_write" | bc -l)"
