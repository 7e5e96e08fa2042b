#include "axon/detail/service_core.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <new>
#include <thread>

#include "axon/platform/filesystem.hpp"
#include "axon/platform/process.hpp"

namespace axon::detail {
namespace {

using core::CreationState;
using core::DynamicHeader;
using core::StaticConfig;

template <typename T>
T* at_offset(void* base, std::uint64_t offset) {
  // SAFETY: callers pass offsets of a layout validated against the mapping's size.
  return reinterpret_cast<T*>(static_cast<std::byte*>(base) + offset);
}

// Offsets come from the layout the validated static config implies, never from the dynamic
// header after it was validated: any user of the service may rewrite that header at any time.
core::PortSlot& port_at(const core::DynamicLayout& l, void* base, std::size_t table,
                        std::uint32_t i) {
  return *at_offset<core::PortSlot>(
      base, l.ports[table].offset + std::uint64_t{i} * l.ports[table].stride);
}

/// Removes every object of a service; idempotent. Caller holds the service lock. Returns false
/// when its static or dynamic config is still there afterwards (another user's objects in a
/// shared deployment: /dev/shm is sticky, only an object's owner may remove it).
bool remove_service_objects(const Config& config, const std::string& hash) {
  // Only objects we own: root could unlink another user's, but another user's objects under the
  // shared prefix are never ours to judge, so never ours to remove.
  auto remove_own = [](const std::string& name) {
    if (auto status = platform::SharedMemory::status_of(name); status && own_object(*status)) {
      (void)platform::SharedMemory::remove(name);
    }
  };
  // The static config first: a remover killed after it leaves leftovers under a free name
  // (the next creator or cleaner removes them), never a service that looks whole but is not.
  remove_own(Paths::service_static(config, hash));
  remove_own(Paths::service_dynamic(config, hash));
  if (auto segments = platform::SharedMemory::list(Paths::port_segment_stem(config, hash))) {
    for (const auto& s : *segments) remove_own(s);
  }
  // Files are removed relative to the directory opened without following a symlink, and only
  // below a services directory that is what it claims to be.
  const auto services = config.services_dir();
  if (check_directory(config, &services)) {
    (void)platform::remove_directory_and_files(Paths::service_dir(config, hash));
  }
  return !platform::SharedMemory::exists(Paths::service_static(config, hash)) &&
         !platform::SharedMemory::exists(Paths::service_dynamic(config, hash));
}

/// What a port leaves besides its slot (its pattern knows), removed when the port is purged.
void remove_port_resources(const Config& config, const std::string& hash,
                           core::MessagingPattern pattern, std::size_t table, std::uint64_t id) {
  if (id == 0) return;
  with_pattern(pattern, [&](auto policy) {
    policy.remove_port_resources(config, hash, table, id);
  });
}

enum class StaticProbe { Missing, Stale, Ready };

/// The static config of `hash`, mapped read-only; Stale when a creator died half-way (only
/// meaningful while holding the service lock: a live creator would hold it).
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
  // SAFETY: page-aligned mapping of at least sizeof(StaticConfig); fields validated before use.
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

/// The root as it is now, for processes without a node (cleaners); private when unreadable.
RootAccess current_root(const Config& config) {
  return check_directory(config).value_or(RootAccess{});
}

/// Whether a static config found under our name may be ours (see maybe_our_object): asked before
/// taking the service's lock, so another user's object never leaves a lock file in our root.
/// DoesNotExist when there is none.
tl::expected<bool, platform::Error> static_maybe_ours(const Config& config,
                                                      const std::string& hash,
                                                      const RootAccess& root) {
  auto status = platform::SharedMemory::status_of(Paths::service_static(config, hash));
  if (!status) return tl::unexpected(status.error());
  return maybe_our_object(*status, root);
}

/// Removes the ports and slot of every node for which `is_dead` holds. Lock held.
std::size_t purge_dead_locked(const Config& config, const std::string& hash,
                              core::MessagingPattern pattern, DynamicHeader& h,
                              const core::DynamicLayout& l, void* base,
                              const std::function<bool(std::uint64_t)>& is_dead) {
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
  for (std::size_t t = 0; t < core::kPortTables; ++t) {
    for (std::uint32_t i = 0; i < l.ports[t].count; ++i) {
      auto& slot = port_at(l, base, t, i);
      if (!dead(slot.owner_node.load(std::memory_order_acquire))) continue;
      // The reserved id names what the port made even when it died before publishing `port_id`
      // (mid-creation) or after withdrawing it (mid-drop). Removed before the slot forgets
      // them, as release_port does: a cleaner killed in between leaves them to the next one.
      const auto id = slot.port_id.load(std::memory_order_acquire);
      const auto reserved = slot.reserved_id.load(std::memory_order_acquire);
      remove_port_resources(config, hash, pattern, t, reserved != 0 ? reserved : id);
      if (reserved != 0 && id != 0 && id != reserved) {
        remove_port_resources(config, hash, pattern, t, id);
      }
      slot.port_id.store(0, std::memory_order_release);
      slot.reserved_id.store(0, std::memory_order_release);
      // ORDERING: release publishes the removal to peers that acquire the generation.
      h.generation[t].fetch_add(1, std::memory_order_release);
      slot.owner_node.store(0, std::memory_order_release);
      ++removed;
    }
  }
  auto* nodes = at_offset<core::NodeSlot>(base, l.nodes_offset);
  for (std::uint32_t i = 0; i < l.max_nodes; ++i) {
    if (!dead(nodes[i].node_id.load(std::memory_order_acquire))) continue;
    nodes[i].handles.store(0, std::memory_order_relaxed);
    nodes[i].node_id.store(0, std::memory_order_release);
  }
  return removed;
}

bool no_nodes_left(const core::DynamicLayout& l, void* base) {
  const auto* nodes = at_offset<core::NodeSlot>(base, l.nodes_offset);
  for (std::uint32_t i = 0; i < l.max_nodes; ++i) {
    if (nodes[i].node_id.load(std::memory_order_acquire) != 0) return false;
  }
  return true;
}

CreateFailure to_create_failure(const platform::Error& e) {
  switch (e.code) {
    case platform::ErrorCode::AlreadyExists: return CreateFailure::AlreadyExists;
    case platform::ErrorCode::PermissionDenied:
    case platform::ErrorCode::WrongType: return CreateFailure::PermissionDenied;
    case platform::ErrorCode::InsufficientMemory:
    case platform::ErrorCode::LimitReached: return CreateFailure::InsufficientResources;
    default: return CreateFailure::InternalFailure;
  }
}

/// The access of a service as its static config says, read without the lock (to create its
/// lock file with the right mode); Owner when it cannot be read or is not complete.
Access peek_access(const Config& config, const std::string& hash) {
  auto view = probe_static(config, hash);
  if (view.probe != StaticProbe::Ready || view.config->magic != core::kStaticConfigMagic) {
    return Access::Owner;
  }
  return to_access(view.config->access);
}

/// Mode of the lock file of a service of `access`, for a node in `root`.
ObjectMode lock_mode(Access access, const RootAccess& root) {
  return shared_file_mode(access, root);
}

OpenFailure to_open_failure(const platform::Error& e) {
  switch (e.code) {
    case platform::ErrorCode::PermissionDenied:
    case platform::ErrorCode::WrongType: return OpenFailure::PermissionDenied;
    case platform::ErrorCode::LimitReached:
    case platform::ErrorCode::InsufficientMemory:
      return OpenFailure::InsufficientResources;
    default: return OpenFailure::InternalFailure;
  }
}

/// Takes (or joins) this node's slot. Lock held.
bool register_node(const core::DynamicLayout& l, void* base, std::uint64_t node_id) {
  auto* nodes = at_offset<core::NodeSlot>(base, l.nodes_offset);
  for (std::uint32_t i = 0; i < l.max_nodes; ++i) {
    if (nodes[i].node_id.load(std::memory_order_acquire) == node_id) {
      nodes[i].handles.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
  }
  for (std::uint32_t i = 0; i < l.max_nodes; ++i) {
    if (nodes[i].node_id.load(std::memory_order_acquire) == 0) {
      nodes[i].handles.store(1, std::memory_order_relaxed);
      // ORDERING: release publishes handles before the slot reads as taken.
      nodes[i].node_id.store(node_id, std::memory_order_release);
      return true;
    }
  }
  return false;
}

/// Lays out a fresh (zero-filled) dynamic config; its pattern constructs its slots and region.
bool initialize_dynamic(void* base, const core::DynamicLayout& l, const StaticConfig& sc) {
  // Port ids name files and objects (`_p<id>`, `<id>.fifo`): starting each service life at a
  // random point keeps a port of a force-removed earlier life from ever naming a new one's.
  // Bit 63 clear: 2^63 ids before a wrap to 0 could be reached.
  const auto start = platform::random_u64();
  if (!start) return false;
  return core::initialize_dynamic(base, l, sc, (*start >> 1) | 1);
}

}  // namespace

tl::expected<ServiceConfigs, ReadFailure> read_service_configs(const Config& config,
                                                               const std::string& hash,
                                                               const RootAccess& root,
                                                               platform::AccessMode dynamic_mode) {
  // What an object that cannot be mapped is; `otherwise` for any other reason.
  auto from_platform = [](const platform::Error& e, ReadFailure otherwise) {
    switch (e.code) {
      case platform::ErrorCode::PermissionDenied:
      case platform::ErrorCode::WrongType: return ReadFailure::PermissionDenied;
      case platform::ErrorCode::LimitReached:
      case platform::ErrorCode::InsufficientMemory: return ReadFailure::InsufficientResources;
      default: return otherwise;
    }
  };
  auto static_shm = platform::SharedMemory::open(Paths::service_static(config, hash),
                                                 platform::AccessMode::ReadOnly);
  if (!static_shm) {
    switch (static_shm.error().code) {
      case platform::ErrorCode::DoesNotExist: return tl::unexpected(ReadFailure::Missing);
      case platform::ErrorCode::Truncated: return tl::unexpected(ReadFailure::Truncated);
      default:
        return tl::unexpected(from_platform(static_shm.error(), ReadFailure::InternalFailure));
    }
  }
  if (static_shm->size() < sizeof(StaticConfig)) return tl::unexpected(ReadFailure::Truncated);
  // SAFETY: page-aligned mapping of at least sizeof(StaticConfig); copied, then validated.
  const auto& shared = *static_cast<const StaticConfig*>(static_shm->data());
  // ORDERING: acquire pairs with the creator's release store of Ready: every field is visible.
  switch (shared.state.load(std::memory_order_acquire)) {
    case CreationState::Ready: break;
    case CreationState::Creating: return tl::unexpected(ReadFailure::NotReady);
    default: return tl::unexpected(ReadFailure::Overwritten);
  }
  // A private copy: the mapping may change under us after the checks, the copy cannot.
  auto sc = std::make_unique<StaticConfig>();
  core::copy_static_config(*sc, shared);
  if (const auto bad = core::check_static_config(*sc)) {
    return tl::unexpected(*bad == core::CoreError::VersionMismatch ? ReadFailure::VersionMismatch
                                                                   : ReadFailure::Corrupted);
  }
  const Access access = to_access(sc->access);
  if (auto owner = static_shm->status(); !owner || !trusted_object(*owner, access, root)) {
    return tl::unexpected(ReadFailure::PermissionDenied);
  }
  // The name is what the objects' names hash: one that does not hash to them is corrupted (or
  // a collision, which an opener of another name refuses as well).
  if (Paths::service_hash(sc->name.view()) != hash) return tl::unexpected(ReadFailure::Corrupted);
  auto dynamic_shm = platform::SharedMemory::open(Paths::service_dynamic(config, hash), dynamic_mode);
  if (!dynamic_shm) {
    // A Ready static config without a whole dynamic config (missing, cut): damage. Nobody can
    // tell who holds such a service, so it is never removed on its own.
    return tl::unexpected(from_platform(dynamic_shm.error(), ReadFailure::Corrupted));
  }
  if (dynamic_shm->size() < sizeof(DynamicHeader)) return tl::unexpected(ReadFailure::Corrupted);
  // SAFETY: page-aligned mapping of at least the header's size; validated before use.
  if (!core::validate_dynamic(*static_cast<const DynamicHeader*>(dynamic_shm->data()),
                              dynamic_shm->size(), *sc)) {
    return tl::unexpected(ReadFailure::Corrupted);
  }
  if (auto owner = dynamic_shm->status(); !owner || !trusted_object(*owner, access, root)) {
    return tl::unexpected(ReadFailure::PermissionDenied);
  }
  const auto layout = core::compute_dynamic_layout(*sc);
  return ServiceConfigs{std::move(sc), std::move(*static_shm), std::move(*dynamic_shm), layout};
}

tl::expected<ServiceLock, platform::Error> ServiceLock::acquire(const Config& config,
                                                                const std::string& hash,
                                                                const ObjectMode& mode,
                                                                std::chrono::milliseconds timeout) {
  // The lock file is opened by path: only below a services directory that is what it claims to
  // be, never through a symlink planted in its place.
  const auto services = config.services_dir();
  if (auto checked = check_directory(config, &services); !checked) {
    return tl::unexpected(checked.error());
  }
  const auto path = Paths::service_lock(config, hash);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::microseconds(50);
  for (;;) {
    auto lock = platform::FileLock::create_locked(path, mode.mode, mode.group);
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
  // Cannot tell (the nodes directory is not what it claims to be): alive, as below.
  const auto nodes = config.nodes_dir();
  if (!check_directory(config, &nodes)) return true;
  auto held = platform::FileLock::is_held(Paths::node_lock(config, NodeId{node_id}));
  // Cannot tell (permissions, fds): count it as alive; cleaning a live node is the worse mistake.
  if (!held) return held.error().code != platform::ErrorCode::DoesNotExist;
  return *held;
}

ServiceCore::ServiceCore(std::shared_ptr<NodeCore> node, ServiceName name, std::string hash,
                         const StaticConfig& static_copy, platform::SharedMemory dynamic_shm)
    : m_node(std::move(node)),
      m_name(std::move(name)),
      m_hash(std::move(hash)),
      m_static(std::make_unique<StaticConfig>()),
      m_dynamic_shm(std::move(dynamic_shm)) {
  core::copy_static_config(*m_static, static_copy);
  m_layout = core::compute_dynamic_layout(*m_static);
  m_base = m_dynamic_shm.data();
  m_header = static_cast<DynamicHeader*>(m_base);
}

tl::expected<void, core::CoreError> ServiceCore::attach_region() {
  auto* base = static_cast<std::byte*>(m_base);
  auto attached = with_pattern(m_static->pattern, [&](auto policy) {
    return policy.attach_region(*m_static, m_layout, base).map([](auto region) {
      return AnyRegion(std::move(region));
    });
  });
  if (!attached) return tl::unexpected(core::CoreError::Corrupted);
  if (!*attached) return tl::unexpected(attached->error());
  m_region = std::move(**attached);
  return {};
}

core::NodeSlot& ServiceCore::node_slot(std::uint32_t i) const {
  return at_offset<core::NodeSlot>(m_base, m_layout.nodes_offset)[i];
}

std::size_t ServiceCore::count_ports(std::size_t table) const {
  std::size_t n = 0;
  for (std::uint32_t i = 0; i < port_capacity(table); ++i) {
    n += port_slot<core::PortSlot>(table, i).port_id.load(std::memory_order_acquire) != 0 ? 1 : 0;
  }
  return n;
}

std::size_t ServiceCore::count_nodes() const {
  std::size_t n = 0;
  for (std::uint32_t i = 0; i < m_layout.max_nodes; ++i) {
    n += node_slot(i).node_id.load(std::memory_order_acquire) != 0 ? 1 : 0;
  }
  return n;
}

std::uint64_t ServiceCore::next_port_id() const {
  // ORDERING: only uniqueness matters.
  return m_header->next_port_id.fetch_add(1, std::memory_order_relaxed);
}

std::optional<ServiceCore::ClaimedPort> ServiceCore::claim_port(std::size_t table) const {
  const auto self = m_node->id().value;
  for (std::uint32_t i = 0; i < port_capacity(table); ++i) {
    auto& slot = port_slot<core::PortSlot>(table, i);
    std::uint64_t expected = 0;
    // ORDERING: acq_rel: see the previous owner's release of the slot; publish our claim.
    if (slot.owner_node.compare_exchange_strong(expected, self, std::memory_order_acq_rel)) {
      const auto id = next_port_id();
      // ORDERING: release: a cleaner that acquires it may remove what is named after it.
      slot.reserved_id.store(id, std::memory_order_release);
      return ClaimedPort{i, id};
    }
  }
  return std::nullopt;
}

void ServiceCore::publish_port(std::size_t table, std::uint32_t i, std::uint64_t id) const {
  // ORDERING: release publishes everything written to the slot before its id.
  port_slot<core::PortSlot>(table, i).port_id.store(id, std::memory_order_release);
  m_header->generation[table].fetch_add(1, std::memory_order_release);
}

void ServiceCore::release_port(std::size_t table, std::uint32_t i) const {
  auto& slot = port_slot<core::PortSlot>(table, i);
  // What the port made goes first, while the slot still names it: killed after this line, the
  // slot is left to this node's cleaner, whose second removal finds nothing. Also when the
  // service was removed under us (`axon clean --force`): ids start at a random point in each
  // service life, so these names are never a later service's.
  if (const auto reserved = slot.reserved_id.load(std::memory_order_acquire); reserved != 0) {
    remove_port_resources(config(), m_hash, m_static->pattern, table, reserved);
  }
  if (slot.port_id.exchange(0, std::memory_order_acq_rel) != 0) {
    // ORDERING: release: peers that see the new generation see the slot empty.
    m_header->generation[table].fetch_add(1, std::memory_order_release);
  }
  slot.reserved_id.store(0, std::memory_order_relaxed);
  slot.owner_node.store(0, std::memory_order_release);
}

WakeAddress ServiceCore::wake_address(std::uint64_t listener_id, std::uint64_t owner_node) const {
  // Listener ids count per service; the fd server serves every service of its node.
  const auto access = to_access(m_static->access);
  const auto fifo = shared_file_mode(access, m_node->root_access());
  return WakeAddress{listener_id,
                     Paths::listener_fifo(config(), m_hash, listener_id),
                     Paths::node_socket(config(), NodeId{owner_node}),
                     m_hash + "/" + NodeId{listener_id}.to_string(),
                     access == Access::Group,
                     fifo.mode,
                     fifo.group};
}

Access ServiceCore::access() const { return to_access(m_static->access); }

tl::expected<void, platform::Error> ServiceCore::check_service_directory() const {
  const auto services = config().services_dir();
  auto root = check_directory(config(), &services);
  if (!root) return tl::unexpected(root.error());
  const auto owners =
      root->shared ? platform::DirectoryOwners::UsOrGroup : platform::DirectoryOwners::Us;
  return platform::check_directory(Paths::service_dir(config(), m_hash), owners)
      .map([](const platform::DirectoryStatus&) {});
}

tl::expected<std::shared_ptr<ServiceCore>, CreateFailure> ServiceCore::create(
    std::shared_ptr<NodeCore> node, const ServiceName& name, const StaticConfig& settings) {
  const auto& config = node->config();
  const auto hash = Paths::service_hash(name.as_string());
  if (settings.access != core::AccessKind::Owner && settings.access != core::AccessKind::Group) {
    return tl::unexpected(CreateFailure::InvalidSettings);
  }
  const auto services = config.services_dir();
  auto root = prepare_directory(config, &services);
  if (!root) return tl::unexpected(to_create_failure(root.error()));
  const Access access = to_access(settings.access);
  if (auto ours = static_maybe_ours(config, hash, *root); ours && !*ours) {
    return tl::unexpected(CreateFailure::PermissionDenied);
  }
  auto lock = ServiceLock::acquire(config, hash, lock_mode(access, *root));
  if (!lock) return tl::unexpected(to_create_failure(lock.error()));

  auto existing = probe_static(config, hash);
  if (existing.error) {
    // Out of fds the probe cannot tell; with no static object there is no service to guard,
    // and a lock file alone is a leftover no cleaner looks for unless a node died.
    if (!platform::SharedMemory::exists(Paths::service_static(config, hash))) lock->remove_file();
    return tl::unexpected(to_create_failure(*existing.error));
  }
  if (existing.probe == StaticProbe::Ready) return tl::unexpected(CreateFailure::AlreadyExists);
  // A damaged static config of a service live nodes still hold: taken, not garbage.
  if (existing.probe == StaticProbe::Stale &&
      held_by_live_nodes(config, hash, node->id().value)) {
    return tl::unexpected(CreateFailure::AlreadyExists);
  }
  // Stale (a creator died half-way: it would still hold the lock if it lived) or missing:
  // whatever is left under the name is ours to clear.
  if (!remove_service_objects(config, hash)) return tl::unexpected(CreateFailure::PermissionDenied);

  const auto layout = core::compute_dynamic_layout(settings);
  // Only the creator writes the static config: others map it read-only, so it is never
  // writable by them. Every user writes the dynamic config.
  const auto static_mode = read_only_file_mode(access, *root);
  const auto dynamic_mode = shared_file_mode(access, *root);
  auto static_shm =
      platform::SharedMemory::create(Paths::service_static(config, hash), sizeof(StaticConfig),
                                     static_mode.mode, static_mode.group);
  // A failed create leaves nothing under the name, its lock file included (we hold it, and
  // the name is empty again, as when the last node leaves; e.g. on a full /dev/shm).
  if (!static_shm) {
    lock->remove_file();
    return tl::unexpected(to_create_failure(static_shm.error()));
  }
  auto fail = [&](CreateFailure e) {
    if (remove_service_objects(config, hash)) lock->remove_file();
    return tl::unexpected(e);
  };
  auto dynamic_shm =
      platform::SharedMemory::create(Paths::service_dynamic(config, hash), layout.total_size,
                                     dynamic_mode.mode, dynamic_mode.group);
  if (!dynamic_shm) return fail(to_create_failure(dynamic_shm.error()));
  const ServicePlace place{config, hash, access, *root};
  const auto prepared = with_pattern(settings.pattern, [&](auto policy) {
    return policy.prepare(place, settings);
  });
  if (!prepared) return fail(CreateFailure::InvalidSettings);
  if (!*prepared) return fail(to_create_failure(prepared->error()));
  if (!initialize_dynamic(dynamic_shm->data(), layout, settings)) {
    return fail(CreateFailure::InternalFailure);
  }
  if (!register_node(layout, dynamic_shm->data(), node->id().value)) {
    return fail(CreateFailure::InternalFailure);
  }

  // SAFETY: fresh zero-filled page-aligned mapping of sizeof(StaticConfig) bytes.
  auto* sc = new (static_shm->data()) StaticConfig{};
  core::copy_static_config(*sc, settings);
  sc->magic = core::kStaticConfigMagic;
  sc->version = core::kLayoutVersion;
  sc->size_of_self = sizeof(StaticConfig);
  sc->creator_node_id = node->id().value;
  sc->dynamic_config_size = layout.total_size;
  sc->name = *core::FixedString<core::kMaxServiceNameLength>::from(name.as_string());
  sc->state.store(CreationState::Creating, std::memory_order_relaxed);
  std::shared_ptr<ServiceCore> core(
      new ServiceCore(std::move(node), name, hash, *sc, std::move(*dynamic_shm)));
  if (!core->attach_region()) {
    core->m_node.reset();  // never leave a half-made service: remove it all below
    return fail(CreateFailure::InternalFailure);
  }
  // ORDERING: release makes every field above visible to whoever acquires Ready.
  sc->state.store(CreationState::Ready, std::memory_order_release);
  core->m_static->state.store(CreationState::Ready, std::memory_order_relaxed);
  return core;
}

tl::expected<std::shared_ptr<ServiceCore>, OpenFailure> ServiceCore::open(
    std::shared_ptr<NodeCore> node, const ServiceName& name, core::MessagingPattern pattern,
    RequirementCheck check) {
  const auto& config = node->config();
  const auto& root = node->root_access();
  const auto hash = Paths::service_hash(name.as_string());
  // Look before taking the lock: a failed open must not leave a lock file behind, and an
  // object we may not read is PermissionDenied, not "does not exist".
  if (auto ours = static_maybe_ours(config, hash, root); !ours) {
    if (ours.error().code == platform::ErrorCode::DoesNotExist) {
      return tl::unexpected(OpenFailure::DoesNotExist);
    }
  } else if (!*ours) {
    return tl::unexpected(OpenFailure::PermissionDenied);
  }
  if (auto probe = platform::SharedMemory::open(Paths::service_static(config, hash),
                                                platform::AccessMode::ReadOnly);
      !probe) {
    switch (probe.error().code) {
      case platform::ErrorCode::DoesNotExist:
        return tl::unexpected(OpenFailure::DoesNotExist);
      case platform::ErrorCode::PermissionDenied:
        return tl::unexpected(OpenFailure::PermissionDenied);
      case platform::ErrorCode::LimitReached:
      case platform::ErrorCode::InsufficientMemory:
        return tl::unexpected(OpenFailure::InsufficientResources);
      default: break;  // truncated or half-made: judged under the lock below
    }
  }
  auto lock = ServiceLock::acquire(config, hash, lock_mode(peek_access(config, hash), root));
  if (!lock) return tl::unexpected(to_open_failure(lock.error()));

  auto read = read_service_configs(config, hash, root, platform::AccessMode::ReadWrite);
  if (!read) {
    switch (read.error()) {
      case ReadFailure::NotReady:
      case ReadFailure::Truncated:
      case ReadFailure::Overwritten:
        // A static config truncated or overwritten while live nodes hold the service (its
        // dynamic config still names them): a damaged live service, kept for them and for
        // `axon clean --force`, never removed and recreated under them.
        if (held_by_live_nodes(config, hash, node->id().value)) {
          return tl::unexpected(OpenFailure::Corrupted);
        }
        [[fallthrough]];
      case ReadFailure::Missing:
        // Stale (a creator died half-way) or missing (a remover did): clear what is left.
        remove_service_objects(config, hash);
        lock->remove_file();
        return tl::unexpected(OpenFailure::DoesNotExist);
      case ReadFailure::PermissionDenied: return tl::unexpected(OpenFailure::PermissionDenied);
      case ReadFailure::Corrupted: return tl::unexpected(OpenFailure::Corrupted);
      case ReadFailure::VersionMismatch: return tl::unexpected(OpenFailure::VersionMismatch);
      case ReadFailure::InsufficientResources:
        return tl::unexpected(OpenFailure::InsufficientResources);
      case ReadFailure::InternalFailure: return tl::unexpected(OpenFailure::InternalFailure);
    }
  }
  const StaticConfig& sc = *read->config;
  // Another name hashing to ours (a collision): not ours to open.
  if (sc.name.view() != name.as_string()) return tl::unexpected(OpenFailure::Corrupted);
  auto& dynamic_shm = read->dynamic_shm;
  auto& h = *static_cast<DynamicHeader*>(dynamic_shm.data());

  const auto self = node->id().value;
  const auto& layout = read->layout;
  purge_dead_locked(config, hash, sc.pattern, h, layout, dynamic_shm.data(),
                    [&](std::uint64_t id) { return id != self && !node_is_alive(config, id); });
  // Every user of it died: it is garbage, not a service. Unless we may not remove it (another
  // user's group service: /dev/shm is sticky): then it is still whole and valid, and we join it.
  // Looked at before its pattern and settings: a dead service never refuses a live opener (whose
  // open_or_create then creates it with its own settings).
  if (no_nodes_left(layout, dynamic_shm.data()) && remove_service_objects(config, hash)) {
    lock->remove_file();
    return tl::unexpected(OpenFailure::DoesNotExist);
  }
  if (sc.pattern != pattern) return tl::unexpected(OpenFailure::IncompatibleMessagingPattern);
  if (!check(sc)) return tl::unexpected(OpenFailure::Requirement);
  if (!register_node(layout, dynamic_shm.data(), self)) {
    return tl::unexpected(OpenFailure::ExceedsMaxNodes);
  }
  std::shared_ptr<ServiceCore> core(
      new ServiceCore(std::move(node), name, hash, sc, std::move(dynamic_shm)));
  if (!core->attach_region()) {
    // Still under the lock: leave the node slot here, not in the destructor, which would wait
    // for the lock we hold. The corrupted objects stay for `axon clean --force`.
    core->leave_node_slot();
    core->m_node.reset();
    return tl::unexpected(OpenFailure::Corrupted);
  }
  return core;
}

ServiceCore::~ServiceCore() {
  if (!m_node) return;
  // Removed under us (`axon clean --force`): the name may belong to a new service by now, which
  // is not ours to leave or remove.
  if (!m_dynamic_shm.is_linked()) return;
  const auto& cfg = m_node->config();
  auto lock = ServiceLock::acquire(cfg, m_hash,
                                   lock_mode(to_access(m_static->access), m_node->root_access()));
  if (!lock) return;  // leave it to a cleaner; never block a destructor for ever
  if (!m_dynamic_shm.is_linked()) return;
  leave_node_slot();
  if (no_nodes_left(m_layout, m_base) && remove_service_objects(cfg, m_hash)) {
    lock->remove_file();
  }
}

void ServiceCore::leave_node_slot() {
  const auto self = m_node->id().value;
  for (std::uint32_t i = 0; i < m_layout.max_nodes; ++i) {
    auto& slot = node_slot(i);
    if (slot.node_id.load(std::memory_order_acquire) != self) continue;
    if (slot.handles.fetch_sub(1, std::memory_order_acq_rel) <= 1) {
      slot.handles.store(0, std::memory_order_relaxed);
      slot.node_id.store(0, std::memory_order_release);
    }
    break;
  }
}

bool held_by_live_nodes(const Config& config, const std::string& hash, std::uint64_t self) {
  auto shm = platform::SharedMemory::open(Paths::service_dynamic(config, hash),
                                          platform::AccessMode::ReadOnly);
  if (!shm || shm->size() < sizeof(DynamicHeader)) return false;
  if (auto status = shm->status(); !status || !maybe_our_object(*status, current_root(config))) {
    return false;  // not ours to judge (nor to remove)
  }
  // SAFETY: page-aligned mapping of at least the header's size; node_table_of checks the
  // table's bounds against the mapping's size, reading each header field once.
  const auto table =
      core::node_table_of(*static_cast<const DynamicHeader*>(shm->data()), shm->size());
  if (!table) return false;
  const auto* nodes = reinterpret_cast<const core::NodeSlot*>(
      static_cast<const std::byte*>(shm->data()) + table->offset);
  for (std::uint32_t i = 0; i < table->count; ++i) {
    const auto id = nodes[i].node_id.load(std::memory_order_acquire);
    if (id != 0 && id != self && node_is_alive(config, id)) return true;
  }
  return false;
}

ObjectMode service_lock_mode(const Config& config, const std::string& hash) {
  return lock_mode(peek_access(config, hash), current_root(config));
}

std::optional<std::vector<std::uint64_t>> service_holders(const Config& config,
                                                          const std::string& hash) {
  auto read = read_service_configs(config, hash, current_root(config),
                                   platform::AccessMode::ReadOnly);
  if (!read) return std::nullopt;
  std::vector<std::uint64_t> ids;
  const auto& l = read->layout;
  const auto* nodes = at_offset<const core::NodeSlot>(read->dynamic_shm.data(), l.nodes_offset);
  for (std::uint32_t i = 0; i < l.max_nodes; ++i) {
    if (const auto id = nodes[i].node_id.load(std::memory_order_acquire); id != 0) {
      ids.push_back(id);
    }
  }
  return ids;
}

PurgeResult purge_service(const Config& config, const std::string& hash,
                          const std::function<bool(std::uint64_t)>& is_dead) {
  PurgeResult result;
  if (auto ours = static_maybe_ours(config, hash, current_root(config)); ours && !*ours) {
    return result;
  }
  auto lock = ServiceLock::acquire(config, hash,
                                   lock_mode(peek_access(config, hash), current_root(config)));
  if (!lock) return result;
  auto read = read_service_configs(config, hash, current_root(config),
                                   platform::AccessMode::ReadWrite);
  if (!read) {
    switch (read.error()) {
      case ReadFailure::NotReady:
      case ReadFailure::Truncated:
      case ReadFailure::Overwritten:
        if (held_by_live_nodes(config, hash, 0)) return result;
        [[fallthrough]];
      case ReadFailure::Missing:
        // Stale: its creator died half-way. Missing: its remover died half-way (the static
        // config goes first); what is left under the name is garbage either way.
        result.service_removed = remove_service_objects(config, hash);
        lock->remove_file();
        return result;
      case ReadFailure::PermissionDenied:  // another user's objects are not ours to change
      case ReadFailure::Corrupted:         // nobody can tell who holds it: `clean --force`
      case ReadFailure::VersionMismatch:
      case ReadFailure::InsufficientResources:
      case ReadFailure::InternalFailure: return result;
    }
  }
  const StaticConfig& sc = *read->config;
  result.service_name = std::string(sc.name.view());
  auto& h = *static_cast<DynamicHeader*>(read->dynamic_shm.data());
  const auto& layout = read->layout;
  result.removed_ports =
      purge_dead_locked(config, hash, sc.pattern, h, layout, read->dynamic_shm.data(), is_dead);
  if (no_nodes_left(layout, read->dynamic_shm.data()) && remove_service_objects(config, hash)) {
    lock->remove_file();
    result.service_removed = true;
  }
  return result;
}

}  // namespace axon::detail
