// Entry point to every messaging pattern: `node.service_builder(name).event()...`.
#pragma once

#include <memory>
#include <utility>

#include "axon/event/service.hpp"
#include "axon/publish_subscribe/service.hpp"
#include "axon/publish_subscribe/untyped.hpp"
#include "axon/request_response/service.hpp"
#include "axon/request_response/untyped.hpp"
#include "axon/service_name.hpp"

namespace axon {

namespace detail {
class NodeCore;
struct WakeService;
}

class ServiceBuilder {
 public:
  /// An event service: notifiers wake listeners with event ids.
  EventServiceBuilder event() const { return EventServiceBuilder(m_node, m_name); }
  /// A zero-copy publish-subscribe service of payload T (or Slice<T>).
  template <typename T>
  PubSubServiceBuilder<T> publish_subscribe() const {
    return PubSubServiceBuilder<T>(publish_subscribe(payload_type_of<T>()));
  }
  /// A zero-copy publish-subscribe service whose payload is described at run time: its ports
  /// move bytes (untyped.hpp). `type` must match the service's exactly on open.
  UntypedPubSubServiceBuilder publish_subscribe(PayloadType type) const {
    return UntypedPubSubServiceBuilder(m_node, m_name, std::move(type));
  }
  /// A zero-copy request-response service: requests of Req, streams of responses of Res
  /// (either may be a Slice<T>).
  template <typename Req, typename Res>
  RequestResponseServiceBuilder<Req, Res> request_response() const {
    return RequestResponseServiceBuilder<Req, Res>(
        request_response(payload_type_of<Req>(), payload_type_of<Res>()));
  }
  /// Request-response whose payloads are described at run time: its ports move bytes
  /// (request_response/untyped.hpp).
  UntypedRequestResponseServiceBuilder request_response(PayloadType request,
                                                        PayloadType response) const {
    return UntypedRequestResponseServiceBuilder(m_node, m_name, std::move(request),
                                                std::move(response));
  }

 private:
  friend class Node;
  friend struct detail::WakeService;  // opens a publish-subscribe service's wake service
  ServiceBuilder(std::shared_ptr<detail::NodeCore> node, ServiceName name)
      : m_node(std::move(node)), m_name(std::move(name)) {}
  std::shared_ptr<detail::NodeCore> m_node;
  ServiceName m_name;
};

}  // namespace axon
