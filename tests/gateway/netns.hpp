// Two "machines" on one host for the gateway's tests: two network namespaces joined by a veth
// pair, each side with its own axon prefix and root. bench/gateway_bench.sh builds the same pair
// in bash; keep the two in step.
//
// What the namespaces isolate: interfaces, addresses, routes, sockets and so UDP ports and DDS
// multicast (each pair is its own network; two pairs never see each other). What they do NOT
// isolate: the file system, /dev/shm and /tmp included, and process ids. Axon's shared memory
// and its root directory are visible from both sides, so each side gets its own AXON_PREFIX and
// AXON_ROOT: without them the two "machines" would simply share their services through memory.
//
// A process runs inside a side through `ip netns exec NAME env VAR=VALUE... PROGRAM ARGS...`.
// Both `ip netns exec` (outside batch mode) and `env` exec in place, so the pid of the returned
// ChildProcess is the program's own and the suite's process helper (kill, wait, output) applies
// unchanged. `ip netns exec` also gives the program a /sys of its namespace, as on a machine.
//
// Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) and iproute2's `ip`: tests call
// `NetnsPair::unavailable()` first and GTEST_SKIP with its reason (or derive from NetnsTest).
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <tl/expected.hpp>
#include <utility>
#include <vector>

#include "process.hpp"

namespace axon::test {

enum class Side { A, B };

/// One end of the pair: a namespace as a machine, with its interface, address and axon config.
struct NetnsSide {
  std::string netns;      ///< namespace name, e.g. "axon-1234-0-a"
  std::string interface;  ///< the veth end inside it: "veth-a" or "veth-b"
  std::string address;    ///< its IPv4 address, e.g. "10.199.37.1" (a /24)
  std::string prefix;     ///< AXON_PREFIX of processes run on this side (under the test's prefix)
  std::string root;       ///< AXON_ROOT of processes run on this side (below the test's root)
};

/// Variables added to (or replacing) a side's environment: NAME, VALUE.
using Environment = std::vector<std::pair<std::string, std::string>>;

/// Two network namespaces joined by a veth pair, lo and both veth ends up, multicast on (Cyclone
/// DDS discovers its peers by multicast). Names are unique to the test process and the pair
/// (`axon-<pid>-<n>-a` / `-b`), so pairs of tests run in parallel never meet. The destructor
/// kills every process still inside either namespace and deletes both (which removes the veth).
/// Move-only; not thread-safe.
class NetnsPair {
 public:
  /// Why namespaces cannot be made here (no `ip`, not privileged, no veth), or nullopt. The first
  /// call in a process tries it for real (a probe namespace with a veth pair, then deleted) and
  /// sweeps stale namespaces of crashed runs (sweep_stale()); later calls return the same answer.
  static std::optional<std::string> unavailable();
  /// Creates the pair; the error names the `ip` command that failed and what it printed.
  static tl::expected<NetnsPair, std::string> create();
  /// Deletes namespaces named `axon-<pid>-<tag>-<a|b>` whose process `pid` is gone (a run killed
  /// by ctest's timeout, a crash), after killing what still runs inside them. Returns their names.
  static std::vector<std::string> sweep_stale();

  NetnsPair(NetnsPair&& other) noexcept;
  NetnsPair& operator=(NetnsPair&& other) noexcept;
  NetnsPair(const NetnsPair&) = delete;
  NetnsPair& operator=(const NetnsPair&) = delete;
  ~NetnsPair();

  const NetnsSide& side(Side side) const { return side == Side::A ? m_a : m_b; }
  const NetnsSide& a() const { return m_a; }
  const NetnsSide& b() const { return m_b; }

  /// The environment a process on `side` gets: AXON_PREFIX and AXON_ROOT of the side, then
  /// `extra` (which may replace them).
  Environment environment(Side side, const Environment& extra = {}) const;
  /// Starts `argv[0] argv[1...]` (a path, or a name looked up in PATH) inside `side` with
  /// environment(side, extra) added to this process's; stderr joins stdout when `merge_stderr`.
  ChildProcess run(Side side, const std::vector<std::string>& argv, const Environment& extra = {},
                   bool merge_stderr = true) const;
  /// run() to its end (a test failure after `timeout`).
  Finished run_to_end(Side side, const std::vector<std::string>& argv,
                      const Environment& extra = {},
                      std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;

  /// Takes both veth ends down (`ip link set ... down`): the link is cut, as a pulled cable.
  tl::expected<void, std::string> link_down() const;
  /// Brings both ends up again and waits (bounded) until both report carrier (LOWER_UP).
  tl::expected<void, std::string> link_up() const;

  /// Pids of every process inside the namespace of `side` (`ip netns pids`).
  std::vector<pid_t> pids(Side side) const;
  /// Shared-memory objects under the prefix of `side` (names without "/dev/shm/").
  std::vector<std::string> shm_objects(Side side) const;

 private:
  NetnsPair() = default;
  void destroy() noexcept;
  NetnsSide m_a;
  NetnsSide m_b;
  bool m_owned = false;
};

/// Whether process `pid` runs; a zombie does not.
bool process_alive(pid_t pid);

/// Path of iproute2's `ip`, empty when it is not installed.
const std::string& ip_program();

/// Names of the namespaces that exist now (`ip netns list`).
std::vector<std::string> netns_list();

/// A fixture whose tests run with a fresh pair in `pair`, or are skipped with the reason where
/// namespaces cannot be made. Creation failing where they can is a test failure.
class NetnsTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  std::optional<NetnsPair> pair;
};

}  // namespace axon::test
