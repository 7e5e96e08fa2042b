// The publish-subscribe pattern's part of a service in shared memory: its settings in the static
// config, its two port tables (publishers, subscribers) and its region (one connection per
// publisher x subscriber pair: a header, then a submission and a completion queue). The chunks
// themselves live in each publisher's own data segment (chunk_pool.hpp). A versioned contract
// (core::kLayoutVersion): see docs/extending.md.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>

#include "axon/core/fixed_string.hpp"
#include "axon/core/pattern_shape.hpp"
#include "axon/core/spsc_queue.hpp"

namespace axon::core {

inline constexpr std::size_t kMaxTypeNameLength = 255;

enum class OverflowKind : std::uint32_t { OverwriteOldest = 1, Refuse = 2, Block = 3 };

struct PubSubSettings {
  FixedString<kMaxTypeNameLength> type_name;
  std::uint64_t type_size;       ///< bytes of one element (of T, or of a slice's element)
  std::uint64_t type_alignment;
  std::uint32_t is_slice;        ///< 1: payloads are arrays of the element type
  std::uint32_t max_publishers;
  std::uint32_t max_subscribers;
  std::uint32_t max_nodes;
  std::uint32_t history_size;
  std::uint32_t subscriber_buffer_size;
  std::uint32_t max_loans;             ///< per publisher
  std::uint32_t max_borrowed_samples;  ///< per subscriber and publisher
  OverflowKind overflow;
  std::uint32_t reserved;
  /// The service's user header (docs/design.md §6, "Sample metadata"): a fixed-size value of its
  /// own type in every chunk, between the chunk header and the payload. Size 0: none (name
  /// empty, alignment 0).
  FixedString<kMaxTypeNameLength> user_header_name;
  std::uint64_t user_header_size;
  std::uint64_t user_header_alignment;
};

/// The largest user header a service may declare.
inline constexpr std::uint64_t kMaxUserHeaderSize = std::uint64_t{1} << 16;

struct alignas(kCacheLineSize) PublisherSlot {
  PortSlot port;
  /// Written before `port.port_id` is published; read-only afterwards.
  std::uint64_t segment_size;
  std::uint64_t chunk_count;
  std::uint64_t chunk_size;     ///< bytes of one chunk (header + payload)
  std::uint64_t max_elements;   ///< 1 for a single T; the max slice length otherwise
};

/// `SubscriberSlot::flags`: the subscriber has a listener on the service's wake service
/// (docs/design.md §6, "Wakeable subscribers"), and publishers notify it after each send.
inline constexpr std::uint64_t kSubscriberWakeable = 1;

struct SubscriberSlot {
  PortSlot port;
  /// Written by the subscriber before `port.port_id` is published, read by publishers when they
  /// connect to it. A hostile subscriber that rewrites it later changes nothing (it is read once).
  std::atomic<std::uint64_t> flags;
};

/// Buckets of a connection's latency histogram (`ConnectionTelemetry`): values 0..3 ns each have
/// one; above, every power of two is split in four (a bucket spans at most a quarter of its lower
/// bound), up to 2^36 ns (~69 s); what lies above lands in the last bucket.
inline constexpr std::size_t kLatencyBuckets = std::size_t{4} * 35;
/// The bucket of a latency of `ns` nanoseconds.
constexpr std::size_t latency_bucket(std::uint64_t ns) {
  if (ns < 4) return static_cast<std::size_t>(ns);
  const std::size_t exponent = 63U - static_cast<unsigned>(__builtin_clzll(ns));  // >= 2
  const auto sub = static_cast<std::size_t>((ns >> (exponent - 2)) & 3U);
  const std::size_t bucket = (exponent - 1) * 4 + sub;
  return bucket < kLatencyBuckets ? bucket : kLatencyBuckets - 1;
}
/// The smallest latency that lands in `bucket` (the inverse of latency_bucket).
constexpr std::uint64_t latency_bucket_floor(std::size_t bucket) {
  if (bucket < 4) return bucket;
  const std::uint64_t exponent = bucket / 4 + 1;
  return (std::uint64_t{4} + bucket % 4) << (exponent - 2);
}

/// Adds to a telemetry counter that has one writer: a load and a store, no read-modify-write
/// (a locked instruction would cost more than the rest of the update).
inline void telemetry_add(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) {
  // ORDERING: relaxed: statistics; the counter's only writer is the caller.
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

/// What a connection's subscriber records as it takes samples (docs/design.md §6, "Connection
/// telemetry"). Written by the subscriber only (plain relaxed stores, no read-modify-write: one
/// writer), read by anyone (`axon service stats`); the publisher zeroes it when it builds the
/// connection. A hostile peer can write any value here: readers treat it as statistics only.
struct alignas(kCacheLineSize) SubscriberTelemetry {
  std::atomic<std::uint64_t> received;    ///< samples taken
  std::atomic<std::uint64_t> high_water;  ///< most samples found queued when one was taken
  std::atomic<std::uint64_t> latency_sum_ns;  ///< sum of the latencies in the histogram
  /// Receive time minus send time (CLOCK_MONOTONIC), per `latency_bucket`.
  std::atomic<std::uint64_t> latency[kLatencyBuckets];
};

/// What a connection's publisher records as it delivers (written by the publisher only).
struct alignas(kCacheLineSize) PublisherTelemetry {
  std::atomic<std::uint64_t> delivered;    ///< samples pushed to this subscriber
  std::atomic<std::uint64_t> overwritten;  ///< evicted before the subscriber took them
  std::atomic<std::uint64_t> refused;      ///< not delivered: its buffer was full (Refuse, Block)
  /// CLOCK_MONOTONIC ns when the publisher built the connection (the telemetry's start).
  std::atomic<std::uint64_t> connected_at_ns;
};

/// One publisher -> subscriber pair. The publisher (re)initialises both queues and then publishes
/// the pair of ids; the subscriber uses the queues only while both ids are its own pair.
struct alignas(kCacheLineSize) ConnectionHeader {
  std::atomic<std::uint64_t> publisher_id;
  std::atomic<std::uint64_t> subscriber_id;
  std::uint64_t submission_offset;  ///< from the connection's start
  std::uint64_t completion_offset;
  PublisherTelemetry publisher_telemetry;
  SubscriberTelemetry subscriber_telemetry;
};

/// Zeroes both telemetry blocks of a connection (its publisher, while it rebuilds it: the pair is
/// void then, so no subscriber writes).
inline void reset_telemetry(ConnectionHeader& header, std::uint64_t now_ns) {
  auto& p = header.publisher_telemetry;
  auto& s = header.subscriber_telemetry;
  // ORDERING: relaxed: published with the connection by the release store of the pair.
  for (auto* c : {&p.delivered, &p.overwritten, &p.refused, &s.received, &s.high_water,
                  &s.latency_sum_ns}) {
    c->store(0, std::memory_order_relaxed);
  }
  for (auto& bucket : s.latency) bucket.store(0, std::memory_order_relaxed);
  p.connected_at_ns.store(now_ns, std::memory_order_relaxed);
}

/// Slots of a connection's submission queue. Refuse and Block need exactly the subscriber's
/// buffer: the publisher must see it full. OverwriteOldest gets `kOverwriteSlack` slots more:
/// a subscriber that fell behind takes the oldest of the newest `subscriber_buffer_size` and
/// skips the rest, so what it claims lies `kOverwriteSlack` positions ahead of the one the
/// publisher evicts next, and a claim races an eviction only when the subscriber stalls for that
/// many sends between two loads (docs/design.md §6a).
inline constexpr std::uint64_t kOverwriteSlack = 8;
constexpr std::uint64_t submission_capacity(const PubSubSettings& s) {
  return std::uint64_t{s.subscriber_buffer_size} +
         (s.overflow == OverflowKind::OverwriteOldest ? kOverwriteSlack : 0);
}

/// Most chunks of one publisher a subscriber may hold at once: its submission queue full and
/// its borrows out (history is delivered into the queue).
constexpr std::uint64_t subscriber_share(const PubSubSettings& s) {
  return submission_capacity(s) + s.max_borrowed_samples;
}

/// Chunks a publisher needs so that it can always loan: every subscriber's share plus one (a
/// subscriber that stops giving chunks back is cut off at one above its share), its history
/// kept, its own loans out, plus one to send while all else is taken. Settings read from shared
/// memory can make that exceed 64 bits: the count then saturates at UINT64_MAX, which no pool
/// accepts, instead of wrapping to a small pool.
constexpr std::uint64_t publisher_chunk_count(const PubSubSettings& s) {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  const std::uint64_t per_subscriber = subscriber_share(s) + 1;
  const std::uint64_t rest = std::uint64_t{s.history_size} + s.max_loans + 1;
  if (s.max_subscribers != 0 && per_subscriber > (kMax - rest) / s.max_subscribers) return kMax;
  return s.max_subscribers * per_subscriber + rest;
}

/// Where a connection's queues lie inside it, and their capacities.
struct ConnectionShape {
  std::uint64_t submission_capacity = 0;
  std::uint64_t completion_capacity = 0;
  std::uint64_t submission_offset = 0;  ///< from the connection's start
  std::uint64_t completion_offset = 0;
  std::uint64_t stride = 0;             ///< bytes of one connection, a multiple of a line
};

/// The publish-subscribe pattern's shared-memory layout.
struct PubSubLayout {
  using Settings = PubSubSettings;
  static constexpr std::size_t kPublisherTable = 0;
  static constexpr std::size_t kSubscriberTable = 1;

  static constexpr bool valid_overflow(OverflowKind overflow) {
    switch (overflow) {
      case OverflowKind::OverwriteOldest:
      case OverflowKind::Refuse:
      case OverflowKind::Block: return true;
    }
    return false;
  }
  static constexpr bool valid_user_header(const PubSubSettings& s) {
    const auto size = s.user_header_size;
    const auto alignment = s.user_header_alignment;
    if (size == 0) return alignment == 0 && s.user_header_name.view().empty();
    return size <= kMaxUserHeaderSize && alignment != 0 && alignment <= 4096 &&
           (alignment & (alignment - 1)) == 0 && size % alignment == 0 &&
           !s.user_header_name.view().empty();
  }
  /// Settings no creator writes (an unknown overflow policy, a user header of no valid shape)
  /// are Corrupted.
  static constexpr bool valid(const PubSubSettings& s) {
    return valid_overflow(s.overflow) && valid_user_header(s);
  }

  static constexpr ConnectionShape connection(const PubSubSettings& s) {
    ConnectionShape c{};
    // A subscriber never holds more of one publisher's chunks than its share (queue + borrows).
    // The publisher takes released chunks back lazily, once a connection holds a whole share,
    // so at most a share plus one is ever outstanding there: a completion queue of twice the
    // share never overflows.
    c.submission_capacity = submission_capacity(s);
    c.completion_capacity = 2 * subscriber_share(s);
    c.submission_offset = align_to_line(sizeof(ConnectionHeader));
    c.completion_offset =
        c.submission_offset + align_to_line(SpscIndexQueue::required_size(c.submission_capacity));
    c.stride =
        c.completion_offset + align_to_line(SpscIndexQueue::required_size(c.completion_capacity));
    return c;
  }

  /// Placement-constructs slot `memory` of `table` in a fresh zero-filled mapping.
  static void initialize_slot(std::size_t table, std::byte* memory) {
    if (table == kPublisherTable) {
      new (memory) PublisherSlot{};
    } else {
      new (memory) SubscriberSlot{};
    }
  }

  /// Initialises one region element (`stride` bytes at `memory`): a connection header and its
  /// two queues, empty and bounded (the publisher rebuilds them in its mode when it connects).
  static bool initialize_region_element(const PubSubSettings& s, std::uint64_t stride,
                                        std::byte* memory) {
    const auto c = connection(s);
    if (c.stride != stride) return false;
    auto* header = new (memory) ConnectionHeader{};
    header->submission_offset = c.submission_offset;
    header->completion_offset = c.completion_offset;
    return SpscIndexQueue::initialize(memory + c.submission_offset,
                                      c.completion_offset - c.submission_offset,
                                      c.submission_capacity)
               .has_value() &&
           SpscIndexQueue::initialize(memory + c.completion_offset, c.stride - c.completion_offset,
                                      c.completion_capacity)
               .has_value();
  }

  static constexpr PatternShape shape(const PubSubSettings& s) {
    PatternShape shape{};
    shape.max_nodes = s.max_nodes;
    shape.tables[kPublisherTable] = {s.max_publishers, sizeof(PublisherSlot)};
    shape.tables[kSubscriberTable] = {s.max_subscribers, sizeof(SubscriberSlot)};
    shape.region_count = std::uint64_t{s.max_publishers} * s.max_subscribers;
    shape.region_stride = connection(s).stride;
    return shape;
  }
};

}  // namespace axon::core
