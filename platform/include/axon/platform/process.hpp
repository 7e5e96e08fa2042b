// Facts about processes: who we are, whether another process still exists, and randomness from
// the kernel for names that must not collide.
#pragma once

#include <cstdint>
#include <tl/expected.hpp>

#include "axon/platform/error.hpp"

namespace axon::platform {

int current_pid();
/// The effective user id: the owner of every file and object this process creates.
unsigned current_uid();
/// True while `pid` names a process, a zombie included, even one we may not signal. PIDs are
/// reused, so this is only a hint; liveness proper is a FileLock.
bool process_exists(int pid);
/// 64 bits from the kernel's CSPRNG (getrandom). Errors: Unknown (ENOSYS on ancient kernels).
tl::expected<std::uint64_t, Error> random_u64();

}  // namespace axon::platform
