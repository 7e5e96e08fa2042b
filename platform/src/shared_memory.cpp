#include "axon/platform/shared_memory.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/interprocess/exceptions.hpp>
#include <exception>
#include <limits>
#include <new>

#include "axon/platform/filesystem.hpp"
#include "axon/platform/posix_call.hpp"

namespace axon::platform {
namespace {

namespace bip = boost::interprocess;

// glibc's shm_open places every object here (and opens it O_CLOEXEC | O_NOFOLLOW).
constexpr const char* kShmDirectory = "/dev/shm/";
constexpr std::size_t kMaxNameLength = 255;  // NAME_MAX of the tmpfs behind /dev/shm

tl::expected<void, Error> validate_name(std::string_view name, const char* call) {
  if (name.size() > kMaxNameLength) return tl::unexpected(make_error(call, ErrorCode::NameTooLong));
  if (name.empty() || name == "." || name == "..") {
    return tl::unexpected(make_error(call, ErrorCode::InvalidArgument));
  }
  for (const char c : name) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '_' || c == '.' || c == '-';
    if (!plain) return tl::unexpected(make_error(call, ErrorCode::InvalidArgument));
  }
  return {};
}

std::string path_of(std::string_view name) { return kShmDirectory + std::string(name); }

Error from_boost(const char* call, const bip::interprocess_exception& e) {
  if (e.get_native_error() != 0) return make_error(call, e.get_native_error());
  switch (e.get_error_code()) {
    case bip::already_exists_error:
      return make_error(call, ErrorCode::AlreadyExists);
    case bip::not_found_error:
      return make_error(call, ErrorCode::DoesNotExist);
    case bip::security_error:
      return make_error(call, ErrorCode::PermissionDenied);
    case bip::out_of_memory_error:
    case bip::out_of_space_error:
      return make_error(call, ErrorCode::InsufficientMemory);
    case bip::mode_error:
    case bip::size_error:
      return make_error(call, ErrorCode::InvalidArgument);
    default:
      return make_error(call, ErrorCode::Unknown);
  }
}

// Runs a Boost.Interprocess constructor; its exceptions end here as an Error.
template <typename Fn>
auto boost_call(const char* call, Fn&& fn) -> tl::expected<std::invoke_result_t<Fn>, Error> {
  try {
    return fn();
  } catch (const bip::interprocess_exception& e) {
    return tl::unexpected(from_boost(call, e));
  } catch (const std::bad_alloc&) {
    return tl::unexpected(make_error(call, ErrorCode::InsufficientMemory));
  } catch (const std::exception&) {
    return tl::unexpected(make_error(call, ErrorCode::Unknown));
  }
}

// Removes a half-made object again unless dismissed.
class RemoveOnFailure {
 public:
  explicit RemoveOnFailure(std::string_view name) : m_name(name) {}
  RemoveOnFailure(const RemoveOnFailure&) = delete;
  RemoveOnFailure& operator=(const RemoveOnFailure&) = delete;
  ~RemoveOnFailure() {
    if (!m_dismissed) (void)SharedMemory::remove(m_name);
  }
  void dismiss() { m_dismissed = true; }

 private:
  std::string_view m_name;
  bool m_dismissed = false;
};

}  // namespace

tl::expected<SharedMemory, Error> SharedMemory::create(std::string_view name, std::size_t size,
                                                       mode_t mode, std::optional<gid_t> group) {
  if (auto valid = validate_name(name, "shm_open"); !valid) return tl::unexpected(valid.error());
  if (size == 0 || size > static_cast<std::size_t>(std::numeric_limits<off_t>::max())) {
    return tl::unexpected(make_error("ftruncate", ErrorCode::InvalidArgument));
  }
  const std::string owned_name(name);
  auto object = boost_call("shm_open", [&] {
    return bip::shared_memory_object(bip::create_only, owned_name.c_str(), bip::read_write,
                                     bip::permissions(static_cast<int>(mode)));
  });
  if (!object) return tl::unexpected(object.error());
  RemoveOnFailure guard(name);
  const int fd = object->get_mapping_handle().handle;

  if (group) {
    auto chowned = posix_call("fchown(shm)", [&] { return ::fchown(fd, -1, *group); });
    if (!chowned) return tl::unexpected(chowned.error());
  }
  // shm_open applies the umask; the requested mode is the contract.
  auto chmoded = posix_call("fchmod(shm)", [&] { return ::fchmod(fd, mode); });
  if (!chmoded) return tl::unexpected(chmoded.error());
  const auto length = static_cast<off_t>(size);
  auto sized = posix_call("ftruncate", [&] { return ::ftruncate(fd, length); });
  if (!sized) return tl::unexpected(sized.error());
  // Reserve every page now: tmpfs otherwise allocates on first touch, and a full /dev/shm then
  // kills the toucher with SIGBUS. posix_fallocate returns its error instead of setting errno.
  int err = EINTR;
  while (err == EINTR) err = ::posix_fallocate(fd, 0, length);
  if (err != 0) {
    Error error = make_error("posix_fallocate", err);
    if (err == EFBIG) error.code = ErrorCode::InsufficientMemory;
    return tl::unexpected(error);
  }
  auto region =
      boost_call("mmap", [&] { return bip::mapped_region(*object, bip::read_write, 0, size); });
  if (!region) return tl::unexpected(region.error());
  guard.dismiss();
  return SharedMemory(owned_name, AccessMode::ReadWrite, std::move(*object), std::move(*region));
}

tl::expected<SharedMemory, Error> SharedMemory::open(std::string_view name, AccessMode mode) {
  if (auto valid = validate_name(name, "shm_open"); !valid) return tl::unexpected(valid.error());
  const std::string owned_name(name);
  const auto boost_mode = mode == AccessMode::ReadOnly ? bip::read_only : bip::read_write;
  auto object = boost_call("shm_open", [&] {
    return bip::shared_memory_object(bip::open_only, owned_name.c_str(), boost_mode);
  });
  if (!object) return tl::unexpected(object.error());
  struct stat st {};
  const int fd = object->get_mapping_handle().handle;
  auto stated = posix_call("fstat(shm)", [&] { return ::fstat(fd, &st); });
  if (!stated) return tl::unexpected(stated.error());
  // Mapping zero bytes is an error, and a creator that died before sizing leaves exactly this.
  if (st.st_size <= 0) return tl::unexpected(make_error("fstat(shm)", ErrorCode::Truncated));
  const auto size = static_cast<std::size_t>(st.st_size);
  auto region =
      boost_call("mmap", [&] { return bip::mapped_region(*object, boost_mode, 0, size); });
  if (!region) return tl::unexpected(region.error());
  return SharedMemory(owned_name, mode, std::move(*object), std::move(*region));
}

tl::expected<void, Error> SharedMemory::remove(std::string_view name) {
  if (auto valid = validate_name(name, "shm_unlink"); !valid) return valid;
  const std::string slashed = "/" + std::string(name);
  return posix_call("shm_unlink", [&] { return ::shm_unlink(slashed.c_str()); }).map([](int) {});
}

bool SharedMemory::exists(std::string_view name) {
  return validate_name(name, "lstat").has_value() && path_exists(path_of(name));
}

tl::expected<std::vector<std::string>, Error> SharedMemory::list(std::string_view prefix) {
  auto entries = list_directory(kShmDirectory);
  if (!entries) return tl::unexpected(entries.error());
  std::vector<std::string> matching;
  for (auto& entry : *entries) {
    if (entry.compare(0, prefix.size(), prefix) == 0) matching.push_back(std::move(entry));
  }
  return matching;
}

tl::expected<std::int64_t, Error> SharedMemory::modification_time_ns(std::string_view name) {
  if (auto valid = validate_name(name, "stat"); !valid) return tl::unexpected(valid.error());
  const std::string path = path_of(name);
  struct stat st {};
  auto stated = posix_call("stat(shm)", [&] { return ::lstat(path.c_str(), &st); });
  if (!stated) return tl::unexpected(stated.error());
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

tl::expected<ObjectStatus, Error> SharedMemory::status_of(std::string_view name) {
  if (auto valid = validate_name(name, "lstat"); !valid) return tl::unexpected(valid.error());
  const std::string path = path_of(name);
  struct stat st {};
  auto stated = posix_call("lstat(shm)", [&] { return ::lstat(path.c_str(), &st); });
  if (!stated) return tl::unexpected(stated.error());
  return ObjectStatus{st.st_uid, st.st_gid, static_cast<mode_t>(st.st_mode & 07777)};
}

tl::expected<void, Error> SharedMemory::set_permissions(mode_t mode) {
  return posix_call("fchmod(shm)", [&] { return ::fchmod(native_handle(), mode); }).map([](int) {});
}

tl::expected<void, Error> SharedMemory::set_group(gid_t group) {
  return posix_call("fchown(shm)", [&] { return ::fchown(native_handle(), -1, group); })
      .map([](int) {});
}

tl::expected<ObjectStatus, Error> SharedMemory::status() const {
  struct stat st {};
  auto stated = posix_call("fstat(shm)", [&] { return ::fstat(native_handle(), &st); });
  if (!stated) return tl::unexpected(stated.error());
  return ObjectStatus{st.st_uid, st.st_gid, static_cast<mode_t>(st.st_mode & 07777)};
}

bool SharedMemory::is_linked() const {
  struct stat st {};
  // shm_unlink drops the only link of a tmpfs object; the mapping keeps the inode alive.
  return posix_call("fstat(shm)", [&] { return ::fstat(native_handle(), &st); }).has_value() &&
         st.st_nlink > 0;
}

}  // namespace axon::platform
