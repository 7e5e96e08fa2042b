#!/usr/bin/env bash
# Two "machines" on one host and what Cyclone DDS itself does across them: two network
# namespaces joined by a veth pair (the pair tests/gateway/netns.hpp builds for the gateway's
# tests; keep the two in step), then ddsperf ping-pong (median round trip at 8 B, 64 KiB, 4 MiB)
# and ddsperf pub/sub throughput at 64 KiB across the pair. The gateway's own run over the same
# pair goes in gateway_runs() below, so that both figures come from one invocation.
#
#   bench/gateway_bench.sh [--runs N] [--seconds S] [--quick] [--keep-logs]
#
#   --runs N     runs of each measurement (default 5); the table quotes the median run
#   --seconds S  length of one run in seconds (default 5); its first second (discovery,
#                warm-up) is dropped
#   --quick      --runs 1 --seconds 3 (a smoke test, not numbers to quote)
#   --keep-logs  keep ddsperf's output (the directory is printed)
#
# A run's figure is the median of ddsperf's once-a-second figures (round trip: its per-second
# median; throughput: the subscriber's per-second rate); the table prints the median of the runs'
# figures and their range. ddsperf's smallest sample (topic KS) is 12 bytes: the 8 B row is that.
# Defaults are ddsperf's: reliable; ping-pong keep-last 1, pub/sub keep-all, as fast as possible.
# Needs root (network namespaces), iproute2 and ddsperf (Debian's cyclonedds-tools).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=5
seconds=5
keep_logs=0
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --quick) runs=1; seconds=3; shift ;;
    --keep-logs) keep_logs=1; shift ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gateway_bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ "$seconds" -ge 2 ] || { echo "gateway_bench.sh: --seconds must be at least 2" >&2; exit 2; }

command -v ip > /dev/null || { echo "gateway_bench.sh: iproute2's ip is not installed" >&2; exit 1; }
command -v ddsperf > /dev/null ||
  { echo "gateway_bench.sh: ddsperf is not installed (cyclonedds-tools)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "gateway_bench.sh: needs root (network namespaces)" >&2; exit 1; }

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
  awk -v size="$size" '$0 ~ (" size " size " mean ") {
      t = $2 + 0; for (i = 1; i < NF; i++) if ($i == "50%") v = $(i + 1);
      sub(/us$/, "", v); if (t > 1.5) print v }' "$log" | median
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
  local size label values r
  for size in 12 65536 4194304; do
    case "$size" in 12) label="8 B" ;; 65536) label="64 KiB" ;; *) label="4 MiB" ;; esac
    values=""
    for r in $(seq "$runs"); do
      values+="$(ddsperf_rtt_run "$size" "$r")"$'\n'
    done
    record ddsperf "$label" "$(grep . <<< "$values" | summary)" ""
    echo "ddsperf ping-pong $label: run medians (µs): $(grep . <<< "$values" | tr '\n' ' ')" >&2
  done
  values=""
  for r in $(seq "$runs"); do
    values+="$(ddsperf_throughput_run 65536 "$r")"$'\n'
  done
  record ddsperf "64 KiB" "" "$(grep . <<< "$values" | summary)"
  echo "ddsperf pub/sub 64 KiB: run medians (MB/s): $(grep . <<< "$values" | tr '\n' ' ')" >&2
}

# ---- The gateway's own run over the same pair (the lead fills this in) ----------------------
# Called after the ddsperf baseline, with the pair up and nothing running in it. At hand:
#   in_side a|b CMD ARGS...   runs CMD on a side (its namespace, AXON_PREFIX, AXON_ROOT)
#   start_in_side a|b LOG CMD ARGS...   the same in the background; $started is its pid (what
#                             still runs in the pair when the script ends is killed by the trap)
#   $ADDR_A $ADDR_B $IF_A $IF_B $NS_A $NS_B $PREFIX_A $PREFIX_B $ROOT_A $ROOT_B $work
#   $runs $seconds            the same repetition as the baseline's
#   median, summary           as the baseline uses them (numbers on stdin, one a line)
#   record gateway "64 KiB" RTT_SUMMARY MBPS_SUMMARY   adds the gateway's row(s) to the table
gateway_runs() {
  :
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
}

sweep_stale
setup_pair
ddsperf_runs
gateway_runs
print_table
