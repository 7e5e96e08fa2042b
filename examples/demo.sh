#!/usr/bin/env bash
# The multi-process demo run by `./dev.sh demo`: separate processes, as from separate terminals,
# for a few seconds; then every process is stopped and every object it made is gone.
set -euo pipefail
bin="${1:-build/bin}"
seconds="${DEMO_SECONDS:-5}"

# A private prefix and root so the demo never touches a user's services.
export AXON_PREFIX="axon_demo$$_"
export AXON_ROOT="/tmp/axon-demo-$$"
out="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$out" "$AXON_ROOT"
  rm -f /dev/shm/"$AXON_PREFIX"* 2>/dev/null || true
}
trap cleanup EXIT

start() {  # start NAME CMD...: runs CMD in the background, its output prefixed by NAME
  local name="$1"; shift
  "$@" > >(sed -u "s/^/[$name] /") 2>&1 &
  pids+=("$!")
}

if [ -x "$bin/event_multiplexing_wait" ]; then
  echo "demo: one waiter on services fuu and bar, notifiers on fuu (id 123) and bar (id 456)"
  start wait "$bin/event_multiplexing_wait" fuu bar
  sleep 0.5
  start notifier-fuu "$bin/event_multiplexing_notifier" fuu 123
  start notifier-bar "$bin/event_multiplexing_notifier" bar 456
else
  echo "demo: one listener on service fuu, notifiers with ids 123 and 456"
  start listener "$bin/event_listener" fuu
  sleep 0.5
  start notifier-123 "$bin/event_notifier" fuu 123
  start notifier-456 "$bin/event_notifier" fuu 456
fi
sleep "$seconds"
echo "demo: stopping (SIGINT to the notifiers, SIGTERM to the listener)"
# Notifiers first so the listener sees their last notifications.
for p in "${pids[@]:1}"; do kill -INT "$p" 2>/dev/null || true; done
sleep 0.3
kill -TERM "${pids[0]}" 2>/dev/null || true
wait
pids=()
left="$(ls /dev/shm | grep -c "^$AXON_PREFIX" || true)"
echo "demo: done; shared-memory objects left behind: $left"
