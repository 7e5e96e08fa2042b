// The wake service of a publish-subscribe service: the event service `__axon_wake/<H>` (H: the
// 16 hex digits of the service's hash, as in its objects' names) that wakes its wakeable
// subscribers (docs/design.md §6, "Wakeable subscribers"). A subscriber created with
// `wakeable(true)` holds a listener on it; a publisher that connects to such a subscriber opens
// it and notifies after each send. The name is derived, so no peer needs to be told it, and fits
// whatever the service's name is; names under `__axon_wake/` are reserved for it.
#pragma once

#include <string_view>

#include <tl/expected.hpp>

#include "axon/event/service.hpp"
#include "axon/service_name.hpp"

namespace axon::detail {

class ServiceCore;

inline constexpr std::string_view kWakeServicePrefix = "__axon_wake/";

/// `__axon_wake/<H>` for the service whose hash is `hash`.
ServiceName wake_service_name(const std::string& hash);

enum class WakeServiceError {
  Unavailable,            ///< the wake service exists with other settings or another pattern
  PermissionDenied,       ///< the wake service belongs to someone else
  InsufficientResources,  ///< out of fds or memory
  Corrupted,              ///< the wake service fails validation
};

/// The friend of ServiceBuilder that opens, or creates, the wake service of `pubsub` with
/// settings that follow the publish-subscribe service's: a listener per subscriber, a notifier per
/// publisher, the same nodes and access, event id 0 only.
struct WakeService {
  static tl::expected<EventService, WakeServiceError> open_or_create(const ServiceCore& pubsub);
};

}  // namespace axon::detail
