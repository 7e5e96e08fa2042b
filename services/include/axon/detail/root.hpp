// The root directory and its subdirectories (nodes/, services/, events/, services/<H>/): who may
// own them, what they are created with, and the mode and group of every file and object axon
// makes, for both kinds of access. One place, so that nodes, services and events agree.
//
// A root is *shared* when its group may read, write and search it (an administrator made it, e.g.
// mode 2770 or 3770, for a group deployment). In a shared root the subdirectories are 02770 of the
// root's group and may belong to any user of that group; Access::Group objects get the root's
// group. In a private root (the default, 0700 and ours) everything is the owner's.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <tl/expected.hpp>

#include "axon/access.hpp"
#include "axon/config.hpp"
#include "axon/function_ref.hpp"
#include "axon/platform/error.hpp"
#include "axon/platform/shared_memory.hpp"

namespace axon::detail {

/// What the root directory allows.
struct RootAccess {
  bool shared = false;  ///< the root's group may read, write and search it
  gid_t group = 0;      ///< the root's group: the group of every group-accessible object
};

/// Mode and group of one file, object or directory axon creates.
struct ObjectMode {
  mode_t mode = 0600;
  std::optional<gid_t> group;  ///< nullopt: the creator's (or the directory's setgid) group
};

/// Checks the root (not a symlink, a directory, ours or, when chosen, group-owned by one of our
/// groups, not world-writable), creating it 0700 when missing; then, when `subdir` is given,
/// the same for that directory, created with the root's sharing. Errors: WrongType (a symlink or
/// not a directory), PermissionDenied, DoesNotExist.
tl::expected<RootAccess, platform::Error> prepare_directory(const Config& config,
                                                            const std::string* subdir = nullptr);
/// As prepare_directory(), but creates nothing: for readers (discovery, cleanup, the CLI) and for
/// every use of a path below the root, so a directory replaced by a symlink is never entered.
tl::expected<RootAccess, platform::Error> check_directory(const Config& config,
                                                          const std::string* subdir = nullptr);

/// Files every user of a service writes (dynamic config, FIFOs, lock files).
ObjectMode shared_file_mode(Access access, const RootAccess& root);
/// Objects only their creator writes and others map read-only (static config, data segments).
ObjectMode read_only_file_mode(Access access, const RootAccess& root);
/// Directories of a service (its FIFO directory).
ObjectMode directory_mode(Access access, const RootAccess& root);
/// A node's lock file and details: readable by the group in a shared root, so that its members
/// can tell whether the node lives; never writable by anyone else.
ObjectMode node_file_mode(const RootAccess& root);
/// A node's fd-server socket: connectable by the group in a shared root (the server itself hands
/// a peer of another user only the eventfds of Access::Group services).
mode_t node_socket_mode(const RootAccess& root);

/// Whether an object found under one of our names may be trusted as a service's: ours, or (an
/// Access::Group service in a shared root) of the root's group and not world-writable. Anything
/// else was made by another user under our names (names are predictable and /dev/shm is
/// writable by everyone) and is never joined, cleaned or listed.
bool trusted_object(const platform::ObjectStatus& object, Access access, const RootAccess& root);
/// Whether an object found under one of our names may be ours when its access cannot be read
/// (a node's details, a half-made or damaged static config): trusted_object() for either access.
bool maybe_our_object(const platform::ObjectStatus& object, const RootAccess& root);
/// Whether we own the object: the only objects axon ever removes on its own. Root is treated
/// like any user: it neither judges nor removes another user's objects (its tools neither).
bool own_object(const platform::ObjectStatus& object);

/// Removes the lock file at `path` when no process holds it, it is ours, and `still_stale` (asked
/// while we hold it) agrees: a lock file whose holder died. Its unlink happens under the lock,
/// and every taker of such a lock checks that its file is still linked, so a lock file in use is
/// never lost. The caller checked the directory. True when it removed the file.
bool remove_stale_lock_file(const std::string& path, FunctionRef<bool()> still_stale);

}  // namespace axon::detail
