// The shared state of one open service in this process: its static and dynamic config mapped,
// this node's membership in it, and the rules of its life. Control-plane operations (create,
// open, leave, purge dead nodes, remove) run under the service's lock file, so they never race
// each other across processes; the data plane (notify, wait, send, receive) takes no lock.
// Pattern-neutral: whatever depends on the pattern is asked of its policy (patterns.hpp), chosen
// by the pattern in the static config; the ports of every pattern build on this core.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <tl/expected.hpp>
#include <vector>

#include "axon/core/service_layout.hpp"
#include "axon/function_ref.hpp"
#include "axon/detail/node_core.hpp"
#include "axon/detail/patterns.hpp"
#include "axon/detail/root.hpp"
#include "axon/event/backend/wake_channel.hpp"
#include "axon/platform/file_lock.hpp"
#include "axon/platform/shared_memory.hpp"
#include "axon/service_name.hpp"

namespace axon::detail {

/// The per-service lock file, taken for every control-plane change of a service.
class ServiceLock {
 public:
  /// Blocks (polling with back-off, bounded by `timeout`) until this process holds the lock of
  /// the service `hash`, created with `mode` when missing. Refuses (WrongType, PermissionDenied)
  /// when the services directory is not a real directory of ours or of our shared root.
  static tl::expected<ServiceLock, platform::Error> acquire(
      const Config& config, const std::string& hash, const ObjectMode& mode,
      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Unlinks the lock file while holding it (the service is gone); waiters retry on a new file.
  void remove_file() { (void)m_lock.unlink(); }

 private:
  explicit ServiceLock(platform::FileLock lock) : m_lock(std::move(lock)) {}
  platform::FileLock m_lock;
};

/// The public access of a (validated) static config's access kind.
inline Access to_access(core::AccessKind kind) {
  switch (kind) {
    case core::AccessKind::Group: return Access::Group;
    case core::AccessKind::Owner: break;
  }
  return Access::Owner;
}

enum class CreateFailure { AlreadyExists, InvalidSettings, PermissionDenied, InsufficientResources,
                           InternalFailure };

enum class OpenFailure {
  DoesNotExist,
  IncompatibleMessagingPattern,
  Requirement,  ///< the pattern's requirement check refused (it holds its own typed error)
  ExceedsMaxNodes,
  PermissionDenied,
  VersionMismatch,
  Corrupted,
  InsufficientResources,  ///< out of file descriptors or memory
  InternalFailure,
};

/// True when the existing service meets the opener's requirements. A pattern's check keeps the
/// reason (its own typed error) itself; see open_service().
using RequirementCheck = FunctionRef<bool(const core::StaticConfig&)>;

class ServiceCore {
 public:
  /// `settings` holds the pattern and its settings; the rest of the static config is filled here.
  static tl::expected<std::shared_ptr<ServiceCore>, CreateFailure> create(
      std::shared_ptr<NodeCore> node, const ServiceName& name, const core::StaticConfig& settings);
  static tl::expected<std::shared_ptr<ServiceCore>, OpenFailure> open(
      std::shared_ptr<NodeCore> node, const ServiceName& name, core::MessagingPattern pattern,
      RequirementCheck check);

  ServiceCore(const ServiceCore&) = delete;
  ServiceCore& operator=(const ServiceCore&) = delete;
  /// Leaves the service; the last node out removes it.
  ~ServiceCore();

  NodeCore& node() const { return *m_node; }
  /// The node that opened the service, shared (to open a service of its own from it).
  const std::shared_ptr<NodeCore>& node_handle() const { return m_node; }
  const Config& config() const { return m_node->config(); }
  const ServiceName& name() const { return m_name; }
  const std::string& hash() const { return m_hash; }
  /// A copy taken at open: later writes by a hostile process cannot change what we validated.
  const core::StaticConfig& static_config() const { return *m_static; }
  Access access() const;
  /// Checks that the service's FIFO directory (and the services directory above it) is a real
  /// directory of ours or of our shared root, before a FIFO in it is made or opened by path.
  tl::expected<void, platform::Error> check_service_directory() const;

  core::DynamicHeader& dynamic() const { return *m_header; }
  core::NodeSlot& node_slot(std::uint32_t i) const;
  template <typename Slot>
  Slot& port_slot(std::size_t table, std::uint32_t i) const {
    // SAFETY: the layout (derived from our private copy of the static config, never re-read
    // from shared memory) was validated against the mapping at open; callers keep i < count.
    return *reinterpret_cast<Slot*>(static_cast<std::byte*>(m_base) + m_layout.ports[table].offset +
                                    std::uint64_t{i} * m_layout.ports[table].stride);
  }
  std::uint32_t port_capacity(std::size_t table) const { return m_layout.ports[table].count; }
  /// The i-th element of the pattern region (a bitset or a connection).
  std::byte* region_element(std::uint64_t i) const {
    return static_cast<std::byte*>(m_base) + m_layout.region_offset + i * m_layout.region_stride;
  }
  std::uint64_t region_stride() const { return m_layout.region_stride; }

  std::size_t count_ports(std::size_t table) const;
  std::size_t count_nodes() const;
  /// A new port id, unique in this service for its life.
  std::uint64_t next_port_id() const;
  struct ClaimedPort {
    std::uint32_t slot;
    std::uint64_t id;  ///< reserved in the slot; published by the caller with publish_port
  };
  /// Takes a free slot of `table` for this node and reserves a fresh port id in it, before the
  /// port makes anything named after that id: a process killed from here on leaves nothing a
  /// cleaner cannot find.
  std::optional<ClaimedPort> claim_port(std::size_t table) const;
  /// Publishes a claimed slot's id and tells peers (generation bump).
  void publish_port(std::size_t table, std::uint32_t i, std::uint64_t id) const;
  /// Removes what the port made (its FIFO, its segment), then withdraws and frees its slot.
  void release_port(std::size_t table, std::uint32_t i) const;

  /// What pattern P keeps of the region (validated at open; lives as long as this core). P
  /// must be this service's pattern, as every port of P knows.
  template <typename P>
  const typename P::Region& region() const {
    return std::get<typename P::Region>(m_region);
  }

  // Event pattern.
  /// Where a listener's wake channel is found by notifiers.
  WakeAddress wake_address(std::uint64_t listener_id, std::uint64_t owner_node) const;

 private:
  ServiceCore(std::shared_ptr<NodeCore> node, ServiceName name, std::string hash,
              const core::StaticConfig& static_copy, platform::SharedMemory dynamic_shm);
  tl::expected<void, core::CoreError> attach_region();
  /// Gives back one handle of this node's slot in the service. Lock held.
  void leave_node_slot();

  std::shared_ptr<NodeCore> m_node;
  ServiceName m_name;
  std::string m_hash;
  std::unique_ptr<core::StaticConfig> m_static;
  platform::SharedMemory m_dynamic_shm;
  void* m_base = nullptr;
  core::DynamicHeader* m_header = nullptr;  ///< for its atomics only: offsets come from m_layout
  core::DynamicLayout m_layout{};
  AnyRegion m_region;
};

/// A pattern's open error for a failure of the core: every pattern's open error has these
/// values (a pattern whose error lacks one does not compile). Requirement is the pattern's own
/// and never reaches here (open_service).
template <typename OpenError>
OpenError to_open_error(OpenFailure failure) {
  switch (failure) {
    case OpenFailure::DoesNotExist: return OpenError::DoesNotExist;
    case OpenFailure::IncompatibleMessagingPattern: return OpenError::IncompatibleMessagingPattern;
    case OpenFailure::ExceedsMaxNodes: return OpenError::ExceedsMaxNodes;
    case OpenFailure::PermissionDenied: return OpenError::PermissionDenied;
    case OpenFailure::VersionMismatch: return OpenError::VersionMismatch;
    case OpenFailure::Corrupted: return OpenError::Corrupted;
    case OpenFailure::InsufficientResources: return OpenError::InsufficientResources;
    case OpenFailure::Requirement:
    case OpenFailure::InternalFailure: return OpenError::InternalFailure;
  }
  return OpenError::InternalFailure;
}

/// A pattern's create error for a failure of the core (every pattern's has these values).
template <typename CreateError>
CreateError to_create_error(CreateFailure failure) {
  switch (failure) {
    case CreateFailure::AlreadyExists: return CreateError::AlreadyExists;
    case CreateFailure::InvalidSettings: return CreateError::InvalidSettings;
    case CreateFailure::PermissionDenied: return CreateError::PermissionDenied;
    case CreateFailure::InsufficientResources: return CreateError::InsufficientResources;
    case CreateFailure::InternalFailure: return CreateError::InternalFailure;
  }
  return CreateError::InternalFailure;
}

/// Opens `name` as a service of pattern P. `requirements(static_config)` says whether the
/// existing service meets the opener's settings: nullopt when it does, else the pattern's typed
/// error, which is what the open then fails with.
template <MessagingPatternPolicy P, typename OpenError, typename Requirements>
tl::expected<std::shared_ptr<ServiceCore>, OpenError> open_service(
    const std::shared_ptr<NodeCore>& node, const ServiceName& name, Requirements&& requirements) {
  std::optional<OpenError> refused;
  auto opened = ServiceCore::open(node, name, P::kPattern,
                                  [&](const core::StaticConfig& sc) {
                                    refused = requirements(sc);
                                    return !refused.has_value();
                                  });
  if (opened) return std::move(*opened);
  if (opened.error() == OpenFailure::Requirement && refused) return tl::unexpected(*refused);
  return tl::unexpected(to_open_error<OpenError>(opened.error()));
}

/// Creates `name` as a service of pattern P with `settings` (the pattern and its settings
/// filled in; the rest of the static config is the core's).
template <MessagingPatternPolicy P, typename CreateError>
tl::expected<std::shared_ptr<ServiceCore>, CreateError> create_service(
    std::shared_ptr<NodeCore> node, const ServiceName& name, core::StaticConfig& settings) {
  settings.pattern = P::kPattern;
  auto created = ServiceCore::create(std::move(node), name, settings);
  if (created) return std::move(*created);
  return tl::unexpected(to_create_error<CreateError>(created.error()));
}

/// Why a service's configs could not be read whole.
enum class ReadFailure {
  Missing,                ///< no static config
  NotReady,               ///< being created, or its creator died half-way
  Truncated,              ///< shorter than a static config (a creator killed early, or damage)
  Overwritten,            ///< a creation state no creator writes: damaged, not half-made
  PermissionDenied,       ///< not ours (nor our shared root group's), or not readable
  Corrupted,              ///< fails validation (or its name does not hash to its objects' names)
  VersionMismatch,        ///< made by an incompatible axon version
  InsufficientResources,  ///< out of fds or memory
  InternalFailure,
};

/// A service's two configs as found under `hash`, read the one way every reader reads them
/// (open, cleanup, discovery): a private copy of the static config, checked (core::
/// check_static_config: magic, version, pattern and its settings, access), its name hashing to
/// `hash`, both objects of a trusted owner, and the dynamic config validated against the copy's
/// layout. Offsets come from `layout`, never from the header, which any user may rewrite later.
struct ServiceConfigs {
  std::unique_ptr<core::StaticConfig> config;
  platform::SharedMemory static_shm;
  platform::SharedMemory dynamic_shm;
  core::DynamicLayout layout;
};
tl::expected<ServiceConfigs, ReadFailure> read_service_configs(const Config& config,
                                                               const std::string& hash,
                                                               const RootAccess& root,
                                                               platform::AccessMode dynamic_mode);

/// Cleanup of one service under its lock: ports and node slots of nodes for which `is_dead`
/// holds are removed; a service left with no node is removed entirely.
struct PurgeResult {
  std::size_t removed_ports = 0;
  bool service_removed = false;
  std::string service_name;
};
PurgeResult purge_service(const Config& config, const std::string& hash,
                          const std::function<bool(std::uint64_t node_id)>& is_dead);

/// True while the node's lock file is held by a live process (or when that cannot be told).
bool node_is_alive(const Config& config, std::uint64_t node_id);

/// True when the dynamic config of service `hash` (read by its own header, whatever its static
/// config says) names a live node other than `self`: then the service is in use even when its
/// static config is damaged, and nothing removes it on its own. False when it cannot be read.
bool held_by_live_nodes(const Config& config, const std::string& hash, std::uint64_t self);

/// Mode of the lock file of service `hash` for a process without a node: from its static config
/// when readable (Access::Group: group read/write), else owner-only.
ObjectMode service_lock_mode(const Config& config, const std::string& hash);

/// Node ids the dynamic config of service `hash` names as holders, when its static and dynamic
/// configs validate and are trustworthy; nullopt otherwise. Takes no lock.
std::optional<std::vector<std::uint64_t>> service_holders(const Config& config,
                                                          const std::string& hash);

}  // namespace axon::detail
