#include "axon/discovery.hpp"

#include <algorithm>
#include <cstring>
#include <map>

#include "axon/core/service_layout.hpp"
#include "axon/detail/node_core.hpp"
#include "axon/detail/root.hpp"
#include "axon/detail/service_core.hpp"
#include "axon/platform/file_lock.hpp"
#include "axon/platform/shared_memory.hpp"

namespace axon {

const char* to_string(DiscoveryError error) {
  switch (error) {
    case DiscoveryError::DoesNotExist: return "DoesNotExist";
    case DiscoveryError::Corrupted: return "Corrupted";
    case DiscoveryError::VersionMismatch:
      return "VersionMismatch";
    case DiscoveryError::InvalidConfig:
      return "InvalidConfig";
    case DiscoveryError::PermissionDenied: return "PermissionDenied";
    case DiscoveryError::InternalFailure: return "InternalFailure";
  }
  return "Unknown";
}

namespace {

bool being_changed(const Config& config, const std::string& hash);

template <typename T>
const T* slots_at(const void* base, std::uint64_t offset) {
  // SAFETY: offsets come from a header validated against the mapping's size.
  return reinterpret_cast<const T*>(static_cast<const std::byte*>(base) + offset);
}

tl::expected<ServiceInfo, DiscoveryError> read_service(const Config& config,
                                                       const detail::RootAccess& root,
                                                       const std::string& hash) {
  auto read =
      detail::read_service_configs(config, hash, root, platform::AccessMode::ReadOnly);
  if (!read) {
    switch (read.error()) {
      case detail::ReadFailure::NotReady:
        // Not Ready while live nodes other than a creator at work hold it: its static config was
        // damaged under them (it is kept for them and `axon clean --force`), so it is shown.
        if (detail::held_by_live_nodes(config, hash, 0) && !being_changed(config, hash)) {
          return tl::unexpected(DiscoveryError::Corrupted);
        }
        [[fallthrough]];
      case detail::ReadFailure::Missing:
        return tl::unexpected(DiscoveryError::DoesNotExist);  // being created, or abandoned
      case detail::ReadFailure::Truncated:
      case detail::ReadFailure::Overwritten:  // no creator ever writes that state
      case detail::ReadFailure::Corrupted: return tl::unexpected(DiscoveryError::Corrupted);
      case detail::ReadFailure::VersionMismatch:
        return tl::unexpected(DiscoveryError::VersionMismatch);
      case detail::ReadFailure::PermissionDenied:
        return tl::unexpected(DiscoveryError::PermissionDenied);
      case detail::ReadFailure::InsufficientResources:
      case detail::ReadFailure::InternalFailure:
        return tl::unexpected(DiscoveryError::InternalFailure);
    }
  }
  const auto& sc = *read->config;
  const auto& l = read->layout;
  const void* base = read->dynamic_shm.data();
  ServiceInfo info;
  info.name = std::string(sc.name.view());
  info.access = detail::to_access(sc.access);
  info.creator = NodeId{sc.creator_node_id};
  const auto* nodes = slots_at<core::NodeSlot>(base, l.nodes_offset);
  for (std::uint32_t i = 0; i < l.max_nodes; ++i) {
    if (const auto id = nodes[i].node_id.load(std::memory_order_acquire); id != 0) {
      info.node_ids.push_back(NodeId{id});
    }
  }
  info.nodes = info.node_ids.size();
  detail::PortCounts ports;
  ports.layout = l;
  ports.base = static_cast<const std::byte*>(base);
  // The ports of dead nodes, counted the same way: a second PortCounts without a region, so that
  // the pattern's own conversion names them (and computes nothing from the region).
  detail::PortCounts dead_ports;
  dead_ports.layout = l;
  std::map<std::uint64_t, bool> alive;  // one lock probe per node, however many ports it has
  for (std::size_t t = 0; t < core::kPortTables; ++t) {
    for (std::uint32_t i = 0; i < l.ports[t].count; ++i) {
      const auto* slot =
          slots_at<core::PortSlot>(base, l.ports[t].offset + std::uint64_t{i} * l.ports[t].stride);
      if (slot->port_id.load(std::memory_order_acquire) == 0) continue;
      ++ports.tables[t];
      // ORDERING: relaxed: the owner is written before port_id is published (release, acquired
      // above); a peer rewriting it meanwhile only changes which node we ask about.
      const std::uint64_t owner = slot->owner_node.load(std::memory_order_relaxed);
      if (owner == 0) continue;  // being released right now
      auto known = alive.find(owner);
      if (known == alive.end()) {
        known = alive.emplace(owner, detail::node_is_alive(config, owner)).first;
      }
      if (!known->second) ++dead_ports.tables[t];
    }
  }
  // The pattern's settings and port counts, by the pattern's own conversion.
  detail::with_pattern(sc.pattern, [&](auto policy) {
    policy.describe(sc, ports, info);
    ServiceInfo dead;
    dead.access = info.access;
    policy.describe(sc, dead_ports, dead);
    info.dead = ServiceInfo::DeadPorts{.listeners = dead.listeners,
                                       .notifiers = dead.notifiers,
                                       .publishers = dead.publishers,
                                       .subscribers = dead.subscribers,
                                       .clients = dead.clients,
                                       .servers = dead.servers};
  });
  return info;
}

/// The name stored in the static config of `hash`, when it is intact: a valid service name
/// that hashes to `hash`. Otherwise `hash` itself.
std::string stored_name(const Config& config, const std::string& hash) {
  auto st = platform::SharedMemory::open(detail::Paths::service_static(config, hash),
                                         platform::AccessMode::ReadOnly);
  if (!st || st->size() < sizeof(core::StaticConfig)) return hash;
  core::FixedString<core::kMaxServiceNameLength> stored;
  // SAFETY: size checked; the name is copied out as bytes (a writer can only change the copy's
  // value, view() clamps its length) and checked before it is trusted.
  const auto* sc = static_cast<const core::StaticConfig*>(st->data());
  std::memcpy(&stored, &sc->name, sizeof(stored));
  std::string name(stored.view());
  if (!ServiceName::create(name) || detail::Paths::service_hash(name) != hash) return hash;
  return name;
}

/// True while a process holds the service's lock: it is being created or changed right now, so
/// what we read may be half-made rather than corrupted.
bool being_changed(const Config& config, const std::string& hash) {
  const auto services = config.services_dir();
  if (!detail::check_directory(config, &services)) return false;
  auto held = platform::FileLock::is_held(detail::Paths::service_lock(config, hash));
  return held && *held;
}

detail::RootAccess current_root(const Config& config) {
  return detail::check_directory(config).value_or(detail::RootAccess{});
}

}  // namespace

tl::expected<ServiceScan, DiscoveryError> scan_services(const Config& config) {
  if (!config.validate()) return tl::unexpected(DiscoveryError::InvalidConfig);
  const std::string stem = config.prefix + "svc_";
  auto objects = platform::SharedMemory::list(stem);
  if (!objects) {
    return tl::unexpected(objects.error().code == platform::ErrorCode::PermissionDenied
                              ? DiscoveryError::PermissionDenied
                              : DiscoveryError::InternalFailure);
  }
  const auto root = current_root(config);
  ServiceScan scan;
  for (const auto& o : *objects) {
    const auto parsed = detail::Paths::parse_object(config, o);
    if (!parsed || parsed->kind != detail::ParsedName::Kind::ServiceStatic) continue;
    const auto& hash = parsed->hash;
    // Another user's object under the shared prefix is neither listed nor reported, whatever
    // it holds (root included).
    if (auto status = platform::SharedMemory::status_of(o);
        !status || !detail::maybe_our_object(*status, root)) {
      continue;
    }
    auto info = read_service(config, root, hash);
    if (info) {
      scan.services.push_back(std::move(*info));
    } else if ((info.error() == DiscoveryError::Corrupted ||
                info.error() == DiscoveryError::VersionMismatch) &&
               !being_changed(config, hash)) {
      scan.unreadable.push_back(UnreadableService{stored_name(config, hash), hash, info.error()});
    }
  }
  std::sort(scan.services.begin(), scan.services.end(),
            [](const ServiceInfo& a, const ServiceInfo& b) { return a.name < b.name; });
  std::sort(scan.unreadable.begin(), scan.unreadable.end(),
            [](const UnreadableService& a, const UnreadableService& b) { return a.name < b.name; });
  return scan;
}

tl::expected<std::vector<ServiceInfo>, DiscoveryError> list_services(const Config& config) {
  return scan_services(config).map([](ServiceScan scan) { return std::move(scan.services); });
}

tl::expected<ServiceInfo, DiscoveryError> describe_service(const ServiceName& name,
                                                           const Config& config) {
  if (!config.validate()) return tl::unexpected(DiscoveryError::InvalidConfig);
  auto info =
      read_service(config, current_root(config), detail::Paths::service_hash(name.as_string()));
  if (info && info->name != name.as_string()) return tl::unexpected(DiscoveryError::Corrupted);
  return info;
}

}  // namespace axon
