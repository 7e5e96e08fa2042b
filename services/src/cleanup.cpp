#include <algorithm>

#include "axon/detail/service_core.hpp"
#include "axon/node.hpp"
#include "axon/platform/filesystem.hpp"

namespace axon {
namespace {

/// Hashes of every service whose static config object exists under the prefix.
std::vector<std::string> service_hashes(const Config& config) {
  std::vector<std::string> out;
  const std::string stem = config.prefix + "svc_";
  auto objects = platform::SharedMemory::list(stem);
  if (!objects) return out;
  for (const auto& o : *objects) {
    // "<prefix>svc_<16 hex>_s" or "_d": either names the service.
    if (o.size() != stem.size() + 16 + 2) continue;
    auto hash = o.substr(stem.size(), 16);
    if (std::find(out.begin(), out.end(), hash) == out.end()) out.push_back(std::move(hash));
  }
  return out;
}

}  // namespace

CleanupReport Node::cleanup_dead_nodes(const Config& config) {
  CleanupReport report;
  auto nodes = Node::list(config);
  if (!nodes) return report;
  for (const auto& info : *nodes) {
    if (info.state == NodeState::Alive) continue;
    const auto lock_path = detail::Paths::node_lock(config, info.id);
    auto lock = platform::FileLock::try_lock(lock_path);
    if (!lock && lock.error().code != platform::ErrorCode::DoesNotExist) continue;  // alive again?
    // Holding the dead node's lock makes us its only cleaner; a lock on an unlinked file means
    // another cleaner finished it already.
    if (lock && !lock->is_still_linked()) continue;
    const auto dead_id = info.id.value;
    for (const auto& hash : service_hashes(config)) {
      auto purged = detail::purge_service(config, hash, [&](std::uint64_t id) {
        return id == dead_id;
      });
      report.removed_ports += purged.removed_ports;
      if (purged.service_removed) {
        report.removed_services.push_back(purged.service_name.empty() ? hash : purged.service_name);
      }
    }
    const bool had_details =
        platform::SharedMemory::remove(detail::Paths::node_details(config, info.id)).has_value();
    (void)platform::remove_file(detail::Paths::node_socket(config, info.id));
    // Without a lock file, another cleaner may have finished this node a moment ago: report it
    // only when we removed something of it, so two cleaners never both claim one node.
    if (lock) {
      (void)lock->unlink();
    } else if (!had_details) {
      continue;
    }
    report.dead_nodes.push_back(info.id);
  }
  return report;
}

}  // namespace axon
