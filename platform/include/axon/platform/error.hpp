// The one error type of the platform layer: what went wrong in domain words, plus the errno and
// the name of the system call, so the layers above can translate it and a log can show it.
#pragma once

#include <cerrno>
#include <cstdint>
#include <string>

namespace axon::platform {

enum class ErrorCode : std::uint8_t {
  WouldBlock,          ///< the call would block (EAGAIN); nothing was done
  Interrupted,         ///< a signal interrupted the call (EINTR) and the caller asked to see it
  TimedOut,            ///< the deadline passed
  AlreadyExists,       ///< the name or path is taken (EEXIST)
  DoesNotExist,        ///< no such name or path (ENOENT)
  PermissionDenied,    ///< EACCES / EPERM
  InsufficientMemory,  ///< ENOMEM / ENOSPC: the object could not be backed
  LimitReached,        ///< a process or system limit on fds or objects (EMFILE, ENFILE)
  InvalidArgument,     ///< EINVAL and arguments rejected before the call
  NameTooLong,         ///< ENAMETOOLONG or a path too long for a socket address
  NoPeer,              ///< nobody at the other end (ENXIO on a FIFO, ECONNREFUSED, EPIPE)
  WrongType,           ///< the path exists but is not the expected kind of object (or a symlink)
  Truncated,           ///< a message or object is shorter than it must be
  Unknown,             ///< any other errno; see Error::sys_errno
};

const char* to_string(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::Unknown;
  int sys_errno = 0;          ///< errno of the failed call, 0 when the check was our own
  const char* call = "";      ///< the system call or check that failed

  /// e.g. "shm_open: DoesNotExist (No such file or directory)"
  std::string describe() const;
};

/// Maps an errno to its ErrorCode (ENXIO -> NoPeer, ELOOP -> WrongType, ...).
ErrorCode error_code_from_errno(int err);

inline Error make_error(const char* call, int err) {
  return Error{error_code_from_errno(err), err, call};
}
inline Error make_error(const char* call, ErrorCode code) { return Error{code, 0, call}; }

}  // namespace axon::platform
