# Sourced by the bench scripts: starting and stopping a sandbox for a measurement.
#
# start_sandbox BIN DIR [SANDBOX ARGS...]
#   starts the sandbox BIN with its data in DIR, its --print-json line in DIR.json and its log
#   in DIR.log, on a free port; waits up to 30 s for it to answer; sets `sandbox` (the JSON
#   file, which the bench binaries read) and `sandbox_pid`. Exits the script with the log if
#   the sandbox ends or does not start.
# stop_sandbox
#   stops the sandbox started last (if any) and waits for it.

sandbox=
sandbox_pid=

start_sandbox() {
  local bin=$1 dir=$2
  shift 2
  "$bin" --data-dir "$dir" --port 0 --print-json "$@" > "$dir.json" 2> "$dir.log" &
  sandbox_pid=$!
  for _ in $(seq 300); do
    [ -s "$dir.json" ] && break
    kill -0 "$sandbox_pid" 2>/dev/null || { cat "$dir.log" >&2; exit 1; }
    sleep 0.1
  done
  [ -s "$dir.json" ] || { echo "the sandbox did not start within 30 s" >&2; exit 1; }
  sandbox=$dir.json
}

stop_sandbox() {
  if [ -n "$sandbox_pid" ]; then
    kill -TERM "$sandbox_pid" 2>/dev/null || true
    wait "$sandbox_pid" 2>/dev/null || true
  fi
  sandbox_pid=
}
