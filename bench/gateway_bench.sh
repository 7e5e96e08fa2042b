#!/usr/bin/env bash
# Two "machines" on one host, and what Cyclone DDS itself and the axon gateway over it do across
# them: two network namespaces joined by a veth pair (the pair tests/gateway/netns.hpp builds for
# the gateway's tests; keep the two in step), then ddsperf ping-pong (median round trip at 8 B,
# 64 KiB, 4 MiB) and ddsperf pub/sub throughput at 64 KiB across the pair, then the same four
# figures through one axon-gateway per side (gateway_pingpong at both ends), and their ratios.
#
#   bench/gateway_bench.sh [--runs N] [--seconds S] [--busy-poll US] [--quick] [--keep-logs]
#
#   --runs N     runs of each measurement (default 5); the table quotes the median run
#   --seconds S  length of one run in seconds (default 5); its first second (discovery,
#                warm-up) is dropped
#   --busy-poll US  start both gateways with --busy-poll US (default 0: off, they sleep as
#                ddsperf does); the applications at both ends sleep either way
#   --quick      --runs 1 --seconds 3 (a smoke test, not numbers to quote)
#   --keep-logs  keep every program's output (the directory is printed)
#
# A run's figure is the median of ddsperf's once-a-second figures (round trip: its per-second
# median; throughput: the subscriber's per-second rate); the table prints the median of the runs'
# figures and their range. ddsperf's smallest sample (topic KS) is 12 bytes: the 8 B row is that.
# Defaults are ddsperf's: reliable; ping-pong keep-last 1, pub/sub keep-all, as fast as possible.
# The gateway's rows: see gateway_runs() and bench/GATEWAY_BENCH.md.
# Needs root (network namespaces), iproute2, ddsperf (Debian's cyclonedds-tools) and the build's
# axon-gateway and gateway_pingpong (AXON_BUILD_DIR, default build/).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=5
seconds=5
keep_logs=0
busy_poll=0
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --busy-poll) busy_poll="$2"; shift 2 ;;
    --quick) runs=1; seconds=3; shift ;;
    --keep-logs) keep_logs=1; shift ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gateway_bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ "$seconds" -ge 2 ] || { echo "gateway_bench.sh: --seconds must be at least 2" >&2; exit 2; }

command -v ip > /dev/null || { echo "gateway_bench.sh: iproute2's ip is not installed" >&2; exit 1; }
command -v ddsperf > /dev/null ||
  { echo "gateway_bench.sh: ddsperf is not installed (cyclonedds-tools)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "gateway_bench.sh: needs root (network namespaces)" >&2; exit 1; }
# The gateway's run needs axon-gateway and gateway_pingpong from the build (AXON_BUILD_DIR,
# default build/): `cmake --build build --target axon-gateway gateway_pingpong`.
build_dir="${AXON_BUILD_DIR:-build}"
gateway="$(realpath -m "$build_dir/bin/axon-gateway")"
pingpong="$(realpath -m "$build_dir/bin/gateway_pingpong")"
for binary in "$gateway" "$pingpong"; do
  [ -x "$binary" ] || { echo "gateway_bench.sh: $binary is not built" \
    "(cmake --build $build_dir --target axon-gateway gateway_pingpong)" >&2; exit 1; }
done
# Not ddsperf's domain 0: a ddsperf still exiting never meets the gateways.
readonly GW_DOMAIN=1

# ---- The pair: the same as NetnsPair::create() -------------------------------------------
# Names `axon-<pid>-<tag>-<a|b>`, <pid> the owner: a run killed before its trap ran is swept by
# the next run (or by the C++ harness), which deletes those whose owner is gone.
readonly NS_A="axon-$$-bench-a" NS_B="axon-$$-bench-b"
readonly IF_A=veth-a IF_B=veth-b
# Only the two namespaces hold these addresses (no end of the veth is in the host's namespace),
# so they cannot clash with the host's networks or another pair.
readonly SUBNET="10.199.$((1 + ($$ * 31 + 253) % 254))"
readonly ADDR_A="$SUBNET.1" ADDR_B="$SUBNET.2"
work="$(mktemp -d /tmp/axon-gateway-bench-$$-XXXXXX)"
# Each side is its own axon instance: /dev/shm and /tmp are shared by network namespaces.
readonly PREFIX_A="axon_gwb$$a_" PREFIX_B="axon_gwb$$b_"
readonly ROOT_A="$work/root-a" ROOT_B="$work/root-b"

remove_netns() {
  local ns="$1" pids
  for _ in $(seq 50); do
    pids="$(ip netns pids "$ns" 2> /dev/null || true)"
    [ -z "$pids" ] && break
    # shellcheck disable=SC2086  # one pid a word
    kill -9 $pids 2> /dev/null || true
    sleep 0.1
  done
  ip netns del "$ns" 2> /dev/null || true
}

# alive PID: whether process PID runs (a zombie that nobody has reaped yet does not).
alive() {
  local stat
  stat="$(cat "/proc/$1/stat" 2> /dev/null)" || return 1
  [[ "${stat##*) }" != Z* ]]
}

sweep_stale() {
  local path name owner
  for path in /run/netns/axon-*-*-[ab]; do
    [ -e "$path" ] || continue
    name="$(basename "$path")"
    owner="${name#axon-}"
    owner="${owner%%-*}"
    [[ "$owner" =~ ^[0-9]+$ ]] || continue
    if ! alive "$owner"; then
      echo "removing the stale namespace $name (its owner $owner is gone)" >&2
      remove_netns "$name"
    fi
  done
  # What an earlier run of this script killed before its trap ran left besides.
  for path in /tmp/axon-gateway-bench-*; do
    [ -e "$path" ] || continue
    owner="${path#/tmp/axon-gateway-bench-}"
    owner="${owner%%-*}"
    # A directory of --keep-logs is the user's to remove.
    [ -e "$path/KEPT" ] && continue
    if [[ "$owner" =~ ^[0-9]+$ ]] && ! alive "$owner"; then
      rm -rf "$path" /dev/shm/axon_gwb"$owner"[ab]_*
    fi
  done
}

teardown() {
  remove_netns "$NS_A"
  remove_netns "$NS_B"
  rm -f /dev/shm/"$PREFIX_A"* /dev/shm/"$PREFIX_B"*
  if [ "$keep_logs" -eq 1 ]; then
    rm -rf "$ROOT_A" "$ROOT_B"
    touch "$work/KEPT"
    echo "logs kept in $work" >&2
  else
    rm -rf "$work"
  fi
}
trap teardown EXIT
trap 'exit 130' INT TERM

setup_pair() {
  ip netns add "$NS_A"
  ip netns add "$NS_B"
  ip -n "$NS_A" link add "$IF_A" type veth peer name "$IF_B" netns "$NS_B"
  local ns ifname addr
  for side in a b; do
    if [ "$side" = a ]; then ns=$NS_A ifname=$IF_A addr=$ADDR_A; else ns=$NS_B ifname=$IF_B addr=$ADDR_B; fi
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$addr/24" dev "$ifname"
    # Cyclone DDS discovers by multicast; on an interface without it, it finds nobody.
    ip -n "$ns" link set "$ifname" multicast on up
  done
  for _ in $(seq 100); do
    if ip -n "$NS_A" -o link show dev "$IF_A" | grep -q LOWER_UP &&
      ip -n "$NS_B" -o link show dev "$IF_B" | grep -q LOWER_UP; then
      return 0
    fi
    sleep 0.05
  done
  echo "gateway_bench.sh: the veth pair did not come up" >&2
  exit 1
}

# side_command a|b: sets the array `side_cmd` to what runs a command on that side: its namespace,
# its AXON_PREFIX and AXON_ROOT. `ip netns exec` and `env` both exec in place, so a command
# started with `exec "${side_cmd[@]}" CMD` keeps one pid from start to end.
side_command() {
  if [ "$1" = a ]; then
    side_cmd=(ip netns exec "$NS_A" env AXON_PREFIX="$PREFIX_A" AXON_ROOT="$ROOT_A")
  else
    side_cmd=(ip netns exec "$NS_B" env AXON_PREFIX="$PREFIX_B" AXON_ROOT="$ROOT_B")
  fi
}

# in_side a|b CMD ARGS...: runs CMD on that side to its end.
in_side() {
  local side_cmd
  side_command "$1"
  shift
  "${side_cmd[@]}" "$@"
}

# start_in_side a|b LOG CMD ARGS...: starts CMD on that side in the background, its output (both
# streams) to LOG, and sets `started` to its pid: the command's own, so `kill $started` reaches it
# (a backgrounded shell function would be a subshell between the two).
start_in_side() {
  local side_cmd log="$2"
  side_command "$1"
  shift 2
  (exec "${side_cmd[@]}" "$@") > "$log" 2>&1 &
  started=$!
}

# ---- Figures ---------------------------------------------------------------------------------
# median: of the numbers on stdin, one a line (nothing when there are none).
median() {
  sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit; m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f\n", m }'
}
# summary: "median (min-max)" of the run figures on stdin, "-" when there are none.
summary() {
  local values
  values="$(cat)"
  [ -n "$values" ] || { echo "-"; return; }
  local med lo hi
  med="$(median <<< "$values")"
  lo="$(sort -g <<< "$values" | head -1)"
  hi="$(sort -g <<< "$values" | tail -1)"
  if [ "$(wc -l <<< "$values")" -eq 1 ]; then echo "$med"; else echo "$med ($lo-$hi)"; fi
}

# udp_drops: "a/b" UDP datagrams dropped so far for a full socket receive buffer (RcvbufErrors
# of /proc/net/snmp, per namespace): the reliable protocol sends them again, which shows in the
# round trip's tail (GATEWAY_BENCH.md).
udp_drops() {
  local side n out=""
  for side in a b; do
    # shellcheck disable=SC2016  # awk's own $ fields
    n="$(in_side "$side" awk '$1 == "Udp:" && $2 ~ /^[0-9]+$/ { print $6 }' /proc/net/snmp)"
    out+="${out:+/}$n"
  done
  echo "$out"
}
# drops_since BEFORE: the datagrams dropped on each side since udp_drops printed BEFORE.
drops_since() {
  local now
  now="$(udp_drops)"
  echo "$((${now%/*} - ${1%/*}))/$((${now#*/} - ${1#*/}))"
}

declare -A rtt_us mbps
# record TRANSPORT SIZE_LABEL RTT_SUMMARY MBPS_SUMMARY: one row of the table ("" keeps a cell).
rows=()
record() {
  local key="$1|$2"
  [[ " ${rows[*]-} " == *" $key "* ]] || rows+=("$key")
  [ -n "$3" ] && rtt_us[$key]="$3"
  [ -n "$4" ] && mbps[$key]="$4"
  return 0
}

# One ddsperf ping-pong run at SIZE bytes: prints the run's median round trip in µs.
ddsperf_rtt_run() {
  local size="$1" log="$work/ping-$1-$2.log"
  start_in_side b "$work/pong-$1-$2.log" ddsperf -D$((seconds + 15)) pong
  local pong=$started
  if ! in_side a ddsperf -D"$seconds" -Qminmatch:1 -Qinitwait:10 ping size "$size" > "$log" 2>&1; then
    echo "gateway_bench.sh: ddsperf ping (size $size) failed: $(tail -3 "$log")" >&2
  fi
  if [ "$(grep -c "participant .*: new$" "$log")" -ne 1 ]; then
    echo "gateway_bench.sh: ddsperf ping (size $size) met other peers than its pong: $log" >&2
  fi
  kill "$pong" 2> /dev/null || true
  wait "$pong" 2> /dev/null || true
  # "[pid] 2.000  host:pid size 65536 mean 95.1us min 60.2us 50% 90.8us 90% ... cnt 9000"
  # ddsperf's statistics are of HALF the round trip (its process_pong records (now - the ping's
  # source timestamp) / 2, a one-way estimate): doubled here to quote a round trip, as the
  # gateway's rows are. Check: twice the mean times cnt is one second (pings run back to back).
  awk -v size="$size" '$0 ~ (" size " size " mean ") {
      t = $2 + 0; for (i = 1; i < NF; i++) if ($i == "50%") v = $(i + 1);
      sub(/us$/, "", v); if (t > 1.5) print 2 * v }' "$log" | median
}

# One ddsperf pub/sub run at SIZE bytes: prints the run's median rate in MB/s (10^6 bytes).
ddsperf_throughput_run() {
  local size="$1" log="$work/sub-$1-$2.log"
  start_in_side b "$log" ddsperf -D$((seconds + 15)) sub
  local sub=$started
  if ! in_side a ddsperf -D"$seconds" -Qminmatch:1 -Qinitwait:10 pub size "$size" \
    > "$work/pub-$1-$2.log" 2>&1; then
    echo "gateway_bench.sh: ddsperf pub (size $size) failed: $(tail -3 "$work/pub-$1-$2.log")" >&2
  fi
  kill "$sub" 2> /dev/null || true
  wait "$sub" 2> /dev/null || true
  # "[pid] 2.000  size 65536 total 19184 lost 0 delta 11168 lost 0 rate 11.17 kS/s 5855.32 Mb/s
  # (...)": seconds after the first and before the publisher left (its "gone" line).
  awk -v size="$size" '/participant .*: gone/ { done = 1 }
      !done && $0 ~ (" size " size " total ") {
        t = $2 + 0; for (i = 1; i < NF; i++) if ($(i + 1) == "Mb/s") { v = $i; break }
        if (t > 1.5) printf "%.1f\n", v / 8 }' "$log" | median
}

ddsperf_runs() {
  local size label values r drops
  for size in 12 65536 4194304; do
    case "$size" in 12) label="8 B" ;; 65536) label="64 KiB" ;; *) label="4 MiB" ;; esac
    values=""
    drops="$(udp_drops)"
    for r in $(seq "$runs"); do
      values+="$(ddsperf_rtt_run "$size" "$r")"$'\n'
    done
    record ddsperf "$label" "$(grep . <<< "$values" | summary)" ""
    echo "ddsperf ping-pong $label: run medians (µs): $(grep . <<< "$values" | tr '\n' ' ')" \
      "UDP receive-buffer drops a/b: $(drops_since "$drops")" >&2
  done
  values=""
  for r in $(seq "$runs"); do
    values+="$(ddsperf_throughput_run 65536 "$r")"$'\n'
  done
  record ddsperf "64 KiB" "" "$(grep . <<< "$values" | summary)"
  echo "ddsperf pub/sub 64 KiB: run medians (MB/s): $(grep . <<< "$values" | tr '\n' ' ')" >&2
}

# ---- The gateway's own run over the same pair -----------------------------------------------
# One axon-gateway per side, as a user runs them (tests/gateway/gateway_netns_test.cpp): side a
# exports bench/ping and bench/stream and imports bench/pong, side b the other way round. Then
# build/bin/gateway_pingpong on each side, talking only to its local axon services: `pong` on b,
# `ping` on a at each size (round trip); `sub` on b, `pub` on a at 64 KiB (throughput).

# wait_for LOG PATTERN SECONDS [PID]: polls LOG until a line matches PATTERN (grep -E); false
# after SECONDS, or as soon as PID (the process writing LOG) has ended.
wait_for() {
  local log="$1" pattern="$2" limit="$3" pid="${4-}"
  for _ in $(seq $((limit * 20))); do
    grep -qE -- "$pattern" "$log" 2> /dev/null && return 0
    if [ -n "$pid" ] && ! alive "$pid"; then break; fi
    sleep 0.05
  done
  grep -qE -- "$pattern" "$log" 2> /dev/null
}

# wait_for_count LOG PATTERN N SECONDS: polls LOG until N lines match PATTERN; false after SECONDS.
wait_for_count() {
  local log="$1" pattern="$2" count="$3" limit="$4"
  for _ in $(seq $((limit * 20))); do
    [ "$(grep -cE -- "$pattern" "$log" 2> /dev/null || true)" -ge "$count" ] && return 0
    sleep 0.05
  done
  return 1
}

# stop PID: SIGTERM, then SIGKILL when it has not ended within 10 s; reaps it.
stop() {
  kill "$1" 2> /dev/null || true
  for _ in $(seq 200); do
    alive "$1" || break
    sleep 0.05
  done
  kill -9 "$1" 2> /dev/null || true
  wait "$1" 2> /dev/null || true
}

# One gateway ping run at SIZE bytes: prints the run's median round trip in µs. Its warm-up
# (50 rounds, pings sent again while no reply comes) stands for ddsperf's dropped first second;
# the timed rounds last seconds - 1, as many as ddsperf's figures that count.
gateway_rtt_run() {
  local size="$1" log="$work/gw-ping-$1-$2.log"
  if ! in_side a "$pingpong" ping --size "$size" --rounds 1000000 --warmup 50 \
    --seconds $((seconds - 1)) > "$log" 2>&1; then
    echo "gateway_bench.sh: gateway ping (size $size) failed: $(tail -3 "$log")" >&2
    return 0
  fi
  # "rtt_us median=123.4 p90=150.2 min=98.7 rounds=1234"
  sed -n 's/^rtt_us median=\([0-9.]*\) .*/\1/p' "$log"
}

# One gateway pub/sub run at SIZE bytes: prints the run's median rate in MB/s (10^6 bytes). The
# subscriber counts `seconds` from its first sample and drops the first; the publisher runs
# until the subscriber is done.
gateway_throughput_run() {
  local size="$1" log="$work/gw-sub-$1-$2.log"
  local stopped_a stopped_b
  stopped_a="$(grep -c 'no longer exporting bench/stream' "$work/gateway-a.log" || true)"
  stopped_b="$(grep -c 'no longer importing bench/stream' "$work/gateway-b.log" || true)"
  start_in_side b "$log" "$pingpong" sub --size "$size" --seconds "$seconds"
  local sub=$started
  if ! wait_for "$log" '^ready' 20 "$sub"; then
    echo "gateway_bench.sh: gateway sub (size $size) did not start: $(tail -3 "$log")" >&2
    stop "$sub"
    return 0
  fi
  start_in_side a "$work/gw-pub-$1-$2.log" "$pingpong" pub --size "$size" \
    --seconds $((seconds + 90))
  local pub=$started rc=0
  wait "$sub" || rc=$?
  stop "$pub"
  # The next run starts once both gateways dropped this one's service: an export that lived on
  # into the next run would hand its subscriber what is left of this run (samples the blocked
  # publisher had queued) to the next run's subscriber, ahead of that run's own.
  if ! wait_for_count "$work/gateway-a.log" 'no longer exporting bench/stream' $((stopped_a + 1)) 20 ||
    ! wait_for_count "$work/gateway-b.log" 'no longer importing bench/stream' $((stopped_b + 1)) 20; then
    echo "gateway_bench.sh: the gateways still carry bench/stream 20 s after its publisher ended" >&2
  fi
  if [ "$rc" -ne 0 ]; then
    echo "gateway_bench.sh: gateway sub (size $size) failed (exit $rc): $(tail -3 "$log")" >&2
  fi
  # "mbps median=612.3 min=.. max=.. seconds=4 samples=.. lost=0 misordered=0"
  sed -n 's/^mbps median=\([0-9.]*\) .*/\1/p' "$log"
}

# The same round trip on one side alone, gateway_pingpong ping and pong in one axon instance and
# no gateway (run before the gateways start, which would export it): the local hops that the
# gateway's round trip has four of (ping -> gateway a, gateway b -> pong and back), as a reference.
local_runs() {
  local size label values r pong
  for size in 8 65536 4194304; do
    case "$size" in 8) label="8 B" ;; 65536) label="64 KiB" ;; *) label="4 MiB" ;; esac
    start_in_side a "$work/local-pong-$size.log" "$pingpong" pong --size "$size"
    pong=$started
    wait_for "$work/local-pong-$size.log" '^ready' 20 "$pong" || true
    values=""
    for r in $(seq "$runs"); do
      if ! in_side a "$pingpong" ping --size "$size" --rounds 1000000 --warmup 50 \
        --seconds $((seconds - 1)) > "$work/local-ping-$size-$r.log" 2>&1; then
        echo "gateway_bench.sh: local ping (size $size) failed:" \
          "$(tail -3 "$work/local-ping-$size-$r.log")" >&2
        continue
      fi
      values+="$(sed -n 's/^rtt_us median=\([0-9.]*\) .*/\1/p' "$work/local-ping-$size-$r.log")"$'\n'
    done
    stop "$pong"
    record local "$label" "$(grep . <<< "$values" | summary)" ""
  done
}

gateway_runs() {
  local common=(--domain "$GW_DOMAIN" -v --busy-poll "$busy_poll")
  start_in_side a "$work/gateway-a.log" "$gateway" --interface "$IF_A" "${common[@]}" \
    --export bench/ping --export bench/stream --import bench/pong
  gateway_a=$started
  start_in_side b "$work/gateway-b.log" "$gateway" --interface "$IF_B" "${common[@]}" \
    --import bench/ping --import bench/stream --export bench/pong
  gateway_b=$started
  local side
  for side in a b; do
    if ! wait_for "$work/gateway-$side.log" ': ready' 20; then
      echo "gateway_bench.sh: axon-gateway on side $side did not start:" \
        "$(tail -3 "$work/gateway-$side.log")" >&2
      return 0
    fi
  done
  start_in_side b "$work/gw-pong.log" "$pingpong" pong --size 4194304
  local pong=$started
  wait_for "$work/gw-pong.log" '^ready' 20 "$pong" ||
    { echo "gateway_bench.sh: gateway_pingpong pong did not start: $(tail -3 "$work/gw-pong.log")" >&2; return 0; }
  # A first exchange connects the two ways (each service crosses once its publisher exists and
  # the far gateway matched it); the timed runs start once both gateways logged their match.
  if ! in_side a "$pingpong" ping --size 8 --rounds 10 --warmup 10 > "$work/gw-connect.log" 2>&1 ||
    ! wait_for "$work/gateway-a.log" 'bench/ping: 1 remote reader' 10 ||
    ! wait_for "$work/gateway-b.log" 'bench/pong: 1 remote reader' 10; then
    echo "gateway_bench.sh: the gateways did not connect: $(tail -3 "$work/gw-connect.log")" >&2
    echo "--- gateway a" >&2; tail -5 "$work/gateway-a.log" >&2
    echo "--- gateway b" >&2; tail -5 "$work/gateway-b.log" >&2
    return 0
  fi
  echo "gateway: connected ($(grep -h 'first reply' "$work/gw-connect.log"))" >&2

  local size label values r drops
  for size in 8 65536 4194304; do
    case "$size" in 8) label="8 B" ;; 65536) label="64 KiB" ;; *) label="4 MiB" ;; esac
    values=""
    drops="$(udp_drops)"
    for r in $(seq "$runs"); do
      values+="$(gateway_rtt_run "$size" "$r")"$'\n'
    done
    record gateway "$label" "$(grep . <<< "$values" | summary)" ""
    echo "gateway ping-pong $label: run medians (µs): $(grep . <<< "$values" | tr '\n' ' ')" \
      "UDP receive-buffer drops a/b: $(drops_since "$drops")" >&2
  done
  stop "$pong"
  values=""
  for r in $(seq "$runs"); do
    values+="$(gateway_throughput_run 65536 "$r")"$'\n'
  done
  record gateway "64 KiB" "" "$(grep . <<< "$values" | summary)"
  echo "gateway pub/sub 64 KiB: run medians (MB/s): $(grep . <<< "$values" | tr '\n' ' ')" >&2

  # What each gateway carried and what it failed to (its last line when it ends on SIGTERM).
  stop "$gateway_a"
  stop "$gateway_b"
  for side in a b; do
    echo "gateway $side: $(grep -h '^exit ' "$work/gateway-$side.log" || echo 'no exit line')" \
      "$(grep -c 'cannot\|lost\|dropped' "$work/gateway-$side.log") error line(s)" >&2
  done
}

# first_number: the median of a summary ("123.4 (100.0-150.0)" -> 123.4), "" for "-" or none.
first_number() {
  local cell="${1-}"
  cell="${cell%% *}"
  [[ "$cell" =~ ^[0-9.]+$ ]] && echo "$cell"
}

# The issue's targets: the gateway's round trip at most 1.5x ddsperf's, its 64 KiB throughput at
# least 0.8x ddsperf's, medians of the same invocation.
print_ratios() {
  local label g d
  echo "gateway / ddsperf (medians of this invocation):"
  for label in "8 B" "64 KiB" "4 MiB"; do
    g="$(first_number "${rtt_us[gateway|$label]-}")"
    d="$(first_number "${rtt_us[ddsperf|$label]-}")"
    if [ -n "$g" ] && [ -n "$d" ]; then
      awk -v g="$g" -v d="$d" -v l="$label" 'BEGIN { r = g / d;
        printf "  RTT %-7s %6.2fx  (target <= 1.5x: %s)\n", l, r, (r <= 1.5 ? "met" : "NOT met") }'
    else
      echo "  RTT $label: no figure"
    fi
  done
  g="$(first_number "${mbps[gateway|64 KiB]-}")"
  d="$(first_number "${mbps[ddsperf|64 KiB]-}")"
  if [ -n "$g" ] && [ -n "$d" ]; then
    awk -v g="$g" -v d="$d" 'BEGIN { r = g / d;
      printf "  throughput 64 KiB %6.2fx  (target >= 0.8x: %s)\n", r, (r >= 0.8 ? "met" : "NOT met") }'
  else
    echo "  throughput 64 KiB: no figure"
  fi
}

print_table() {
  printf "\n%-10s %-8s %-26s %s\n" "transport" "size" "median RTT µs (range)" "throughput MB/s (range)"
  local key
  for key in "${rows[@]}"; do
    printf "%-10s %-8s %-26s %s\n" "${key%%|*}" "${key#*|}" "${rtt_us[$key]:--}" "${mbps[$key]:--}"
  done
  echo
  echo "$runs run(s) of $seconds s each; two namespaces joined by a veth pair ($ADDR_A - $ADDR_B);"
  echo "cyclonedds-tools $(dpkg-query -W -f='${Version}' cyclonedds-tools 2> /dev/null || echo '?')," \
    "$(nproc) CPU(s), Linux $(uname -r)"
  echo "CYCLONEDDS_URI: ${CYCLONEDDS_URI:-(unset: the defaults of Cyclone DDS)}"
  echo "local: gateway_pingpong ping and pong both on side a, no gateway, no network;"
  echo "gateway: the same two programs on sides a and b, one axon-gateway per side (domain $GW_DOMAIN, --busy-poll $busy_poll)"
}

sweep_stale
setup_pair
ddsperf_runs
local_runs
gateway_runs
print_table
print_ratios
