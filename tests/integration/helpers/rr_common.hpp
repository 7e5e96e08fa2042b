// What request_response_multi_process_test.cpp and its peer program (rr_peer.cpp) agree on: the
// payload types, their checksums and the settings of the service they share, so that every
// process opens the same name with the same types and requirements.
#pragma once

#include <chrono>
#include <cstdint>

#include "axon/axon.hpp"

namespace axon::rr_test {

struct Request {
  static constexpr const char* AXON_TYPE_NAME = "axon::rr_test::Request";
  std::uint64_t value;
  std::uint64_t check;  ///< request_check(value)
};

/// Response `step` (from 0) of the stream answering the request of `value`.
struct Reply {
  static constexpr const char* AXON_TYPE_NAME = "axon::rr_test::Reply";
  std::uint64_t value;
  std::uint64_t step;
  std::uint64_t check;  ///< reply_check(value, step)
};

/// splitmix64's finaliser: every input bit moves every output bit, so a torn or stale payload
/// (another request's, another step's) fails its check.
inline std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
inline std::uint64_t request_check(std::uint64_t value) { return mix(value ^ 0x52455155ULL); }
inline std::uint64_t reply_check(std::uint64_t value, std::uint64_t step) {
  return mix(mix(value) + step);
}
inline Request make_request(std::uint64_t value) { return Request{value, request_check(value)}; }
inline Reply make_reply(std::uint64_t value, std::uint64_t step) {
  return Reply{value, step, reply_check(value, step)};
}

/// Requests one client keeps in flight, and the response buffer per request and server.
inline constexpr std::uint32_t kActiveRequests = 4;
inline constexpr std::uint32_t kResponseBuffer = 4;
inline constexpr std::uint32_t kBorrowedResponses = 2;
/// A server's wait under Block for a client that reads: far longer than any scheduling hiccup.
inline constexpr auto kBlockTimeout = std::chrono::seconds(30);

/// The service of the multi-process tests: Block, so that a live client loses nothing.
inline RequestResponseServiceBuilder<Request, Reply> service(const Node& node,
                                                             const ServiceName& name) {
  return node.service_builder(name)
      .request_response<Request, Reply>()
      .max_clients(2)
      .max_servers(2)
      .max_nodes(6)
      .max_active_requests_per_client(kActiveRequests)
      .max_response_buffer_size(kResponseBuffer)
      .max_borrowed_responses(kBorrowedResponses)
      .max_loaned_responses(4)
      .overflow_policy(OverflowPolicy::Block);
}

}  // namespace axon::rr_test
