// The few filesystem operations axon needs for its root directory (FIFOs, sockets, lock files),
// each returning an Error instead of throwing as std::filesystem would.
#pragma once

#include <sys/types.h>

#include <string>
#include <tl/expected.hpp>
#include <vector>

#include "axon/platform/error.hpp"

namespace axon::platform {

/// Creates `path` and its missing parents (each new one with exactly `mode`), then checks that
/// `path` is a real directory owned by the effective user. An existing directory is accepted as
/// it is. Thread-safe; concurrent callers creating the same path all succeed.
/// Errors: WrongType (it or a parent is a symlink or not a directory), PermissionDenied (owned by
/// someone else, or not creatable), InvalidArgument (empty path), NameTooLong.
tl::expected<void, Error> ensure_private_directory(const std::string& path, mode_t mode = 0700);

/// Unlinks a file (not a directory). Errors: DoesNotExist, WrongType (a directory),
/// PermissionDenied.
tl::expected<void, Error> remove_file(const std::string& path);

/// Removes an empty directory. Errors: DoesNotExist, WrongType (not a directory),
/// Unknown with sys_errno ENOTEMPTY (not empty), PermissionDenied.
tl::expected<void, Error> remove_directory(const std::string& path);

/// Names of the entries of a directory (no "." or ".."), in no particular order.
/// Errors: DoesNotExist, WrongType (not a directory), PermissionDenied.
tl::expected<std::vector<std::string>, Error> list_directory(const std::string& path);

/// True when something (of any type, a dangling symlink included) is at `path`.
bool path_exists(const std::string& path);

}  // namespace axon::platform
