// The shared-memory layout of a service: its static config (written once by the creator, then
// read-only) and its dynamic config: a header, node slots, up to two port tables and one pattern
// region. What goes into the tables and the region is each pattern's (core/<pattern>/layout.hpp:
// event: listeners, notifiers and a counting bitset per listener slot; publish-subscribe:
// publishers, subscribers and one connection per publisher x subscriber pair); this file places
// them. Plain data and atomics only; every process that maps these validates them against the
// layout its static config implies before trusting any offset in them.
#pragma once

#include <array>
#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <optional>
#include <type_traits>

#include "axon/core/error.hpp"
#include "axon/core/event/layout.hpp"
#include "axon/core/fixed_string.hpp"
#include "axon/core/pattern_shape.hpp"
#include "axon/core/publish_subscribe/layout.hpp"
#include "axon/core/request_response/layout.hpp"

namespace axon::core {

// 7: publish-subscribe chunks carry a send time, a service may declare a user header
// (PubSubSettings gained it), and each connection holds telemetry. 6: subscribers may be
// wakeable (SubscriberSlot gained `flags`). 5: the request-response pattern (StaticConfig gained
// `request_response`). 4: overwriting queues decide each element by its slot's sequence
// (SpscIndexQueue version 3), and a publisher's pool holds one more chunk per subscriber.
// 3: StaticConfig gained `access`. Objects of older versions are VersionMismatch.
inline constexpr std::uint32_t kLayoutVersion = 7;
inline constexpr std::uint64_t kStaticConfigMagic = 0x61786f6e53544154ULL;   // "axonSTAT"
inline constexpr std::uint64_t kDynamicConfigMagic = 0x61786f6e44594e41ULL;  // "axonDYNA"
inline constexpr std::size_t kMaxServiceNameLength = 255;

enum class MessagingPattern : std::uint32_t {
  Event = 1,
  PublishSubscribe = 2,
  RequestResponse = 3,
};
/// Every pattern, for what enumerates them (fuzz inputs, tests).
inline constexpr std::array kMessagingPatterns{
    MessagingPattern::Event, MessagingPattern::PublishSubscribe, MessagingPattern::RequestResponse};
enum class CreationState : std::uint32_t { Creating = 0, Ready = 1 };
/// Who may use the service's objects (axon::Access); any other value is Corrupted.
enum class AccessKind : std::uint32_t { Owner = 1, Group = 2 };

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
  RequestResponseSettings request_response;  ///< meaningful when pattern == RequestResponse
};
static_assert(std::is_standard_layout_v<StaticConfig>);
static_assert(std::atomic<CreationState>::is_always_lock_free);

/// One node taking part in a service; `handles` counts that node's open service handles.
struct NodeSlot {
  std::atomic<std::uint64_t> node_id;  ///< 0: free
  std::atomic<std::uint32_t> handles;
  std::uint32_t reserved;
};

struct PortTable {
  std::uint64_t offset;
  std::uint32_t count;
  std::uint32_t stride;
};

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

/// Where everything of a dynamic config lies, derived from the static config alone.
struct DynamicLayout {
  std::uint64_t nodes_offset = 0;
  std::uint32_t max_nodes = 0;
  PortTable ports[kPortTables]{};
  std::uint64_t region_offset = 0;
  std::uint64_t region_stride = 0;
  std::uint64_t region_count = 0;
  std::uint64_t total_size = 0;
};

/// The pattern's settings inside a static config, by the pattern's layout.
constexpr const EventSettings& settings_of(EventLayout, const StaticConfig& sc) { return sc.event; }
constexpr const PubSubSettings& settings_of(PubSubLayout, const StaticConfig& sc) {
  return sc.pubsub;
}
constexpr const RequestResponseSettings& settings_of(RequestResponseLayout,
                                                     const StaticConfig& sc) {
  return sc.request_response;
}

/// What the generic layout needs of a pattern's shared-memory layout (core/<pattern>/layout.hpp).
template <typename L>
concept PatternLayout = requires(const typename L::Settings& s, const StaticConfig& sc,
                                 std::size_t table, std::uint64_t stride, std::byte* memory) {
  /// Settings a creator can have written (enumerations in range); Corrupted otherwise.
  { L::valid(s) } -> std::same_as<bool>;
  /// How many nodes, ports and region elements, and their sizes.
  { L::shape(s) } -> std::same_as<PatternShape>;
  { settings_of(L{}, sc) } -> std::same_as<const typename L::Settings&>;
  /// Construct a port slot, and one region element, in a fresh zero-filled mapping.
  { L::initialize_slot(table, memory) } -> std::same_as<void>;
  { L::initialize_region_element(s, stride, memory) } -> std::same_as<bool>;
};
static_assert(PatternLayout<EventLayout>);
static_assert(PatternLayout<PubSubLayout>);
static_assert(PatternLayout<RequestResponseLayout>);

/// Calls `f` with the layout of `pattern` (an EventLayout, a PubSubLayout, ...) and returns its
/// result; nullopt for a value no creator writes. The switch is exhaustive: a pattern added to
/// MessagingPattern and not here fails to compile (-Wswitch, an error in CI).
template <typename F>
constexpr auto with_layout(MessagingPattern pattern, F&& f)
    -> std::optional<decltype(f(EventLayout{}))> {
  switch (pattern) {
    case MessagingPattern::Event: return f(EventLayout{});
    case MessagingPattern::PublishSubscribe: return f(PubSubLayout{});
    case MessagingPattern::RequestResponse: return f(RequestResponseLayout{});
  }
  return std::nullopt;
}

/// The counts and sizes of `sc`'s pattern; all zero for an unknown pattern.
constexpr PatternShape pattern_shape(const StaticConfig& sc) {
  return with_layout(sc.pattern, [&](auto layout) { return layout.shape(settings_of(layout, sc)); })
      .value_or(PatternShape{});
}

constexpr DynamicLayout compute_dynamic_layout(const StaticConfig& sc) {
  DynamicLayout l{};
  const PatternShape shape = pattern_shape(sc);
  l.max_nodes = shape.max_nodes;
  l.region_count = shape.region_count;
  l.region_stride = shape.region_stride;
  l.nodes_offset = align_to_line(sizeof(DynamicHeader));
  std::uint64_t at = align_to_line(l.nodes_offset + sizeof(NodeSlot) * l.max_nodes);
  for (std::size_t t = 0; t < kPortTables; ++t) {
    const auto& table = shape.tables[t];
    l.ports[t] = PortTable{at, table.count, table.stride};
    at = align_to_line(at + std::uint64_t{table.stride} * table.count);
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
  to.request_response = from.request_response;
}

/// Checks of a (copied) static config that do not depend on who opens it: magic, size_of_self,
/// pattern, the pattern's own settings (PatternLayout::valid) and access (`Corrupted`), version
/// (`VersionMismatch`). Not `state`: the caller
/// decides what a config that is not Ready means.
inline std::optional<CoreError> check_static_config(const StaticConfig& sc) {
  if (sc.magic != kStaticConfigMagic || sc.size_of_self != sizeof(StaticConfig)) {
    return CoreError::Corrupted;
  }
  if (sc.version != kLayoutVersion) return CoreError::VersionMismatch;
  // An unknown pattern, or settings of a known one that no creator writes.
  if (!with_layout(sc.pattern, [&](auto layout) { return layout.valid(settings_of(layout, sc)); })
           .value_or(false)) {
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

/// Lays out a fresh dynamic config: its header (port ids start at `first_port_id`), node slots,
/// the pattern's port slots and region elements. `base` is a zero-filled mapping of at least
/// `l.total_size` bytes, `l` the layout of `sc`, whose pattern is known (checked). False when an
/// element cannot be initialised.
inline bool initialize_dynamic(void* base, const DynamicLayout& l, const StaticConfig& sc,
                               std::uint64_t first_port_id) {
  auto* bytes = static_cast<std::byte*>(base);
  // SAFETY: every object is constructed at an offset of the layout, inside l.total_size bytes.
  auto* h = new (base) DynamicHeader{};
  h->magic = kDynamicConfigMagic;
  h->version = kLayoutVersion;
  h->pattern = sc.pattern;
  h->total_size = l.total_size;
  h->max_nodes = l.max_nodes;
  h->nodes_offset = l.nodes_offset;
  for (std::size_t t = 0; t < kPortTables; ++t) h->ports[t] = l.ports[t];
  h->region_offset = l.region_offset;
  h->region_stride = l.region_stride;
  h->region_count = l.region_count;
  h->next_port_id.store(first_port_id, std::memory_order_relaxed);
  for (std::uint32_t i = 0; i < l.max_nodes; ++i) {
    new (bytes + l.nodes_offset + i * sizeof(NodeSlot)) NodeSlot{};
  }
  return with_layout(sc.pattern, [&](auto layout) {
           for (std::size_t t = 0; t < kPortTables; ++t) {
             for (std::uint32_t i = 0; i < l.ports[t].count; ++i) {
               layout.initialize_slot(t, bytes + l.ports[t].offset +
                                             std::uint64_t{i} * l.ports[t].stride);
             }
           }
           for (std::uint64_t i = 0; i < l.region_count; ++i) {
             if (!layout.initialize_region_element(settings_of(layout, sc), l.region_stride,
                                                   bytes + l.region_offset + i * l.region_stride)) {
               return false;
             }
           }
           return true;
         })
      .value_or(false);
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
