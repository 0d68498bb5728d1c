#!/usr/bin/env bash
# Runs every fuzz target for a bounded time, one after another, and prints per target the
# executions, executions per second, coverage and findings.
#
#   fuzz/run.sh [SECONDS_PER_TARGET]        (default 60)
#
# Environment:
#   TARGETS          targets to run (default: all, in the order below)
#   FUZZ_TOOLCHAIN   toolchain for cargo-fuzz (default: stable, with RUSTC_BOOTSTRAP=1 for the
#                    unstable sanitizer flags; "nightly" works too)
#   FUZZ_SANITIZER   address (default) or none (when the toolchain has no ASan runtime)
#
# The working corpus grows in fuzz/corpus/<target> (kept between runs, not committed) and is
# seeded from fuzz/seeds/<target>; crashing inputs land in fuzz/artifacts/<target>; full
# libFuzzer logs in fuzz/logs/<target>.log. Exits 1 when any target found something.
set -euo pipefail

cd "$(dirname "$0")"
SECONDS_EACH="${1:-60}"
TARGETS="${TARGETS:-receipt_parse receipt_verify receipt_mutate transaction_id error_from_parts decode_page}"
TOOLCHAIN="${FUZZ_TOOLCHAIN:-stable}"
SANITIZER="${FUZZ_SANITIZER:-address}"
export RUSTC_BOOTSTRAP=1

if ! [[ "$SECONDS_EACH" =~ ^[0-9]+$ ]] || [ "$SECONDS_EACH" -lt 1 ]; then
    echo "usage: $0 [SECONDS_PER_TARGET]" >&2
    exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is missing: cargo install cargo-fuzz" >&2
    exit 2
fi

cargo "+$TOOLCHAIN" fuzz build -s "$SANITIZER" >/dev/null
mkdir -p logs

max_len() {
    case "$1" in
        receipt_parse | receipt_verify) echo 16384 ;;
        *) echo 4096 ;;
    esac
}

found_any=0
printf '%-18s %12s %9s %7s %8s %7s %s\n' target executions exec/s cov features corpus findings
for target in $TARGETS; do
    mkdir -p "corpus/$target" "artifacts/$target"
    before=$(find "artifacts/$target" -type f | wc -l)
    status=0
    cargo "+$TOOLCHAIN" fuzz run -s "$SANITIZER" "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$SECONDS_EACH" -max_len="$(max_len "$target")" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 >"logs/$target.log" 2>&1 || status=$?
    log="logs/$target.log"
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1)
    cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.*corp: \([0-9]*\).*/\1/p' <<<"$last")
    after=$(find "artifacts/$target" -type f | wc -l)
    findings=$((after - before))
    note="$findings"
    if [ "$status" -ne 0 ] || [ "$findings" -gt 0 ]; then
        found_any=1
        note="$findings (exit $status; see $log)"
    fi
    printf '%-18s %12s %9s %7s %8s %7s %s\n' "$target" "${execs:-?}" "${rate:-?}" "${cov:-?}" \
        "${ft:-?}" "${corp:-?}" "$note"
done
exit "$found_any"
