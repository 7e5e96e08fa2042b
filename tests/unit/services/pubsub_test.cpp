// One-process tests of publish-subscribe over real shared memory.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "axon/detail/node_core.hpp"
#include "axon/publish_subscribe/pubsub_core.hpp"
#include "axon_test.hpp"

namespace {

using namespace axon;

struct Pose {
  static constexpr const char* AXON_TYPE_NAME = "test::Pose";
  double x, y, z;
  std::uint64_t counter;
};

struct Other {
  static constexpr const char* AXON_TYPE_NAME = "test::Other";
  double x, y, z;
  std::uint64_t counter;
};

class PubSub : public ::testing::Test {
 protected:
  Node node = test::make_node("pubsub-test");
  ServiceName name = test::service_name("pubsub");

  template <typename T = Pose>
  PubSubServiceBuilder<T> builder() {
    return node.service_builder(name).publish_subscribe<T>();
  }
};

std::vector<std::uint64_t> receive_all(Subscriber<Pose>& sub) {
  std::vector<std::uint64_t> got;
  for (;;) {
    auto s = sub.receive();
    EXPECT_TRUE(s.has_value());
    if (!s || !*s) return got;
    got.push_back((**s)->counter);
  }
}

TEST_F(PubSub, SentSampleIsReadInPlaceBySubscriber) {
  auto service = builder().create();
  ASSERT_TRUE(service);
  auto sub = service->subscriber_builder().create();
  auto sut = service->publisher_builder().create();
  ASSERT_TRUE(sub && sut);
  auto sample = sut->loan_uninit();
  ASSERT_TRUE(sample);
  sample->payload() = Pose{1.0, 2.0, 3.0, 42};
  // The publisher's own view of the chunk; it stays mapped while the subscriber holds the sample.
  auto* written_at = &sample->payload();
  ASSERT_EQ(*sut->send(std::move(*sample)), 1u);
  auto got = sub->receive();
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((**got)->counter, 42u);
  EXPECT_EQ((**got)->z, 3.0);
  EXPECT_EQ((**got).sequence(), 0u);
  // Zero-copy: the subscriber reads the very bytes the publisher wrote. A change made through
  // the publisher's mapping after send shows in the received sample; a copy would not see it.
  written_at->counter = 43;
  EXPECT_EQ((**got)->counter, 43u);
}

TEST_F(PubSub, OpenWithAnotherPayloadTypeIsIncompatibleTypes) {
  auto service = builder().create();
  ASSERT_TRUE(service);
  auto sut = builder<Other>().open();
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error(), PubSubOpenError::IncompatibleTypes);
  auto slice = builder<Slice<Pose>>().open();
  ASSERT_FALSE(slice);
  EXPECT_EQ(slice.error(), PubSubOpenError::IncompatibleTypes);
}

TEST_F(PubSub, EventAndPubSubOfOneNameAreIncompatiblePatterns) {
  auto service = builder().create();
  ASSERT_TRUE(service);
  auto sut = node.service_builder(name).event().open();
  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error(), EventOpenError::IncompatibleMessagingPattern);
  auto events = node.service_builder(test::service_name("ev")).event().create();
  ASSERT_TRUE(events);
  auto other = node.service_builder(events->name()).publish_subscribe<Pose>().open();
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error(), PubSubOpenError::IncompatibleMessagingPattern);
}

TEST_F(PubSub, OpenChecksRequirements) {
  auto service = builder().max_publishers(1).max_subscribers(2).history_size(1)
                     .subscriber_max_buffer_size(3).overflow_policy(OverflowPolicy::Refuse).create();
  ASSERT_TRUE(service);
  EXPECT_EQ(builder().max_publishers(2).open().error(),
            PubSubOpenError::DoesNotSupportRequestedAmountOfPublishers);
  EXPECT_EQ(builder().max_subscribers(3).open().error(),
            PubSubOpenError::DoesNotSupportRequestedAmountOfSubscribers);
  EXPECT_EQ(builder().history_size(2).open().error(),
            PubSubOpenError::DoesNotSupportRequestedHistorySize);
  EXPECT_EQ(builder().subscriber_max_buffer_size(4).open().error(),
            PubSubOpenError::DoesNotSupportRequestedBufferSize);
  EXPECT_EQ(builder().overflow_policy(OverflowPolicy::Block).open().error(),
            PubSubOpenError::IncompatibleOverflowPolicy);
  EXPECT_EQ(builder().create().error(), PubSubCreateError::AlreadyExists);
  EXPECT_TRUE(builder().max_subscribers(2).open());
}

TEST_F(PubSub, PortLimitsAreEnforced) {
  auto service = builder().max_publishers(1).max_subscribers(1).create();
  ASSERT_TRUE(service);
  auto p = service->publisher_builder().create();
  auto s = service->subscriber_builder().create();
  ASSERT_TRUE(p && s);
  EXPECT_EQ(service->publisher_builder().create().error(), PublisherCreateError::ExceedsMaxPublishers);
  EXPECT_EQ(service->subscriber_builder().create().error(),
            SubscriberCreateError::ExceedsMaxSubscribers);
  EXPECT_EQ(service->number_of_publishers(), 1u);
  EXPECT_EQ(service->number_of_subscribers(), 1u);
}

TEST_F(PubSub, MaxLoansIsEnforcedAndADroppedLoanReturnsItsChunk) {
  auto service = builder().publisher_max_loans(2).create();
  auto sut = service->publisher_builder().create();
  ASSERT_TRUE(sut);
  auto a = sut->loan();
  auto b = sut->loan();
  ASSERT_TRUE(a && b);
  auto c = sut->loan();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), PublisherLoanError::ExceedsMaxLoans);
  { auto drop = std::move(*a); }
  EXPECT_TRUE(sut->loan());
  EXPECT_EQ(sut->chunks_in_use(), 1u) << "only b is still loaned";
}

// Regression (issue 15): send_copy reported every failed loan as Corrupted, which says that shared
// memory failed validation; a full loan table is the caller's ExceedsMaxLoans, as loan() says.
TEST_F(PubSub, SendCopyReturnsTheErrorOfTheLoanItCouldNotMake) {
  auto service = builder().publisher_max_loans(1).create();
  ASSERT_TRUE(service);
  auto sut = service->publisher_builder().create();
  ASSERT_TRUE(sut);
  auto held = sut->loan();
  ASSERT_TRUE(held);
  const auto refused = sut->loan();
  ASSERT_FALSE(refused);

  const auto sent = sut->send_copy(Pose{1.0, 2.0, 3.0, 7});

  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error(), PublisherSendError::ExceedsMaxLoans);
  EXPECT_STREQ(to_string(sent.error()), to_string(refused.error()));
}

TEST_F(PubSub, LateSubscriberGetsHistory) {
  auto service = builder().history_size(3).subscriber_max_buffer_size(4).create();
  auto sut = service->publisher_builder().create();
  ASSERT_TRUE(sut);
  for (std::uint64_t i = 0; i < 5; ++i) ASSERT_TRUE(sut->send_copy(Pose{0, 0, 0, i}));
  auto late = service->subscriber_builder().create();
  ASSERT_TRUE(late);
  EXPECT_TRUE(receive_all(*late).empty()) << "history arrives once the publisher sees the subscriber";
  ASSERT_TRUE(sut->send_copy(Pose{0, 0, 0, 5}));
  EXPECT_EQ(receive_all(*late), (std::vector<std::uint64_t>{2, 3, 4, 5}));
}

TEST_F(PubSub, OverwriteOldestKeepsTheNewest) {
  auto service = builder().subscriber_max_buffer_size(2).create();
  auto sub = service->subscriber_builder().create();
  auto sut = service->publisher_builder().create();
  for (std::uint64_t i = 0; i < 5; ++i) ASSERT_EQ(*sut->send_copy(Pose{0, 0, 0, i}), 1u);
  EXPECT_EQ(receive_all(*sub), (std::vector<std::uint64_t>{3, 4}));
  {
    auto loan = sut->loan();  // a loan first takes back what the subscriber released
    ASSERT_TRUE(loan);
    EXPECT_EQ(sut->chunks_in_use(), 1u + 3u)
        << "released chunks went back to the pool; the skipped 0..2 stay queued until evicted";
  }
  // Far more than the queue holds, unread: every eviction gives a chunk back, so the pool never
  // runs dry, and what stays is the queue's spare slots (skipped) and the loan.
  for (std::uint64_t i = 5; i < 1000; ++i) ASSERT_EQ(*sut->send_copy(Pose{0, 0, 0, i}), 1u);
  EXPECT_EQ(receive_all(*sub), (std::vector<std::uint64_t>{998, 999}));
  auto loan = sut->loan();
  ASSERT_TRUE(loan);
  EXPECT_EQ(sut->chunks_in_use(), core::kOverwriteSlack + 1u);
}

TEST_F(PubSub, RefuseDropsTheNewSampleForAFullSubscriber) {
  auto service = builder().subscriber_max_buffer_size(2).overflow_policy(OverflowPolicy::Refuse).create();
  auto sub = service->subscriber_builder().create();
  auto sut = service->publisher_builder().create();
  EXPECT_EQ(*sut->send_copy(Pose{0, 0, 0, 0}), 1u);
  EXPECT_EQ(*sut->send_copy(Pose{0, 0, 0, 1}), 1u);
  EXPECT_EQ(*sut->send_copy(Pose{0, 0, 0, 2}), 0u);
  EXPECT_EQ(receive_all(*sub), (std::vector<std::uint64_t>{0, 1}));
}

TEST_F(PubSub, BlockGivesUpAfterItsTimeoutWhenNobodyReads) {
  auto service = builder().subscriber_max_buffer_size(1).overflow_policy(OverflowPolicy::Block).create();
  auto sub = service->subscriber_builder().create();
  auto sut = service->publisher_builder().block_timeout(std::chrono::milliseconds(50)).create();
  EXPECT_EQ(*sut->send_copy(Pose{0, 0, 0, 0}), 1u);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(*sut->send_copy(Pose{0, 0, 0, 1}), 0u);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
  EXPECT_EQ(receive_all(*sub), (std::vector<std::uint64_t>{0}));
}

TEST_F(PubSub, BorrowLimitAndReleaseReturnChunks) {
  auto service = builder().subscriber_max_buffer_size(4).subscriber_max_borrowed_samples(2).create();
  auto sub = service->subscriber_builder().create();
  auto sut = service->publisher_builder().create();
  for (std::uint64_t i = 0; i < 3; ++i) ASSERT_TRUE(sut->send_copy(Pose{0, 0, 0, i}));
  auto a = sub->receive();
  auto b = sub->receive();
  ASSERT_TRUE(a && *a && b && *b);
  auto c = sub->receive();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), SubscriberReceiveError::ExceedsMaxBorrowedSamples);
  a->reset();
  auto d = sub->receive();
  ASSERT_TRUE(d && *d);
  EXPECT_EQ((**d)->counter, 2u);
  a->reset();
  b->reset();
  d->reset();
  ASSERT_TRUE(sut->loan());  // reclaims the completion queue
  EXPECT_EQ(sut->chunks_in_use(), 0u);
}

TEST_F(PubSub, SliceCarriesItsLengthUpToTheMax) {
  auto service = builder<Slice<std::uint32_t>>().create();
  ASSERT_TRUE(service);
  auto sub = service->subscriber_builder().create();
  auto sut = service->publisher_builder().max_slice_len(100).create();
  ASSERT_TRUE(sub && sut);
  EXPECT_EQ(sut->loan(101).error(), PublisherLoanError::ExceedsMaxSliceLength);
  auto sample = sut->loan_uninit(10);
  ASSERT_TRUE(sample);
  for (std::uint32_t i = 0; i < 10; ++i) sample->payload()[i] = i * i;
  ASSERT_EQ(*sut->send(std::move(*sample)), 1u);
  auto got = sub->receive();
  ASSERT_TRUE(got && *got);
  const auto payload = (*got)->payload();
  ASSERT_EQ(payload.size(), 10u);
  EXPECT_EQ(payload[9], 81u);
}

TEST_F(PubSub, ALengthRewrittenAfterReceiveIsNotReadAgain) {
  // A hostile publisher rewrites a chunk's header after the subscriber checked it: the sample
  // keeps the length (and sequence) it was handed, so nothing reads past the chunk.
  auto service = builder<Slice<std::uint32_t>>().create();
  ASSERT_TRUE(service);
  auto sub = service->subscriber_builder().create();
  auto sut = service->publisher_builder().max_slice_len(4).create();
  ASSERT_TRUE(sub && sut);
  auto sample = sut->loan_uninit(4);
  ASSERT_TRUE(sample);
  for (std::uint32_t i = 0; i < 4; ++i) sample->payload()[i] = i + 1;
  // Where the publisher (any process with its segment mapped writable) reaches the header.
  auto* header = reinterpret_cast<detail::ChunkHeader*>(
      reinterpret_cast<std::byte*>(sample->payload().data()) -
      detail::payload_offset(alignof(detail::ChunkHeader)));
  ASSERT_EQ(*sut->send(std::move(*sample)), 1u);
  auto got = sub->receive();
  ASSERT_TRUE(got && *got);
  ASSERT_EQ(header->payload_size, 16u);
  header->payload_size = std::uint64_t{1} << 40;
  header->sequence = 77;
  EXPECT_EQ((*got)->payload().size(), 4u);
  EXPECT_EQ((*got)->payload()[3], 4u);
  EXPECT_EQ((*got)->sequence(), 0u);
}

TEST_F(PubSub, HostileOffsetInTheSubmissionQueueIsRejected) {
  auto service = builder().create();
  auto sub = service->subscriber_builder().create();
  auto pub = service->publisher_builder().create();
  ASSERT_TRUE(pub->send_copy(Pose{}));
  (void)sub->receive();  // connection established; queue empty now
  // Reach the connection's submission queue as a hostile peer would: through the mapping.
  auto shm = platform::SharedMemory::open(
      node.config().prefix + "svc_" + detail::Paths::service_hash(name.as_string()) + "_d",
      platform::AccessMode::ReadWrite);
  ASSERT_TRUE(shm);
  const auto& h = *static_cast<const core::DynamicHeader*>(shm->data());
  auto* connection = static_cast<std::byte*>(shm->data()) + h.region_offset;
  const auto* ch = reinterpret_cast<const core::ConnectionHeader*>(connection);
  auto queue = core::SpscIndexQueue::attach(connection + ch->submission_offset,
                                            ch->completion_offset - ch->submission_offset);
  ASSERT_TRUE(queue);
  for (const std::uint64_t bad : {std::uint64_t{0}, std::uint64_t{1}, ~std::uint64_t{0},
                                  std::uint64_t{1} << 40, std::uint64_t{4097}}) {
    ASSERT_TRUE(queue->push_overwrite(bad));
    auto got = sub->receive();
    ASSERT_FALSE(got) << "offset " << bad << " must be rejected";
    EXPECT_EQ(got.error(), SubscriberReceiveError::Corrupted);
  }
}

TEST_F(PubSub, LastPortOutRemovesEverything) {
  const auto before = test::shm_objects();
  {
    auto service = builder().create();
    auto sub = service->subscriber_builder().create();
    auto pub = service->publisher_builder().create();
    ASSERT_TRUE(pub->send_copy(Pose{}));
    auto sample = sub->receive();
    EXPECT_GT(test::shm_objects().size(), before.size());
  }
  EXPECT_EQ(test::shm_objects(), before);
}

TEST_F(PubSub, PayloadsFrom8BytesTo4MiBArriveIntact) {
  for (const std::uint64_t bytes : {8ull, 1024ull, 65536ull, 1ull << 20, 4ull << 20}) {
    auto svc_name = test::service_name("sizes");
    auto service = node.service_builder(svc_name).publish_subscribe<Slice<std::uint8_t>>()
                       .max_subscribers(1).max_publishers(1).create();
    ASSERT_TRUE(service);
    auto sub = service->subscriber_builder().create();
    auto pub = service->publisher_builder().max_slice_len(bytes).create();
    ASSERT_TRUE(sub && pub) << bytes;
    auto sample = pub->loan_uninit(bytes);
    ASSERT_TRUE(sample);
    for (std::uint64_t i = 0; i < bytes; ++i) sample->payload()[i] = static_cast<std::uint8_t>(i * 7);
    ASSERT_EQ(*pub->send(std::move(*sample)), 1u);
    auto got = sub->receive();
    ASSERT_TRUE(got && *got);
    const auto payload = (*got)->payload();
    ASSERT_EQ(payload.size(), bytes);
    for (std::uint64_t i = 0; i < bytes; i += 4093) {
      ASSERT_EQ(payload[i], static_cast<std::uint8_t>(i * 7));
    }
  }
}

}  // namespace
