#include "axon/platform/filesystem.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <memory>

#include "axon/platform/file_descriptor.hpp"
#include "axon/platform/posix_call.hpp"

namespace axon::platform {
namespace {

struct DirCloser {
  void operator()(DIR* dir) const { ::closedir(dir); }
};
using DirHandle = std::unique_ptr<DIR, DirCloser>;

// Creates one directory with exactly `mode`; an existing one (of any kind) is left as it is.
tl::expected<void, Error> make_directory(const std::string& path, mode_t mode) {
  auto made = posix_call("mkdir", [&] { return ::mkdir(path.c_str(), mode); });
  if (!made) {
    if (made.error().code == ErrorCode::AlreadyExists) return {};
    return tl::unexpected(made.error());
  }
  // mkdir applies the umask; the requested mode is the contract.
  return posix_call("chmod", [&] { return ::chmod(path.c_str(), mode); }).map([](int) {});
}

}  // namespace

tl::expected<void, Error> ensure_private_directory(const std::string& path, mode_t mode) {
  std::string target = path;
  // "dir/" would make lstat follow a symlink named "dir"; the trailing slashes carry no meaning.
  while (target.size() > 1 && target.back() == '/') target.pop_back();
  if (target.empty()) return tl::unexpected(make_error("mkdir", ErrorCode::InvalidArgument));

  for (std::size_t slash = target.find('/', 1); slash != std::string::npos;
       slash = target.find('/', slash + 1)) {
    if (target[slash - 1] == '/') continue;  // "a//b"
    auto parent = make_directory(target.substr(0, slash), mode);
    if (!parent) return parent;
  }
  auto made = make_directory(target, mode);
  if (!made) return made;

  // Parents may be symlinks (e.g. a /tmp that points elsewhere); the directory itself may not.
  struct stat st {};
  auto stated = posix_call("lstat", [&] { return ::lstat(target.c_str(), &st); });
  if (!stated) return tl::unexpected(stated.error());
  if (!S_ISDIR(st.st_mode)) return tl::unexpected(make_error("lstat(dir)", ErrorCode::WrongType));
  if (st.st_uid != ::geteuid()) {
    return tl::unexpected(make_error("lstat(owner)", ErrorCode::PermissionDenied));
  }
  return {};
}

tl::expected<void, Error> remove_file(const std::string& path) {
  return posix_call("unlink", [&] { return ::unlink(path.c_str()); }).map([](int) {});
}

tl::expected<void, Error> remove_directory(const std::string& path) {
  return posix_call("rmdir", [&] { return ::rmdir(path.c_str()); }).map([](int) {});
}

tl::expected<std::vector<std::string>, Error> list_directory(const std::string& path) {
  auto fd = posix_call("open(dir)",
                       [&] { return ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
  if (!fd) return tl::unexpected(fd.error());
  FileDescriptor owned(*fd);
  // fdopendir reports failure with nullptr and errno; on success the DIR owns the descriptor.
  DirHandle dir(::fdopendir(owned.native()));
  if (!dir) return tl::unexpected(make_error("fdopendir", errno));
  owned.release();
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

}  // namespace axon::platform
