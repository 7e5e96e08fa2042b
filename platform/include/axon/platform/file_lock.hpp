// Liveness through flock: a process holds an exclusive lock on its file for as long as it lives,
// and the kernel drops the lock when the process dies, however it dies. Another process that can
// take the lock therefore knows the holder is gone (a PID could be reused; a lock cannot). No
// heartbeat, no daemon.
//
// The protocol around unlinking: only a process that holds the lock on the file's inode unlinks
// its path. A process that opened the path just before a cleaner unlinked it ends up holding a
// lock on an orphaned inode; is_still_linked() tells it so, and it must then treat the lock as
// stale and start again.
//
// Caveats: the lock belongs to the open file description, so a child forked without exec keeps
// the lock alive after its parent died; a zombie (dead but not yet reaped) still holds it; and
// two FileLocks on the same path conflict even within one process.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <tl/expected.hpp>
#include <utility>

#include "axon/platform/error.hpp"
#include "axon/platform/file_descriptor.hpp"

namespace axon::platform {

/// A held lock. Move-only; the destructor releases the lock (by closing) but leaves the file.
/// Thread-safety: const methods may run concurrently; unlink() is for one thread.
class FileLock {
 public:
  /// Opens or creates `path` and locks it without waiting; a path that a cleaner unlinked
  /// meanwhile is opened again, so the lock returned is linked. A file we create gets exactly
  /// `mode` and, when given, the group `group`; an existing one (maybe another user's, in a
  /// shared directory) is used as it is. Never follows a symlink at `path`.
  /// Errors: WouldBlock (a live process holds it), WrongType (a symlink or not a regular file),
  /// DoesNotExist (a parent directory is missing), PermissionDenied.
  static tl::expected<FileLock, Error> create_locked(const std::string& path, mode_t mode = 0600,
                                                     std::optional<gid_t> group = std::nullopt);
  /// Locks an existing file without waiting. Success means its holder is dead (or never was) and
  /// the caller now holds it; check is_still_linked() before trusting what the file names.
  /// Errors: WouldBlock (a live process holds it), DoesNotExist, WrongType, PermissionDenied.
  static tl::expected<FileLock, Error> try_lock(const std::string& path);
  /// True when a process holds the lock; briefly takes and releases it otherwise, so a holder
  /// starting at that very moment sees WouldBlock once. Errors: as try_lock() except WouldBlock.
  static tl::expected<bool, Error> is_held(const std::string& path);

  /// The user owning the locked file (fstat of the descriptor we hold, not of the path).
  tl::expected<uid_t, Error> owner() const;
  /// True when the path still names the locked inode and the inode has a link.
  bool is_still_linked() const;
  /// Removes the path, while still holding the lock, so no one else can lock that inode anew.
  /// Errors: DoesNotExist (the path no longer names this inode; nothing was removed).
  tl::expected<void, Error> unlink();

  /// Renames the locked file to `path` (atomically, replacing nothing that is locked by design:
  /// callers pick fresh names). Lets a lock be taken under a private name and published already
  /// held, so no observer ever sees the published file unlocked.
  tl::expected<void, Error> publish_as(const std::string& path);

  const std::string& path() const { return m_path; }

 private:
  FileLock(FileDescriptor fd, std::string path) : m_fd(std::move(fd)), m_path(std::move(path)) {}
  static tl::expected<FileLock, Error> lock_opened(FileDescriptor fd, const std::string& path);
  FileDescriptor m_fd;
  std::string m_path;
};

}  // namespace axon::platform
