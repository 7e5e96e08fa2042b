#include "axon/detail/service_core.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <new>
#include <thread>

#include "axon/platform/filesystem.hpp"

namespace axon::detail {
namespace {

using core::CreationState;
using core::EventDynamicHeader;
using core::EventDynamicLayout;
using core::StaticConfig;

core::EventBackendKind to_kind(EventBackend b) {
  return b == EventBackend::Fifo ? core::EventBackendKind::Fifo : core::EventBackendKind::EventFd;
}

std::optional<EventBackend> from_kind(core::EventBackendKind k) {
  switch (k) {
    case core::EventBackendKind::EventFd: return EventBackend::EventFd;
    case core::EventBackendKind::Fifo: return EventBackend::Fifo;
  }
  return std::nullopt;
}

core::EventSettings to_settings(const EventStaticConfig& c) {
  return core::EventSettings{c.max_listeners, c.max_notifiers, c.max_nodes, to_kind(c.backend),
                             c.event_id_max_value};
}

template <typename T>
T* at_offset(void* base, std::uint64_t offset) {
  // SAFETY: callers pass offsets of a layout validated against the mapping's size.
  return reinterpret_cast<T*>(static_cast<std::byte*>(base) + offset);
}

/// Removes every object of a service; idempotent. Caller holds the service lock.
void remove_service_objects(const Config& config, const std::string& hash) {
  (void)platform::SharedMemory::remove(Paths::service_dynamic(config, hash));
  (void)platform::SharedMemory::remove(Paths::service_static(config, hash));
  const auto dir = Paths::service_dir(config, hash);
  if (auto entries = platform::list_directory(dir)) {
    for (const auto& e : *entries) (void)platform::remove_file(dir + "/" + e);
  }
  (void)platform::remove_directory(dir);
}

/// The static config of `hash`, mapped read-only and copied out; Stale when a creator died
/// half-way (only meaningful while holding the service lock: a live creator would hold it).
struct StaticView {
  StaticProbe probe = StaticProbe::Missing;
  std::optional<platform::SharedMemory> shm;
  const StaticConfig* config = nullptr;
  std::optional<platform::Error> error;
};

StaticView probe_static(const Config& config, const std::string& hash) {
  StaticView view;
  auto shm = platform::SharedMemory::open(Paths::service_static(config, hash),
                                          platform::AccessMode::ReadOnly);
  if (!shm) {
    if (shm.error().code == platform::ErrorCode::DoesNotExist) return view;
    if (shm.error().code == platform::ErrorCode::Truncated) {
      view.probe = StaticProbe::Stale;
      return view;
    }
    view.error = shm.error();
    return view;
  }
  if (shm->size() < sizeof(StaticConfig)) {
    view.probe = StaticProbe::Stale;
    return view;
  }
  // SAFETY: the mapping is page-aligned and at least sizeof(StaticConfig); its fields are
  // validated before any of them is used as a size or offset.
  const auto* sc = static_cast<const StaticConfig*>(shm->data());
  // ORDERING: acquire pairs with the creator's release store of Ready: every field is visible.
  if (sc->state.load(std::memory_order_acquire) != CreationState::Ready) {
    view.probe = StaticProbe::Stale;
    return view;
  }
  view.probe = StaticProbe::Ready;
  view.config = sc;
  view.shm = std::move(*shm);
  return view;
}

bool static_header_valid(const StaticConfig& sc) {
  return sc.magic == core::kStaticConfigMagic && sc.size_of_self == sizeof(StaticConfig);
}

/// Removes the ports and slot of every node for which `is_dead` holds. Lock held.
std::size_t purge_dead_locked(const Config& config, const std::string& hash,
                              EventDynamicHeader& h, void* base,
                              const std::function<bool(std::uint64_t)>& is_dead) {
  auto* nodes = at_offset<core::NodeSlot>(base, h.nodes_offset);
  auto* listeners = at_offset<core::ListenerSlot>(base, h.listeners_offset);
  auto* notifiers = at_offset<core::NotifierSlot>(base, h.notifiers_offset);
  // Ask about each distinct node once: the answer costs a few system calls.
  std::vector<std::pair<std::uint64_t, bool>> verdicts;
  auto dead = [&](std::uint64_t id) {
    if (id == 0) return false;
    for (const auto& [known, verdict] : verdicts) {
      if (known == id) return verdict;
    }
    verdicts.emplace_back(id, is_dead(id));
    return verdicts.back().second;
  };
  std::size_t removed = 0;
  for (std::uint32_t i = 0; i < h.max_listeners; ++i) {
    auto& slot = listeners[i];
    if (!dead(slot.owner_node.load(std::memory_order_acquire))) continue;
    const auto lid = slot.listener_id.exchange(0, std::memory_order_acq_rel);
    if (lid != 0) (void)platform::remove_file(Paths::listener_fifo(config, hash, lid));
    // ORDERING: release publishes the removal to notifiers that acquire the generation.
    h.listener_generation.fetch_add(1, std::memory_order_release);
    slot.pending.store(0, std::memory_order_relaxed);
    slot.owner_node.store(0, std::memory_order_release);
    ++removed;
  }
  for (std::uint32_t i = 0; i < h.max_notifiers; ++i) {
    auto& slot = notifiers[i];
    if (!dead(slot.owner_node.load(std::memory_order_acquire))) continue;
    slot.notifier_id.store(0, std::memory_order_relaxed);
    slot.owner_node.store(0, std::memory_order_release);
    ++removed;
  }
  for (std::uint32_t i = 0; i < h.max_nodes; ++i) {
    if (!dead(nodes[i].node_id.load(std::memory_order_acquire))) continue;
    nodes[i].handles.store(0, std::memory_order_relaxed);
    nodes[i].node_id.store(0, std::memory_order_release);
  }
  return removed;
}

bool no_nodes_left(const EventDynamicHeader& h, void* base) {
  const auto* nodes = at_offset<core::NodeSlot>(base, h.nodes_offset);
  for (std::uint32_t i = 0; i < h.max_nodes; ++i) {
    if (nodes[i].node_id.load(std::memory_order_acquire) != 0) return false;
  }
  return true;
}

/// Maps and validates the dynamic config of a Ready service.
tl::expected<platform::SharedMemory, EventOpenError> open_dynamic(const Config& config,
                                                                  const std::string& hash,
                                                                  const StaticConfig& sc) {
  auto shm = platform::SharedMemory::open(Paths::service_dynamic(config, hash),
                                          platform::AccessMode::ReadWrite);
  if (!shm) {
    if (shm.error().code == platform::ErrorCode::PermissionDenied) {
      return tl::unexpected(EventOpenError::PermissionDenied);
    }
    return tl::unexpected(EventOpenError::Corrupted);
  }
  if (shm->size() < sizeof(EventDynamicHeader)) return tl::unexpected(EventOpenError::Corrupted);
  // SAFETY: page-aligned mapping of at least the header's size; validated before use.
  const auto& h = *static_cast<const EventDynamicHeader*>(shm->data());
  const auto bitset_size = core::CountingBitset::required_size(sc.event.event_id_max);
  if (!core::validate_event_dynamic(h, shm->size(), sc.event, bitset_size)) {
    return tl::unexpected(EventOpenError::Corrupted);
  }
  return std::move(*shm);
}

EventCreateError to_create_error(const platform::Error& e) {
  switch (e.code) {
    case platform::ErrorCode::AlreadyExists: return EventCreateError::AlreadyExists;
    case platform::ErrorCode::PermissionDenied:
    case platform::ErrorCode::WrongType: return EventCreateError::PermissionDenied;
    case platform::ErrorCode::InsufficientMemory:
    case platform::ErrorCode::LimitReached: return EventCreateError::InsufficientResources;
    default: return EventCreateError::InternalFailure;
  }
}

EventOpenError to_open_error(const platform::Error& e) {
  switch (e.code) {
    case platform::ErrorCode::PermissionDenied:
    case platform::ErrorCode::WrongType: return EventOpenError::PermissionDenied;
    default: return EventOpenError::InternalFailure;
  }
}

/// Takes (or joins) this node's slot. Lock held.
bool register_node(EventDynamicHeader& h, void* base, std::uint64_t node_id) {
  auto* nodes = at_offset<core::NodeSlot>(base, h.nodes_offset);
  for (std::uint32_t i = 0; i < h.max_nodes; ++i) {
    if (nodes[i].node_id.load(std::memory_order_acquire) == node_id) {
      nodes[i].handles.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
  }
  for (std::uint32_t i = 0; i < h.max_nodes; ++i) {
    if (nodes[i].node_id.load(std::memory_order_acquire) == 0) {
      nodes[i].handles.store(1, std::memory_order_relaxed);
      // ORDERING: release publishes handles before the slot reads as taken.
      nodes[i].node_id.store(node_id, std::memory_order_release);
      return true;
    }
  }
  return false;
}

}  // namespace

tl::expected<ServiceLock, platform::Error> ServiceLock::acquire(const std::string& path,
                                                                std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::microseconds(50);
  for (;;) {
    auto lock = platform::FileLock::create_locked(path);
    if (lock) {
      // A lock on a file that the previous holder unlinked protects nothing: take the new one.
      if (lock->is_still_linked()) return ServiceLock(std::move(*lock));
      continue;
    }
    if (lock.error().code != platform::ErrorCode::WouldBlock) return tl::unexpected(lock.error());
    if (std::chrono::steady_clock::now() >= deadline) {
      return tl::unexpected(platform::make_error("service lock", platform::ErrorCode::TimedOut));
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(2000));
  }
}

bool node_is_alive(const Config& config, std::uint64_t node_id) {
  auto held = platform::FileLock::is_held(Paths::node_lock(config, NodeId{node_id}));
  // Cannot tell (permissions, fds): count it as alive; cleaning a live node is the worse mistake.
  if (!held) return held.error().code != platform::ErrorCode::DoesNotExist;
  return *held;
}

ServiceCore::ServiceCore(std::shared_ptr<NodeCore> node, ServiceName name, std::string hash,
                         platform::SharedMemory static_shm, platform::SharedMemory dynamic_shm)
    : m_node(std::move(node)),
      m_name(std::move(name)),
      m_hash(std::move(hash)),
      m_static_shm(std::move(static_shm)),
      m_dynamic_shm(std::move(dynamic_shm)) {
  // SAFETY: both mappings were validated by create_event/open_event before construction.
  const auto& sc = *static_cast<const StaticConfig*>(m_static_shm.data());
  m_event_config.max_listeners = sc.event.max_listeners;
  m_event_config.max_notifiers = sc.event.max_notifiers;
  m_event_config.max_nodes = sc.event.max_nodes;
  m_event_config.event_id_max_value = sc.event.event_id_max;
  m_event_config.backend = from_kind(sc.event.backend).value_or(kDefaultEventBackend);
  m_dynamic_base = m_dynamic_shm.data();
  m_dynamic_header = static_cast<EventDynamicHeader*>(m_dynamic_base);
}

tl::expected<void, core::CoreError> ServiceCore::attach_bitsets() {
  auto& h = *m_dynamic_header;
  m_bitsets.reserve(h.max_listeners);
  for (std::uint32_t i = 0; i < h.max_listeners; ++i) {
    auto* block = at_offset<std::byte>(m_dynamic_shm.data(), h.bitsets_offset + i * h.bitset_stride);
    auto bitset = core::CountingBitset::attach(block, h.bitset_stride);
    if (!bitset) return tl::unexpected(bitset.error());
    if ((*bitset)->max_id() != m_event_config.event_id_max_value) {
      return tl::unexpected(core::CoreError::Corrupted);
    }
    m_bitsets.push_back(*bitset);
  }
  return {};
}

core::NodeSlot& ServiceCore::node_slot(std::uint32_t i) const {
  return at_offset<core::NodeSlot>(m_dynamic_base, m_dynamic_header->nodes_offset)[i];
}
core::ListenerSlot& ServiceCore::listener_slot(std::uint32_t i) const {
  return at_offset<core::ListenerSlot>(m_dynamic_base, m_dynamic_header->listeners_offset)[i];
}
core::NotifierSlot& ServiceCore::notifier_slot(std::uint32_t i) const {
  return at_offset<core::NotifierSlot>(m_dynamic_base, m_dynamic_header->notifiers_offset)[i];
}

std::size_t ServiceCore::count_listeners() const {
  std::size_t n = 0;
  for (std::uint32_t i = 0; i < m_event_config.max_listeners; ++i) {
    n += listener_slot(i).listener_id.load(std::memory_order_acquire) != 0 ? 1 : 0;
  }
  return n;
}
std::size_t ServiceCore::count_notifiers() const {
  std::size_t n = 0;
  for (std::uint32_t i = 0; i < m_event_config.max_notifiers; ++i) {
    n += notifier_slot(i).owner_node.load(std::memory_order_acquire) != 0 ? 1 : 0;
  }
  return n;
}
std::size_t ServiceCore::count_nodes() const {
  std::size_t n = 0;
  for (std::uint32_t i = 0; i < m_event_config.max_nodes; ++i) {
    n += node_slot(i).node_id.load(std::memory_order_acquire) != 0 ? 1 : 0;
  }
  return n;
}

WakeAddress ServiceCore::wake_address(std::uint64_t listener_id, std::uint64_t owner_node) const {
  const auto& config = m_node->config();
  return WakeAddress{listener_id, Paths::listener_fifo(config, m_hash, listener_id),
                     Paths::node_socket(config, NodeId{owner_node})};
}

std::uint64_t ServiceCore::next_port_id() const {
  // ORDERING: only uniqueness matters.
  return m_dynamic_header->next_port_id.fetch_add(1, std::memory_order_relaxed);
}

tl::expected<std::shared_ptr<ServiceCore>, EventCreateError> ServiceCore::create_event(
    std::shared_ptr<NodeCore> node, const ServiceName& name, const EventStaticConfig& settings) {
  if (settings.max_listeners == 0 || settings.max_notifiers == 0 || settings.max_nodes == 0 ||
      settings.max_listeners > EventDefaults::kMaxPorts ||
      settings.max_notifiers > EventDefaults::kMaxPorts ||
      settings.max_nodes > EventDefaults::kMaxPorts ||
      settings.event_id_max_value > EventDefaults::kEventIdMaxLimit) {
    return tl::unexpected(EventCreateError::InvalidSettings);
  }
  const auto& config = node->config();
  const auto hash = Paths::service_hash(name.as_string());
  if (auto r = platform::ensure_private_directory(config.services_dir()); !r) {
    return tl::unexpected(to_create_error(r.error()));
  }
  auto lock = ServiceLock::acquire(Paths::service_lock(config, hash));
  if (!lock) return tl::unexpected(to_create_error(lock.error()));

  auto existing = probe_static(config, hash);
  if (existing.error) return tl::unexpected(to_create_error(*existing.error));
  if (existing.probe == StaticProbe::Ready) return tl::unexpected(EventCreateError::AlreadyExists);
  // Stale (a creator died half-way: it would still hold the lock if it lived) or missing:
  // whatever is left under the name is ours to clear.
  remove_service_objects(config, hash);

  const auto event_settings = to_settings(settings);
  const auto bitset_size = core::CountingBitset::required_size(settings.event_id_max_value);
  const auto layout = EventDynamicLayout::compute(event_settings, bitset_size);

  auto static_shm = platform::SharedMemory::create(Paths::service_static(config, hash),
                                                   sizeof(StaticConfig));
  if (!static_shm) return tl::unexpected(to_create_error(static_shm.error()));
  auto fail = [&](EventCreateError e) {
    remove_service_objects(config, hash);
    return tl::unexpected(e);
  };
  auto dynamic_shm =
      platform::SharedMemory::create(Paths::service_dynamic(config, hash), layout.total_size);
  if (!dynamic_shm) return fail(to_create_error(dynamic_shm.error()));
  if (settings.backend == EventBackend::Fifo) {
    if (auto r = platform::ensure_private_directory(Paths::service_dir(config, hash)); !r) {
      return fail(to_create_error(r.error()));
    }
  }

  // SAFETY: fresh zero-filled page-aligned mapping of layout.total_size bytes; every object is
  // placement-constructed at an offset computed by EventDynamicLayout inside that size.
  void* base = dynamic_shm->data();
  auto* h = new (base) EventDynamicHeader{};
  h->magic = core::kDynamicConfigMagic;
  h->version = core::kLayoutVersion;
  h->total_size = layout.total_size;
  h->max_nodes = settings.max_nodes;
  h->max_listeners = settings.max_listeners;
  h->max_notifiers = settings.max_notifiers;
  h->event_id_max = settings.event_id_max_value;
  h->nodes_offset = layout.nodes_offset;
  h->listeners_offset = layout.listeners_offset;
  h->notifiers_offset = layout.notifiers_offset;
  h->bitsets_offset = layout.bitsets_offset;
  h->bitset_stride = layout.bitset_stride;
  h->next_port_id.store(1, std::memory_order_relaxed);
  for (std::uint32_t i = 0; i < settings.max_nodes; ++i) {
    new (at_offset<core::NodeSlot>(base, layout.nodes_offset) + i) core::NodeSlot{};
  }
  for (std::uint32_t i = 0; i < settings.max_listeners; ++i) {
    new (at_offset<core::ListenerSlot>(base, layout.listeners_offset) + i) core::ListenerSlot{};
    auto* block = at_offset<std::byte>(base, layout.bitsets_offset + i * layout.bitset_stride);
    if (!core::CountingBitset::initialize(block, layout.bitset_stride,
                                          settings.event_id_max_value)) {
      return fail(EventCreateError::InternalFailure);
    }
  }
  for (std::uint32_t i = 0; i < settings.max_notifiers; ++i) {
    new (at_offset<core::NotifierSlot>(base, layout.notifiers_offset) + i) core::NotifierSlot{};
  }
  if (!register_node(*h, base, node->id().value)) return fail(EventCreateError::InternalFailure);

  // SAFETY: fresh zero-filled page-aligned mapping of sizeof(StaticConfig) bytes.
  auto* sc = new (static_shm->data()) StaticConfig{};
  sc->magic = core::kStaticConfigMagic;
  sc->version = core::kLayoutVersion;
  sc->size_of_self = sizeof(StaticConfig);
  sc->pattern = core::MessagingPattern::Event;
  sc->creator_node_id = node->id().value;
  sc->dynamic_config_size = layout.total_size;
  sc->name = *core::FixedString<core::kMaxServiceNameLength>::from(name.as_string());
  sc->event = event_settings;
  // ORDERING: release makes every field above visible to whoever acquires Ready.
  sc->state.store(CreationState::Ready, std::memory_order_release);

  auto ro_static = platform::SharedMemory::open(Paths::service_static(config, hash),
                                                platform::AccessMode::ReadOnly);
  if (!ro_static) return fail(to_create_error(ro_static.error()));
  std::shared_ptr<ServiceCore> core(new ServiceCore(std::move(node), name, hash,
                                                    std::move(*ro_static), std::move(*dynamic_shm)));
  if (!core->attach_bitsets()) {
    // Never leave a half-made service: drop our node slot by hand, then remove everything.
    core->m_node.reset();
    return fail(EventCreateError::InternalFailure);
  }
  return core;
}

tl::expected<std::shared_ptr<ServiceCore>, EventOpenError> ServiceCore::open_event(
    std::shared_ptr<NodeCore> node, const ServiceName& name, const EventRequirements& required) {
  const auto& config = node->config();
  const auto hash = Paths::service_hash(name.as_string());
  // Look before taking the lock: a failed open must not leave a lock file behind, and an
  // object we may not read is PermissionDenied, not "does not exist".
  if (auto probe = platform::SharedMemory::open(Paths::service_static(config, hash),
                                                platform::AccessMode::ReadOnly);
      !probe) {
    switch (probe.error().code) {
      case platform::ErrorCode::DoesNotExist: return tl::unexpected(EventOpenError::DoesNotExist);
      case platform::ErrorCode::PermissionDenied:
        return tl::unexpected(EventOpenError::PermissionDenied);
      default: break;  // truncated or half-made: judged under the lock below
    }
  }
  auto lock = ServiceLock::acquire(Paths::service_lock(config, hash));
  if (!lock) return tl::unexpected(to_open_error(lock.error()));

  auto view = probe_static(config, hash);
  if (view.error) return tl::unexpected(to_open_error(*view.error));
  if (view.probe != StaticProbe::Ready) {
    if (view.probe == StaticProbe::Stale) remove_service_objects(config, hash);
    lock->remove_file();
    return tl::unexpected(EventOpenError::DoesNotExist);
  }
  const StaticConfig& sc = *view.config;
  if (!static_header_valid(sc)) return tl::unexpected(EventOpenError::Corrupted);
  if (sc.version != core::kLayoutVersion) return tl::unexpected(EventOpenError::VersionMismatch);
  if (sc.name.view() != name.as_string()) return tl::unexpected(EventOpenError::Corrupted);
  if (sc.pattern != core::MessagingPattern::Event) {
    return tl::unexpected(EventOpenError::IncompatibleMessagingPattern);
  }
  const auto backend = from_kind(sc.event.backend);
  if (!backend) return tl::unexpected(EventOpenError::Corrupted);
  if (required.max_listeners && sc.event.max_listeners < *required.max_listeners) {
    return tl::unexpected(EventOpenError::DoesNotSupportRequestedAmountOfListeners);
  }
  if (required.max_notifiers && sc.event.max_notifiers < *required.max_notifiers) {
    return tl::unexpected(EventOpenError::DoesNotSupportRequestedAmountOfNotifiers);
  }
  if (required.max_nodes && sc.event.max_nodes < *required.max_nodes) {
    return tl::unexpected(EventOpenError::DoesNotSupportRequestedAmountOfNodes);
  }
  if (required.event_id_max && sc.event.event_id_max < *required.event_id_max) {
    return tl::unexpected(EventOpenError::DoesNotSupportRequestedMaxEventId);
  }
  if (required.backend && *backend != *required.backend) {
    return tl::unexpected(EventOpenError::IncompatibleBackend);
  }

  auto dynamic_shm = open_dynamic(config, hash, sc);
  if (!dynamic_shm) return tl::unexpected(dynamic_shm.error());
  auto& h = *static_cast<EventDynamicHeader*>(dynamic_shm->data());

  const auto self = node->id().value;
  purge_dead_locked(config, hash, h, dynamic_shm->data(), [&](std::uint64_t id) {
    return id != self && !node_is_alive(config, id);
  });
  if (no_nodes_left(h, dynamic_shm->data())) {
    // Every user of it died: it is garbage, not a service.
    remove_service_objects(config, hash);
    lock->remove_file();
    return tl::unexpected(EventOpenError::DoesNotExist);
  }
  if (!register_node(h, dynamic_shm->data(), self)) {
    return tl::unexpected(EventOpenError::ExceedsMaxNodes);
  }
  std::shared_ptr<ServiceCore> core(new ServiceCore(std::move(node), name, hash,
                                                    std::move(*view.shm), std::move(*dynamic_shm)));
  if (!core->attach_bitsets()) return tl::unexpected(EventOpenError::Corrupted);
  return core;
}

ServiceCore::~ServiceCore() {
  if (!m_node) return;
  const auto& config = m_node->config();
  auto lock = ServiceLock::acquire(Paths::service_lock(config, m_hash));
  if (!lock) return;  // leave it to a cleaner; never block a destructor for ever
  auto& h = *m_dynamic_header;
  const auto self = m_node->id().value;
  for (std::uint32_t i = 0; i < h.max_nodes; ++i) {
    auto& slot = node_slot(i);
    if (slot.node_id.load(std::memory_order_acquire) != self) continue;
    if (slot.handles.fetch_sub(1, std::memory_order_acq_rel) <= 1) {
      slot.handles.store(0, std::memory_order_relaxed);
      slot.node_id.store(0, std::memory_order_release);
    }
    break;
  }
  if (no_nodes_left(h, m_dynamic_shm.data())) {
    remove_service_objects(config, m_hash);
    lock->remove_file();
  }
}

PurgeResult purge_service(const Config& config, const std::string& hash,
                          const std::function<bool(std::uint64_t)>& is_dead) {
  PurgeResult result;
  auto lock = ServiceLock::acquire(Paths::service_lock(config, hash));
  if (!lock) return result;
  auto view = probe_static(config, hash);
  if (view.error) return result;
  if (view.probe != StaticProbe::Ready) {
    if (view.probe == StaticProbe::Stale) {
      remove_service_objects(config, hash);
      result.service_removed = true;
    }
    lock->remove_file();
    return result;
  }
  const StaticConfig& sc = *view.config;
  if (!static_header_valid(sc) || sc.version != core::kLayoutVersion) return result;
  result.service_name = std::string(sc.name.view());
  auto dynamic_shm = open_dynamic(config, hash, sc);
  if (!dynamic_shm) return result;
  auto& h = *static_cast<EventDynamicHeader*>(dynamic_shm->data());
  result.removed_ports = purge_dead_locked(config, hash, h, dynamic_shm->data(), is_dead);
  if (no_nodes_left(h, dynamic_shm->data())) {
    remove_service_objects(config, hash);
    lock->remove_file();
    result.service_removed = true;
  }
  return result;
}

}  // namespace axon::detail
