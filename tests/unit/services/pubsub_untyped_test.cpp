// The untyped publish-subscribe API (untyped.hpp) in one process: ports that move bytes, described
// by a PayloadType, meeting typed ports on the same service. Across processes:
// tests/integration/pubsub_multi_process_test.cpp (PubSubUntyped*).
#include <gtest/gtest.h>

#include <cstring>
#include <numeric>
#include <optional>
#include <vector>

#include "axon_test.hpp"

namespace {

using namespace axon;

struct Pose {
  static constexpr const char* AXON_TYPE_NAME = "test::Pose";
  double x, y, z;
  std::uint64_t counter;
};

class PubSubUntyped : public ::testing::Test {
 protected:
  Node node = test::make_node("pubsub-untyped-test");
  ServiceName name = test::service_name("untyped");
  UntypedPubSubServiceBuilder builder(PayloadType type) {
    return node.service_builder(name).publish_subscribe(std::move(type));
  }
};

template <typename T>
std::span<const std::byte> bytes_of(const T& value) {
  return std::as_bytes(std::span<const T, 1>(&value, 1));
}

TEST(PayloadTypeOf, DescribesTheTypeAndTheSliceElement) {
  const auto pose = payload_type_of<Pose>();
  EXPECT_EQ(pose, (PayloadType{"test::Pose", sizeof(Pose), alignof(Pose), false}));
  const auto slice = payload_type_of<Slice<std::uint16_t>>();
  EXPECT_EQ(slice.size, 2u);
  EXPECT_EQ(slice.alignment, alignof(std::uint16_t));
  EXPECT_TRUE(slice.is_slice);
  EXPECT_EQ(slice.name, payload_type_of<std::uint16_t>().name);
}

TEST_F(PubSubUntyped, TypedPublisherReachesUntypedSubscriberByteForByte) {
  auto typed = node.service_builder(name).publish_subscribe<Pose>().create();
  ASSERT_TRUE(typed);
  auto untyped = builder(payload_type_of<Pose>()).open();
  ASSERT_TRUE(untyped) << to_string(untyped.error());
  EXPECT_EQ(untyped->payload_type(), payload_type_of<Pose>());
  auto sub = untyped->subscriber_builder().create();
  auto pub = typed->publisher_builder().create();
  ASSERT_TRUE(sub && pub);
  const Pose sent{1.5, -2.0, 3.25, 42};
  ASSERT_EQ(*pub->send_copy(sent), 1u);
  auto got = sub->receive();
  ASSERT_TRUE(got && *got);
  ASSERT_EQ((*got)->payload().size(), sizeof(Pose));
  Pose copy;
  std::memcpy(&copy, (*got)->payload().data(), sizeof(Pose));
  EXPECT_EQ(copy.counter, 42u);
  EXPECT_EQ(copy.z, 3.25);
  EXPECT_EQ((*got)->sequence(), 0u);
  EXPECT_EQ((*got)->publisher_id(), pub->id());
}

TEST_F(PubSubUntyped, UntypedSlicePublisherReachesTypedSubscriberWithEachLength) {
  auto untyped = builder(payload_type_of<Slice<std::uint32_t>>()).create();
  ASSERT_TRUE(untyped);
  auto typed = node.service_builder(name).publish_subscribe<Slice<std::uint32_t>>().open();
  ASSERT_TRUE(typed) << to_string(typed.error());
  auto sub = typed->subscriber_builder().create();
  auto pub = untyped->publisher_builder().max_slice_len(8).create();
  ASSERT_TRUE(sub && pub);
  EXPECT_EQ(pub->max_slice_len(), 8u);
  for (std::uint32_t len = 1; len <= 8; ++len) {
    auto sample = pub->loan_uninit(len);
    ASSERT_TRUE(sample);
    EXPECT_EQ(sample->len(), len);
    ASSERT_EQ(sample->payload().size(), len * sizeof(std::uint32_t));
    std::vector<std::uint32_t> values(len);
    std::iota(values.begin(), values.end(), len * 100);
    std::memcpy(sample->payload().data(), values.data(), sample->payload().size());
    ASSERT_EQ(*pub->send(std::move(*sample)), 1u);
    auto got = sub->receive();
    ASSERT_TRUE(got && *got);
    const auto span = (*got)->payload();
    ASSERT_EQ(span.size(), len);
    EXPECT_EQ(span[0], len * 100);
    EXPECT_EQ(span[len - 1], len * 100 + len - 1);
  }
  EXPECT_EQ(pub->loan_uninit(9).error(), PublisherLoanError::ExceedsMaxSliceLength);
}

TEST_F(PubSubUntyped, OpenWithAnyOtherPayloadTypeIsIncompatibleTypes) {
  auto service = node.service_builder(name).publish_subscribe<Pose>().create();
  ASSERT_TRUE(service);
  const auto pose = payload_type_of<Pose>();
  std::vector<PayloadType> others{pose, pose, pose, pose};
  others[0].name = "test::Other";
  others[1].size += 8;
  others[2].alignment = 16;
  others[3].is_slice = true;
  for (const auto& other : others) {
    auto opened = builder(other).open();
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error(), PubSubOpenError::IncompatibleTypes);
  }
}

TEST_F(PubSubUntyped, CreateRefusesAPayloadTypeNoProcessCouldMeet) {
  const std::vector<PayloadType> invalid{
      {"", 8, 8, false},                     // no name
      {std::string(1000, 'x'), 8, 8, false},  // a name longer than a service records
      {"t", 0, 1, false},                    // no size
      {"t", 8, 0, false},                    // no alignment
      {"t", 8, 3, false},                    // not a power of two
      {"t", 8192, 8192, false},              // aligned beyond a page
      {"t", 12, 8, true},                    // a size no type of that alignment has
  };
  for (const auto& type : invalid) {
    auto created = builder(type).create();
    ASSERT_FALSE(created) << type.name.size() << " " << type.size << " " << type.alignment;
    EXPECT_EQ(created.error(), PubSubCreateError::InvalidSettings);
  }
  EXPECT_EQ(builder(invalid[4]).open_or_create().error(),
            PubSubOpenOrCreateError{PubSubCreateError::InvalidSettings});
}

TEST_F(PubSubUntyped, SendCopyTakesOneElementOrAWholeNumberOfSliceElements) {
  auto single = builder(PayloadType{"test::Eight", 8, 8, false}).create();
  ASSERT_TRUE(single);
  auto sub = single->subscriber_builder().create();
  auto pub = single->publisher_builder().create();
  ASSERT_TRUE(sub && pub);
  const std::uint64_t value = 0x1122334455667788;
  const std::array<std::byte, 4> half{};
  const std::array<std::byte, 16> twice{};
  EXPECT_EQ(pub->send_copy(half).error(), PublisherSendError::PayloadSizeMismatch);
  EXPECT_EQ(pub->send_copy(twice).error(), PublisherSendError::PayloadSizeMismatch);
  EXPECT_EQ(pub->send_copy({}).error(), PublisherSendError::PayloadSizeMismatch);
  EXPECT_EQ(*pub->send_copy(bytes_of(value)), 1u);
  auto got = sub->receive();
  ASSERT_TRUE(got && *got);
  EXPECT_EQ(std::memcmp((*got)->payload().data(), &value, 8), 0);
  EXPECT_EQ(pub->chunks_in_use(), 1u);  // the sample we hold
  got->reset();
  EXPECT_EQ(pub->chunks_in_use(), 0u);
}

TEST_F(PubSubUntyped, SliceSendCopyRefusesPartialElementsAndTooLongSlices) {
  auto service = builder(PayloadType{"test::Pair", 2, 2, true}).create();
  ASSERT_TRUE(service);
  auto sub = service->subscriber_builder().create();
  auto pub = service->publisher_builder().max_slice_len(3).create();
  ASSERT_TRUE(sub && pub);
  const std::array<std::byte, 6> three{std::byte{1}, std::byte{2}, std::byte{3},
                                       std::byte{4}, std::byte{5}, std::byte{6}};
  EXPECT_EQ(pub->send_copy(std::span(three).first(5)).error(),
            PublisherSendError::PayloadSizeMismatch);
  const std::array<std::byte, 8> four{};
  EXPECT_EQ(pub->send_copy(four).error(), PublisherSendError::ExceedsMaxSliceLength);
  EXPECT_EQ(*pub->send_copy({}), 1u);  // an empty slice is a sample like any other
  auto empty = sub->receive();
  ASSERT_TRUE(empty && *empty);
  EXPECT_TRUE((*empty)->payload().empty());
  empty->reset();
  EXPECT_EQ(*pub->send_copy(three), 1u);
  auto got = sub->receive();
  ASSERT_TRUE(got && *got);
  ASSERT_EQ((*got)->payload().size(), 6u);
  EXPECT_EQ((*got)->payload()[5], std::byte{6});
}

TEST_F(PubSubUntyped, WithoutSlicesALoanIsExactlyOneElement) {
  // Old code: loan_uninit(0) published an empty payload that every subscriber refused as
  // Corrupted.
  auto service = builder(PayloadType{"test::Eight", 8, 8, false}).create();
  ASSERT_TRUE(service);
  auto sub = service->subscriber_builder().create();
  auto pub = service->publisher_builder().create();
  ASSERT_TRUE(sub && pub);
  EXPECT_EQ(pub->loan_uninit(0).error(), PublisherLoanError::ExceedsMaxSliceLength);
  EXPECT_EQ(pub->loan_uninit(2).error(), PublisherLoanError::ExceedsMaxSliceLength);
  EXPECT_EQ(pub->chunks_in_use(), 0u);
  auto one = pub->loan(1);
  ASSERT_TRUE(one);
  ASSERT_EQ(*pub->send(std::move(*one)), 1u);
  auto got = sub->receive();
  ASSERT_TRUE(got && *got) << (got ? "nothing" : to_string(got.error()));
  EXPECT_EQ((*got)->payload().size(), 8u);
}

TEST_F(PubSubUntyped, LoanZeroesAndAnUnsentLoanGoesBack) {
  auto service = builder(PayloadType{"test::Block", 64, 8, false}).create();
  ASSERT_TRUE(service);
  auto pub = service->publisher_builder().create();
  ASSERT_TRUE(pub);
  {
    auto dirty = pub->loan_uninit();
    ASSERT_TRUE(dirty);
    std::memset(dirty->payload().data(), 0xab, dirty->payload().size());
    EXPECT_EQ(pub->chunks_in_use(), 1u);
  }
  EXPECT_EQ(pub->chunks_in_use(), 0u);  // dropped unsent: back
  auto clean = pub->loan();
  ASSERT_TRUE(clean);
  for (const auto b : clean->payload()) ASSERT_EQ(b, std::byte{0});
}

TEST_F(PubSubUntyped, APortMovedIntoAnotherReleasesThatOnesSlotFirst) {
  auto service = builder(payload_type_of<Pose>()).max_publishers(1).create();
  ASSERT_TRUE(service);
  auto first = service->publisher_builder().create();
  ASSERT_TRUE(first);
  EXPECT_EQ(service->publisher_builder().create().error(),
            PublisherCreateError::ExceedsMaxPublishers);
  UntypedPublisher moved(std::move(*first));
  EXPECT_EQ(service->number_of_publishers(), 1u);
  UntypedPublisher& alias = moved;
  moved = std::move(alias);  // a self-move keeps the port
  EXPECT_EQ(service->number_of_publishers(), 1u);
  {
    auto gone = std::move(moved);
  }
  EXPECT_EQ(service->number_of_publishers(), 0u);
  EXPECT_TRUE(service->publisher_builder().create());
}

// Old code: a loan that outlived its publisher pointed to freed memory (a use after free on its
// send or drop). The publisher's port now lives until its last loan is resolved.
TEST_F(PubSubUntyped, ALoanOutlivesItsPublisherAndStillSends) {
  auto service = node.service_builder(name).publish_subscribe<std::uint64_t>().create();
  ASSERT_TRUE(service);
  auto sub = service->subscriber_builder().create();
  ASSERT_TRUE(sub);
  std::optional<SampleMut<std::uint64_t>> kept;
  std::optional<SampleMut<std::uint64_t>> dropped;
  {
    auto pub = service->publisher_builder().create();
    ASSERT_TRUE(pub);
    kept.emplace(std::move(*pub->loan()));
    dropped.emplace(std::move(*pub->loan()));
  }
  EXPECT_EQ(service->number_of_publishers(), 1u);  // held by its loans
  kept->payload() = 4711;
  {
    // Sent through another publisher object: a sample goes out through its own port.
    auto other = service->publisher_builder().create();
    ASSERT_TRUE(other);
    ASSERT_EQ(*other->send(std::move(*kept)), 1u);
  }
  kept.reset();
  EXPECT_EQ(service->number_of_publishers(), 1u);  // one loan is still out
  auto got = sub->receive();
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->payload(), 4711u);
  dropped.reset();
  EXPECT_EQ(service->number_of_publishers(), 0u);  // the last loan let it go
  EXPECT_EQ((*got)->payload(), 4711u);             // what was received stays readable
}

TEST_F(PubSubUntyped, APublisherAssignedOverWithALoanOutLeavesWithItsLastLoan) {
  auto service = builder(payload_type_of<std::uint32_t>()).create();
  ASSERT_TRUE(service);
  auto first = service->publisher_builder().create();
  auto second = service->publisher_builder().create();
  ASSERT_TRUE(first && second);
  auto loan = first->loan();
  ASSERT_TRUE(loan);
  *first = std::move(*second);
  EXPECT_EQ(service->number_of_publishers(), 2u);
  loan = tl::unexpected(PublisherLoanError::OutOfChunks);  // drops the loan
  EXPECT_EQ(service->number_of_publishers(), 1u);
}

TEST_F(PubSubUntyped, ASampleOutlivesItsSubscriberAndItsPublisher) {
  auto service = builder(payload_type_of<Pose>()).create();
  ASSERT_TRUE(service);
  std::optional<UntypedSample> kept;
  {
    auto sub = service->subscriber_builder().create();
    auto pub = service->publisher_builder().create();
    ASSERT_TRUE(sub && pub);
    const Pose pose{0, 0, 0, 7};
    ASSERT_EQ(*pub->send_copy(bytes_of(pose)), 1u);
    auto got = sub->receive();
    ASSERT_TRUE(got && *got);
    kept.emplace(std::move(**got));
  }
  Pose copy;
  std::memcpy(&copy, kept->payload().data(), sizeof(copy));
  EXPECT_EQ(copy.counter, 7u);  // the segment stays mapped while the sample lives
  // The subscriber's port (and its slot) lives until its last sample is released.
  EXPECT_EQ(service->number_of_subscribers(), 1u);
  kept.reset();
  EXPECT_EQ(service->number_of_subscribers(), 0u);
}

}  // namespace
