// The shared-memory layout of a service: its static config (written once by the creator, then
// read-only) and its dynamic config: a header, node slots, up to two port tables (event:
// listeners and notifiers; publish-subscribe: publishers and subscribers) and one pattern region
// (event: a counting bitset per listener slot; publish-subscribe: one connection per publisher x
// subscriber pair). Plain data and atomics only; every process that maps these validates them
// against the layout its static config implies before trusting any offset in them.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <type_traits>

#include "axon/core/counting_bitset.hpp"
#include "axon/core/error.hpp"
#include "axon/core/fixed_string.hpp"
#include "axon/core/spsc_queue.hpp"

namespace axon::core {

inline constexpr std::size_t kCacheLineSize = 64;
// 4: overwriting queues decide each element by its slot's sequence (SpscIndexQueue version 3),
// and a publisher's pool holds one more chunk per subscriber. 3: StaticConfig gained `access`.
// Objects of older versions are VersionMismatch.
inline constexpr std::uint32_t kLayoutVersion = 4;
inline constexpr std::uint64_t kStaticConfigMagic = 0x61786f6e53544154ULL;   // "axonSTAT"
inline constexpr std::uint64_t kDynamicConfigMagic = 0x61786f6e44594e41ULL;  // "axonDYNA"
inline constexpr std::size_t kMaxServiceNameLength = 255;
inline constexpr std::size_t kMaxTypeNameLength = 255;

enum class MessagingPattern : std::uint32_t { Event = 1, PublishSubscribe = 2 };
enum class EventBackendKind : std::uint32_t { EventFd = 1, Fifo = 2 };
enum class OverflowKind : std::uint32_t { OverwriteOldest = 1, Refuse = 2, Block = 3 };
enum class CreationState : std::uint32_t { Creating = 0, Ready = 1 };
/// Who may use the service's objects (axon::Access); any other value is Corrupted.
enum class AccessKind : std::uint32_t { Owner = 1, Group = 2 };

struct EventSettings {
  std::uint32_t max_listeners;
  std::uint32_t max_notifiers;
  std::uint32_t max_nodes;
  EventBackendKind backend;
  std::uint64_t event_id_max;
};

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
};

/// Written once by the creator while it holds the service lock; `state` turns Ready last.
struct StaticConfig {
  std::uint64_t magic;
  std::uint32_t version;
  std::uint32_t size_of_self;
  std::atomic<CreationState> state;
  MessagingPattern pattern;
  std::uint64_t creator_node_id;
  std::uint64_t dynamic_config_size;
  AccessKind access;
  std::uint32_t reserved;
  FixedString<kMaxServiceNameLength> name;
  EventSettings event;    ///< meaningful when pattern == Event
  PubSubSettings pubsub;  ///< meaningful when pattern == PublishSubscribe
};
static_assert(std::is_standard_layout_v<StaticConfig>);
static_assert(std::atomic<CreationState>::is_always_lock_free);

/// One node taking part in a service; `handles` counts that node's open service handles.
struct NodeSlot {
  std::atomic<std::uint64_t> node_id;  ///< 0: free
  std::atomic<std::uint32_t> handles;
  std::uint32_t reserved;
};

/// The common start of every port slot. Free while `owner_node` is 0; visible to peers while
/// `port_id` != 0 (published last, with release ordering). `reserved_id` holds the port's id
/// from its claim, before the port makes anything named after it (a FIFO, a segment), until
/// those are removed: whoever purges a dead owner's slot removes them by it.
struct PortSlot {
  std::atomic<std::uint64_t> owner_node;
  std::atomic<std::uint64_t> port_id;
  std::atomic<std::uint64_t> reserved_id;
};

struct alignas(kCacheLineSize) ListenerSlot {
  PortSlot port;
  /// 1 while a wake-up is in the listener's channel and not yet drained.
  alignas(kCacheLineSize) std::atomic<std::uint32_t> pending;
};

struct NotifierSlot {
  PortSlot port;
};

struct alignas(kCacheLineSize) PublisherSlot {
  PortSlot port;
  /// Written before `port.port_id` is published; read-only afterwards.
  std::uint64_t segment_size;
  std::uint64_t chunk_count;
  std::uint64_t chunk_size;     ///< bytes of one chunk (header + payload)
  std::uint64_t max_elements;   ///< 1 for a single T; the max slice length otherwise
};

struct SubscriberSlot {
  PortSlot port;
};

/// One publisher -> subscriber pair. The publisher (re)initialises both queues and then publishes
/// the pair of ids; the subscriber uses the queues only while both ids are its own pair.
struct alignas(kCacheLineSize) ConnectionHeader {
  std::atomic<std::uint64_t> publisher_id;
  std::atomic<std::uint64_t> subscriber_id;
  std::uint64_t submission_offset;  ///< from the connection's start
  std::uint64_t completion_offset;
};

struct PortTable {
  std::uint64_t offset;
  std::uint32_t count;
  std::uint32_t stride;
};

inline constexpr std::size_t kPortTables = 2;

struct alignas(kCacheLineSize) DynamicHeader {
  std::uint64_t magic;
  std::uint32_t version;
  MessagingPattern pattern;
  std::uint64_t total_size;
  std::uint32_t max_nodes;
  std::uint32_t reserved;
  std::uint64_t nodes_offset;
  PortTable ports[kPortTables];
  std::uint64_t region_offset;  ///< pattern region: bitsets or connections
  std::uint64_t region_stride;
  std::uint64_t region_count;
  /// Bumped whenever a port of table i appears or goes; peers compare it cheaply.
  alignas(kCacheLineSize) std::atomic<std::uint64_t> generation[kPortTables];
  std::atomic<std::uint64_t> next_port_id;
};
static_assert(std::is_standard_layout_v<DynamicHeader>);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

constexpr std::size_t align_to_line(std::size_t n) {
  return (n + kCacheLineSize - 1) / kCacheLineSize * kCacheLineSize;
}

/// Where everything of a dynamic config lies, derived from the static config alone.
struct DynamicLayout {
  std::uint64_t nodes_offset = 0;
  std::uint32_t max_nodes = 0;
  PortTable ports[kPortTables]{};
  std::uint64_t region_offset = 0;
  std::uint64_t region_stride = 0;
  std::uint64_t region_count = 0;
  std::uint64_t total_size = 0;
  /// Publish-subscribe: queue capacities of each connection.
  std::uint64_t submission_capacity = 0;
  std::uint64_t completion_capacity = 0;
  std::uint64_t submission_offset = 0;  ///< inside a connection
  std::uint64_t completion_offset = 0;
};

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

constexpr DynamicLayout compute_dynamic_layout(const StaticConfig& sc) {
  DynamicLayout l{};
  std::uint32_t counts[kPortTables]{};
  std::uint32_t strides[kPortTables]{};
  if (sc.pattern == MessagingPattern::Event) {
    l.max_nodes = sc.event.max_nodes;
    counts[0] = sc.event.max_listeners;
    strides[0] = sizeof(ListenerSlot);
    counts[1] = sc.event.max_notifiers;
    strides[1] = sizeof(NotifierSlot);
    l.region_count = sc.event.max_listeners;
    l.region_stride = align_to_line(CountingBitset::required_size(sc.event.event_id_max));
  } else {
    l.max_nodes = sc.pubsub.max_nodes;
    counts[0] = sc.pubsub.max_publishers;
    strides[0] = sizeof(PublisherSlot);
    counts[1] = sc.pubsub.max_subscribers;
    strides[1] = sizeof(SubscriberSlot);
    l.region_count = std::uint64_t{sc.pubsub.max_publishers} * sc.pubsub.max_subscribers;
    // A subscriber never holds more of one publisher's chunks than its share (queue + borrows).
    // The publisher takes released chunks back lazily, once a connection holds a whole share,
    // so at most a share plus one is ever outstanding there: a completion queue of twice the
    // share never overflows.
    l.submission_capacity = submission_capacity(sc.pubsub);
    l.completion_capacity = 2 * subscriber_share(sc.pubsub);
    l.submission_offset = align_to_line(sizeof(ConnectionHeader));
    l.completion_offset =
        l.submission_offset + align_to_line(SpscIndexQueue::required_size(l.submission_capacity));
    l.region_stride =
        l.completion_offset + align_to_line(SpscIndexQueue::required_size(l.completion_capacity));
  }
  l.nodes_offset = align_to_line(sizeof(DynamicHeader));
  std::uint64_t at = align_to_line(l.nodes_offset + sizeof(NodeSlot) * l.max_nodes);
  for (std::size_t t = 0; t < kPortTables; ++t) {
    l.ports[t] = PortTable{at, counts[t], strides[t]};
    at = align_to_line(at + std::uint64_t{strides[t]} * counts[t]);
  }
  l.region_offset = at;
  // Every sum above stays below 2^42, but publishers x subscribers x stride can pass 2^64: a
  // product that wrapped would let a small mapping pass for a huge layout. Saturate instead,
  // so that no mapping is ever large enough.
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  l.total_size = l.region_stride != 0 && l.region_count > (kMax - at) / l.region_stride
                     ? kMax
                     : at + l.region_stride * l.region_count;
  return l;
}

/// The private copy an opener validates and then uses: a mapping may change under it, the copy
/// cannot. `state` is read with acquire ordering, pairing with the creator's release of Ready.
inline void copy_static_config(StaticConfig& to, const StaticConfig& from) {
  to.magic = from.magic;
  to.version = from.version;
  to.size_of_self = from.size_of_self;
  to.state.store(from.state.load(std::memory_order_acquire), std::memory_order_relaxed);
  to.pattern = from.pattern;
  to.creator_node_id = from.creator_node_id;
  to.dynamic_config_size = from.dynamic_config_size;
  to.access = from.access;
  to.name = from.name;
  to.event = from.event;
  to.pubsub = from.pubsub;
}

/// Checks of a (copied) static config that do not depend on who opens it: magic, size_of_self,
/// pattern and access (`Corrupted`), version (`VersionMismatch`). Not `state`: the caller
/// decides what a config that is not Ready means.
inline std::optional<CoreError> check_static_config(const StaticConfig& sc) {
  if (sc.magic != kStaticConfigMagic || sc.size_of_self != sizeof(StaticConfig)) {
    return CoreError::Corrupted;
  }
  if (sc.version != kLayoutVersion) return CoreError::VersionMismatch;
  if (sc.pattern != MessagingPattern::Event && sc.pattern != MessagingPattern::PublishSubscribe) {
    return CoreError::Corrupted;
  }
  if (sc.access != AccessKind::Owner && sc.access != AccessKind::Group) {
    return CoreError::Corrupted;
  }
  return std::nullopt;
}

/// True when the header records exactly the layout `sc` implies and it fits in `bytes`.
inline bool validate_dynamic(const DynamicHeader& h, std::size_t bytes, const StaticConfig& sc) {
  if (h.magic != kDynamicConfigMagic || h.version != kLayoutVersion || h.pattern != sc.pattern) {
    return false;
  }
  const auto l = compute_dynamic_layout(sc);
  if (h.total_size != l.total_size || l.total_size > bytes || h.max_nodes != l.max_nodes ||
      h.nodes_offset != l.nodes_offset || h.region_offset != l.region_offset ||
      h.region_stride != l.region_stride || h.region_count != l.region_count) {
    return false;
  }
  for (std::size_t t = 0; t < kPortTables; ++t) {
    if (h.ports[t].offset != l.ports[t].offset || h.ports[t].count != l.ports[t].count ||
        h.ports[t].stride != l.ports[t].stride) {
      return false;
    }
  }
  return true;
}

/// Where a dynamic config's node table lies by its own header, for when the static config that
/// should say so is damaged: only to learn whether live nodes still hold the service, so that it
/// is never removed under them. Each header field is read once; nullopt unless the magic, the
/// version and the table's bounds inside `bytes` hold.
struct NodeTable {
  std::uint64_t offset = 0;
  std::uint32_t count = 0;
};
inline std::optional<NodeTable> node_table_of(const DynamicHeader& h, std::size_t bytes) {
  const std::uint64_t magic = h.magic;
  const std::uint32_t version = h.version;
  const std::uint32_t count = h.max_nodes;
  const std::uint64_t offset = h.nodes_offset;
  if (magic != kDynamicConfigMagic || version != kLayoutVersion) return std::nullopt;
  // The creator always puts the table right after the header; count is 32 bits, so the product
  // below cannot wrap.
  if (offset != align_to_line(sizeof(DynamicHeader)) || bytes < offset ||
      std::uint64_t{count} * sizeof(NodeSlot) > bytes - offset) {
    return std::nullopt;
  }
  return NodeTable{offset, count};
}

}  // namespace axon::core
