#include "axon/platform/filesystem.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <memory>

#include "axon/platform/file_descriptor.hpp"
#include "axon/platform/posix_call.hpp"
#include "axon/platform/process.hpp"

namespace axon::platform {
namespace {

struct DirCloser {
  void operator()(DIR* dir) const { ::closedir(dir); }
};
using DirHandle = std::unique_ptr<DIR, DirCloser>;

// O_NOFOLLOW: a symlink in place of the directory fails with ELOOP (WrongType).
constexpr int kDirectoryFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

tl::expected<FileDescriptor, Error> open_directory(const std::string& path) {
  return posix_call("open(dir)", [&] { return ::open(path.c_str(), kDirectoryFlags); })
      .map([](int fd) { return FileDescriptor(fd); });
}

// Creates one directory with exactly `mode` (and `group`); an existing one (of any kind) is left
// as it is for the caller's check.
tl::expected<void, Error> make_directory(const std::string& path, mode_t mode,
                                         std::optional<gid_t> group) {
  auto made = posix_call("mkdir", [&] { return ::mkdir(path.c_str(), mode & 0777); });
  if (!made) {
    if (made.error().code == ErrorCode::AlreadyExists) return {};
    return tl::unexpected(made.error());
  }
  // mkdir applies the umask and ignores setgid; the requested mode is the contract. Through a
  // descriptor, so that what we change is the directory we made, whatever replaced its path.
  auto fd = open_directory(path);
  if (!fd) return tl::unexpected(fd.error());
  if (group) {
    // The group first: a chmod by a non-member of the directory's group would drop setgid.
    auto chowned = posix_call("fchown(dir)", [&] { return ::fchown(fd->native(), -1, *group); });
    if (!chowned) return tl::unexpected(chowned.error());
  }
  return posix_call("fchmod(dir)", [&] { return ::fchmod(fd->native(), mode); }).map([](int) {});
}

tl::expected<DirectoryStatus, Error> judge(const struct stat& st, DirectoryOwners owners) {
  if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode)) {
    return tl::unexpected(make_error("lstat(dir)", ErrorCode::WrongType));
  }
  // Anyone could plant files in a world-writable directory; never keep ours there.
  if ((st.st_mode & S_IWOTH) != 0) {
    return tl::unexpected(make_error("lstat(mode)", ErrorCode::PermissionDenied));
  }
  DirectoryStatus status{st.st_uid, st.st_gid, static_cast<mode_t>(st.st_mode & 07777),
                         st.st_uid == ::geteuid()};
  if (status.owned_by_us) return status;
  if (owners == DirectoryOwners::UsOrGroup && is_our_group(st.st_gid)) return status;
  return tl::unexpected(make_error("lstat(owner)", ErrorCode::PermissionDenied));
}

std::string without_trailing_slashes(const std::string& path) {
  std::string target = path;
  // "dir/" would make lstat follow a symlink named "dir"; the trailing slashes carry no meaning.
  while (target.size() > 1 && target.back() == '/') target.pop_back();
  return target;
}

}  // namespace

tl::expected<DirectoryStatus, Error> check_directory(const std::string& path,
                                                     DirectoryOwners owners) {
  const std::string target = without_trailing_slashes(path);
  if (target.empty()) return tl::unexpected(make_error("lstat", ErrorCode::InvalidArgument));
  struct stat st {};
  auto stated = posix_call("lstat", [&] { return ::lstat(target.c_str(), &st); });
  if (!stated) return tl::unexpected(stated.error());
  return judge(st, owners);
}

tl::expected<DirectoryStatus, Error> ensure_directory(const std::string& path, mode_t mode,
                                                      DirectoryOwners owners,
                                                      std::optional<gid_t> group) {
  const std::string target = without_trailing_slashes(path);
  if (target.empty()) return tl::unexpected(make_error("mkdir", ErrorCode::InvalidArgument));

  for (std::size_t slash = target.find('/', 1); slash != std::string::npos;
       slash = target.find('/', slash + 1)) {
    if (target[slash - 1] == '/') continue;  // "a//b"
    auto parent = make_directory(target.substr(0, slash), mode, group);
    if (!parent) return tl::unexpected(parent.error());
  }
  auto made = make_directory(target, mode, group);
  if (!made) return tl::unexpected(made.error());
  return check_directory(target, owners);
}

tl::expected<void, Error> ensure_private_directory(const std::string& path, mode_t mode) {
  return ensure_directory(path, mode, DirectoryOwners::Us).map([](const DirectoryStatus&) {});
}

tl::expected<void, Error> remove_file(const std::string& path) {
  return posix_call("unlink", [&] { return ::unlink(path.c_str()); }).map([](int) {});
}

tl::expected<void, Error> remove_file_below(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos || slash + 1 == path.size()) {
    return tl::unexpected(make_error("unlinkat", ErrorCode::InvalidArgument));
  }
  auto dir = open_directory(slash == 0 ? std::string("/") : path.substr(0, slash));
  if (!dir) {
    auto error = dir.error();
    // O_NOFOLLOW on a symlink: ELOOP; O_DIRECTORY on anything else: ENOTDIR.
    if (error.sys_errno == ELOOP || error.sys_errno == ENOTDIR) error.code = ErrorCode::WrongType;
    return tl::unexpected(error);
  }
  const auto name = path.substr(slash + 1);
  return posix_call("unlinkat", [&] { return ::unlinkat(dir->native(), name.c_str(), 0); })
      .map([](int) {});
}

tl::expected<void, Error> remove_directory(const std::string& path) {
  auto removed = posix_call("rmdir", [&] { return ::rmdir(path.c_str()); });
  if (!removed) {
    auto error = removed.error();
    if (error.sys_errno == ENOTDIR) error.code = ErrorCode::WrongType;
    return tl::unexpected(error);
  }
  return {};
}

tl::expected<std::vector<std::string>, Error> remove_directory_and_files(const std::string& path) {
  auto fd = open_directory(path);
  if (!fd) return tl::unexpected(fd.error());
  auto duplicate = fd->duplicate();
  if (!duplicate) return tl::unexpected(duplicate.error());
  // fdopendir reports failure with nullptr and errno; on success the DIR owns the descriptor.
  DirHandle dir(::fdopendir(duplicate->native()));
  if (!dir) return tl::unexpected(make_error("fdopendir", errno));
  duplicate->release();
  std::vector<std::string> removed;
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(dir.get());
    if (entry == nullptr) {
      if (errno != 0) return tl::unexpected(make_error("readdir", errno));
      break;
    }
    if (std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0) continue;
    // unlinkat without AT_REMOVEDIR removes a symlink itself and refuses a directory (EISDIR).
    if (posix_call("unlinkat", [&] { return ::unlinkat(fd->native(), entry->d_name, 0); })) {
      removed.emplace_back(entry->d_name);
    }
  }
  // rmdir never follows a symlink in the last component (ENOTDIR).
  auto gone = remove_directory(path);
  if (!gone) return tl::unexpected(gone.error());
  return removed;
}

tl::expected<std::vector<std::string>, Error> list_directory(const std::string& path) {
  auto fd = open_directory(path);
  if (!fd) return tl::unexpected(fd.error());
  // fdopendir reports failure with nullptr and errno; on success the DIR owns the descriptor.
  DirHandle dir(::fdopendir(fd->native()));
  if (!dir) return tl::unexpected(make_error("fdopendir", errno));
  fd->release();
  std::vector<std::string> names;
  for (;;) {
    // readdir signals both the end and an error with nullptr; only an error sets errno.
    errno = 0;
    const dirent* entry = ::readdir(dir.get());
    if (entry == nullptr) {
      if (errno != 0) return tl::unexpected(make_error("readdir", errno));
      return names;
    }
    if (std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0) continue;
    names.emplace_back(entry->d_name);
  }
}

bool path_exists(const std::string& path) {
  struct stat st {};
  return posix_call("lstat", [&] { return ::lstat(path.c_str(), &st); }).has_value();
}

bool is_symlink(const std::string& path) {
  struct stat st {};
  return posix_call("lstat", [&] { return ::lstat(path.c_str(), &st); }).has_value() &&
         S_ISLNK(st.st_mode);
}

tl::expected<void, Error> change_mode_of_inode(const std::string& path, mode_t mode, dev_t device,
                                               ino_t inode) {
  // O_PATH | O_NOFOLLOW pins the inode the path names now without following a symlink there
  // (the descriptor then refers to the link itself, which the check below refuses).
  auto fd = posix_call("open(O_PATH)",
                       [&] { return ::open(path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC); });
  if (!fd) return tl::unexpected(fd.error());
  const FileDescriptor pinned(*fd);
  struct stat st {};
  auto stated = posix_call("fstat", [&] { return ::fstat(pinned.native(), &st); });
  if (!stated) return tl::unexpected(stated.error());
  if (S_ISLNK(st.st_mode) || st.st_dev != device || st.st_ino != inode) {
    return tl::unexpected(make_error("fstat(inode)", ErrorCode::WrongType));
  }
  // fchmod refuses an O_PATH descriptor; its /proc link names exactly the pinned inode.
  const std::string by_descriptor = "/proc/self/fd/" + std::to_string(pinned.native());
  return posix_call("chmod(inode)", [&] { return ::chmod(by_descriptor.c_str(), mode); })
      .map([](int) {});
}

}  // namespace axon::platform
