// The request-response pattern's policy (detail/pattern_policy.hpp): clients and servers, one
// link (two halves) per pair, and a data segment per port.
#pragma once

#include "axon/core/request_response/layout.hpp"
#include "axon/detail/pattern_policy.hpp"
#include "axon/request_response/static_config.hpp"
#include "axon/request_response/untyped.hpp"

namespace axon::detail {

struct RequestResponsePattern {
  using Layout = core::RequestResponseLayout;
  static constexpr core::MessagingPattern kPattern = core::MessagingPattern::RequestResponse;
  static constexpr MessagingPattern kPublicPattern = MessagingPattern::RequestResponse;
  static constexpr std::string_view kName = "request_response";
  static constexpr std::size_t kClientTable = Layout::kClientTable;
  static constexpr std::size_t kServerTable = Layout::kServerTable;

  /// Nothing is kept: each port attaches the queues of its own links.
  struct Region {};

  static tl::expected<void, platform::Error> prepare(const ServicePlace& place,
                                                     const core::StaticConfig& sc);
  static tl::expected<Region, core::CoreError> attach_region(const core::StaticConfig& sc,
                                                             const core::DynamicLayout& layout,
                                                             std::byte* base);
  static void remove_port_resources(const Config& config, const std::string& hash,
                                    std::size_t table, std::uint64_t id);
  static void describe(const core::StaticConfig& sc, const PortCounts& ports, ServiceInfo& info);
};

/// The public settings of a request-response service: one conversion, for its handle and for
/// discovery.
RequestResponseStaticConfig request_response_static_config(
    const core::RequestResponseSettings& settings, Access access);

tl::expected<std::shared_ptr<ServiceCore>, RequestResponseCreateError> create_request_response(
    std::shared_ptr<NodeCore> node, const ServiceName& name, const RequestResponseRequest& request);
tl::expected<std::shared_ptr<ServiceCore>, RequestResponseOpenError> open_request_response(
    const std::shared_ptr<NodeCore>& node, const ServiceName& name,
    const RequestResponseRequest& request);

}  // namespace axon::detail
