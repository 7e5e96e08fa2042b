#include "axon/config.hpp"

#include <sys/stat.h>
#include <sys/un.h>

#include <string_view>

#include "axon/access.hpp"
#include "axon/detail/config_rules.hpp"
#include "axon/detail/node_core.hpp"
#include "axon/detail/root.hpp"
#include "axon/platform/file_lock.hpp"
#include "axon/platform/filesystem.hpp"
#include "axon/platform/process.hpp"

namespace axon {
namespace detail {
namespace {

constexpr std::size_t kMaxPrefixLength = 64;

}  // namespace

bool valid_prefix(std::string_view prefix) {
  if (prefix.empty() || prefix.size() > kMaxPrefixLength || prefix.front() == '.' ||
      prefix.find("..") != std::string_view::npos) {
    return false;
  }
  for (const char c : prefix) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '_' || c == '.' || c == '-';
    if (!plain) return false;
  }
  return true;
}

bool valid_root(std::string_view root) {
  if (root.empty() || root.front() != '/' || root.find('\0') != std::string_view::npos) {
    return false;
  }
  // Normalised before it is judged: a trailing '/' is harmless ("/tmp/x/"), so it goes first;
  // what is left must not be the filesystem's root ("/", and "//", which Linux resolves to "/").
  if (root.size() > 1 && root.back() == '/') root.remove_suffix(1);
  if (root == "/") return false;  // never keep files in the filesystem's root
  std::string_view rest = root.substr(1);
  // An empty component ("//x", "/tmp//x", "///") is not meant.
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    const auto component = rest.substr(0, slash);
    if (component.empty() || component == "." || component == "..") return false;
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return true;
}

}  // namespace detail

const char* to_string(Access access) { return access == Access::Group ? "group" : "owner"; }

const char* to_string(ConfigError error) {
  switch (error) {
    case ConfigError::InvalidPrefix:
      return "InvalidPrefix";
    case ConfigError::InvalidRoot:
      return "InvalidRoot";
    case ConfigError::InvalidFile:
      return "InvalidFile";
  }
  return "Unknown";
}

tl::expected<void, ConfigError> Config::validate() const {
  // The file first: with it refused, the prefix and root are not the ones the user chose.
  if (file_error) return tl::unexpected(ConfigError::InvalidFile);
  if (!detail::valid_prefix(prefix)) return tl::unexpected(ConfigError::InvalidPrefix);
  if (!detail::valid_root(root)) return tl::unexpected(ConfigError::InvalidRoot);
  return {};
}

std::size_t Config::max_root_length_for_sockets() {
  // Derived from the one place that names the socket, so the two cannot drift apart.
  Config bare;
  bare.root.clear();
  const std::size_t below_root = detail::Paths::node_socket(bare, NodeId{}).size();
  return sizeof(sockaddr_un::sun_path) - 1 - below_root;
}

namespace detail {
namespace {

constexpr mode_t kPrivateFile = 0600;
constexpr mode_t kPrivateDirectory = 0700;
constexpr mode_t kGroupFile = 0660;
constexpr mode_t kGroupReadOnlyFile = 0640;
// setgid: what is made inside belongs to the directory's group, whoever makes it.
constexpr mode_t kGroupDirectory = 02770;

RootAccess access_of(const platform::DirectoryStatus& root) {
  return RootAccess{(root.mode & S_IRWXG) == S_IRWXG, root.group};
}

platform::DirectoryOwners root_owners(const Config& config) {
  // The default root must be ours: another user could have made /tmp/axon-<our uid> first.
  return config.root_chosen ? platform::DirectoryOwners::UsOrGroup : platform::DirectoryOwners::Us;
}

platform::DirectoryOwners subdir_owners(const RootAccess& root) {
  return root.shared ? platform::DirectoryOwners::UsOrGroup : platform::DirectoryOwners::Us;
}

}  // namespace

tl::expected<RootAccess, platform::Error> prepare_directory(const Config& config,
                                                            const std::string* subdir) {
  auto root = platform::ensure_directory(config.root, kPrivateDirectory, root_owners(config));
  if (!root) return tl::unexpected(root.error());
  const RootAccess access = access_of(*root);
  if (subdir == nullptr) return access;
  auto sub = access.shared
                 ? platform::ensure_directory(*subdir, kGroupDirectory, subdir_owners(access),
                                              access.group)
                 : platform::ensure_directory(*subdir, kPrivateDirectory, subdir_owners(access));
  if (!sub) return tl::unexpected(sub.error());
  return access;
}

tl::expected<RootAccess, platform::Error> check_directory(const Config& config,
                                                          const std::string* subdir) {
  auto root = platform::check_directory(config.root, root_owners(config));
  if (!root) return tl::unexpected(root.error());
  const RootAccess access = access_of(*root);
  if (subdir == nullptr) return access;
  auto sub = platform::check_directory(*subdir, subdir_owners(access));
  if (!sub) return tl::unexpected(sub.error());
  return access;
}

ObjectMode shared_file_mode(Access access, const RootAccess& root) {
  if (access == Access::Owner) return ObjectMode{kPrivateFile, std::nullopt};
  return ObjectMode{kGroupFile, root.group};
}

ObjectMode read_only_file_mode(Access access, const RootAccess& root) {
  if (access == Access::Owner) return ObjectMode{kPrivateFile, std::nullopt};
  return ObjectMode{kGroupReadOnlyFile, root.group};
}

ObjectMode directory_mode(Access access, const RootAccess& root) {
  if (access == Access::Owner) return ObjectMode{kPrivateDirectory, std::nullopt};
  return ObjectMode{kGroupDirectory, root.group};
}

ObjectMode node_file_mode(const RootAccess& root) {
  if (!root.shared) return ObjectMode{kPrivateFile, std::nullopt};
  return ObjectMode{kGroupReadOnlyFile, root.group};
}

mode_t node_socket_mode(const RootAccess& root) { return root.shared ? kGroupFile : kPrivateFile; }

bool trusted_object(const platform::ObjectStatus& object, Access access, const RootAccess& root) {
  if (object.owner == platform::current_uid()) return true;
  return access == Access::Group && root.shared && object.group == root.group &&
         (object.mode & S_IWOTH) == 0;
}

bool maybe_our_object(const platform::ObjectStatus& object, const RootAccess& root) {
  return trusted_object(object, Access::Group, root);
}

bool own_object(const platform::ObjectStatus& object) {
  return object.owner == platform::current_uid();
}

bool remove_stale_lock_file(const std::string& path, FunctionRef<bool()> still_stale) {
  auto lock = platform::FileLock::try_lock(path);
  if (!lock || !lock->is_still_linked()) return false;
  auto owner = lock->owner();
  if (!owner || *owner != platform::current_uid()) return false;
  if (!still_stale()) return false;
  return lock->unlink().has_value();
}

}  // namespace detail
}  // namespace axon
