// Shared by the robustness tests (robustness_*_test.cpp): listings of what axon left on disk,
// the victim program, the `axon` tool, the seed of the random choices.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "axon/axon.hpp"
#include "axon/detail/node_core.hpp"
#include "axon_test.hpp"
#include "helpers/robust_common.hpp"
#include "process.hpp"
#include "test_env.hpp"

namespace axon::test::robustness {

using namespace std::chrono_literals;

/// Bound of every readiness wait and every reap: a watchdog, never a verdict.
inline constexpr auto kWatchdog = 20s;

/// Every random choice of a test derives from this; AXON_ROBUST_SEED overrides it to replay one.
inline std::uint64_t base_seed() {
  if (const char* env = std::getenv("AXON_ROBUST_SEED")) return std::strtoull(env, nullptr, 0);
  return 0x5eed'a7c0'2024'0001ULL;
}

/// Everything axon keeps on disk for this test process: shared-memory objects under the prefix,
/// and files and directories below the root (directories end in '/').
struct Listing {
  std::vector<std::string> shm;
  std::vector<std::string> root;
  friend bool operator==(const Listing&, const Listing&) = default;
};

inline Listing listing() {
  Listing l;
  l.shm = shm_objects();
  std::error_code ec;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(test::root(), ec)) {
    auto path = std::filesystem::relative(entry.path(), test::root(), ec).string();
    if (entry.is_directory(ec)) path += "/";
    l.root.push_back(std::move(path));
  }
  std::sort(l.root.begin(), l.root.end());
  return l;
}

/// What `after` holds that `before` does not, and the reverse, one line each.
inline std::string difference(const Listing& before, const Listing& after) {
  std::string out;
  auto diff = [&](const std::vector<std::string>& a, const std::vector<std::string>& b,
                  const char* what) {
    for (const auto& x : a) {
      if (std::find(b.begin(), b.end(), x) == b.end()) out += std::string(what) + x + "\n";
    }
  };
  diff(after.shm, before.shm, "left over in /dev/shm: ");
  diff(after.root, before.root, "left over under the root: ");
  diff(before.shm, after.shm, "missing from /dev/shm: ");
  diff(before.root, after.root, "missing under the root: ");
  return out;
}

inline const char* backend_arg(EventBackend backend) {
  return backend == EventBackend::Fifo ? "fifo" : "eventfd";
}

/// Starts the victim program (helpers/robust_victim.cpp) in `role` on `service`.
inline ChildProcess spawn_victim(const std::string& role, const std::string& service,
                                 EventBackend backend = EventBackend::EventFd) {
  return ChildProcess::spawn(bin("axon_test_robust_victim"), {role, service, backend_arg(backend)},
                             true);
}

/// Waits until the victim printed "ready" (a barrier); the failure names what it printed.
inline ::testing::AssertionResult await_ready(ChildProcess& victim) {
  const auto out = victim.read_until("ready\n", kWatchdog);
  if (out.find("ready\n") != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "victim never got ready; it printed: " << out;
}

/// SIGKILL and reap: after this the victim's node reads as dead (a zombie would not).
inline ::testing::AssertionResult kill_and_reap(ChildProcess& victim) {
  victim.kill(SIGKILL);
  const auto status = victim.wait_for(kWatchdog);
  if (!status) return ::testing::AssertionFailure() << "a SIGKILLed process was not reaped";
  if (status->exited) {
    return ::testing::AssertionFailure() << "the victim exited by itself with " << status->code
                                         << " before the kill: " << victim.output();
  }
  return ::testing::AssertionSuccess();
}

struct ToolResult {
  ExitStatus status;
  std::string output;
};

/// Runs `axon args...` to its end (stderr merged), under the watchdog.
inline ToolResult run_axon(const std::vector<std::string>& args) {
  auto process = ChildProcess::spawn(bin("axon"), args, true);
  auto status = process.wait_for(kWatchdog);
  if (!status) {
    ADD_FAILURE() << "axon did not finish within the watchdog";
    return {};
  }
  return {*status, process.read_all(5s)};
}

/// One cleanup by the tool, then one by the library, which must then find nothing left.
inline ::testing::AssertionResult clean_all() {
  const auto tool = run_axon({"clean"});
  if (!tool.status.success()) {
    return ::testing::AssertionFailure()
           << "axon clean exited " << tool.status.code << ": " << tool.output;
  }
  const auto report = Node::cleanup_dead_nodes();
  if (!report.dead_nodes.empty() || !report.removed_services.empty() || report.removed_ports != 0) {
    return ::testing::AssertionFailure()
           << "after axon clean the library still found " << report.dead_nodes.size()
           << " dead node(s), " << report.removed_services.size() << " service(s), "
           << report.removed_ports << " port(s); axon clean printed: " << tool.output;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace axon::test::robustness
