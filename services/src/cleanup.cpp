#include "axon/cleanup.hpp"

#include <algorithm>
#include <chrono>
#include <set>
#include <string_view>

#include "axon/detail/root.hpp"
#include "axon/detail/service_core.hpp"
#include "axon/node.hpp"
#include "axon/detail/system_event_paths.hpp"
#include "axon/system_event.hpp"
#include "axon/platform/filesystem.hpp"

namespace axon {
namespace {

constexpr const char* kShmDirectory = "/dev/shm/";
// Long enough for any creator to finish (creation takes microseconds); short enough that a hung
// process holding the lock does not hang the operator.
constexpr auto kForcedLockTimeout = std::chrono::seconds(1);

/// Hashes of every service that left anything: an object under the prefix (its static or
/// dynamic config, a publisher's segment), or a lock file or FIFO directory of its own. A
/// creator or remover killed half-way may have left any one of them alone.
std::vector<std::string> service_hashes(const Config& config) {
  std::vector<std::string> out;
  auto add = [&](const std::string& hash) {
    if (std::find(out.begin(), out.end(), hash) == out.end()) out.push_back(hash);
  };
  const std::string stem = config.prefix + "svc_";
  const auto root = detail::check_directory(config).value_or(detail::RootAccess{});
  if (auto objects = platform::SharedMemory::list(stem)) {
    // "<prefix>svc_<16 hex>_s", "_d" or "_p<id>". Another user's objects under the shared prefix
    // are not ours to judge: looking at them would even leave a lock file of theirs in our root.
    for (const auto& o : *objects) {
      const auto parsed = detail::Paths::parse_object(config, o);
      if (!parsed) continue;
      auto status = platform::SharedMemory::status_of(o);
      if (status && detail::maybe_our_object(*status, root)) add(parsed->hash);
    }
  }
  const auto services = config.services_dir();
  if (!detail::check_directory(config, &services)) return out;
  if (auto files = platform::list_directory(services)) {
    // "<16 hex>.lock" and "<16 hex>" (a FIFO directory).
    for (const auto& f : *files) {
      const auto parsed = detail::Paths::parse_file(f);
      if (parsed && (parsed->kind == detail::ParsedName::Kind::Lock ||
                     parsed->kind == detail::ParsedName::Kind::ServiceDirectory)) {
        add(parsed->hash);
      }
    }
  }
  return out;
}

/// True when no object of service `hash` is left under our prefix and no FIFO directory: then
/// its lock file guards nothing.
bool service_has_nothing(const Config& config, const std::string& hash) {
  auto objects = platform::SharedMemory::list(config.prefix + "svc_" + hash + "_");
  return objects && objects->empty() && !platform::path_exists(detail::Paths::service_dir(config, hash));
}

/// Lock files left by processes that died holding them, in a checked directory: a service's
/// `<H>.lock` with nothing else of the service left (e.g. its creator failed on a full
/// /dev/shm, or was killed), an event's creation lock `<H>.lock` (held only while creating).
void remove_stale_locks(const Config& config, CleanupReport& report) {
  const auto services = config.services_dir();
  // One listing of /dev/shm for every lock file (a live service keeps its lock file, so there
  // are as many as services); the rare candidate is checked again, precisely, under its lock.
  std::set<std::string, std::less<>> with_objects;
  const std::string stem = config.prefix + "svc_";
  if (auto objects = platform::SharedMemory::list(stem)) {
    for (const auto& o : *objects) {
      if (const auto parsed = detail::Paths::parse_object(config, o)) {
        with_objects.insert(parsed->hash);
      }
    }
  } else {
    return;
  }
  if (detail::check_directory(config, &services)) {
    if (auto files = platform::list_directory(services)) {
      for (const auto& f : *files) {
        const auto parsed = detail::Paths::parse_file(f);
        if (!parsed || parsed->kind != detail::ParsedName::Kind::Lock) continue;
        const auto& hash = parsed->hash;
        const auto path = services + "/" + f;
        if (with_objects.contains(hash) ||
            platform::path_exists(detail::Paths::service_dir(config, hash))) {
          continue;
        }
        if (detail::remove_stale_lock_file(path, [&] { return service_has_nothing(config, hash); })) {
          report.removed_files.push_back(path);
        }
      }
    }
  }
  const auto events = detail::SystemEventPaths::directory(config);
  if (!detail::check_directory(config, &events)) return;
  if (auto files = platform::list_directory(events)) {
    for (const auto& f : *files) {
      const auto parsed = detail::Paths::parse_file(f);
      if (!parsed || parsed->kind != detail::ParsedName::Kind::Lock) continue;
      const auto path = events + "/" + f;
      if (detail::remove_stale_lock_file(path, [] { return true; })) {
        report.removed_files.push_back(path);
      }
    }
  }
}

}  // namespace

const char* to_string(ForcedRemovalError error) {
  switch (error) {
    case ForcedRemovalError::InvalidConfig:
      return "InvalidConfig";
    case ForcedRemovalError::InternalFailure:
      return "InternalFailure";
  }
  return "Unknown";
}

CleanupReport Node::cleanup_dead_nodes(const Config& config) {
  CleanupReport report;
  auto nodes = Node::list(config);  // refuses an invalid config or an untrustworthy nodes dir
  if (!nodes) return report;
  const auto nodes_dir = config.nodes_dir();
  for (const auto& info : *nodes) {
    if (info.state == NodeState::Alive) continue;
    // Every file below is reached through the nodes directory: check it again for each node,
    // so one replaced by a symlink meanwhile is never entered.
    if (!detail::check_directory(config, &nodes_dir)) return report;
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
    // Only our own details: in a shared root a dead node of another member is listed and its
    // ports purged, but its object stays for its user (/dev/shm is sticky; root neither).
    const auto details = detail::Paths::node_details(config, info.id);
    const auto details_status = platform::SharedMemory::status_of(details);
    const bool had_details = details_status && detail::own_object(*details_status) &&
                             platform::SharedMemory::remove(details).has_value();
    // unlink never follows a symlink: a link planted here is removed, its target untouched.
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
  // A node killed between making its lock file under its private name and publishing it left
  // "<id>.lock.new": unlocked means its maker is dead (a live maker locks it right after making
  // it; should our brief lock fall in between, that maker starts again under another id).
  if (!detail::check_directory(config, &nodes_dir)) {
    remove_stale_locks(config, report);
    return report;
  }
  if (auto files = platform::list_directory(nodes_dir)) {
    for (const auto& f : *files) {
      const auto parsed = detail::Paths::parse_file(f);
      if (!parsed || parsed->kind != detail::ParsedName::Kind::UnpublishedLock) continue;
      const auto path = nodes_dir + "/" + f;
      if (detail::remove_stale_lock_file(path, [] { return true; })) {
        report.removed_files.push_back(path);
      }
    }
  }
  remove_stale_locks(config, report);
  return report;
}

tl::expected<ForcedRemoval, ForcedRemovalError> remove_service_forcibly(const ServiceName& name,
                                                                        const Config& config) {
  if (!config.validate()) return tl::unexpected(ForcedRemovalError::InvalidConfig);
  const auto hash = detail::Paths::service_hash(name.as_string());
  ForcedRemoval result;

  // "<prefix>svc_<H>_": the static (_s) and dynamic (_d) configs and every segment (_p<id>).
  const auto stem = config.prefix + "svc_" + hash + "_";
  auto objects = platform::SharedMemory::list(stem);
  if (!objects) return tl::unexpected(ForcedRemovalError::InternalFailure);
  std::sort(objects->begin(), objects->end(), [](const std::string& a, const std::string& b) {
    // The static config last: while it exists the name is taken, so no one creates anew under
    // it before the rest is gone.
    return (a.ends_with("_s") ? 1 : 0) < (b.ends_with("_s") ? 1 : 0) ||
           ((a.ends_with("_s") == b.ends_with("_s")) && a < b);
  });
  const auto services = config.services_dir();
  const bool services_ok = detail::check_directory(config, &services).has_value();
  const auto lock_path = detail::Paths::service_lock(config, hash);
  const auto dir_path = detail::Paths::service_dir(config, hash);
  const bool lock_existed = services_ok && platform::path_exists(lock_path);
  const bool dir_existed = services_ok && platform::path_exists(dir_path);
  if (objects->empty() && !lock_existed && !dir_existed) return result;

  if (auto holders = detail::service_holders(config, hash)) {
    auto known = Node::list(config);
    for (const auto id : *holders) {
      if (!detail::node_is_alive(config, id)) continue;
      NodeInfo holder{.id = NodeId{id}, .pid = 0, .name = {}, .state = NodeState::Alive};
      if (known) {
        for (const auto& node : *known) {
          if (node.id.value == id) holder = node;
        }
      }
      result.live_holders.push_back(holder);
    }
  }

  // Under the service's lock when we get it: then no creator or cleaner is half-way through.
  std::optional<detail::ServiceLock> lock;
  if (services_ok) {
    auto taken = detail::ServiceLock::acquire(config, hash, detail::service_lock_mode(config, hash),
                                              kForcedLockTimeout);
    if (taken) lock.emplace(std::move(*taken));
  }

  for (const auto& object : *objects) {
    if (auto removed = platform::SharedMemory::remove(object); removed) {
      result.removed.push_back(kShmDirectory + object);
    } else if (removed.error().code != platform::ErrorCode::DoesNotExist) {
      result.failed.push_back(kShmDirectory + object + ": " + removed.error().describe());
    }
  }
  if (!services_ok) return result;
  if (platform::is_symlink(dir_path)) {
    // Planted in place of the FIFO directory: the link goes, what it points to stays.
    if (platform::remove_file(dir_path)) result.removed.push_back(dir_path);
  } else if (dir_existed) {
    auto files = platform::remove_directory_and_files(dir_path);
    if (files) {
      for (const auto& file : *files) result.removed.push_back(dir_path + "/" + file);
      result.removed.push_back(dir_path);
    } else if (files.error().code != platform::ErrorCode::DoesNotExist) {
      result.failed.push_back(dir_path + ": " + files.error().describe());
    }
  }
  if (lock) {
    lock->remove_file();
    if (lock_existed) result.removed.push_back(lock_path);
  } else if (lock_existed) {
    // A lock file we could not take (a symlink planted there, or held by a hung process).
    if (auto removed = platform::remove_file(lock_path); removed) {
      result.removed.push_back(lock_path);
    } else if (removed.error().code != platform::ErrorCode::DoesNotExist) {
      result.failed.push_back(lock_path + ": " + removed.error().describe());
    }
  }
  return result;
}

}  // namespace axon
