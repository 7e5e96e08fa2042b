#include "axon/platform/process.hpp"

#include <signal.h>
#include <sys/random.h>
#include <unistd.h>

#include <cstddef>
#include <vector>

#include "axon/platform/posix_call.hpp"

namespace axon::platform {

int current_pid() { return static_cast<int>(::getpid()); }

unsigned current_uid() { return static_cast<unsigned>(::geteuid()); }

bool is_our_group(gid_t gid) {
  if (gid == ::getegid()) return true;
  auto count = posix_call("getgroups", [] { return ::getgroups(0, nullptr); });
  if (!count || *count <= 0) return false;
  // Our own supplementary groups only change when this process changes them.
  std::vector<gid_t> groups(static_cast<std::size_t>(*count));
  auto got = posix_call("getgroups", [&] { return ::getgroups(*count, groups.data()); });
  if (!got) return false;
  groups.resize(static_cast<std::size_t>(*got));
  for (const gid_t g : groups) {
    if (g == gid) return true;
  }
  return false;
}

bool process_exists(int pid) {
  // kill(0 or negative, ...) addresses process groups, never one process.
  if (pid <= 0) return false;
  auto probed = posix_call("kill(0)", [&] { return ::kill(static_cast<pid_t>(pid), 0); });
  // EPERM: it exists but belongs to someone we may not signal.
  return probed || probed.error().sys_errno == EPERM;
}

tl::expected<std::uint64_t, Error> random_u64() {
  std::uint64_t value = 0;
  // SAFETY: filling the bytes of a trivially copyable integer; every bit pattern is a value.
  auto* bytes = reinterpret_cast<unsigned char*>(&value);
  std::size_t filled = 0;
  while (filled < sizeof value) {
    auto got = posix_call("getrandom",
                          [&] { return ::getrandom(bytes + filled, sizeof value - filled, 0); });
    if (!got) return tl::unexpected(got.error());
    filled += static_cast<std::size_t>(*got);
  }
  return value;
}

}  // namespace axon::platform
