// The request-response pattern's part of a service in shared memory: its settings in the static
// config, its two port tables (clients, servers) and its region: one link per client x server
// pair. A link has two halves, each written by one side only and rebuilt by it when it connects:
//   - the request half (the client's): a queue of request offsets (client -> server) and, per
//     channel (one per request the client may have active), the id of the request the client
//     still listens to (0: none), for discovery and cleanup tools (servers read the
//     `cancelled` word of the request's own header instead);
//   - the response half (the server's): per channel, the id of the request whose stream the
//     server has ended, a queue of response offsets per channel (server -> client), and one
//     completion queue (client -> server) on which the client gives response chunks back.
// Requests live in the client's data segment, responses in the server's (chunk_pool.hpp); both
// are mapped read-only by the peer. A versioned contract (core::kLayoutVersion): see
// docs/extending.md.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>

#include "axon/core/chunk_pool.hpp"
#include "axon/core/fixed_string.hpp"
#include "axon/core/pattern_shape.hpp"
#include "axon/core/publish_subscribe/layout.hpp"
#include "axon/core/spsc_queue.hpp"

namespace axon::core {

/// The most a creator writes: anything larger is Corrupted (and refused at create).
inline constexpr std::uint32_t kMaxRequestResponsePorts = 256;
inline constexpr std::uint32_t kMaxActiveRequests = 1024;
inline constexpr std::uint32_t kMaxResponseBuffer = 1u << 14;
inline constexpr std::uint32_t kMaxRequestResponseLoans = 1u << 14;

struct RequestResponseSettings {
  FixedString<kMaxTypeNameLength> request_type_name;
  FixedString<kMaxTypeNameLength> response_type_name;
  std::uint64_t request_type_size;  ///< bytes of one element (of T, or of a slice's element)
  std::uint64_t request_type_alignment;
  std::uint64_t response_type_size;
  std::uint64_t response_type_alignment;
  std::uint32_t request_is_slice;   ///< 1: requests are arrays of the element type
  std::uint32_t response_is_slice;  ///< 1: responses are arrays of the element type
  std::uint32_t max_clients;
  std::uint32_t max_servers;
  std::uint32_t max_nodes;
  std::uint32_t max_active_requests;     ///< per client: its channels
  std::uint32_t response_buffer_size;    ///< per request and server
  std::uint32_t max_loaned_requests;     ///< per client
  std::uint32_t max_loaned_responses;    ///< per server
  std::uint32_t max_borrowed_responses;  ///< per pending response and server
  std::uint32_t fire_and_forget;         ///< 1: a server gets requests nobody listens to any more
  OverflowKind overflow;                 ///< of a response buffer
};

struct alignas(kCacheLineSize) ClientSlot {
  PortSlot port;
};

struct alignas(kCacheLineSize) ServerSlot {
  PortSlot port;
};

/// At the start of every request chunk; the payload follows at rr_payload_offset(alignment).
struct RequestHeader {
  std::uint64_t client_id;
  std::uint64_t request_id;    ///< per client, from 1
  std::uint64_t payload_size;  ///< bytes written (a slice's length x element size)
  std::uint32_t channel;       ///< which of the client's channels waits for the responses
  /// 0 when sent; 1 once the client dropped the PendingResponse (stored with release, read by
  /// servers with acquire, as std::atomic_ref). A hint a server reads as often as it likes: its
  /// line is the one the server read the request from, so asking costs a transfer only when
  /// the client did write it.
  std::uint32_t cancelled;
};
static_assert(sizeof(RequestHeader) == 32);

/// At the start of every response chunk.
struct ResponseHeader {
  std::uint64_t server_id;
  std::uint64_t request_id;    ///< the request it answers
  std::uint64_t payload_size;  ///< bytes written
  std::uint64_t sequence;      ///< per stream, from 0
};
static_assert(sizeof(ResponseHeader) == 32);

constexpr std::uint64_t rr_payload_offset(std::uint64_t alignment) {
  return (sizeof(RequestHeader) + alignment - 1) / alignment * alignment;
}

/// A half's pair of ids: its writer (re)initialises the half's queues and words, then publishes
/// the pair; the reader uses the half only while both ids are its own pair.
struct alignas(kCacheLineSize) LinkHeader {
  std::atomic<std::uint64_t> writer_id;  ///< the client (request half) or server (response half)
  std::atomic<std::uint64_t> reader_id;
};

/// One word per channel: the request id a client listens to, or a server has ended.
using ChannelWord = std::atomic<std::uint64_t>;
static_assert(ChannelWord::is_always_lock_free);

/// Slots of one response queue: the buffer, and under OverwriteOldest the same slack as a
/// publish-subscribe queue (core::kOverwriteSlack: a client that fell behind claims positions
/// that far ahead of the server's next eviction).
constexpr std::uint64_t response_queue_capacity(const RequestResponseSettings& s) {
  return std::uint64_t{s.response_buffer_size} +
         (s.overflow == OverflowKind::OverwriteOldest ? kOverwriteSlack : 0);
}

/// Most chunks of one server a client may hold at once: every channel's queue full and its
/// borrows out. Settings within the creator's limits keep this below 2^26.
constexpr std::uint64_t client_share(const RequestResponseSettings& s) {
  return std::uint64_t{s.max_active_requests} *
         (response_queue_capacity(s) + s.max_borrowed_responses);
}

/// Chunks a server needs so that it can always loan: every client's share plus one (a client
/// that keeps more is cut off), its own loans, plus one.
constexpr std::uint64_t server_chunk_count(const RequestResponseSettings& s) {
  return std::uint64_t{s.max_clients} * (client_share(s) + 1) + s.max_loaned_responses + 1;
}

/// Chunks a client needs: one per channel (a request stays until every server that got it has
/// ended its stream) and its loans.
constexpr std::uint64_t client_chunk_count(const RequestResponseSettings& s) {
  return std::uint64_t{s.max_active_requests} + s.max_loaned_requests;
}

/// Where everything of one link lies, from its start.
struct LinkShape {
  std::uint64_t request_capacity = 0;     ///< the request queue: one per channel
  std::uint64_t response_capacity = 0;    ///< each channel's response queue
  std::uint64_t completion_capacity = 0;  ///< response chunks given back
  std::uint64_t request_queue_offset = 0;
  std::uint64_t listening_offset = 0;
  std::uint64_t response_header_offset = 0;
  std::uint64_t ended_offset = 0;
  std::uint64_t completion_offset = 0;
  std::uint64_t response_queues_offset = 0;
  std::uint64_t response_queue_stride = 0;
  std::uint64_t stride = 0;  ///< a multiple of a line
};

/// The request-response pattern's shared-memory layout.
struct RequestResponseLayout {
  using Settings = RequestResponseSettings;
  static constexpr std::size_t kClientTable = 0;
  static constexpr std::size_t kServerTable = 1;

  static constexpr bool in_range(std::uint32_t v, std::uint32_t max) { return v >= 1 && v <= max; }

  /// Settings a creator can have written: known enumerations, every count within its limit,
  /// every queue and pool within what its structure accepts. Anything else is Corrupted.
  static constexpr bool valid(const RequestResponseSettings& s) {
    if (!PubSubLayout::valid_overflow(s.overflow)) return false;
    if (s.fire_and_forget > 1 || s.request_is_slice > 1 || s.response_is_slice > 1) return false;
    if (!in_range(s.max_clients, kMaxRequestResponsePorts) ||
        !in_range(s.max_servers, kMaxRequestResponsePorts) ||
        !in_range(s.max_nodes, kMaxRequestResponsePorts) ||
        !in_range(s.max_active_requests, kMaxActiveRequests) ||
        !in_range(s.response_buffer_size, kMaxResponseBuffer) ||
        !in_range(s.max_loaned_requests, kMaxRequestResponseLoans) ||
        !in_range(s.max_loaned_responses, kMaxRequestResponseLoans) ||
        !in_range(s.max_borrowed_responses, kMaxResponseBuffer)) {
      return false;
    }
    return 2 * client_share(s) <= SpscIndexQueue::kMaxCapacity &&
           server_chunk_count(s) <= ChunkPool::kMaxChunkCount &&
           client_chunk_count(s) <= ChunkPool::kMaxChunkCount;
  }

  /// Only for valid settings (valid() bounds every product here far below 2^64).
  static constexpr LinkShape link(const RequestResponseSettings& s) {
    LinkShape l{};
    const std::uint64_t channels = s.max_active_requests;
    l.request_capacity = channels;
    l.response_capacity = response_queue_capacity(s);
    l.completion_capacity = 2 * client_share(s);
    std::uint64_t at = align_to_line(sizeof(LinkHeader));
    l.request_queue_offset = at;
    at += align_to_line(SpscIndexQueue::required_size(l.request_capacity));
    l.listening_offset = at;
    at += align_to_line(channels * sizeof(ChannelWord));
    l.response_header_offset = at;
    at += align_to_line(sizeof(LinkHeader));
    l.ended_offset = at;
    at += align_to_line(channels * sizeof(ChannelWord));
    l.completion_offset = at;
    at += align_to_line(SpscIndexQueue::required_size(l.completion_capacity));
    l.response_queues_offset = at;
    l.response_queue_stride = align_to_line(SpscIndexQueue::required_size(l.response_capacity));
    l.stride = at + channels * l.response_queue_stride;
    return l;
  }

  static void initialize_slot(std::size_t table, std::byte* memory) {
    if (table == kClientTable) {
      new (memory) ClientSlot{};
    } else {
      new (memory) ServerSlot{};
    }
  }

  /// One link: both halves void, every word 0, every queue empty and bounded (each side
  /// rebuilds its own half when it connects).
  static bool initialize_region_element(const RequestResponseSettings& s, std::uint64_t stride,
                                        std::byte* memory) {
    const auto l = link(s);
    if (l.stride != stride) return false;
    new (memory) LinkHeader{};
    new (memory + l.response_header_offset) LinkHeader{};
    for (std::uint64_t k = 0; k < s.max_active_requests; ++k) {
      new (memory + l.listening_offset + k * sizeof(ChannelWord)) ChannelWord{0};
      new (memory + l.ended_offset + k * sizeof(ChannelWord)) ChannelWord{0};
    }
    bool ok = SpscIndexQueue::initialize(memory + l.request_queue_offset,
                                         l.listening_offset - l.request_queue_offset,
                                         l.request_capacity)
                  .has_value() &&
              SpscIndexQueue::initialize(memory + l.completion_offset,
                                         l.response_queues_offset - l.completion_offset,
                                         l.completion_capacity)
                  .has_value();
    for (std::uint64_t k = 0; ok && k < s.max_active_requests; ++k) {
      ok = SpscIndexQueue::initialize(
               memory + l.response_queues_offset + k * l.response_queue_stride,
               l.response_queue_stride, l.response_capacity)
               .has_value();
    }
    return ok;
  }

  static constexpr PatternShape shape(const RequestResponseSettings& s) {
    PatternShape shape{};
    if (!valid(s)) return shape;  // nothing: no mapping matches an empty layout's header
    shape.max_nodes = s.max_nodes;
    shape.tables[kClientTable] = {s.max_clients, sizeof(ClientSlot)};
    shape.tables[kServerTable] = {s.max_servers, sizeof(ServerSlot)};
    shape.region_count = std::uint64_t{s.max_clients} * s.max_servers;
    shape.region_stride = link(s).stride;
    return shape;
  }
};

}  // namespace axon::core
