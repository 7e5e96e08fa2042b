// What the robustness tests and their victim program (robust_victim.cpp) must agree on: the
// payload type and the settings of the services they share, so that every process opens the
// same name with the same type and requirements.
#pragma once

#include <cstdint>

#include "axon/axon.hpp"

namespace axon::robust {

/// The payload of every publish-subscribe service of the robustness tests.
struct Stamp {
  static constexpr const char* AXON_TYPE_NAME = "axon::robust::Stamp";
  std::uint64_t origin;    ///< who sent it: a pid, or a marker of the survivor
  std::uint64_t sequence;  ///< per sender, from 0
};

/// Event ids a victim notifier uses: 0..kVictimIds-1. The survivor's own check uses kMarkerId.
inline constexpr std::uint64_t kVictimIds = 10;
inline constexpr EventId kMarkerId{100};

/// The publish-subscribe service of the kill tests (default overflow: OverwriteOldest, so a
/// killed subscriber never blocks a publisher).
inline PubSubServiceBuilder<Stamp> pubsub_service(const Node& node, const ServiceName& name) {
  return node.service_builder(name)
      .publish_subscribe<Stamp>()
      .max_publishers(4)
      .max_subscribers(4)
      .max_nodes(8)
      .subscriber_max_buffer_size(4)
      .subscriber_max_borrowed_samples(2)
      .publisher_max_loans(2);
}

/// Requests one client of the kill tests' request-response service keeps in flight.
inline constexpr std::uint32_t kRequestResponseActiveRequests = 2;

/// The request-response service of the kill tests: requests and responses are Stamps (default
/// overflow: OverwriteOldest, so a killed client never blocks a server).
inline RequestResponseServiceBuilder<Stamp, Stamp> rr_service(const Node& node,
                                                              const ServiceName& name) {
  return node.service_builder(name)
      .request_response<Stamp, Stamp>()
      .max_clients(4)
      .max_servers(4)
      .max_nodes(8)
      .max_active_requests_per_client(kRequestResponseActiveRequests)
      .max_response_buffer_size(4)
      .max_borrowed_responses(2);
}

/// The event service of the kill tests.
inline EventServiceBuilder event_service(const Node& node, const ServiceName& name,
                                         EventBackend backend) {
  return node.service_builder(name).event().max_listeners(6).max_notifiers(6).max_nodes(8).backend(
      backend);
}

}  // namespace axon::robust
