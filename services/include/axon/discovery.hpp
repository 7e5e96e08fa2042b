// Discovery: which services exist under this configuration, from any process, without joining
// them. Reads each service's static config and counts its live ports; takes no lock. Objects of
// other users under our names (not ours, not a group service of our shared root) are ignored.
#pragma once

#include <optional>
#include <string>
#include <tl/expected.hpp>
#include <vector>

#include "axon/access.hpp"
#include "axon/config.hpp"
#include "axon/event/static_config.hpp"
#include "axon/messaging_pattern.hpp"
#include "axon/node.hpp"
#include "axon/publish_subscribe/static_config.hpp"
#include "axon/request_response/static_config.hpp"

namespace axon {

struct ServiceInfo {
  std::string name;
  MessagingPattern pattern = MessagingPattern::Event;
  Access access = kDefaultAccess;
  NodeId creator;
  EventStaticConfig event;           ///< its settings, for event services
  PubSubStaticConfig pubsub;         ///< its settings, for publish-subscribe services
  RequestResponseStaticConfig request_response;  ///< its settings, for request-response services
  std::size_t listeners = 0;
  std::size_t notifiers = 0;
  std::size_t publishers = 0;
  std::size_t subscribers = 0;
  std::size_t clients = 0;
  std::size_t servers = 0;
  /// Requests whose PendingResponse is alive (request-response), as the clients' links say.
  std::size_t pending_requests = 0;
  std::size_t nodes = 0;
  std::vector<NodeId> node_ids;      ///< nodes holding the service
  /// Of the port counts above, those whose node is dead and not yet cleaned (`axon clean` or any
  /// node's creation removes them): each field counts the dead among the same field above. A node
  /// whose liveness cannot be told counts as alive.
  struct DeadPorts {
    std::size_t listeners = 0;
    std::size_t notifiers = 0;
    std::size_t publishers = 0;
    std::size_t subscribers = 0;
    std::size_t clients = 0;
    std::size_t servers = 0;
  } dead;
};

enum class DiscoveryError {
  DoesNotExist,      ///< no service of that name
  Corrupted,         ///< its shared memory fails validation (or is truncated)
  VersionMismatch,   ///< made by an incompatible axon version
  PermissionDenied,  ///< /dev/shm or the object cannot be read, or belongs to another user
  InvalidConfig,     ///< the prefix or root path is malformed (Config::validate)
  InternalFailure,  ///< a system call failed unexpectedly
};
const char* to_string(DiscoveryError error);

/// A service whose objects exist but cannot be read as a whole service.
struct UnreadableService {
  /// Its name when the static config still holds one that hashes to its objects' names (so it is
  /// the real name), else `hash`.
  std::string name;
  std::string hash;                                  ///< 16 hex digits, as in its objects' names
  DiscoveryError error = DiscoveryError::Corrupted;  ///< Corrupted or VersionMismatch
};

/// What list_services() sees, the unreadable services included.
struct ServiceScan {
  std::vector<ServiceInfo> services;          ///< complete services, sorted by name
  std::vector<UnreadableService> unreadable;  ///< sorted by name
};

/// Every complete service, sorted by name. Services that fail validation are skipped.
tl::expected<std::vector<ServiceInfo>, DiscoveryError> list_services(
    const Config& config = Config::from_environment());

/// Every service, complete or not: what `axon service list` prints. A service being created
/// right now (its lock is held), or abandoned half-way (not Ready), or another user's, is in
/// neither list.
tl::expected<ServiceScan, DiscoveryError> scan_services(
    const Config& config = Config::from_environment());

/// One service by name.
tl::expected<ServiceInfo, DiscoveryError> describe_service(
    const ServiceName& name, const Config& config = Config::from_environment());

}  // namespace axon
