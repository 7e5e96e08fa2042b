// The shared state of one open service in this process: its static and dynamic config mapped,
// this node's membership in it, and the rules of its life. Control-plane operations (create,
// open, leave, purge dead nodes, remove) run under the service's lock file, so they never race
// each other across processes; the data plane (notify, wait, send, receive) takes no lock.
// Pattern-neutral: the event and publish-subscribe ports build on the same core.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <tl/expected.hpp>
#include <vector>

#include "axon/core/counting_bitset.hpp"
#include "axon/core/service_layout.hpp"
#include "axon/detail/event_backend/wake_channel.hpp"
#include "axon/detail/function_ref.hpp"
#include "axon/detail/node_core.hpp"
#include "axon/detail/root.hpp"
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

enum class CreateFailure { AlreadyExists, InvalidSettings, PermissionDenied, InsufficientResources,
                           InternalFailure };

struct OpenFailure {
  enum class Kind {
    DoesNotExist,
    IncompatibleMessagingPattern,
    Requirement,  ///< the pattern's check refused; see `requirement`
    ExceedsMaxNodes,
    PermissionDenied,
    VersionMismatch,
    Corrupted,
    InsufficientResources,  ///< out of file descriptors or memory
    InternalFailure,
  };
  Kind kind = Kind::InternalFailure;
  int requirement = 0;
};

/// Returns 0 when the existing service meets the opener's requirements, else a pattern code.
using RequirementCheck = FunctionRef<int(const core::StaticConfig&)>;

/// Port tables of the dynamic config.
inline constexpr std::size_t kListenerTable = 0;
inline constexpr std::size_t kNotifierTable = 1;
inline constexpr std::size_t kPublisherTable = 0;
inline constexpr std::size_t kSubscriberTable = 1;

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
  std::byte* region(std::uint64_t i) const {
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

  // Event pattern.
  /// Our handle on listener slot i's bitset (validated at open; lives as long as this core).
  const core::CountingBitset* bitset(std::uint32_t i) const { return &m_bitsets[i]; }
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
  std::vector<core::CountingBitset> m_bitsets;
};

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
