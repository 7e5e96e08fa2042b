#!/usr/bin/env bash
# The package test (ctest `package.consumer`, label package), run as a user of an installed axon
# would: installs this build into a temporary prefix, builds consumer/ against the prefix twice,
# with CMake (find_package(axon) + axon::axon, no CMAKE_CXX_STANDARD) and with pkg-config, runs
# both builds, and checks that the installed headers are exactly what <axon/axon.hpp> includes. The prefix, the build directories and every object the runs made are removed on
# any exit. Exits 77 (skipped) when pkg-config is missing and everything else passed.
# usage: run.sh BUILD_DIR CONSUMER_DIR CXX [CXXFLAGS] [LDFLAGS]
#   CXXFLAGS/LDFLAGS: the build's own (sanitizers), so that the consumer links its library.
set -euo pipefail
build="$1" consumer="$2" cxx="$3" cxxflags="${4:-}" ldflags="${5:-}"

work="$(mktemp -d "${TMPDIR:-/tmp}/axon-package-XXXXXX")"
# Named as tests/support/test_env.cpp names them (axon_t<pid>_, /tmp/axon-test-<pid>...), so
# the next test run removes what a killed run of this script left.
export AXON_PREFIX="axon_t$$_pkg_"
export AXON_ROOT="/tmp/axon-test-$$_pkg"
cleanup() {
  rm -rf "$work" "$AXON_ROOT"
  rm -f /dev/shm/"$AXON_PREFIX"*
}
trap cleanup EXIT

step() {  # step WHAT CMD...: runs CMD; its output is shown only when it fails
  local what="$1"
  shift
  echo "package: $what"
  if ! "$@" >"$work/step.log" 2>&1; then
    echo "package: FAILED: $what" >&2
    echo "  command: $*" >&2
    tail -n 60 "$work/step.log" >&2
    exit 1
  fi
}

no_objects_left() {  # no_objects_left WHO: fails when WHO left shared memory behind
  local left
  left="$(find /dev/shm -maxdepth 1 -name "$AXON_PREFIX*" -printf '%f ')"
  if [ -n "$left" ]; then
    echo "package: FAILED: $1 left shared-memory objects behind: $left" >&2
    exit 1
  fi
}

prefix="$work/prefix"
step "install into a temporary prefix" cmake --install "$build" --prefix "$prefix"

# With CMake, as the README says. CXXFLAGS/LDFLAGS reach the consumer through the environment.
step "configure the consumer with CMake (find_package(axon))" \
  env CXXFLAGS="$cxxflags" LDFLAGS="$ldflags" \
  cmake -S "$consumer" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_CXX_COMPILER="$cxx"
found="$(sed -n 's/^axon_DIR:[A-Z]*=//p' "$work/cmake-build/CMakeCache.txt")"
case "$found" in
  "$prefix"/*) ;;
  *) echo "package: FAILED: find_package(axon) found $found, not the temporary prefix" >&2
     exit 1 ;;
esac
step "build the consumer with CMake" cmake --build "$work/cmake-build"
step "run the consumer built with CMake" "$work/cmake-build/app"
no_objects_left "the consumer built with CMake"

# With pkg-config: c++ main.cpp $(pkg-config --cflags --libs axon), no other flag of ours.
pc="$(find "$prefix" -name axon.pc)"
[ -n "$pc" ] || { echo "package: FAILED: no axon.pc installed" >&2; exit 1; }
pkg_config_checked=no
if command -v pkg-config >/dev/null; then
  export PKG_CONFIG_PATH="$(dirname "$pc")"
  flags="$(pkg-config --cflags --libs axon)"
  echo "package: pkg-config --cflags --libs axon: $flags"
  # shellcheck disable=SC2086  # the flags are words
  step "build the consumer with pkg-config" \
    "$cxx" $cxxflags "$consumer/main.cpp" -o "$work/pkg-config-app" $flags $ldflags
  # A shared libaxon is found as an installed library would be: through the loader's path.
  step "run the consumer built with pkg-config" \
    env LD_LIBRARY_PATH="$(pkg-config --variable=libdir axon)" "$work/pkg-config-app"
  no_objects_left "the consumer built with pkg-config"
  pkg_config_checked=yes
fi

# The installed headers are what <axon/axon.hpp> reaches, no more and no less: the list is
# AXON_PUBLIC_HEADERS in the top-level CMakeLists.txt.
echo "package: installed headers = what <axon/axon.hpp> includes"
if ! echo '#include <axon/axon.hpp>' |
     "$cxx" -std=c++20 -x c++ -M -MT x -I"$prefix/include" - >"$work/deps" 2>"$work/step.log"; then
  echo "package: FAILED: <axon/axon.hpp> includes a header that is not installed:" >&2
  tail -n 5 "$work/step.log" >&2
  echo "  add it to AXON_PUBLIC_HEADERS in CMakeLists.txt" >&2
  exit 1
fi
reached="$(tr ' \\' '\n\n' <"$work/deps" | sed -n "s|^$prefix/include/||p" | sort -u)"
installed="$(cd "$prefix/include" && find . -type f | sed 's|^\./||' | sort)"
extra="$(comm -13 <(echo "$reached") <(echo "$installed"))"
if [ -n "$extra" ]; then
  echo "package: FAILED: installed, but not included by <axon/axon.hpp>:" >&2
  echo "$extra" | sed 's/^/  /' >&2
  echo "  remove them from AXON_PUBLIC_HEADERS in CMakeLists.txt" >&2
  exit 1
fi

# The installed tool runs from the prefix (a shared build needs its RPATH).
if [ -x "$prefix/bin/axon" ]; then
  step "run the installed axon tool" "$prefix/bin/axon" --help
fi
if [ "$pkg_config_checked" = no ]; then
  echo "package: SKIPPED: pkg-config is missing (apt-get install pkgconf); the rest passed"
  exit 77
fi
echo "package: ok"
