#include "axon/core/service_layout.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace {

using namespace axon::core;

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

/// Fills `sc` (StaticConfig holds an atomic: it is not copied) as a publish-subscribe service.
void make_pubsub(StaticConfig& sc, std::uint32_t publishers, std::uint32_t subscribers) {
  sc.magic = kStaticConfigMagic;
  sc.version = kLayoutVersion;
  sc.size_of_self = sizeof(StaticConfig);
  sc.pattern = MessagingPattern::PublishSubscribe;
  sc.pubsub.max_publishers = publishers;
  sc.pubsub.max_subscribers = subscribers;
  sc.pubsub.overflow = OverflowKind::Refuse;  // queues of exactly the buffer: no slack
}

/// Fills `h` as a creator writes the header of `l` (as initialize_dynamic does).
void make_header(DynamicHeader& h, const StaticConfig& sc, const DynamicLayout& l) {
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
}

TEST(ServiceLayout, ValidateAcceptsTheCreatorsHeaderAtItsSizeAndNotBelow) {
  StaticConfig sut{};
  make_pubsub(sut, 2, 8);
  sut.pubsub.max_nodes = 20;
  sut.pubsub.subscriber_buffer_size = 2;
  sut.pubsub.max_borrowed_samples = 2;
  const DynamicLayout l = compute_dynamic_layout(sut);
  DynamicHeader h{};
  make_header(h, sut, l);
  EXPECT_TRUE(validate_dynamic(h, l.total_size, sut));
  EXPECT_FALSE(validate_dynamic(h, l.total_size - 1, sut));
}

// Regression (found by tests/fuzz/service_dynamic_config_fuzz.cpp, seed regression_region_wraps):
// publishers x subscribers x connection stride was computed modulo 2^64. With 1140571140
// publishers, 252707056 subscribers, no node slots and buffer = borrows = 0 (64-byte
// connections), (4p + 1)(s + 1) = 2^60 + 1 makes 64ps + 64p + 16s + 192 = 192 (mod 2^64): the
// layout claimed 192 bytes, the header alone, and validate_dynamic accepted a 192-byte dynamic
// config whose port tables span 87 GB, which every opener then walked. A layout that does not fit
// in 64 bits must claim UINT64_MAX, which no mapping reaches.
TEST(ServiceLayout, RegressionRegionLargerThanTwoToTheSixtyFourIsNeverSmall) {
  StaticConfig sut{};
  make_pubsub(sut, 1140571140, 252707056);
  const DynamicLayout l = compute_dynamic_layout(sut);
  EXPECT_EQ(l.total_size, kMax);
  DynamicHeader h{};
  make_header(h, sut, l);
  for (const std::uint64_t claimed : {std::uint64_t{sizeof(DynamicHeader)}, kMax}) {
    h.total_size = claimed;
    EXPECT_FALSE(validate_dynamic(h, sizeof(DynamicHeader), sut));
    EXPECT_FALSE(validate_dynamic(h, kMax - 1, sut));
  }
}

// Regression (found by tests/fuzz/service_static_config_fuzz.cpp, seed
// regression_chunk_count_wraps): buffer + borrows was added in 32 bits, so 0xffffffff + 2 counted
// as 1 and three subscribers asked for 3 x 1 + history 0 + loans 1 + 1 = 5 chunks instead of
// 3 x (2^32 + 1 + 1) + 2 (a share of buffer + borrows, and one more, per subscriber). The exact
// count is right; one past 64 bits saturates.
TEST(ServiceLayout, RegressionPublisherChunkCountNeitherWrapsNorOverflows) {
  StaticConfig sut{};
  make_pubsub(sut, 1, 3);
  sut.pubsub.subscriber_buffer_size = 0xffff'ffff;
  sut.pubsub.max_borrowed_samples = 2;
  sut.pubsub.max_loans = 1;
  EXPECT_EQ(publisher_chunk_count(sut.pubsub), 3 * ((std::uint64_t{1} << 32) + 2) + 2);

  sut.pubsub.max_subscribers = 0xffff'ffff;
  sut.pubsub.max_borrowed_samples = 0xffff'ffff;
  EXPECT_EQ(publisher_chunk_count(sut.pubsub), kMax);
}

TEST(ServiceLayout, PublisherChunkCountOfTheDefaults) {
  StaticConfig sut{};
  make_pubsub(sut, 2, 8);
  sut.pubsub.subscriber_buffer_size = 2;
  sut.pubsub.max_borrowed_samples = 2;
  sut.pubsub.history_size = 0;
  sut.pubsub.max_loans = 2;
  // Per subscriber: buffer 2 + borrows 2 + the one a subscriber cut off may keep; then history 0,
  // loans 2 and one to send.
  EXPECT_EQ(publisher_chunk_count(sut.pubsub), 8U * (2 + 2 + 1) + 0 + 2 + 1);
}

}  // namespace
