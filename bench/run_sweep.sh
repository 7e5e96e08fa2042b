#!/usr/bin/env bash
# The two-process latency sweep: every mode of latency_pingpong over the payload sizes, then the
# target ratios measured interleaved (so that a change of machine state between two runs does
# not decide a ratio).
#
#   bench/run_sweep.sh [--bin DIR] [--out DIR] [--peers] [--quick] [--modes "MODE ..."]
#
#   --bin DIR   where latency_pingpong is (default: build/bin)
#   --out DIR   results directory (default: bench/results): latest.json, latency.dat, latency.png
#   --peers     also run the iceoryx-* modes (needs them built in, and iox-roudi: one is started
#               for the sweep with a config whose mempools hold every size, unless one runs)
#   --quick     a tenth of the rounds (a smoke test, not numbers to quote)
#   --modes     only these modes (space-separated), in the sweep and in the target passes;
#               a target whose modes are left out is "not measured"
#
# Prints a table (median and p99 per mode and size), the request-response / publish-subscribe
# ratio per size, and the ratios against the targets.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=build/bin
out=bench/results
peers=0
scale=10
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --peers) peers=1; shift ;;
    --quick) scale=1; shift ;;
    --modes) only=" $2 "; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
readonly PAYLOAD_FREE=" axon-event-waitset axon-event-waitset-fifo axon-event-blocking raw-epoll-eventfd raw-eventfd raw-fifo "
readonly SIZE_FREE=" core-queue-spin core-pool-queues-spin "

mapfile -t available < <("$tool" --list)
modes=()
for m in "${available[@]}"; do
  if [ -n "$only" ] && [[ "$only" != *" $m "* ]]; then continue; fi
  case "$m" in
    iceoryx-*) [ "$peers" -eq 1 ] && modes+=("$m") ;;
    *) modes+=("$m") ;;
  esac
done

roudi_pid=""
cleanup() {
  if [ -n "$roudi_pid" ]; then
    kill -TERM "$roudi_pid" 2>/dev/null || true
    wait "$roudi_pid" 2>/dev/null || true
  fi
  [ -n "${roudi_config:-}" ] && rm -f "$roudi_config"
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
  if line=$("$tool" --mode "$mode" --size "$size" --rounds "$rounds" --warmup "$warmup"); then
    results+=("$line")
    echo "$line"
  else
    echo "run_sweep.sh: $mode at $size B failed (see above); left out" >&2
  fi
}

echo "== latency sweep: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
started=$(date +%s)
# Size-major: the modes compared at one size run back to back.
for size in "${SIZES[@]}"; do
  for mode in "${modes[@]}"; do
    [ -n "$mode" ] || continue
    if [[ "$PAYLOAD_FREE$SIZE_FREE" == *" $mode "* ]] && [ "$size" -ne 8 ]; then continue; fi
    run_one "$mode" "$size" "$(rounds_for "$size")"
  done
done

# The targets, interleaved: three passes of each pair back to back; the ratio of each pass, then
# the median of the three.
ratio_lines=()
target_pass() {  # the median in ns; nothing when the mode is not run
  local mode=$1 size=$2 rounds=$3
  [[ " ${modes[*]} " == *" $mode "* ]] || return 0
  "$tool" --mode "$mode" --size "$size" --rounds "$rounds" --warmup $((rounds / 10)) 2>/dev/null |
    sed -n 's/.*"median_ns":\([0-9]*\).*/\1/p'
}
# a / b with two decimals; "null" when a run failed.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b + 0 == 0) print "null"; else printf "%.2f", a / b }'; }
spin_vs_raw=() big_vs_small=() event_vs_raw=() rr_vs_ps_small=() rr_vs_ps_big=()
for pass in 1 2 3; do
  raw=$(target_pass raw-spin 8 $((2000 * scale)))
  small=$(target_pass axon-pubsub-spin 8 $((2000 * scale)))
  rr_small=$(target_pass axon-rr-spin 8 $((2000 * scale)))
  big=$(target_pass axon-pubsub-spin 4194304 $((2000 * scale)))
  rr_big=$(target_pass axon-rr-spin 4194304 $((2000 * scale)))
  epoll=$(target_pass raw-epoll-eventfd 8 $((300 * scale)))
  event=$(target_pass axon-event-waitset 8 $((300 * scale)))
  spin_vs_raw+=("$(ratio "$small" "$raw")")
  big_vs_small+=("$(ratio "$big" "$small")")
  event_vs_raw+=("$(ratio "$event" "$epoll")")
  rr_vs_ps_small+=("$(ratio "$rr_small" "$small")")
  rr_vs_ps_big+=("$(ratio "$rr_big" "$big")")
  echo "target pass $pass: raw-spin $raw ns, axon-pubsub-spin $small ns (8 B) / $big ns (4 MiB)," \
       "axon-rr-spin $rr_small ns (8 B) / $rr_big ns (4 MiB)," \
       "raw-epoll-eventfd $epoll ns, axon-event-waitset $event ns"
done
median3() {  # the middle of three, or "null" when a pass failed
  if printf '%s\n' "$@" | grep -q null; then echo null; else printf '%s\n' "$@" | sort -g | sed -n 2p; fi
}
r1=$(median3 "${spin_vs_raw[@]}")
r2=$(median3 "${big_vs_small[@]}")
r3=$(median3 "${event_vs_raw[@]}")
r4=$(median3 "${rr_vs_ps_small[@]}")
r5=$(median3 "${rr_vs_ps_big[@]}")
verdict() {
  if [ "$1" = null ]; then echo "not measured"; return; fi
  awk -v r="$1" -v t="$2" 'BEGIN { print (r <= t) ? "met" : "NOT met" }'
}
ratio_lines+=("axon-pubsub-spin 8 B / raw-spin 8 B|$r1|1.5|$(verdict "$r1" 1.5)|${spin_vs_raw[*]}")
ratio_lines+=("axon-pubsub-spin 4 MiB / axon-pubsub-spin 8 B|$r2|1.2|$(verdict "$r2" 1.2)|${big_vs_small[*]}")
ratio_lines+=("axon-event-waitset / raw-epoll-eventfd|$r3|1.2|$(verdict "$r3" 1.2)|${event_vs_raw[*]}")
ratio_lines+=("axon-rr-spin 8 B / axon-pubsub-spin 8 B|$r4|1.3|$(verdict "$r4" 1.3)|${rr_vs_ps_small[*]}")
ratio_lines+=("axon-rr-spin 4 MiB / axon-pubsub-spin 4 MiB|$r5|1.3|$(verdict "$r5" 1.3)|${rr_vs_ps_big[*]}")
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
    IFS='|' read -r what ratio target met passes <<<"${ratio_lines[$i]}"
    sep=","; [ "$i" -eq $((${#ratio_lines[@]} - 1)) ] && sep=""
    printf '    {"what": "%s", "ratio": %s, "target": %s, "met": %s, "passes": [%s]}%s\n' \
      "$what" "$ratio" "$target" "$(case "$met" in met) echo true ;; "NOT met") echo false ;; *) echo null ;; esac)" \
      "$(echo "$passes" | tr ' ' ',')" "$sep"
  done
  printf '  ]\n}\n'
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
echo "targets (median of 3 interleaved passes):"
for line in "${ratio_lines[@]}"; do
  IFS='|' read -r what ratio target met passes <<<"$line"
  [ "$ratio" = null ] && ratio="    -"
  printf '  %-46s %5sx  (target <= %sx: %s; passes %s)\n' "$what" "$ratio" "$target" "$met" "$passes"
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
  gnuplot -e "datafile='$out/latency.dat'; outfile='$out/latency.png'" bench/plot.gp &&
    echo "wrote $out/latency.png"
else
  echo "gnuplot not installed: no plot (./dev.sh bench installs gnuplot-nox)" >&2
fi
