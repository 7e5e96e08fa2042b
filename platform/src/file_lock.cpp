#include "axon/platform/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "axon/platform/posix_call.hpp"

namespace axon::platform {
namespace {

// Enough for any plausible interleaving with cleaners; beyond it something keeps unlinking.
constexpr int kRelinkAttempts = 32;

// O_NONBLOCK: opening a FIFO planted at the path must not hang (it is rejected by type below).
constexpr int kOpenFlags = O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;

}  // namespace

tl::expected<FileLock, Error> FileLock::lock_opened(FileDescriptor fd, const std::string& path) {
  struct stat st {};
  auto stated = posix_call("fstat", [&] { return ::fstat(fd.native(), &st); });
  if (!stated) return tl::unexpected(stated.error());
  if (!S_ISREG(st.st_mode)) return tl::unexpected(make_error("fstat(lock)", ErrorCode::WrongType));
  auto locked = posix_call("flock", [&] { return ::flock(fd.native(), LOCK_EX | LOCK_NB); });
  if (!locked) return tl::unexpected(locked.error());  // EWOULDBLOCK == EAGAIN: WouldBlock
  return FileLock(std::move(fd), path);
}

tl::expected<FileLock, Error> FileLock::create_locked(const std::string& path, mode_t mode,
                                                      std::optional<gid_t> group) {
  for (int attempt = 0; attempt < kRelinkAttempts; ++attempt) {
    // O_EXCL: only a file we made gets our mode (an existing one may be another user's, whose
    // mode we may not change); it also never follows a symlink, dangling or not.
    auto created = posix_call("open(lock)", [&] {
      return ::open(path.c_str(), O_CREAT | O_EXCL | O_RDWR | kOpenFlags, mode);
    });
    FileDescriptor owned;
    if (created) {
      owned = FileDescriptor(*created);
      if (group) {
        auto chowned =
            posix_call("fchown(lock)", [&] { return ::fchown(owned.native(), -1, *group); });
        if (!chowned) {
          (void)posix_call("unlink(lock)", [&] { return ::unlink(path.c_str()); });
          return tl::unexpected(chowned.error());
        }
      }
      // open() applies the umask; the requested mode is the contract.
      auto chmoded = posix_call("fchmod(lock)", [&] { return ::fchmod(owned.native(), mode); });
      if (!chmoded) {
        (void)posix_call("unlink(lock)", [&] { return ::unlink(path.c_str()); });
        return tl::unexpected(chmoded.error());
      }
    } else if (created.error().code == ErrorCode::AlreadyExists) {
      // flock needs no write access: read-only opens a file of any mode that lets us read it.
      auto existing =
          posix_call("open(lock)", [&] { return ::open(path.c_str(), O_RDONLY | kOpenFlags); });
      if (!existing) {
        if (existing.error().code == ErrorCode::DoesNotExist) continue;  // unlinked meanwhile
        return tl::unexpected(existing.error());
      }
      owned = FileDescriptor(*existing);
    } else {
      return tl::unexpected(created.error());
    }
    auto lock = lock_opened(std::move(owned), path);
    if (!lock) return tl::unexpected(lock.error());
    if (lock->is_still_linked()) return lock;
    // A cleaner unlinked the file between our open and our flock: that inode is dead; retry.
  }
  return tl::unexpected(make_error("flock(relinked)", ErrorCode::WouldBlock));
}

tl::expected<FileLock, Error> FileLock::try_lock(const std::string& path) {
  // Read-only is enough for flock and works whatever the file's write permission.
  auto fd = posix_call("open(lock)", [&] { return ::open(path.c_str(), O_RDONLY | kOpenFlags); });
  if (!fd) return tl::unexpected(fd.error());
  return lock_opened(FileDescriptor(*fd), path);
}

tl::expected<bool, Error> FileLock::is_held(const std::string& path) {
  auto lock = try_lock(path);
  if (lock) return false;  // released again as `lock` goes out of scope
  if (lock.error().code == ErrorCode::WouldBlock) return true;
  return tl::unexpected(lock.error());
}

tl::expected<uid_t, Error> FileLock::owner() const {
  struct stat held {};
  auto stated = posix_call("fstat(lock)", [&] { return ::fstat(m_fd.native(), &held); });
  if (!stated) return tl::unexpected(stated.error());
  return held.st_uid;
}

bool FileLock::is_still_linked() const {
  struct stat held {};
  if (!posix_call("fstat", [&] { return ::fstat(m_fd.native(), &held); }) || held.st_nlink == 0) {
    return false;
  }
  struct stat named {};
  if (!posix_call("lstat", [&] { return ::lstat(m_path.c_str(), &named); })) return false;
  return held.st_dev == named.st_dev && held.st_ino == named.st_ino;
}

tl::expected<void, Error> FileLock::unlink() {
  // Under the protocol nobody else unlinks this inode while we hold its lock, so the path cannot
  // change between this check and the unlink.
  if (!is_still_linked()) {
    return tl::unexpected(make_error("unlink(lock)", ErrorCode::DoesNotExist));
  }
  return posix_call("unlink(lock)", [&] { return ::unlink(m_path.c_str()); }).map([](int) {});
}

tl::expected<void, Error> FileLock::publish_as(const std::string& path) {
  auto renamed = posix_call("rename", [&] { return ::rename(m_path.c_str(), path.c_str()); });
  if (!renamed) return tl::unexpected(renamed.error());
  m_path = path;
  return {};
}

}  // namespace axon::platform
