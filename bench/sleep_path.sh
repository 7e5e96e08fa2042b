#!/usr/bin/env bash
# What a sleeping round trip costs here, in one run: Cyclone DDS's ddsperf ping-pong next to
# latency_pingpong's blocking modes (raw and axon) and wake_probe's variants of the raw
# primitives (placement, an idle-preventing thread, a poll budget). Three interleaved passes;
# the table quotes the median of the passes' medians and p99s. bench/README.md, "Why a sleeping
# round trip costs what it does", explains it.
#
#   bench/sleep_path.sh [--passes N] [--rounds N] [--seconds S] [--bin DIR]
#
# ddsperf prints, per second, statistics of HALF the round trip ((now - source timestamp) / 2
# in its process_pong, every version since 2019): the "dds" rows double its per-second median to
# quote a round trip; "dds-printed" is the figure it prints. Its "cnt" (pongs per second) checks
# that reading: the ping-pong runs back to back, so 1e6 / cnt µs ("dds-cycle") is the mean
# round trip, and equals twice the printed mean ("dds-2xmean").
# Pinning: "split" = initiator / ping on the first allowed CPU, responder / pong on the second
# (as latency_pingpong pins), "same" = both on the first, "free" = not pinned.
set -euo pipefail
cd "$(dirname "$0")/.."

passes=3
rounds=5000
seconds=5
bin="${AXON_BUILD_DIR:-build}/bin"
while [ $# -gt 0 ]; do
  case "$1" in
    --passes) passes="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --bin) bin="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "sleep_path.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
for b in latency_pingpong wake_probe; do
  [ -x "$bin/$b" ] || { echo "sleep_path.sh: $bin/$b is not built" >&2; exit 1; }
done
have_dds=1
command -v ddsperf > /dev/null || { have_dds=0; echo "sleep_path.sh: no ddsperf, no dds rows" >&2; }
read -r cpu_a cpu_b < <(python3 -c 'import os; c=sorted(os.sched_getaffinity(0)); print(c[0], c[1 if len(c)>1 else 0])')
work="$(mktemp -d /tmp/axon-sleep-path.XXXXXX)"
trap 'rm -rf "$work"' EXIT
results="$work/results"  # lines: name median_us p99_us cpu_us_per_rt idle_per_rt ipi_per_rt
: > "$results"

json() { sed -E "s/.*\"$2\":([0-9.]+).*/\1/" <<< "$1"; }

# latency_pingpong MODE: median and p99, nothing per round trip.
lp() {
  local out
  out="$("$bin/latency_pingpong" --mode "$1" --rounds "$rounds" --warmup $((rounds / 10)))"
  echo "lp:$1 $(awk "BEGIN{print $(json "$out" median_ns)/1000, $(json "$out" p99_ns)/1000}") - - -" \
    >> "$results"
}

# wake_probe NAME ARGS...
wp() {
  local name="$1" out
  shift
  out="$("$bin/wake_probe" --rounds "$rounds" --warmup $((rounds / 10)) "$@")"
  echo "wp:$name $(awk "BEGIN{print $(json "$out" median_ns)/1000, $(json "$out" p99_ns)/1000, \
    $(json "$out" cpu_ns_per_rt)/1000, $(json "$out" idle_entries_per_rt), \
    $(json "$out" ipis_per_rt)}")" >> "$results"
}

# ddsperf ping-pong at 16 B, pinned as PLACE says. Per-second figures after the first second.
dds() {
  local place="$1" pa="" pb="" domain=$((40 + RANDOM % 50))
  case "$place" in
    split) pa="taskset -c $cpu_a"; pb="taskset -c $cpu_b" ;;
    same) pa="taskset -c $cpu_a"; pb="taskset -c $cpu_a" ;;
  esac
  $pb ddsperf -i "$domain" -D$((seconds + 10)) pong > "$work/pong.log" 2>&1 &
  local pong=$!
  $pa ddsperf -i "$domain" -D"$seconds" -Qminmatch:1 -Qinitwait:10 ping size 16 \
    > "$work/ping.log" 2>&1 || echo "sleep_path.sh: ddsperf ping failed" >&2
  kill "$pong" 2> /dev/null || true
  wait "$pong" 2> /dev/null || true
  # "[pid] 2.000  host:pid size 16 mean 35.5us min 18.8us 50% 34.4us 90% 40.2us 99% 66.0us ... cnt 14042"
  # The median of the per-second figures, first second dropped.
  python3 - "$place" "$work/ping.log" >> "$results" << 'PY'
import re, statistics, sys
place, rows = sys.argv[1], []
for line in open(sys.argv[2]):
    m = re.search(r"\] ([0-9.]+) .* size 16 mean ([0-9.]+)us .* 50% ([0-9.]+)us .* 99% ([0-9.]+)us .* cnt (\d+)", line)
    if m and float(m.group(1)) > 1.5:
        rows.append([float(g) for g in m.groups()[1:]])
if rows:
    med = [statistics.median(col) for col in zip(*rows)]
    print(f"dds-printed:{place} {med[1]} {med[2]} - - -")
    print(f"dds:{place} {2 * med[1]} {2 * med[2]} - - -")
    # Two readings of the mean cycle that must agree: twice the printed mean, 1 s / count.
    print(f"dds-2xmean:{place} {2 * med[0]} - - - -")
    print(f"dds-cycle:{place} {1e6 / med[3]:.1f} - - - -")
PY
}

echo "sleep_path.sh: $passes passes, $rounds rounds, ddsperf $seconds s; $(uptime)" >&2
for pass in $(seq "$passes"); do
  echo "pass $pass: $(uptime | sed 's/.*load/load/')" >&2
  if [ "$have_dds" = 1 ]; then dds split; fi
  lp raw-epoll-eventfd
  lp raw-eventfd
  wp eventfd-split --transport eventfd
  wp epoll-eventfd-split --transport epoll-eventfd
  wp futex-split --transport futex
  wp udp-split --transport udp
  wp uds-split --transport uds
  wp pipe-split --transport pipe
  lp axon-pubsub-waitset
  lp axon-event-waitset
  lp axon-event-blocking
  lp raw-fifo
  lp raw-uds
  if [ "$have_dds" = 1 ]; then dds same; fi
  wp eventfd-same --transport eventfd --place same
  wp udp-same --transport udp --place same
  if [ "$have_dds" = 1 ]; then dds free; fi
  wp eventfd-free --transport eventfd --place free
  wp udp-free --transport udp --place free
  wp pipe-free --transport pipe --place free
  wp uds-free --transport uds --place free
  wp eventfd-split-spinner --transport eventfd --spinner
  wp epoll-eventfd-split-spinner --transport epoll-eventfd --spinner
  wp eventfd-split-poll20 --transport eventfd --poll-us 20
  wp epoll-eventfd-split-poll20 --transport epoll-eventfd --poll-us 20
done
echo "sleep_path.sh: done; $(uptime)" >&2

# The table: per row, the median over passes of each column; x_epoll = the row's median against
# the same pass's raw-epoll-eventfd, median over passes.
python3 - "$results" << 'PY'
import statistics, sys
rows, order = {}, []
for line in open(sys.argv[1]):
    name, *cols = line.split()
    if name not in rows:
        rows[name] = []
        order.append(name)
    rows[name].append(cols)
base = [float(c[0]) for c in rows.get("lp:raw-epoll-eventfd", [])]
def med(values):
    return "-" if values[0] == "-" else f"{statistics.median(float(v) for v in values):.2f}"
print(f"{'variant':34} {'median_us':>9} {'p99_us':>9} {'x_epoll':>7} {'cpu_us/rt':>9} {'idle/rt':>7} {'ipi/rt':>6}")
for name in order:
    passes = rows[name]
    ratio = "-"
    if len(base) == len(passes):
        ratio = f"{statistics.median(float(p[0]) / b for p, b in zip(passes, base)):.2f}"
    cols = [med([p[i] for p in passes]) for i in range(5)]
    print(f"{name:34} {cols[0]:>9} {cols[1]:>9} {ratio:>7} {cols[2]:>9} {cols[3]:>7} {cols[4]:>6}")
PY
