// Fuzzes a service's static config (core/service_layout.hpp): what an opener, discovery and a new
// publisher derive from a mapped StaticConfig the input controls.
//
// Input: a mode byte, then
//   raw  (mode bit 0 clear): the block's size and bytes;
//   made (mode bit 0 set): a Ready config written as a creator writes it, with settings from the
//        input (mode bit 1: any 32-bit count, far above the builders' limits, as a hostile
//        creator could write), then input bytes over parts of it.
// Then, if an opener would accept it (size, Ready, magic, size_of_self, version, pattern): the
// stored names, compute_dynamic_layout, publisher_chunk_count and ChunkPool::required_size, with
// the promises validate_dynamic rests on checked in exact (overflow-checked) arithmetic: a layout
// small enough to be mapped holds every part inside its total_size, in order, without overlap,
// and validate_dynamic accepts exactly the header that layout implies at exactly that size.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

#include "axon/core/chunk_pool.hpp"
#include "axon/core/counting_bitset.hpp"
#include "axon/core/service_layout.hpp"
#include "axon/core/service_name.hpp"
#include "axon/core/spsc_queue.hpp"
#include "fuzz_support.hpp"
#include "service_config_input.hpp"

namespace {

using namespace axon::core;
using axon::fuzz::Block;
using axon::fuzz::Input;

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
/// Larger than any mapping could be: above it, a layout promises nothing (no block is that big).
constexpr std::uint64_t kLargestMapping = std::uint64_t{1} << 48;

/// `a * b + c`, or nullopt when the exact value does not fit in 64 bits.
std::optional<std::uint64_t> exact_mul_add(std::uint64_t a, std::uint64_t b, std::uint64_t c) {
  std::uint64_t product = 0;
  std::uint64_t sum = 0;
  if (__builtin_mul_overflow(a, b, &product) || __builtin_add_overflow(product, c, &sum)) {
    return std::nullopt;
  }
  return sum;
}

void check_chunk_count(const PubSubSettings& p) {
  const std::uint64_t count = publisher_chunk_count(p);
  // Whatever the policy adds, the count covers at least every subscriber's buffer and borrows,
  // the history, the loans and one more: a count that wrapped would size a publisher's pool
  // below what it promises to hold. Exact, or saturated when that exceeds 64 bits.
  const auto per_subscriber =
      exact_mul_add(1, p.subscriber_buffer_size, std::uint64_t{p.max_borrowed_samples});
  const auto rest = exact_mul_add(1, p.history_size, std::uint64_t{p.max_loans} + 1);
  const auto least = exact_mul_add(p.max_subscribers, *per_subscriber, *rest);
  AXON_FUZZ_CHECK(count >= least.value_or(kMax));
}

/// What each pattern's shape promises of the generic layout.
void check_pattern(EventLayout, const StaticConfig& sc, const DynamicLayout& l) {
  AXON_FUZZ_CHECK(l.max_nodes == sc.event.max_nodes);
  AXON_FUZZ_CHECK(l.region_count == sc.event.max_listeners);
  AXON_FUZZ_CHECK(l.region_stride >= CountingBitset::required_size(sc.event.event_id_max));
}

void check_pattern(PubSubLayout, const StaticConfig& sc, const DynamicLayout& l) {
  const auto& p = sc.pubsub;
  AXON_FUZZ_CHECK(l.max_nodes == p.max_nodes);
  AXON_FUZZ_CHECK(l.region_count == std::uint64_t{p.max_publishers} * p.max_subscribers);
  const ConnectionShape c = PubSubLayout::connection(p);
  AXON_FUZZ_CHECK(l.region_stride == c.stride);
  // Room for the subscriber's whole buffer (a policy may add more).
  AXON_FUZZ_CHECK(c.submission_capacity >= p.subscriber_buffer_size);
  // Room for everything a subscriber can hand back: its buffer and its borrows.
  AXON_FUZZ_CHECK(c.completion_capacity >=
                  std::uint64_t{p.subscriber_buffer_size} + p.max_borrowed_samples);
  AXON_FUZZ_CHECK(c.submission_offset >= sizeof(ConnectionHeader));
  AXON_FUZZ_CHECK(c.completion_offset >=
                  c.submission_offset + SpscIndexQueue::required_size(c.submission_capacity));
  AXON_FUZZ_CHECK(c.stride >=
                  c.completion_offset + SpscIndexQueue::required_size(c.completion_capacity));
}

void check_pattern(RequestResponseLayout, const StaticConfig& sc, const DynamicLayout& l) {
  const auto& r = sc.request_response;
  if (!RequestResponseLayout::valid(r)) {
    // No layout at all: no mapping's header can match it, and nothing is read by its offsets.
    AXON_FUZZ_CHECK(l.max_nodes == 0 && l.region_count == 0 && l.region_stride == 0);
    return;
  }
  AXON_FUZZ_CHECK(l.max_nodes == r.max_nodes);
  AXON_FUZZ_CHECK(l.region_count == std::uint64_t{r.max_clients} * r.max_servers);
  const LinkShape k = RequestResponseLayout::link(r);
  AXON_FUZZ_CHECK(l.region_stride == k.stride);
  // Every part of a link in order, each with room for what it holds.
  AXON_FUZZ_CHECK(k.request_capacity == r.max_active_requests);
  AXON_FUZZ_CHECK(k.response_capacity >= r.response_buffer_size);
  AXON_FUZZ_CHECK(k.completion_capacity >= client_share(r));
  AXON_FUZZ_CHECK(k.request_queue_offset >= sizeof(LinkHeader));
  AXON_FUZZ_CHECK(k.listening_offset >=
                  k.request_queue_offset + SpscIndexQueue::required_size(k.request_capacity));
  AXON_FUZZ_CHECK(k.response_header_offset >=
                  k.listening_offset + std::uint64_t{r.max_active_requests} * sizeof(ChannelWord));
  AXON_FUZZ_CHECK(k.ended_offset >= k.response_header_offset + sizeof(LinkHeader));
  AXON_FUZZ_CHECK(k.completion_offset >=
                  k.ended_offset + std::uint64_t{r.max_active_requests} * sizeof(ChannelWord));
  AXON_FUZZ_CHECK(k.response_queues_offset >=
                  k.completion_offset + SpscIndexQueue::required_size(k.completion_capacity));
  AXON_FUZZ_CHECK(k.response_queue_stride >= SpscIndexQueue::required_size(k.response_capacity));
  AXON_FUZZ_CHECK(k.stride >= k.response_queues_offset +
                                  std::uint64_t{r.max_active_requests} * k.response_queue_stride);
  AXON_FUZZ_CHECK(k.response_header_offset % kCacheLineSize == 0);
}

void check_layout(const StaticConfig& sc) {
  const DynamicLayout l = compute_dynamic_layout(sc);
  AXON_FUZZ_CHECK(with_layout(sc.pattern, [&](auto layout) {
                    check_pattern(layout, sc, l);
                    return true;
                  }).has_value());
  if (l.total_size > kLargestMapping) return;

  // Everything below holds in exact arithmetic for any layout a mapping could hold.
  AXON_FUZZ_CHECK(l.nodes_offset >= sizeof(DynamicHeader));
  std::optional<std::uint64_t> end = exact_mul_add(sizeof(NodeSlot), l.max_nodes, l.nodes_offset);
  for (std::size_t t = 0; t < kPortTables; ++t) {
    const PortTable& table = l.ports[t];
    AXON_FUZZ_CHECK(end && table.offset >= *end && table.offset % kCacheLineSize == 0);
    AXON_FUZZ_CHECK(table.stride >= sizeof(PortSlot));
    end = exact_mul_add(table.stride, table.count, table.offset);
  }
  AXON_FUZZ_CHECK(end && l.region_offset >= *end && l.region_offset % kCacheLineSize == 0);
  AXON_FUZZ_CHECK(l.region_stride % kCacheLineSize == 0);
  end = exact_mul_add(l.region_stride, l.region_count, l.region_offset);
  AXON_FUZZ_CHECK(end && *end == l.total_size);

  // The header a creator writes for this layout is accepted at that size and not below it.
  DynamicHeader h{};
  h.magic = kDynamicConfigMagic;
  h.version = kLayoutVersion;
  h.pattern = sc.pattern;
  h.total_size = l.total_size;
  h.max_nodes = l.max_nodes;
  h.nodes_offset = l.nodes_offset;
  for (std::size_t t = 0; t < kPortTables; ++t) h.ports[t] = l.ports[t];
  h.region_offset = l.region_offset;
  h.region_stride = l.region_stride;
  h.region_count = l.region_count;
  AXON_FUZZ_CHECK(validate_dynamic(h, l.total_size, sc));
  AXON_FUZZ_CHECK(!validate_dynamic(h, l.total_size - 1, sc));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in{data, size};
  const auto mode = in.take<std::uint8_t>();
  std::size_t bytes = sizeof(StaticConfig);
  if ((mode & 1U) == 0) bytes = static_cast<std::size_t>(in.take_in(0, 2 * sizeof(StaticConfig)));
  Block block{bytes};
  if ((mode & 1U) == 0) {
    block.fill(in);
  } else {
    (void)axon::fuzz::make_static_config(block.data(), in, (mode & 2U) != 0);
    (void)block.scribble(in);
  }

  StaticConfig sc{};
  if (!axon::fuzz::static_config_usable(block.data(), block.size(), sc)) return 0;

  const std::string_view name = sc.name.view();
  AXON_FUZZ_CHECK(name.size() <= kMaxServiceNameLength);
  if (const auto parsed = ServiceName::create(name)) AXON_FUZZ_CHECK(parsed->as_string() == name);
  // The publish-subscribe settings are a publisher's pool too (whatever the pattern: a pattern's
  // settings must never make these overflow).
  AXON_FUZZ_CHECK(sc.pubsub.type_name.view().size() <= kMaxTypeNameLength);
  check_chunk_count(sc.pubsub);
  const std::uint64_t alignment = sc.pubsub.type_alignment < 8 ? 8 : sc.pubsub.type_alignment;
  (void)ChunkPool::required_size(publisher_chunk_count(sc.pubsub), sc.pubsub.type_size, alignment);
  check_layout(sc);
  return 0;
}
