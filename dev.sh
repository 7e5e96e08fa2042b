#!/usr/bin/env bash
# axon developer entry point: installs what is missing, builds, tests, demos, benchmarks.
#   ./dev.sh build [preset]   configure + build (preset: default, debug, asan, tsan, shared)
#   ./dev.sh test  [preset]   build, run the whole suite; a summary, the log in <build>/test.log
#   ./dev.sh demo             build the examples and the axon tool, run the multi-process demo
#   ./dev.sh bench [--peers]  build, then run the benchmarks (--peers: iceoryx, Fast DDS too)
#   ./dev.sh fuzz [seconds]   build the fuzz preset (clang), run each libFuzzer target that long
#   ./dev.sh soak [minutes] [regex]  build, run each soak case (ctest label soak) that long (10)
#   ./dev.sh lint [regex]     clang-tidy (.clang-tidy) over the library, tools, examples, gateway
set -euo pipefail
cd "$(dirname "$0")"

readonly APT_PACKAGES=(cmake g++ make pkgconf libboost-dev libgtest-dev libgmock-dev
                       libbenchmark-dev libcli11-dev libexpected-dev nlohmann-json3-dev
                       pybind11-dev python3-dev python3-numpy python3-pytest
                       cyclonedds-dev cyclonedds-tools libtomlplusplus-dev iproute2)
# Only for `./dev.sh bench`: the plot (ddsperf, the dds baseline, comes with cyclonedds-tools
# above). And for `./dev.sh bench --peers`: iceoryx (classic, 2.0) and Fast DDS (2.9, ROS 2's
# default middleware), whose latency is measured next to axon's when Debian has them.
readonly BENCH_APT_PACKAGES=(gnuplot-nox)
readonly PEER_APT_PACKAGES=(libiceoryx-posh-dev iceoryx libfastrtps-dev)
# Only for `./dev.sh fuzz`: clang and its runtimes (libclang_rt.fuzzer, asan, ubsan).
readonly FUZZ_APT_PACKAGES=(clang libclang-rt-14-dev)
# Only for `./dev.sh lint` (and `./dev.sh test` in CI): clang-tidy and run-clang-tidy.
readonly LINT_APT_PACKAGES=(clang-tidy)

say() { echo "dev.sh: $*"; }  # one line per step

# as_root CMD...: runs CMD as root (directly, or through sudo); fails when neither can.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    return 127
  fi
}

# install_missing [PACKAGE...]: installs those of the packages (default: APT_PACKAGES) not there,
# as root or through sudo. When it cannot (no root, no sudo, or apt-get failed) it names the
# missing packages and the one command that installs them, and exits 1.
install_missing() {
  local missing=() p
  local wanted=("$@")
  [ ${#wanted[@]} -eq 0 ] && wanted=("${APT_PACKAGES[@]}")
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local how="with: apt-get install ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then how="with: sudo ${how#with: }"; else how="as root $how"; fi
  fi
  if [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null; then
    say "installing packages: ${missing[*]}"
    local log
    log="$(mktemp "${TMPDIR:-/tmp}/dev.sh-apt.XXXXXX")"
    if as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$log" 2>&1 &&
       as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
         --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
      rm -f "$log"
      return 0
    fi
    tail -n 20 "$log" >&2
    rm -f "$log"
  fi
  echo "dev.sh: missing Debian packages: ${missing[*]}" >&2
  echo "  install them $how" >&2
  exit 1
}

build_dir() {
  case "$1" in
    default) echo build ;;
    *) echo "build-$1" ;;
  esac
}

# run_logged LOG PATTERN CMD...: runs CMD with all its output in LOG. On a terminal the latest
# line matching PATTERN is shown in place while it runs. Returns CMD's exit status.
run_logged() {
  local log="$1" pattern="$2" status line
  shift 2
  mkdir -p "$(dirname "$log")"
  if [ -t 1 ]; then
    set +e
    "$@" 2>&1 | tee "$log" | while IFS= read -r line; do
      [[ "$line" =~ $pattern ]] && printf '\r\033[K  %s' "${line:0:76}"
    done
    status=${PIPESTATUS[0]}
    set -e
    printf '\r\033[K'
  else
    status=0
    "$@" >"$log" 2>&1 || status=$?
  fi
  return "$status"
}

# failed_step LOG WHAT: the end of LOG and where the rest is, then exit 1.
failed_step() {
  tail -n 40 "$1" >&2
  say "$2 failed; the whole output: $1" >&2
  exit 1
}

# configure [preset]: installs what is missing and configures the preset's build directory.
configure() {
  local preset="${1:-default}" dir
  dir="$(build_dir "$preset")"
  install_missing
  # Warnings are errors in CI; locally they are counted after the build (the log has them).
  if [ "${CI:-}" = "true" ]; then export AXON_WERROR=ON; fi
  say "configuring $dir/ (preset $preset)"
  run_logged "$dir/configure.log" '^--' cmake --preset "$preset" ||
    failed_step "$dir/configure.log" "configuring"
}

# compile PRESET WHAT [TARGET...]: builds TARGETs (default: everything) of a configured preset.
compile() {
  local preset="$1" what="$2" dir start warnings
  shift 2
  dir="$(build_dir "$preset")"
  local targets=()
  [ $# -gt 0 ] && targets=(--target "$@")
  say "building $what, $(nproc) jobs"
  start=$SECONDS
  run_logged "$dir/build.log" '^\[ *[0-9]+%\]' \
    cmake --build --preset "$preset" -j "$(nproc)" "${targets[@]}" ||
    failed_step "$dir/build.log" "building"
  warnings="$(grep -c 'warning:' "$dir/build.log" || true)"
  if [ "$warnings" -gt 0 ]; then
    say "built in $((SECONDS - start)) s, with $warnings warnings: $dir/build.log"
  else
    say "built in $((SECONDS - start)) s"
  fi
}

build() {
  local preset="${1:-default}"
  configure "$preset"
  compile "$preset" "everything in $(build_dir "$preset")/"
}

# duration SECONDS: "42 s" or "3 min 5 s".
duration() {
  local s="$1"
  if [ "$s" -ge 60 ]; then echo "$((s / 60)) min $((s % 60)) s"; else echo "$s s"; fi
}

# fit NAME: NAME cut in its middle to fit a 79-column line after a 4-column indent.
fit() {
  local name="$1"
  if [ ${#name} -le 75 ]; then echo "$name"; else echo "${name:0:30}...${name: -42}"; fi
}

# summarize LOG SECONDS: the counts, the failed tests and those not run (skipped or disabled),
# the time; from ctest's log.
summarize() {
  local log="$1" seconds="$2" total failed skipped
  local failures=() skips=()
  mapfile -t failures < <(awk '/^The following tests FAILED:/ {on = 1; next} /^[^\t]/ {on = 0}
                              on && /^\t/ {sub(/^\t *[0-9]+ - /, ""); print}' "$log")
  mapfile -t skips < <(awk '/^The following tests did not run:/ {on = 1; next} /^[^\t]/ {on = 0}
                           on && /^\t/ {sub(/^\t *[0-9]+ - /, ""); print}' "$log")
  total="$(sed -n 's/.* tests failed out of \([0-9]*\)$/\1/p' "$log" | tail -n 1)"
  if [ -z "$total" ]; then
    say "ctest gave no summary ($(duration "$seconds")); the whole log: $log" >&2
    return
  fi
  failed=${#failures[@]}
  skipped="$(printf '%s\n' "${skips[@]}" | grep -c '(Skipped)$' || true)"
  say "$((total - failed - skipped)) passed, $failed failed, $skipped skipped" \
      "of $total tests in $(duration "$seconds")"
  local list
  for list in failed "not run"; do
    local names=()
    if [ "$list" = failed ]; then names=("${failures[@]}"); else names=("${skips[@]}"); fi
    [ ${#names[@]} -eq 0 ] && continue
    say "$list:"
    local i
    for i in "${!names[@]}"; do
      if [ "$i" -ge 20 ]; then
        echo "    ... and $((${#names[@]} - 20)) more"
        break
      fi
      echo "    $(fit "${names[$i]}")"
    done
  done
  say "the whole log: $log"
}

run_tests() {
  local preset="${1:-default}" dir log start status
  build "$preset"
  dir="$(build_dir "$preset")"
  log="$dir/test.log"
  # Sanitizer runs: fail loudly on the first report.
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
  export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}"
  say "running the test suite, $(nproc) jobs; the whole log: $log"
  start=$SECONDS
  status=0
  run_logged "$log" '^ *[0-9]+/[0-9]+ Test ' \
    ctest --preset "$preset" -j "$(nproc)" --timeout 180 || status=$?
  # CI keeps only what is printed: the whole log there, the summary last.
  if [ "$status" -ne 0 ] && [ "${CI:-}" = "true" ]; then cat "$log"; fi
  summarize "$log" $((SECONDS - start))
  # CI (.ci/run) gates on clang-tidy too, once the suite passed.
  if [ "$status" -eq 0 ] && [ "${CI:-}" = "true" ]; then lint || status=$?; fi
  return "$status"
}

# lint [regex]: clang-tidy with the checks of .clang-tidy over every source of platform/, core/,
# services/, tools/, examples/ and gateway/ (and the headers of those folders they include), compiled as
# the default preset compiles them (its compile_commands.json: configuring is enough); a regex
# (e.g. tools/ or services/src/wait) lints only the sources whose path below the checkout begins
# with a match. Fails on any finding (.clang-tidy makes every warning an error).
# AXON_LINT_JOBS: how many clang-tidys run at once (default: one per CPU).
lint() {
  local folders="(platform|core|services|tools|examples|gateway)/"
  install_missing
  install_missing "${LINT_APT_PACKAGES[@]}"
  cmake --preset default >/dev/null
  local here status=0
  here="$(pwd)"
  echo "== clang-tidy $(clang-tidy --version | sed -n 's/.*version \([0-9.]*\).*/\1/p' | head -1)," \
       "checks of .clang-tidy, over ${1:-$folders}"
  # run-clang-tidy prints each command, a count of the warnings it suppressed in other headers and
  # colours: only the findings are kept.
  run-clang-tidy -quiet -p build -j "${AXON_LINT_JOBS:-$(nproc)}" \
      -header-filter="^$here/$folders" "^$here/${1:-$folders}.*\.cpp\$" 2>&1 |
    sed -u 's/\x1b\[[0-9;]*m//g' |
    { grep -vE '^(clang-tidy(-[0-9]+)? |[0-9]+ warnings? generated\.$)' || true; } || status=$?
  if [ "$status" -ne 0 ]; then
    echo "dev.sh: clang-tidy found problems (above); its checks and why: .clang-tidy" >&2
    exit 1
  fi
  echo "clang-tidy: no findings"
}

# demo: builds the examples and the axon tool (nothing else) in build/, then runs the demo.
# `./dev.sh test` afterwards builds the rest in the same directory.
demo() {
  configure default
  local targets=()
  mapfile -t targets < build/demo_targets.txt
  compile default "${#targets[@]} targets: the examples and the axon tool" "${targets[@]}"
  say "running the demo (examples/demo.sh)"
  exec ./examples/demo.sh build/bin
}

bench() {
  local peers=()
  case "${1:-}" in
    --peers) peers=(--peers) ;;
    "") ;;
    *) echo "usage: ./dev.sh bench [--peers]" >&2; exit 2 ;;
  esac
  install_missing "${BENCH_APT_PACKAGES[@]}"
  if [ ${#peers[@]} -gt 0 ]; then
    # The peers are optional: measured when Debian packages them, reported unavailable if not.
    apt-cache show "${PEER_APT_PACKAGES[0]}" >/dev/null 2>&1 ||
      as_root apt-get update -qq >/dev/null 2>&1 || true
    local packaged=() package
    for package in "${PEER_APT_PACKAGES[@]}"; do
      if apt-cache show "$package" >/dev/null 2>&1; then
        packaged+=("$package")
      else
        echo "dev.sh: $package is not packaged for this system: its peer modes are unavailable" >&2
      fi
    done
    [ ${#packaged[@]} -eq 0 ] || install_missing "${packaged[@]}"
  fi
  build default
  # Two-process round trips: the sweep, its table, bench/results/latest.json and latency.png.
  bench/run_sweep.sh --bin build/bin "${peers[@]}"
  # One-process micro-benchmarks, each next to its raw baseline.
  local bin=build/bin
  for b in "$bin"/*_bench; do
    [ -x "$b" ] || continue
    echo "== $(basename "$b")"
    "$b" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
  done
}

# fuzz [seconds]: every target of tests/fuzz under libFuzzer for `seconds` (default 60) each, its
# corpus in build-fuzz/corpus/<target> (seeded from tests/fuzz/seeds/<target>), a crash saved under
# build-fuzz/crashes/<target>/. Fails when any target crashed, hung or leaked.
# AXON_FUZZ_BUILD_DIR overrides the build directory (default: the preset's build-fuzz).
fuzz() {
  local seconds="${1:-60}"
  if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: ./dev.sh fuzz [seconds]" >&2
    exit 2
  fi
  install_missing
  install_missing "${FUZZ_APT_PACKAGES[@]}"
  if [ "${CI:-}" = "true" ]; then export AXON_WERROR=ON; fi
  local dir="${AXON_FUZZ_BUILD_DIR:-build-fuzz}"
  cmake --preset fuzz -B "$dir" >/dev/null
  # Only the targets (and core, all they link): the rest of the preset is not fuzzed.
  local targets=()
  mapfile -t targets < <(sed 's/ .*//; s/^/axon_fuzz_/' "$dir/fuzz_targets.txt")
  cmake --build "$dir" -j "$(nproc)" --target "${targets[@]}"

  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
  local failed=() target max_len
  mkdir -p "$dir/logs"
  while read -r target max_len; do
    local corpus="$dir/corpus/$target" crashes="$dir/crashes/$target" log="$dir/logs/$target.log"
    local seeds=()
    [ -d "tests/fuzz/seeds/$target" ] && seeds=("tests/fuzz/seeds/$target")
    mkdir -p "$corpus" "$crashes"
    echo "== $target (${seconds} s, max_len $max_len)"
    # New inputs go to the first directory; the seeds are only read.
    if "$dir/bin/axon_fuzz_$target" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 \
         -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$crashes/" \
         "$corpus" "${seeds[@]}" >"$log" 2>&1; then
      local runs rate
      runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
      rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
      echo "   ok: ${runs:-?} runs, ${rate:-?} exec/s, corpus $(find "$corpus" -type f | wc -l) inputs"
    else
      failed+=("$target")
      tail -n 40 "$log"
      echo "   FAILED: input saved under $crashes/, log in $log" >&2
    fi
  done <"$dir/fuzz_targets.txt"
  if [ ${#failed[@]} -ne 0 ]; then
    echo "dev.sh: fuzz targets failed: ${failed[*]}" >&2
    echo "  reproduce: $dir/bin/axon_fuzz_<target> $dir/crashes/<target>/crash-..." >&2
    exit 1
  fi
}

# soak [minutes] [regex]: the soak cases (ctest label `soak`, tests/soak) one after the other,
# each for `minutes` (default 10) instead of the 1 s of `./dev.sh test`: two real processes at
# full speed per case (18 cases; a regex such as SoakPubSub or overwrite picks some). Prints the
# counts of every case ("[soak] ..." lines: samples, gaps, rates); the whole log is build/soak.log.
soak() {
  local minutes="${1:-10}" filter=()
  if ! [[ "$minutes" =~ ^[1-9][0-9]*$ ]] || [ $# -gt 2 ]; then
    echo "usage: ./dev.sh soak [minutes] [regex]" >&2
    exit 2
  fi
  [ -n "${2:-}" ] && filter=(-R "$2")
  build default
  local log=build/soak.log status=0
  # Each case gets its minutes plus the sides' own watchdogs before ctest gives up on it. The
  # counts of each case appear as it ends; everything else goes to the log.
  set +e
  AXON_SOAK_SECONDS=$((minutes * 60)) ctest --preset default -L soak -j1 -V \
    --timeout $((minutes * 60 + 300)) "${filter[@]}" 2>&1 | tee "$log" |
    grep --line-buffered -oE '\[soak\].*|[0-9]+% tests passed.*|Test +#.*(Failed|Timeout|Exception).*'
  status=${PIPESTATUS[0]}
  set -e
  if [ "$status" -ne 0 ]; then
    echo "dev.sh: soak failed (ctest exit $status); the whole log is $log" >&2
    exit 1
  fi
}

cmd="${1:-}"
shift || true
case "$cmd" in
  build) build "${1:-default}" ;;
  test) run_tests "${1:-default}" ;;
  demo) demo ;;
  bench) bench "$@" ;;
  fuzz) fuzz "$@" ;;
  soak) soak "$@" ;;
  lint) lint "$@" ;;
  *)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
