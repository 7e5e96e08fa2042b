#!/usr/bin/env bash
# The two-process latency sweep: every mode of latency_pingpong over the payload sizes (and
# Cyclone DDS's own ddsperf ping-pong, mode "dds", when ddsperf is installed), then the target
# ratios measured interleaved (so that a change of machine state between two runs does not decide
# a ratio), then the idle check of a busy-polling WaitSet.
#
#   bench/run_sweep.sh [--bin DIR] [--out DIR] [--peers] [--quick] [--modes "MODE ..."]
#                      [--busy-poll US]
#
#   --bin DIR   where latency_pingpong and idle_waitset are (default: build/bin)
#   --out DIR   results directory (default: bench/results): latest.json, latency.dat, latency.png
#   --peers     also run the iceoryx-* and fastdds-* modes (needs them built in; iceoryx needs
#               iox-roudi: one is started for the sweep with mempools that hold every size,
#               unless one runs)
#   --quick     a tenth of the rounds, shorter ddsperf runs (a smoke test, not numbers to quote)
#   --modes     only these modes (space-separated; "dds" is ddsperf), in the sweep and in the
#               target passes; a target whose modes are left out is "not measured"
#   --busy-poll the *-poll modes' WaitSet budget in µs (default: latency_pingpong's, 20)
#
# Prints a table (median and p99 per mode and size), the CPU time per round trip (both
# processes), the request-response / publish-subscribe ratio per size, the ratios against the
# targets and the idle check.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=build/bin
out=bench/results
peers=0
scale=10
only=""
busy_poll=()
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --peers) peers=1; shift ;;
    --quick) scale=1; shift ;;
    --modes) only=" $2 "; shift 2 ;;
    --busy-poll) busy_poll=(--busy-poll "$2"); shift 2 ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run_sweep.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

tool="$bin/latency_pingpong"
[ -x "$tool" ] || { echo "run_sweep.sh: $tool not found (build first: ./dev.sh build)" >&2; exit 1; }
mkdir -p "$out"

readonly SIZES=(8 1024 65536 1048576 4194304)
# Modes with no payload (events, eventfd, pipe) and the decomposition modes (core-*: axon's
# structures driven directly, 64-byte chunks): the size changes nothing, so they run at 8 B only
# and are drawn as flat lines.
readonly PAYLOAD_FREE=" axon-event-waitset axon-event-waitset-fifo axon-event-waitset-poll axon-event-blocking raw-epoll-eventfd raw-eventfd raw-fifo "
# raw-spin-1line carries the counter in its flag's cache line whatever --size says.
readonly SIZE_FREE=" core-queue-spin core-pool-queues-spin raw-spin-1line "

mapfile -t available < <("$tool" --list)
modes=()
for m in "${available[@]}"; do
  if [ -n "$only" ] && [[ "$only" != *" $m "* ]]; then continue; fi
  case "$m" in
    iceoryx-*|fastdds-*) [ "$peers" -eq 1 ] && modes+=("$m") ;;
    *) modes+=("$m") ;;
  esac
done
if [ "$peers" -eq 1 ] && ! printf '%s\n' "${available[@]}" | grep -q '^fastdds-'; then
  echo "run_sweep.sh: fastdds modes unavailable: latency_pingpong was built without Fast DDS" \
       "(install libfastrtps-dev, then rebuild; ./dev.sh bench --peers does)" >&2
fi
# Cyclone DDS's ddsperf, the round trip a ROS 2 user has today: measured when installed.
dds=0
if [ -z "$only" ] || [[ "$only" == *" dds "* ]]; then
  if command -v ddsperf >/dev/null; then
    dds=1
  else
    echo "run_sweep.sh: ddsperf not installed (Debian cyclonedds-tools): no dds baseline" >&2
  fi
fi

roudi_pid=""
cleanup() {
  if [ -n "$roudi_pid" ]; then
    kill -TERM "$roudi_pid" 2>/dev/null || true
    wait "$roudi_pid" 2>/dev/null || true
  fi
  [ -n "${roudi_config:-}" ] && rm -f "$roudi_config"
  [ -n "${dds_dir:-}" ] && rm -rf "$dds_dir"
  return 0
}
trap cleanup EXIT

if [ "$peers" -eq 1 ]; then
  if ! printf '%s\n' "${available[@]}" | grep -q '^iceoryx-'; then
    echo "run_sweep.sh: iceoryx modes unavailable: latency_pingpong was built without iceoryx" \
         "(install libiceoryx-posh-dev and iceoryx, then rebuild; ./dev.sh bench --peers does)" >&2
  elif [ -e /dev/shm/iceoryx_mgmt ] && pgrep -x iox-roudi >/dev/null; then
    echo "run_sweep.sh: using the RouDi that is already running (its mempools must hold 4 MiB)" >&2
  elif ! command -v iox-roudi >/dev/null; then
    echo "run_sweep.sh: iox-roudi not found (Debian package iceoryx): skipping iceoryx modes" >&2
    modes=("${modes[@]/iceoryx-*/}")
  else
    # One mempool per swept size: the payload plus room for iceoryx's chunk header.
    roudi_config=$(mktemp /tmp/axon-bench-roudi.XXXXXX.toml)
    {
      printf '[general]\nversion = 1\n\n[[segment]]\n'
      for pool in 128:64 2048:32 66560:32 1049600:16 4195328:16; do
        printf '\n[[segment.mempool]]\nsize = %s\ncount = %s\n' "${pool%%:*}" "${pool##*:}"
      done
    } >"$roudi_config"
    iox-roudi -c "$roudi_config" -l warning >"$out/roudi.log" 2>&1 &
    roudi_pid=$!
    for _ in $(seq 100); do
      [ -e /dev/shm/iceoryx_mgmt ] && grep -q "ready" "$out/roudi.log" 2>/dev/null && break
      sleep 0.1
    done
    grep -q "ready" "$out/roudi.log" || { echo "run_sweep.sh: RouDi did not start" >&2; exit 1; }
  fi
fi

# Rounds per run: the whole sweep takes a few minutes on a 2-core machine. Copying modes at the
# big sizes move megabytes per round trip, so they get fewer.
rounds_for() {
  local size=$1
  local base
  if [ "$size" -ge 4194304 ]; then base=100
  elif [ "$size" -ge 1048576 ]; then base=200
  else base=1000
  fi
  echo $((base * scale))
}

results=()
run_one() {  # mode size rounds -> appends the JSON line to results, or says why not
  local mode=$1 size=$2 rounds=$3 line
  local warmup=$((rounds / 10))
  if [ "$mode" = dds ]; then
    line=$(dds_run "$size") || { echo "run_sweep.sh: dds at $size B failed; left out" >&2; return 0; }
    results+=("$line")
    echo "$line"
    return 0
  fi
  if line=$("$tool" --mode "$mode" --size "$size" --rounds "$rounds" --warmup "$warmup" \
              "${busy_poll[@]}"); then
    results+=("$line")
    echo "$line"
  else
    echo "run_sweep.sh: $mode at $size B failed (see above); left out" >&2
  fi
}

# ---- dds: ddsperf ping-pong between two processes over UDP loopback ---------------------------
# Pinned as latency_pingpong pins its two processes: ping (the initiator) on the first allowed
# CPU, pong on the second, every thread of each. Cyclone is told to use lo only, with unicast
# discovery to 127.0.0.1, in a domain of its own (no other ddsperf on this machine is met).
# ddsperf prints, once a second, that second's mean / 50% / 90% / 99% / max and count of HALF the
# round trip (its process_pong records (now - the ping's source timestamp) / 2, a one-way
# estimate; twice the mean times the count is one second, pings running back to back): each
# figure is doubled here to quote a round trip, as every other mode does (its p99 so doubled is
# that of a round trip whose two halves are alike). The first second (discovery, warm-up) is
# dropped, the figure is the median of the other seconds' medians (and of their p99s). Its smallest sample (topic KS) is 12 bytes: the 8 B
# column is ddsperf at 16 B (the size the issue quotes). CPU per round trip: both processes'
# user + system time over their whole life (discovery included) / every round trip they made.
allowed_cpus() {  # the CPUs this script may use, one a line (Cpus_allowed_list, ranges expanded)
  local list part
  list=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)
  IFS=',' read -ra parts <<<"$list"
  for part in "${parts[@]}"; do
    if [[ "$part" == *-* ]]; then seq "${part%-*}" "${part#*-}"; else echo "$part"; fi
  done
}
mapfile -t cpus < <(allowed_cpus)
pin_initiator=() pin_responder=()
if [ "${#cpus[@]}" -ge 2 ] && command -v taskset >/dev/null; then
  pin_initiator=(taskset -c "${cpus[0]}")
  pin_responder=(taskset -c "${cpus[1]}")
fi
readonly DDS_URI='<CycloneDDS><Domain><General><Interfaces><NetworkInterface name="lo"/></Interfaces><AllowMulticast>false</AllowMulticast></General><Discovery><ParticipantIndex>auto</ParticipantIndex><Peers><Peer address="127.0.0.1"/></Peers></Discovery></Domain></CycloneDDS>'
dds_domain=$((100 + $$ % 100))
dds_seconds=$([ "$scale" -eq 1 ] && echo 3 || echo 5)
dds_dir=$(mktemp -d /tmp/axon-bench-dds.XXXXXX)
dds_run() {  # sweep size -> one JSON line like latency_pingpong's; fails when ddsperf did
  local size=$1 dsize=$1 times_line
  [ "$size" -lt 16 ] && dsize=16
  rm -f "$dds_dir"/*.log
  # `times` in the subshell: the user and system time of the two ddsperf it waited for.
  times_line=$(
    CYCLONEDDS_URI="$DDS_URI" "${pin_responder[@]}" ddsperf -i "$dds_domain" \
      -D $((dds_seconds + 20)) pong >"$dds_dir/pong.log" 2>&1 &
    pong=$!
    CYCLONEDDS_URI="$DDS_URI" "${pin_initiator[@]}" ddsperf -i "$dds_domain" -D "$dds_seconds" \
      -Qminmatch:1 -Qinitwait:10 ping size "$dsize" >"$dds_dir/ping.log" 2>&1 ||
      echo "run_sweep.sh: ddsperf ping (size $dsize) failed: $(tail -2 "$dds_dir/ping.log")" >&2
    kill -TERM "$pong" 2>/dev/null
    wait "$pong" 2>/dev/null
    # Not `times | ...`: a pipeline would run it in a new subshell, which has no children.
    times >"$dds_dir/times.log"
    tail -1 "$dds_dir/times.log")
  if [ "$(grep -c "participant .*: new$" "$dds_dir/ping.log")" -ne 1 ]; then
    echo "run_sweep.sh: ddsperf ping met other peers than its pong" >&2
    return 1
  fi
  # "[pid] 2.000  host:pid size 16 mean 17.9us min 12.4us 50% 15.1us 90% 20.3us 99% 41.0us
  #  max 80.1us cnt 52000"; times: "0m1.234s 0m0.567s" (children's user, system).
  awk -v size="$size" -v dsize="$dsize" -v times="$times_line" '
    function us(v) { sub(/us$/, "", v); return 2 * v * 1000 }  # half a round trip, in ns x 2
    function median(a, n,   i, j, t) {
      for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
      return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function seconds(v,   m, s) { m = v; sub(/m.*/, "", m); s = v; sub(/^[0-9]*m/, "", s); sub(/s$/, "", s); return m * 60 + s }
    $0 ~ (" size " dsize " mean ") {
      for (i = 1; i < NF; i++) {
        if ($i == "50%") p50 = us($(i + 1)); if ($i == "99%") p99 = us($(i + 1)); if ($i == "cnt") c = $(i + 1)
      }
      all += c
      if ($2 + 0 > 1.5) { n++; med[n] = p50; tail[n] = p99; kept += c }
    }
    END {
      if (n == 0 || all == 0) exit 1
      split(times, t, " "); cpu = (seconds(t[1]) + seconds(t[2])) * 1e9
      printf "{\"mode\":\"dds\",\"size\":%d,\"ddsperf_size\":%d,\"rounds\":%d,\"median_ns\":%d,\"p99_ns\":%d,\"cpu_ns_per_rt\":%.1f}\n", size, dsize, kept, median(med, n), median(tail, n), cpu / all
    }' "$dds_dir/ping.log"
}
[ "$dds" -eq 1 ] && modes+=(dds)

echo "== latency sweep: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== uptime: $(uptime)"
started=$(date +%s)
# Size-major: the modes compared at one size run back to back.
for size in "${SIZES[@]}"; do
  for mode in "${modes[@]}"; do
    [ -n "$mode" ] || continue
    if [[ "$PAYLOAD_FREE$SIZE_FREE" == *" $mode "* ]] && [ "$size" -ne 8 ]; then continue; fi
    run_one "$mode" "$size" "$(rounds_for "$size")"
  done
done

# ---- The targets, interleaved -------------------------------------------------------------
# Three passes; each runs every mode a target needs back to back (spinning modes, then the
# sleeping ones); a ratio is computed within each pass, and the median of the three is quoted.
declare -A pass_ns  # "pass|mode|size" -> median round trip in ns
target_pass() {  # pass mode size rounds: records the median; nothing when the mode is not run
  local pass=$1 mode=$2 size=$3 rounds=$4 value
  [[ " ${modes[*]} " == *" $mode "* ]] || return 0
  if [ "$mode" = dds ]; then
    value=$(dds_run "$size" 2>/dev/null | sed -n 's/.*"median_ns":\([0-9]*\).*/\1/p')
  else
    value=$("$tool" --mode "$mode" --size "$size" --rounds "$rounds" --warmup $((rounds / 10)) \
              "${busy_poll[@]}" 2>/dev/null | sed -n 's/.*"median_ns":\([0-9]*\).*/\1/p')
  fi
  [ -n "$value" ] && pass_ns["$pass|$mode|$size"]=$value
  return 0
}
# The raw blocking primitives beside which a sleeping axon round trip is judged: every raw-*
# mode that does not spin.
raw_blocking=()
for m in "${modes[@]}"; do
  case "$m" in raw-spin*) ;; raw-*) raw_blocking+=("$m") ;; esac
done
spin_rounds=$((2000 * scale))
sleep_rounds=$((300 * scale))
for pass in 1 2 3; do
  for ms in raw-spin:8 raw-spin-1line:8 axon-pubsub-spin:8 axon-pubsub-spin:4194304 \
            axon-rr-spin:8 axon-rr-spin:4194304 axon-pubsub-waitset-poll:8 \
            axon-event-waitset-poll:8; do
    target_pass "$pass" "${ms%:*}" "${ms#*:}" "$spin_rounds"
  done
  for m in "${raw_blocking[@]}" axon-pubsub-wake axon-pubsub-waitset axon-event-waitset \
           iceoryx-waitset dds; do
    target_pass "$pass" "$m" 8 "$sleep_rounds"
  done
  line="target pass $pass (median ns):"
  for key in "${!pass_ns[@]}"; do
    [[ "$key" == "$pass|"* ]] && line+=$'\n'"  ${key#*|} ${pass_ns[$key]}"
  done
  echo "$line" | { read -r head; echo "$head"; sort; }
done

# a / b with two decimals; "null" when a run failed.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b + 0 == 0) print "null"; else printf "%.2f", a / b }'; }
median3() {  # the middle of three, or "null" when a pass failed
  if printf '%s\n' "$@" | grep -q null; then echo null; else printf '%s\n' "$@" | sort -g | sed -n 2p; fi
}
verdict() {  # ratio target [ge]: "met" when ratio <= target (>= with ge)
  if [ "$1" = null ]; then echo "not measured"; return; fi
  awk -v r="$1" -v t="$2" -v ge="${3:-}" 'BEGIN { ok = (ge == "ge") ? r >= t : r <= t; print ok ? "met" : "NOT met" }'
}
fastest_raw() {  # pass -> "mode ns" of the fastest raw blocking primitive of that pass
  local pass=$1 best="" best_mode="" m v
  for m in "${raw_blocking[@]}"; do
    v=${pass_ns["$pass|$m|8"]-}
    [ -n "$v" ] || continue
    if [ -z "$best" ] || [ "$v" -lt "$best" ]; then best=$v; best_mode=$m; fi
  done
  echo "$best_mode $best"
}
ratio_lines=()
# target WHAT TARGET [ge] -- NUMERATOR DENOMINATOR: "MODE SIZE" each, or "fastest-raw".
target() {
  local what=$1 goal=$2 ge="" per=() pass a b num den
  shift 2
  if [ "$1" = ge ]; then ge=ge; shift; fi
  num=$1 den=$2
  for pass in 1 2 3; do
    if [ "$num" = fastest-raw ]; then a=$(fastest_raw "$pass"); a=${a#* }; else a=${pass_ns["$pass|${num% *}|${num#* }"]-}; fi
    if [ "$den" = fastest-raw ]; then b=$(fastest_raw "$pass"); b=${b#* }; else b=${pass_ns["$pass|${den% *}|${den#* }"]-}; fi
    per+=("$(ratio "$a" "$b")")
  done
  local r
  r=$(median3 "${per[@]}")
  ratio_lines+=("$what|$r|$([ -n "$ge" ] && echo ">=" || echo "<=")|$goal|$(verdict "$r" "$goal" "$ge")|${per[*]}")
}
# Issue 19: a WaitSet with a busy-poll budget, peer active, against the busy-poll round trip and
# against sleeping (raw-epoll-eventfd, iceoryx's WaitSet: a speed-up, so ">=").
target "axon-pubsub-waitset-poll 8 B / axon-pubsub-spin 8 B" 1.5 \
  "axon-pubsub-waitset-poll 8" "axon-pubsub-spin 8"
target "raw-epoll-eventfd / axon-pubsub-waitset-poll (speed-up)" 15 ge \
  "raw-epoll-eventfd 8" "axon-pubsub-waitset-poll 8"
target "iceoryx-waitset / axon-pubsub-waitset-poll (speed-up)" 15 ge \
  "iceoryx-waitset 8" "axon-pubsub-waitset-poll 8"
# Issue 19: the busy path to the cache-line limit, flat over the size.
target "axon-pubsub-spin 8 B / raw-spin 8 B" 1.15 "axon-pubsub-spin 8" "raw-spin 8"
target "axon-pubsub-spin 8 B / raw-spin-1line" 1.4 "axon-pubsub-spin 8" "raw-spin-1line 8"
target "axon-pubsub-spin 4 MiB / axon-pubsub-spin 8 B" 1.05 \
  "axon-pubsub-spin 4194304" "axon-pubsub-spin 8"
# Issue 19: sleeping (no budget) at most ddsperf's round trip at 16 B, within 1.1x of the
# fastest raw blocking primitive of the same pass.
target "axon-pubsub-wake 8 B / dds 16 B" 1.0 "axon-pubsub-wake 8" "dds 8"
target "axon-event-waitset / dds 16 B" 1.0 "axon-event-waitset 8" "dds 8"
target "axon-pubsub-wake 8 B / fastest raw blocking" 1.1 "axon-pubsub-wake 8" fastest-raw
target "axon-event-waitset / fastest raw blocking" 1.1 "axon-event-waitset 8" fastest-raw
# Earlier targets, still held.
target "axon-event-waitset / raw-epoll-eventfd" 1.2 "axon-event-waitset 8" "raw-epoll-eventfd 8"
target "axon-rr-spin 8 B / axon-pubsub-spin 8 B" 1.3 "axon-rr-spin 8" "axon-pubsub-spin 8"
target "axon-rr-spin 4 MiB / axon-pubsub-spin 4 MiB" 1.3 \
  "axon-rr-spin 4194304" "axon-pubsub-spin 4194304"
fastest_by_pass=()
for pass in 1 2 3; do fastest_by_pass+=("$(fastest_raw "$pass" | tr ' ' '=')"); done

# ---- The idle check: a busy-polling WaitSet with nothing arriving --------------------------
idle_lines=()
if [ -x "$bin/idle_waitset" ]; then
  idle_budget=20
  [ ${#busy_poll[@]} -gt 0 ] && idle_budget=${busy_poll[1]}
  # One wait of 2 s (the budget spent once), and a loop that wakes every 100 ms on its own.
  for period in 0 100; do
    if line=$("$bin/idle_waitset" --seconds 2 --busy-poll "$idle_budget" --period-ms "$period"); then
      idle_lines+=("$line")
    else
      echo "run_sweep.sh: idle_waitset --period-ms $period failed" >&2
    fi
  done
else
  echo "run_sweep.sh: $bin/idle_waitset not built: no idle check" >&2
fi
elapsed=$(( $(date +%s) - started ))

# latest.json: the machine, the sweep (one object per run) and the target ratios.
{
  printf '{\n  "date": "%s",\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  printf '  "machine": {"cpus": %s, "model": "%s", "kernel": "%s", "loadavg_after": "%s"},\n' \
    "$(nproc)" "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
    "$(uname -r)" "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf '  "seconds": %s,\n  "results": [\n' "$elapsed"
  for i in "${!results[@]}"; do
    sep=","; [ "$i" -eq $((${#results[@]} - 1)) ] && sep=""
    printf '    %s%s\n' "${results[$i]}" "$sep"
  done
  printf '  ],\n  "targets": [\n'
  for i in "${!ratio_lines[@]}"; do
    IFS='|' read -r what ratio op target met passes <<<"${ratio_lines[$i]}"
    sep=","; [ "$i" -eq $((${#ratio_lines[@]} - 1)) ] && sep=""
    printf '    {"what": "%s", "ratio": %s, "%s": %s, "met": %s, "passes": [%s]}%s\n' \
      "$what" "$ratio" "$([ "$op" = ">=" ] && echo at_least || echo at_most)" "$target" \
      "$(case "$met" in met) echo true ;; "NOT met") echo false ;; *) echo null ;; esac)" \
      "$(echo "$passes" | tr ' ' ',')" "$sep"
  done
  printf '  ],\n  "target_passes": {'
  first=1
  for key in $(printf '%s\n' "${!pass_ns[@]}" | sort); do
    [ "$first" -eq 1 ] || printf ','
    first=0
    printf '"%s": %s' "$key" "${pass_ns[$key]}"
  done
  printf '},\n  "idle": [%s]\n}\n' "$(IFS=,; echo "${idle_lines[*]-}")"
} >"$out/latest.json"

# The table: one row a mode, median / p99 per size, in microseconds.
printf '%s\n' "${results[@]}" | awk -v sizes="${SIZES[*]}" '
  function field(line, key,   m) {
    if (match(line, "\"" key "\":\"?[^,\"}]*")) {
      m = substr(line, RSTART, RLENGTH); sub(/^"[^"]*":"?/, "", m); return m
    }
    return ""
  }
  {
    mode = field($0, "mode"); size = field($0, "size")
    if (!(mode in seen)) { seen[mode] = 1; order[++n] = mode }
    cell[mode, size] = sprintf("%.2f / %.2f", field($0, "median_ns") / 1000, field($0, "p99_ns") / 1000)
  }
  END {
    k = split(sizes, s, " ")
    printf "\nround trip, median / p99 in us\n%-24s", "mode \\ size"
    for (j = 1; j <= k; j++) printf " %19s", s[j] " B"
    printf "\n"
    for (i = 1; i <= n; i++) {
      printf "%-24s", order[i]
      for (j = 1; j <= k; j++) printf " %19s", ((order[i], s[j]) in cell) ? cell[order[i], s[j]] : "-"
      printf "\n"
    }
  }'

# CPU time of both processes per round trip: what spinning (or a middleware's threads) costs.
printf '%s\n' "${results[@]}" | awk -v sizes="${SIZES[*]}" '
  function field(line, key,   m) {
    if (match(line, "\"" key "\":\"?[^,\"}]*")) {
      m = substr(line, RSTART, RLENGTH); sub(/^"[^"]*":"?/, "", m); return m
    }
    return ""
  }
  {
    mode = field($0, "mode"); size = field($0, "size")
    if (!(mode in seen)) { seen[mode] = 1; order[++n] = mode }
    cpu = field($0, "cpu_ns_per_rt")
    if (cpu != "") cell[mode, size] = sprintf("%.2f (%.1fx)", cpu / 1000, cpu / field($0, "median_ns"))
  }
  END {
    k = split(sizes, s, " ")
    printf "\nCPU time per round trip, both processes, in us (and in round trips: 2.0x = both spin)\n%-24s", "mode \\ size"
    for (j = 1; j <= k; j++) printf " %19s", s[j] " B"
    printf "\n"
    for (i = 1; i <= n; i++) {
      printf "%-24s", order[i]
      for (j = 1; j <= k; j++) printf " %19s", ((order[i], s[j]) in cell) ? cell[order[i], s[j]] : "-"
      printf "\n"
    }
  }'

# Request-response against publish-subscribe, size by size, from the sweep above (each pair ran
# back to back).
printf '%s\n' "${results[@]}" | awk -v sizes="${SIZES[*]}" '
  function field(line, key,   m) {
    if (match(line, "\"" key "\":\"?[^,\"}]*")) {
      m = substr(line, RSTART, RLENGTH); sub(/^"[^"]*":"?/, "", m); return m
    }
    return ""
  }
  { median[field($0, "mode"), field($0, "size")] = field($0, "median_ns") }
  END {
    k = split(sizes, s, " ")
    line = ""
    for (j = 1; j <= k; j++) {
      rr = median["axon-rr-spin", s[j]]; ps = median["axon-pubsub-spin", s[j]]
      if (rr != "" && ps + 0 > 0) line = line sprintf("  %s B %.2fx", s[j], rr / ps)
    }
    if (line != "") printf "\naxon-rr-spin / axon-pubsub-spin, median round trip, by size:%s\n", line
  }'

echo
echo "targets (median of 3 interleaved passes; fastest raw blocking by pass: ${fastest_by_pass[*]}):"
for line in "${ratio_lines[@]}"; do
  IFS='|' read -r what ratio op target met passes <<<"$line"
  [ "$ratio" = null ] && ratio="    -"
  printf '  %-58s %6sx  (target %s %sx: %s; passes %s)\n' "$what" "$ratio" "$op" "$target" "$met" "$passes"
done
echo
echo "idle check (a WaitSet with a busy-poll budget, a wakeable subscriber and a listener, nothing arriving; target: under 1% of a CPU):"
for line in "${idle_lines[@]}"; do
  echo "$line" | awk '
    function field(line, key,   m) {
      if (match(line, "\"" key "\":\"?[^,\"}]*")) {
        m = substr(line, RSTART, RLENGTH); sub(/^"[^"]*":"?/, "", m); return m
      }
      return ""
    }
    { period = field($0, "period_ms")
      printf "  budget %s us, %s: %s waits in %.2f s, CPU %.3f ms = %.4f%% of a CPU: %s\n",
        field($0, "busy_poll_us"), period == 0 ? "one wait" : "a wait every " period " ms",
        field($0, "waits"), field($0, "seconds"), field($0, "cpu_ns") / 1e6, field($0, "cpu_percent"),
        field($0, "met") == "true" ? "met" : "NOT met" }'
done
echo "sweep took ${elapsed}s; wrote $out/latest.json"

# gnuplot input: one block per mode (median vs size); payload-free modes as a flat line.
{
  printf '%s\n' "${results[@]}" | awk -v free="$PAYLOAD_FREE" -v fixed="$SIZE_FREE" '
    function field(line, key,   m) {
      if (match(line, "\"" key "\":\"?[^,\"}]*")) {
        m = substr(line, RSTART, RLENGTH); sub(/^"[^"]*":"?/, "", m); return m
      }
      return ""
    }
    {
      mode = field($0, "mode")
      if (!(mode in seen)) { seen[mode] = 1; order[++n] = mode }
      rows[mode] = rows[mode] field($0, "size") " " field($0, "median_ns") "\n"
      if (index(free fixed, " " mode " ")) rows[mode] = rows[mode] "4194304 " field($0, "median_ns") "\n"
    }
    END {
      for (i = 1; i <= n; i++) {
        label = order[i]
        if (index(free, " " label " ")) label = label " (no payload)"
        if (index(fixed, " " label " ")) label = label " (measured at 8 B)"
        printf "%s\"%s\"\n%s", (i > 1 ? "\n\n" : ""), label, rows[order[i]]
      }
    }'
} >"$out/latency.dat"
if command -v gnuplot >/dev/null; then
  dashes=$(printf '%s\n' "${results[@]}" | sed -n 's/.*"mode":"\([^"]*\)".*/\1/p' | awk '
    !seen[$0]++ { d = /^axon-/ ? 1 : /^raw-/ ? 2 : /^core-/ ? 4 : 3; printf "%s%d", (n++ ? " " : ""), d }')
  gnuplot -e "datafile='$out/latency.dat'; outfile='$out/latency.png'; dashes='$dashes'" \
    bench/plot.gp &&
    echo "wrote $out/latency.png"
else
  echo "gnuplot not installed: no plot (./dev.sh bench installs gnuplot-nox)" >&2
fi
