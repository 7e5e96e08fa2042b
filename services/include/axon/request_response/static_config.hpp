// The settings of a request-response service: what create() makes, what open() may require, what
// discovery reports.
#pragma once

#include <chrono>
#include <cstdint>

#include "axon/access.hpp"
#include "axon/publish_subscribe/payload_type.hpp"
#include "axon/publish_subscribe/static_config.hpp"

namespace axon {

struct RequestResponseDefaults {
  static constexpr std::uint32_t kMaxClients = 8;
  static constexpr std::uint32_t kMaxServers = 2;
  static constexpr std::uint32_t kMaxNodes = 20;
  static constexpr std::uint32_t kMaxActiveRequestsPerClient = 4;
  static constexpr std::uint32_t kMaxResponseBufferSize = 4;
  static constexpr std::uint32_t kMaxLoanedRequests = 2;
  static constexpr std::uint32_t kMaxLoanedResponses = 4;
  static constexpr std::uint32_t kMaxBorrowedResponses = 2;
  static constexpr bool kFireAndForget = true;
  static constexpr auto kBlockTimeout = std::chrono::seconds(1);
};

/// The settings a request-response service was created with.
struct RequestResponseStaticConfig {
  PayloadType request_type;
  PayloadType response_type;
  std::uint32_t max_clients = 0;
  std::uint32_t max_servers = 0;
  std::uint32_t max_nodes = 0;
  /// Requests one client may have in flight: sent, and not yet ended by every server that got
  /// them, or still listened to.
  std::uint32_t max_active_requests_per_client = 0;
  /// Responses to one request one server may have queued for the client.
  std::uint32_t max_response_buffer_size = 0;
  std::uint32_t max_loaned_requests = 0;     ///< per client
  std::uint32_t max_loaned_responses = 0;    ///< per server
  std::uint32_t max_borrowed_responses = 0;  ///< per pending response and server
  /// True: a server still receives a request whose PendingResponse was dropped before the
  /// server took it (a command nobody waits on). False: the server skips it.
  bool fire_and_forget = RequestResponseDefaults::kFireAndForget;
  /// What a server's send does when the client's buffer for that request is full.
  OverflowPolicy overflow = OverflowPolicy::OverwriteOldest;
  Access access = kDefaultAccess;
};

}  // namespace axon
