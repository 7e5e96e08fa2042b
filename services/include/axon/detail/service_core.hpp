// The shared state of one open service in this process: its static and dynamic config mapped,
// this node's membership in it, and the rules of its life. Control-plane operations (create,
// open, leave, purge dead nodes, remove) run under the service's lock file, so they never race
// each other across processes; the data plane (notify, wait) takes no lock.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "axon/core/counting_bitset.hpp"
#include "axon/core/service_layout.hpp"
#include "axon/detail/node_core.hpp"
#include "axon/event_service.hpp"
#include "axon/platform/file_lock.hpp"
#include "axon/platform/shared_memory.hpp"

namespace axon::detail {

/// The per-service lock file, taken for every control-plane change of a service.
class ServiceLock {
 public:
  /// Blocks (polling, bounded by `timeout`) until this process holds the lock.
  static tl::expected<ServiceLock, platform::Error> acquire(
      const std::string& path, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Unlinks the lock file while holding it (the service is gone); waiters retry on a new file.
  void remove_file() { (void)m_lock.unlink(); }

 private:
  explicit ServiceLock(platform::FileLock lock) : m_lock(std::move(lock)) {}
  platform::FileLock m_lock;
};

/// What open() requires of an existing event service; unset fields are not checked.
struct EventRequirements {
  std::optional<std::uint32_t> max_listeners;
  std::optional<std::uint32_t> max_notifiers;
  std::optional<std::uint32_t> max_nodes;
  std::optional<std::uint64_t> event_id_max;
  std::optional<EventBackend> backend;
};

/// Outcome of opening the static config of a name.
enum class StaticProbe { Missing, Stale, Ready };

class ServiceCore {
 public:
  static tl::expected<std::shared_ptr<ServiceCore>, EventCreateError> create_event(
      std::shared_ptr<NodeCore> node, const ServiceName& name, const EventStaticConfig& settings);
  static tl::expected<std::shared_ptr<ServiceCore>, EventOpenError> open_event(
      std::shared_ptr<NodeCore> node, const ServiceName& name, const EventRequirements& required);

  ServiceCore(const ServiceCore&) = delete;
  ServiceCore& operator=(const ServiceCore&) = delete;
  /// Leaves the service; the last node out removes it.
  ~ServiceCore();

  NodeCore& node() const { return *m_node; }
  const ServiceName& name() const { return m_name; }
  const std::string& hash() const { return m_hash; }
  const EventStaticConfig& event_config() const { return m_event_config; }

  core::EventDynamicHeader& dynamic() const { return *m_dynamic_header; }
  core::NodeSlot& node_slot(std::uint32_t i) const;
  core::ListenerSlot& listener_slot(std::uint32_t i) const;
  core::NotifierSlot& notifier_slot(std::uint32_t i) const;
  /// The bitset of listener slot `i`, validated when the service was opened.
  core::CountingBitset* bitset(std::uint32_t i) const { return m_bitsets[i]; }

  std::size_t count_listeners() const;
  std::size_t count_notifiers() const;
  std::size_t count_nodes() const;

  /// Where a listener's wake channel is found by notifiers.
  WakeAddress wake_address(std::uint64_t listener_id, std::uint64_t owner_node) const;
  /// A new port id, unique in this service for its life.
  std::uint64_t next_port_id() const;

 private:
  ServiceCore(std::shared_ptr<NodeCore> node, ServiceName name, std::string hash,
              platform::SharedMemory static_shm, platform::SharedMemory dynamic_shm);
  tl::expected<void, core::CoreError> attach_bitsets();

  std::shared_ptr<NodeCore> m_node;
  ServiceName m_name;
  std::string m_hash;
  platform::SharedMemory m_static_shm;
  platform::SharedMemory m_dynamic_shm;
  EventStaticConfig m_event_config;
  void* m_dynamic_base = nullptr;
  core::EventDynamicHeader* m_dynamic_header = nullptr;
  std::vector<core::CountingBitset*> m_bitsets;
};

/// Cleanup of one service under its lock: ports and node slots of nodes for which `is_dead`
/// holds are removed; a service left with no node is removed entirely. Returns the number of
/// ports removed and whether the service is gone.
struct PurgeResult {
  std::size_t removed_ports = 0;
  bool service_removed = false;
  std::string service_name;
};
PurgeResult purge_service(const Config& config, const std::string& hash,
                          const std::function<bool(std::uint64_t node_id)>& is_dead);

/// True while the node's lock file is held by a live process.
bool node_is_alive(const Config& config, std::uint64_t node_id);

}  // namespace axon::detail
