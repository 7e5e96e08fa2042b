// What the publish-subscribe commands of the CLI (`axon publish`, `echo`, `service hz`, `service
// stats`) share: the
// service looked up by discovery and refused unless it is publish-subscribe, the tool's node, and
// the service opened with the payload type (and user header) discovery reports (the tool adopts
// them: it has no compiled-in type).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include "axon/axon.hpp"
#include "axon_tools/root_hint.hpp"
#include "errors.hpp"

namespace axon::cli {

/// The publish-subscribe service `name` (written `text` by the user) as discovery describes it;
/// otherwise the error is printed and `exit_code` set: 1 when there is none, it is unreadable or
/// of another pattern.
inline std::optional<ServiceInfo> pubsub_service_info(const ServiceName& name,
                                                      const std::string& text, int& exit_code) {
  auto info = describe_service(name);
  if (!info) {
    if (info.error() == DiscoveryError::DoesNotExist) {
      exit_code = fail(kExitFailure, "no service named " + tools::quoted(text));
    } else {
      exit_code =
          fail(kExitFailure, tools::with_root_hint("cannot read service " + tools::quoted(text) +
                                                       ": " + to_string(info.error()),
                                                   Config::from_environment()));
    }
    return std::nullopt;
  }
  if (info->pattern != MessagingPattern::PublishSubscribe) {
    exit_code = fail(kExitFailure,
                     "service " + tools::quoted(text) + " is not a publish-subscribe service");
    return std::nullopt;
  }
  return std::move(*info);
}

/// The payload type of a publish-subscribe service as discovery reports it.
inline PayloadType payload_type_of(const ServiceInfo& info) {
  return PayloadType{info.pubsub.type_name, info.pubsub.type_size, info.pubsub.type_alignment,
                     info.pubsub.is_slice};
}

/// A node named `node_name` (`axon-publish`, ...); otherwise the error, with what to do when the
/// root directory is one the library refuses.
inline std::optional<Node> tool_node(const char* node_name, int& exit_code) {
  auto node = NodeBuilder().name(node_name).create();
  if (!node) {
    exit_code = fail(kExitFailure, tools::with_root_hint(std::string("cannot create a node: ") +
                                                             to_string(node.error()),
                                                         Config::from_environment()));
    return std::nullopt;
  }
  return std::move(*node);
}

/// Opens the service with its own payload type and user header (if it has one); otherwise the
/// error.
inline std::optional<UntypedPubSubService> open_adopting_type(Node& node, const ServiceName& name,
                                                              const ServiceInfo& info,
                                                              const std::string& text,
                                                              int& exit_code) {
  auto builder = node.service_builder(name).publish_subscribe(payload_type_of(info));
  if (info.pubsub.user_header_size != 0) {
    builder.user_header(PayloadType{info.pubsub.user_header_name, info.pubsub.user_header_size,
                                    info.pubsub.user_header_alignment, false});
  }
  auto service = builder.open();
  if (!service) {
    exit_code = fail(kExitFailure, "cannot open service " + tools::quoted(text) + ": " +
                                       to_string(service.error()));
    return std::nullopt;
  }
  return std::move(*service);
}

}  // namespace axon::cli
