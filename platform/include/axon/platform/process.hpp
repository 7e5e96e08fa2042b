// Facts about processes: who we are, whether another process still exists, and randomness from
// the kernel for names that must not collide.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <tl/expected.hpp>

#include "axon/platform/error.hpp"

namespace axon::platform {

int current_pid();
/// The effective user id: the owner of every file and object this process creates.
unsigned current_uid();
/// True when `gid` is our effective group or one of our supplementary groups: a group we may give
/// our files (chown) and whose files the kernel lets us use through the group bits.
bool is_our_group(gid_t gid);
/// True while `pid` names a process, a zombie included, even one we may not signal. PIDs are
/// reused, so this is only a hint; liveness proper is a FileLock.
bool process_exists(int pid);
/// 64 bits from the kernel's CSPRNG (getrandom). Errors: Unknown (ENOSYS on ancient kernels).
tl::expected<std::uint64_t, Error> random_u64();

}  // namespace axon::platform
