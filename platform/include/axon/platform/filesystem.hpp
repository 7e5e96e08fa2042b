// The few filesystem operations axon needs for its root directory (FIFOs, sockets, lock files),
// each returning an Error instead of throwing as std::filesystem would.
//
// Symlinks: none of these functions follows a symlink in the last component of a path. A
// directory is checked with lstat (a symlink is WrongType), opened with O_NOFOLLOW, and files in
// it are removed relative to that descriptor, so a symlink planted where axon expects one of its
// directories or files never leads it to act on what the link points to.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <tl/expected.hpp>
#include <vector>

#include "axon/platform/error.hpp"

namespace axon::platform {

/// Whom a directory that axon keeps its files in may belong to.
enum class DirectoryOwners {
  Us,         ///< the effective user only
  UsOrGroup,  ///< also another user, when the directory's group is one of ours
};

/// What lstat says about a checked directory.
struct DirectoryStatus {
  uid_t owner = 0;
  gid_t group = 0;
  mode_t mode = 0;  ///< permission bits, setgid and sticky included
  bool owned_by_us = false;
};

/// Checks that `path` is a real directory (not a symlink) that nobody but its owner and group
/// may write (no world write bit), owned by the effective user or, with UsOrGroup, group-owned
/// by one of our groups. Errors: DoesNotExist, WrongType (a symlink or not a directory),
/// PermissionDenied (world-writable, or owned by someone else), NameTooLong.
tl::expected<DirectoryStatus, Error> check_directory(const std::string& path,
                                                     DirectoryOwners owners);

/// Creates `path` when missing and then checks it as check_directory() does. A directory we
/// create gets exactly `mode` (setgid included) and, when given, the group `group`; its missing
/// parents get `mode` too. An existing directory is accepted as it is. Thread-safe; concurrent
/// callers creating the same path all succeed. Parents may be symlinks (a /tmp that points
/// elsewhere); the directory itself may not.
/// Errors: as check_directory(), and InvalidArgument (empty path), PermissionDenied (not
/// creatable, or we may not give it `group`).
tl::expected<DirectoryStatus, Error> ensure_directory(const std::string& path, mode_t mode,
                                                      DirectoryOwners owners,
                                                      std::optional<gid_t> group = std::nullopt);

/// ensure_directory(path, mode, DirectoryOwners::Us).
tl::expected<void, Error> ensure_private_directory(const std::string& path, mode_t mode = 0700);

/// Unlinks a file (not a directory); a symlink is removed itself, never its target.
/// Errors: DoesNotExist, WrongType (a directory), PermissionDenied.
tl::expected<void, Error> remove_file(const std::string& path);

/// Unlinks the file at `path` relative to its directory, opened without following a symlink:
/// when a link was planted in place of the directory, nothing it points to is touched
/// (WrongType). Errors: as remove_file, and those of opening the directory.
tl::expected<void, Error> remove_file_below(const std::string& path);

/// Removes an empty directory. Errors: DoesNotExist, WrongType (not a directory, or a symlink),
/// Unknown with sys_errno ENOTEMPTY (not empty), PermissionDenied.
tl::expected<void, Error> remove_directory(const std::string& path);

/// Removes every non-directory entry of the directory `path` (relative to a descriptor opened
/// with O_NOFOLLOW, so a symlink at `path` or inside it is never followed), then the directory
/// if it is then empty. Returns the names of the entries removed. Errors: DoesNotExist, WrongType
/// (`path` is a symlink or not a directory), PermissionDenied; a subdirectory left inside makes
/// the final rmdir fail with Unknown (ENOTEMPTY) after the files are gone.
tl::expected<std::vector<std::string>, Error> remove_directory_and_files(const std::string& path);

/// Names of the entries of a directory (no "." or ".."), in no particular order.
/// Errors: DoesNotExist, WrongType (not a directory, or a symlink), PermissionDenied.
tl::expected<std::vector<std::string>, Error> list_directory(const std::string& path);

/// True when something (of any type, a dangling symlink included) is at `path`.
bool path_exists(const std::string& path);

/// True when lstat finds a symlink at `path`.
bool is_symlink(const std::string& path);

/// Sets the mode of the file at `path` without following a symlink there, and only while `path`
/// still names the inode (`device`, `inode`) the caller created; for files that have no
/// descriptor to fchmod, such as a bound socket. Errors: WrongType (a symlink, or another inode
/// now), DoesNotExist, PermissionDenied.
tl::expected<void, Error> change_mode_of_inode(const std::string& path, mode_t mode, dev_t device,
                                               ino_t inode);

}  // namespace axon::platform
