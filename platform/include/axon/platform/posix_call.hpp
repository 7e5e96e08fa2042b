// The wrapper of axon's system calls: it retries EINTR (unless asked not to), keeps errno and the
// call's name, and lets the caller name errnos that are not failures. Exceptions: close() (never
// retried: the fd is gone whatever it returns), posix_fallocate (returns its error instead of
// setting errno), and Boost.Interprocess's shm_open/mmap, wrapped by boost_call.
#pragma once

#include <cerrno>
#include <initializer_list>
#include <type_traits>

#include <tl/expected.hpp>

#include "axon/platform/error.hpp"

namespace axon::platform {

enum class OnInterrupt : bool { Retry, Report };

/// Runs `fn` until it does not fail with EINTR (or once, with OnInterrupt::Report).
/// Failure is a return value of -1 (the POSIX convention); errno is then mapped to an Error.
template <typename Fn>
auto posix_call(const char* name, Fn&& fn, OnInterrupt on_interrupt = OnInterrupt::Retry)
    -> tl::expected<std::invoke_result_t<Fn>, Error> {
  for (;;) {
    errno = 0;
    auto result = fn();
    if (result != -1) return result;
    const int err = errno;
    if (err == EINTR && on_interrupt == OnInterrupt::Retry) continue;
    return tl::unexpected(make_error(name, err));
  }
}

}  // namespace axon::platform
