// A named POSIX shared-memory object (in /dev/shm) together with its mapping: the memory every
// axon service lives in. Built on Boost.Interprocess shared_memory_object and mapped_region; its
// exceptions never leave this type.
//
// create() reserves the whole backing store up front, so a full /dev/shm is reported as
// InsufficientMemory at creation instead of a SIGBUS on first touch. Objects outlive the
// processes that map them: whoever creates one removes it (remove()); the destructor only unmaps.
#pragma once

#include <sys/types.h>

#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <utility>
#include <vector>

#include "axon/platform/error.hpp"

namespace axon::platform {

enum class AccessMode { ReadOnly, ReadWrite };

/// Owner, group and permission bits of an object, as fstat reports them.
struct ObjectStatus {
  uid_t owner = 0;
  gid_t group = 0;
  mode_t mode = 0;
};

/// One mapping of one object. Move-only. Thread-safety: the methods are const lookups except
/// set_permissions(); what threads and processes do with the memory is the caller's protocol.
/// Names are plain file names: 1..255 characters of [A-Za-z0-9_.-], not "." or "..".
class SharedMemory {
 public:
  /// Creates `name` exclusively with exactly `mode` (and, when given, the group `group`), `size`
  /// bytes reserved and zero-filled, and maps it read-write. Errors: AlreadyExists,
  /// InsufficientMemory (/dev/shm cannot hold `size`; nothing is left behind), InvalidArgument
  /// (bad name or zero size), NameTooLong, PermissionDenied (also: `group` is not one of ours).
  static tl::expected<SharedMemory, Error> create(std::string_view name, std::size_t size,
                                                  mode_t mode = 0600,
                                                  std::optional<gid_t> group = std::nullopt);
  /// Opens an existing object and maps all of it; ReadOnly maps it PROT_READ (a write through
  /// data() then faults). Errors: DoesNotExist, PermissionDenied (its mode does not allow
  /// `mode`, e.g. one not yet published by its creator), Truncated (its size is zero: a creator
  /// died before sizing it), InvalidArgument, NameTooLong.
  static tl::expected<SharedMemory, Error> open(std::string_view name, AccessMode mode);
  /// Removes the name; existing mappings stay valid until unmapped.
  /// Errors: DoesNotExist, PermissionDenied, InvalidArgument.
  static tl::expected<void, Error> remove(std::string_view name);
  /// True when an object of that name exists (whether or not we may open it).
  static bool exists(std::string_view name);
  /// Names of the objects in /dev/shm that start with `prefix`, in no particular order.
  /// Errors: PermissionDenied, DoesNotExist (no /dev/shm).
  static tl::expected<std::vector<std::string>, Error> list(std::string_view prefix);
  /// Last modification of the object (creation or resize), in nanoseconds of the wall clock
  /// (CLOCK_REALTIME, compare with std::chrono::system_clock): how old a half-created object is.
  /// Errors: DoesNotExist, InvalidArgument.
  static tl::expected<std::int64_t, Error> modification_time_ns(std::string_view name);
  /// Owner, group and mode of the object `name` (lstat; maps nothing, so it works on objects of
  /// size zero and of other users). Errors: DoesNotExist, InvalidArgument.
  static tl::expected<ObjectStatus, Error> status_of(std::string_view name);

  void* data() { return m_region.get_address(); }
  const void* data() const { return m_region.get_address(); }
  std::size_t size() const { return m_region.get_size(); }
  const std::string& name() const { return m_name; }
  AccessMode mode() const { return m_mode; }

  /// Changes the object's mode (exactly `mode`); a creator publishes a finished object this way.
  /// Errors: PermissionDenied (not the owner).
  tl::expected<void, Error> set_permissions(mode_t mode);
  /// Gives the object the group `group` (one of ours). Errors: PermissionDenied.
  tl::expected<void, Error> set_group(gid_t group);
  /// Owner, group and mode of the object mapped (not of whatever its name names now).
  tl::expected<ObjectStatus, Error> status() const;
  /// False once the object was removed (its name unlinked), even if the name was taken again
  /// since: the mapping then belongs to an object no one else can open any more.
  bool is_linked() const;

 private:
  SharedMemory(std::string name, AccessMode mode, boost::interprocess::shared_memory_object object,
               boost::interprocess::mapped_region region)
      : m_name(std::move(name)),
        m_mode(mode),
        m_object(std::move(object)),
        m_region(std::move(region)) {}
  int native_handle() const { return m_object.get_mapping_handle().handle; }

  std::string m_name;
  AccessMode m_mode;
  boost::interprocess::shared_memory_object m_object;  ///< declared first: unmapped before closed
  boost::interprocess::mapped_region m_region;
};

}  // namespace axon::platform
