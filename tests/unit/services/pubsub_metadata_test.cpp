// Sample metadata (send time, user header) and connection telemetry in one process: the API's
// contract, the type checks on open, and every counter against what the test did.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>

#include "axon/axon.hpp"
#include "axon/core/publish_subscribe/layout.hpp"
#include "axon_test.hpp"

namespace {

using namespace axon;
using namespace std::chrono_literals;

struct Pose {
  static constexpr const char* AXON_TYPE_NAME = "test::Pose";
  double x, y, z;
};
struct Stamp {
  static constexpr const char* AXON_TYPE_NAME = "test::Stamp";
  std::uint64_t frame;
  std::uint32_t source;
  std::uint32_t flags = 7;  // a default member initialiser: a loan must apply it
};
struct OtherStamp {
  static constexpr const char* AXON_TYPE_NAME = "test::OtherStamp";
  std::uint64_t frame;
};
struct alignas(64) WideStamp {
  static constexpr const char* AXON_TYPE_NAME = "test::WideStamp";
  std::uint8_t bytes[128];
};

TEST(LatencyBuckets, EveryBucketFloorMapsToItsBucketAndBucketsGrowWithTheLatency) {
  using core::kLatencyBuckets;
  using core::latency_bucket;
  using core::latency_bucket_floor;
  for (std::size_t b = 0; b < kLatencyBuckets; ++b) {
    EXPECT_EQ(latency_bucket(latency_bucket_floor(b)), b) << b;
    if (b > 0) {
      EXPECT_GT(latency_bucket_floor(b), latency_bucket_floor(b - 1)) << b;
      EXPECT_EQ(latency_bucket(latency_bucket_floor(b) - 1), b - 1) << b;
    }
  }
  // A bucket spans at most a quarter of its floor: 25 % resolution above 4 ns.
  for (std::size_t b = 8; b + 1 < kLatencyBuckets; ++b) {
    EXPECT_LE(latency_bucket_floor(b + 1) - latency_bucket_floor(b), latency_bucket_floor(b) / 4);
  }
  EXPECT_EQ(latency_bucket(0), 0u);
  EXPECT_EQ(latency_bucket(~std::uint64_t{0}), kLatencyBuckets - 1);
  EXPECT_GE(latency_bucket_floor(kLatencyBuckets - 1), std::uint64_t{60'000'000'000});  // ~minute
}

TEST(PubSubMetadata, TypedUserHeaderIsValueInitialisedWrittenAndReadInPlace) {
  auto node = test::make_node();
  auto service = node.service_builder(test::service_name("uh"))
                     .publish_subscribe<Pose>()
                     .user_header<Stamp>()
                     .create();
  ASSERT_TRUE(service);
  const auto config = service->static_config();
  EXPECT_EQ(config.user_header_name, "test::Stamp");
  EXPECT_EQ(config.user_header_size, sizeof(Stamp));
  EXPECT_EQ(config.user_header_alignment, alignof(Stamp));
  auto publisher = service->publisher_builder().create();
  auto subscriber = service->subscriber_builder().create();
  ASSERT_TRUE(publisher && subscriber);
  for (std::uint64_t i = 0; i < 5; ++i) {
    auto sample = publisher->loan_uninit();
    ASSERT_TRUE(sample);
    EXPECT_EQ(sample->user_header().frame, 0u);
    EXPECT_EQ(sample->user_header().flags, 7u);  // H{} at every loan, not left from the last
    sample->user_header().frame = 100 + i;
    sample->user_header().source = 3;
    sample->user_header().flags = 0;
    sample->payload() = Pose{1.0 * i, 2.0, 3.0};
    const auto before = std::chrono::steady_clock::now();
    ASSERT_TRUE(publisher->send(std::move(*sample)));
    const auto after = std::chrono::steady_clock::now();
    auto received = subscriber->receive();
    ASSERT_TRUE(received && *received);
    EXPECT_EQ((*received)->user_header().frame, 100 + i);
    EXPECT_EQ((*received)->user_header().source, 3u);
    EXPECT_EQ((*received)->payload().x, 1.0 * i);
    EXPECT_GE((*received)->send_time(), before);
    EXPECT_LE((*received)->send_time(), after);
  }
}

TEST(PubSubMetadata, AWideAlignedUserHeaderKeepsPayloadAndHeaderAligned) {
  auto node = test::make_node();
  auto service = node.service_builder(test::service_name("wide"))
                     .publish_subscribe<Slice<std::uint8_t>>()
                     .user_header<WideStamp>()
                     .create();
  ASSERT_TRUE(service);
  auto publisher = service->publisher_builder().max_slice_len(300).create();
  auto subscriber = service->subscriber_builder().create();
  ASSERT_TRUE(publisher && subscriber);
  auto sample = publisher->loan_uninit(300);
  ASSERT_TRUE(sample);
  auto* header = &sample->user_header();
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(header) % 64, 0u);
  // Header and payload do not overlap.
  const auto* payload = sample->payload().data();
  EXPECT_GE(reinterpret_cast<const std::byte*>(payload),
            reinterpret_cast<const std::byte*>(header) + sizeof(WideStamp));
  std::memset(header->bytes, 0xab, sizeof header->bytes);
  std::memset(sample->payload().data(), 0xcd, 300);
  ASSERT_TRUE(publisher->send(std::move(*sample)));
  auto received = subscriber->receive();
  ASSERT_TRUE(received && *received);
  for (const auto b : (*received)->user_header().bytes) ASSERT_EQ(b, 0xab);
  for (const auto b : (*received)->payload()) ASSERT_EQ(b, 0xcd);
}

TEST(PubSubMetadata, TheUserHeaderIsPartOfTheServiceType) {
  auto node = test::make_node();
  const auto name = test::service_name("uh-type");
  auto service = node.service_builder(name).publish_subscribe<Pose>().user_header<Stamp>().create();
  ASSERT_TRUE(service);
  auto none = node.service_builder(name).publish_subscribe<Pose>().open();
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error(), PubSubOpenError::IncompatibleTypes);
  auto other = node.service_builder(name).publish_subscribe<Pose>().user_header<OtherStamp>().open();
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error(), PubSubOpenError::IncompatibleTypes);
  EXPECT_TRUE(node.service_builder(name).publish_subscribe<Pose>().user_header<Stamp>().open());

  const auto plain = test::service_name("no-uh");
  auto kept = node.service_builder(plain).publish_subscribe<Pose>().create();
  ASSERT_TRUE(kept);
  auto with = node.service_builder(plain).publish_subscribe<Pose>().user_header<Stamp>().open();
  ASSERT_FALSE(with);
  EXPECT_EQ(with.error(), PubSubOpenError::IncompatibleTypes);
}

TEST(PubSubMetadata, UntypedUserHeaderMatchesTheTypedOneAndBadShapesAreRefused) {
  auto node = test::make_node();
  const auto name = test::service_name("uh-untyped");
  auto typed = node.service_builder(name).publish_subscribe<Pose>().user_header<Stamp>().create();
  ASSERT_TRUE(typed);
  auto untyped = node.service_builder(name)
                     .publish_subscribe(payload_type_of<Pose>())
                     .user_header(payload_type_of<Stamp>())
                     .open();
  ASSERT_TRUE(untyped);
  EXPECT_EQ(untyped->user_header_type(), payload_type_of<Stamp>());
  auto publisher = untyped->publisher_builder().create();
  auto subscriber = typed->subscriber_builder().create();
  ASSERT_TRUE(publisher && subscriber);
  auto sample = publisher->loan();
  ASSERT_TRUE(sample);
  ASSERT_EQ(sample->user_header().size(), sizeof(Stamp));
  for (const auto b : sample->user_header()) EXPECT_EQ(b, std::byte{0});  // zeroed at the loan
  const Stamp stamp{77, 5, 9};
  std::memcpy(sample->user_header().data(), &stamp, sizeof stamp);
  ASSERT_TRUE(publisher->send(std::move(*sample)));
  auto received = subscriber->receive();
  ASSERT_TRUE(received && *received);
  EXPECT_EQ((*received)->user_header().frame, 77u);
  EXPECT_EQ((*received)->user_header().flags, 9u);

  // A service without a header hands out empty spans.
  auto plain = node.service_builder(test::service_name("uh-none"))
                   .publish_subscribe(payload_type_of<Pose>())
                   .create();
  ASSERT_TRUE(plain);
  auto plain_pub = plain->publisher_builder().create();
  ASSERT_TRUE(plain_pub);
  auto loan = plain_pub->loan();
  ASSERT_TRUE(loan);
  EXPECT_TRUE(loan->user_header().empty());

  const auto refused = [&](PayloadType header) {
    auto created = node.service_builder(test::service_name("uh-bad"))
                       .publish_subscribe(payload_type_of<Pose>())
                       .user_header(std::move(header))
                       .create();
    return !created && created.error() == PubSubCreateError::InvalidSettings;
  };
  EXPECT_TRUE(refused(PayloadType{"h", 0, 8, false}));    // no size
  EXPECT_TRUE(refused(PayloadType{"h", 8, 3, false}));    // not a power of two
  EXPECT_TRUE(refused(PayloadType{"h", 12, 8, false}));   // size not a multiple of alignment
  EXPECT_TRUE(refused(PayloadType{"h", 8, 8, true}));     // a slice
  EXPECT_TRUE(refused(PayloadType{"h", (1u << 16) + 8, 8, false}));  // above 64 KiB
}

TEST(PubSubTelemetry, RefusePolicyCountsRefusedAndTheHighWaterMark) {
  auto node = test::make_node();
  auto service = node.service_builder(test::service_name("refuse"))
                     .publish_subscribe<std::uint64_t>()
                     .subscriber_max_buffer_size(3)
                     .overflow_policy(OverflowPolicy::Refuse)
                     .create();
  ASSERT_TRUE(service);
  auto publisher = service->publisher_builder().create();
  auto subscriber = service->subscriber_builder().create();
  ASSERT_TRUE(publisher && subscriber);
  for (std::uint64_t i = 0; i < 8; ++i) ASSERT_TRUE(publisher->send_copy(i));
  auto stats = service->connection_stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].publisher_id, publisher->id());
  EXPECT_EQ(stats[0].subscriber_id, subscriber->id());
  EXPECT_EQ(stats[0].delivered, 3u);
  EXPECT_EQ(stats[0].refused, 5u);
  EXPECT_EQ(stats[0].queued, 3u);
  EXPECT_EQ(stats[0].received, 0u);
  EXPECT_EQ(stats[0].latency_quantile(0.5).count(), 0);  // nothing received: no latency
  for (int i = 0; i < 3; ++i) {
    auto received = subscriber->receive();
    ASSERT_TRUE(received && *received);
  }
  stats = service->connection_stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].received, 3u);
  EXPECT_EQ(stats[0].high_water, 3u);  // the first was taken with three waiting
  EXPECT_EQ(stats[0].queued, 0u);
  EXPECT_EQ(stats[0].latency_count(), 3u);
  EXPECT_GT(stats[0].latency_mean().count(), 0);
}

TEST(PubSubTelemetry, OverwriteCountsEvictionsAndAReconnectStartsFromZero) {
  auto node = test::make_node();
  auto service = node.service_builder(test::service_name("overwrite"))
                     .publish_subscribe<std::uint64_t>()
                     .subscriber_max_buffer_size(2)
                     .create();
  ASSERT_TRUE(service);
  auto publisher = service->publisher_builder().create();
  ASSERT_TRUE(publisher);
  {
    auto subscriber = service->subscriber_builder().create();
    ASSERT_TRUE(subscriber);
    // The queue holds the buffer plus core::kOverwriteSlack: each send beyond that evicts one.
    const std::uint64_t capacity = 2 + core::kOverwriteSlack;
    for (std::uint64_t i = 0; i < capacity + 5; ++i) ASSERT_TRUE(publisher->send_copy(i));
    auto stats = service->connection_stats();
    ASSERT_EQ(stats.size(), 1u);
    EXPECT_EQ(stats[0].delivered, capacity + 5);
    EXPECT_EQ(stats[0].overwritten, 5u);
    auto received = subscriber->receive();
    ASSERT_TRUE(received && *received);
    EXPECT_EQ((*received)->payload(), capacity + 3);  // the oldest of the newest two
  }
  EXPECT_TRUE(service->connection_stats().empty());  // the subscriber left
  auto next = service->subscriber_builder().create();
  ASSERT_TRUE(next);
  ASSERT_TRUE(publisher->send_copy(1));
  auto stats = service->connection_stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].delivered, 1u);
  EXPECT_EQ(stats[0].overwritten, 0u);
  EXPECT_EQ(stats[0].received, 0u);
}

}  // namespace
