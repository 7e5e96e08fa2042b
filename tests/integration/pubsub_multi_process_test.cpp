// Publish-subscribe across real processes: fork (each child makes its own node) and the
// examples from build/bin.
#include <gtest/gtest.h>

#include <cstring>
#include <regex>
#include <thread>

#include "axon_test.hpp"
#include "process.hpp"

namespace {

using namespace axon;
using namespace std::chrono_literals;

struct Stamp {
  static constexpr const char* AXON_TYPE_NAME = "test::Stamp";
  std::uint32_t publisher;
  std::uint32_t reserved;
  std::uint64_t sequence;
};

using test::eventually;

TEST(PubSubMultiProcess, FourPublishersTimesFourSubscribersLoseNothingUnderBlockPolicy) {
  constexpr int kPublishers = 4;
  constexpr int kSubscribers = 4;
  constexpr std::uint64_t kSamples = 2000;
  const auto name = test::service_name("grid");
  auto node = test::make_node("parent");
  auto service = node.service_builder(name).publish_subscribe<Stamp>().max_publishers(kPublishers)
                     .max_subscribers(kSubscribers).subscriber_max_buffer_size(8)
                     .overflow_policy(OverflowPolicy::Block).create();
  ASSERT_TRUE(service);

  std::vector<test::ChildProcess> subscribers;
  for (int s = 0; s < kSubscribers; ++s) {
    subscribers.push_back(test::ChildProcess::fork([&] {
      auto n = NodeBuilder().create();
      auto svc = n->service_builder(name).publish_subscribe<Stamp>().open();
      if (!svc) return 10;
      auto sub = svc->subscriber_builder().create();
      if (!sub) return 11;
      std::array<std::uint64_t, kPublishers> next{};
      std::uint64_t total = 0;
      const auto deadline = std::chrono::steady_clock::now() + 20s;
      while (total < kPublishers * kSamples) {
        if (std::chrono::steady_clock::now() > deadline) {
          std::fprintf(stderr, "subscriber stalled at %llu/%llu/%llu/%llu\n",
                       static_cast<unsigned long long>(next[0]), static_cast<unsigned long long>(next[1]),
                       static_cast<unsigned long long>(next[2]), static_cast<unsigned long long>(next[3]));
          return 12;
        }
        auto sample = sub->receive();
        if (!sample) return 13;
        if (!*sample) {
          std::this_thread::yield();
          continue;
        }
        const auto& stamp = (*sample)->payload();
        if (stamp.publisher >= kPublishers) return 14;
        if (stamp.sequence != next[stamp.publisher]) return 15;  // per-publisher order, no gap
        ++next[stamp.publisher];
        ++total;
      }
      return 0;
    }));
  }
  ASSERT_TRUE(eventually([&] { return service->number_of_subscribers() == kSubscribers; }));
  std::vector<test::ChildProcess> publishers;
  for (std::uint32_t p = 0; p < kPublishers; ++p) {
    publishers.push_back(test::ChildProcess::fork([&, p] {
      auto n = NodeBuilder().create();
      auto svc = n->service_builder(name).publish_subscribe<Stamp>().open();
      if (!svc) return 20;
      auto pub = svc->publisher_builder().block_timeout(30s).create();
      if (!pub) return 21;
      for (std::uint64_t i = 0; i < kSamples; ++i) {
        auto sample = pub->loan_uninit();
        if (!sample) return 22;
        sample->payload() = Stamp{p, 0, i};
        auto sent = pub->send(std::move(*sample));
        if (!sent || *sent != kSubscribers) return 23;
      }
      return 0;
    }));
  }
  for (auto& c : publishers) {
    auto s = c.wait_for(90s);
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->success()) << "publisher exit " << s->code;
  }
  for (auto& c : subscribers) {
    auto s = c.wait_for(90s);
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->success()) << "subscriber exit " << s->code;
  }
}

TEST(PubSubMultiProcess, SubscriberKilledHoldingSamplesHundredTimesCostsThePublisherNoChunk) {
  const auto name = test::service_name("kill");
  auto node = test::make_node("publisher");
  auto service = node.service_builder(name).publish_subscribe<Stamp>().max_subscribers(2)
                     .subscriber_max_buffer_size(4).subscriber_max_borrowed_samples(2).create();
  ASSERT_TRUE(service);
  auto pub = service->publisher_builder().create();
  ASSERT_TRUE(pub);
  const auto chunks = pub->chunk_count();
  for (int round = 0; round < 100; ++round) {
    auto victim = test::ChildProcess::fork([&] {
      auto n = NodeBuilder().create();
      auto svc = n->service_builder(name).publish_subscribe<Stamp>().open();
      if (!svc) return 30;
      auto sub = svc->subscriber_builder().create();
      if (!sub) return 31;
      std::vector<Sample<Stamp>> held;
      for (;;) {  // hold two samples (borrowed) and leave the rest queued; never release
        auto s = sub->receive();
        if (s && *s && held.size() < 2) held.push_back(std::move(**s));
        std::this_thread::sleep_for(1ms);
      }
      return 0;
    });
    ASSERT_TRUE(eventually([&] { return service->number_of_subscribers() == 1; }));
    for (std::uint64_t i = 0; i < 6; ++i) ASSERT_TRUE(pub->send_copy(Stamp{0, 0, i}));
    std::this_thread::sleep_for(std::chrono::milliseconds(2 + round % 5));
    victim.kill(SIGKILL);
    ASSERT_TRUE(victim.wait_for(10s));
    (void)Node::cleanup_dead_nodes();
    ASSERT_EQ(service->number_of_subscribers(), 0u) << "round " << round;
  }
  // The publisher sees the subscriber gone at its next loan and takes back all it delivered.
  std::vector<SampleMut<Stamp>> loans;
  auto first = pub->loan();
  ASSERT_TRUE(first);
  EXPECT_EQ(pub->chunks_in_use(), 1u) << "every chunk of every killed subscriber came back";
  EXPECT_EQ(pub->chunk_count(), chunks);
}

TEST(PubSubMultiProcess, FourMiBPayloadCrossesProcessesIntact) {
  constexpr std::uint64_t kBytes = 4ull << 20;
  const auto name = test::service_name("big");
  auto node = test::make_node("subscriber");
  auto service = node.service_builder(name).publish_subscribe<Slice<std::uint8_t>>()
                     .max_subscribers(1).max_publishers(1).create();
  ASSERT_TRUE(service);
  auto sub = service->subscriber_builder().create();
  ASSERT_TRUE(sub);
  auto publisher = test::ChildProcess::fork([&] {
    auto n = NodeBuilder().create();
    auto svc = n->service_builder(name).publish_subscribe<Slice<std::uint8_t>>().open();
    if (!svc) return 40;
    auto pub = svc->publisher_builder().max_slice_len(kBytes).create();
    if (!pub) return 41;
    auto sample = pub->loan_uninit(kBytes);
    if (!sample) return 42;
    for (std::uint64_t i = 0; i < kBytes; ++i) sample->payload()[i] = static_cast<std::uint8_t>(i % 251);
    if (!pub->send(std::move(*sample))) return 43;
    for (;;) std::this_thread::sleep_for(1s);  // keep the segment until killed
    return 0;
  });
  std::optional<Sample<Slice<std::uint8_t>>> got;
  ASSERT_TRUE(eventually([&] {
    auto s = sub->receive();
    if (s && *s) got.emplace(std::move(**s));
    return got.has_value();
  }));
  const auto payload = got->payload();
  ASSERT_EQ(payload.size(), kBytes);
  std::uint64_t mismatches = 0;
  for (std::uint64_t i = 0; i < kBytes; ++i) mismatches += payload[i] != i % 251;
  EXPECT_EQ(mismatches, 0u);
  // The publisher dies; the sample we hold stays readable (our own mapping).
  publisher.kill(SIGKILL);
  ASSERT_TRUE(publisher.wait_for(10s));
  EXPECT_EQ(got->payload()[kBytes - 1], (kBytes - 1) % 251);
}

/// Receives samples 0, 1, ... count-1 of one publisher, in order, within a minute; `check(sample,
/// i)` returns how many of its checks failed on sample i, added to `bad`. Returns how many came.
template <typename Sub, typename Check>
std::uint64_t receive_in_order(Sub& sub, std::uint64_t count, std::uint64_t& bad, Check&& check) {
  std::uint64_t next = 0;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (next < count && std::chrono::steady_clock::now() < deadline) {
    auto got = sub.receive();
    if (!got) {
      ADD_FAILURE() << "receive: " << to_string(got.error());
      break;
    }
    if (!*got) {
      std::this_thread::yield();
      continue;
    }
    if ((**got).sequence() != next) {
      ADD_FAILURE() << "sample " << (**got).sequence() << " where " << next << " was due";
      break;
    }
    bad += check(**got, next);
    ++next;
  }
  return next;
}

// The untyped API (untyped.hpp) against the typed one, across processes, at full speed under the
// Block policy: every sample arrives, in order, with its length and content.
TEST(PubSubUntypedMultiProcess, UntypedPublisherFeedsATypedSubscriberEverySliceIntact) {
  constexpr std::uint64_t kSamples = 20000;
  constexpr std::uint64_t kMaxLen = 16;
  const auto name = test::service_name("untyped_out");
  auto node = test::make_node("typed-subscriber");
  auto service = node.service_builder(name).publish_subscribe<Slice<std::uint32_t>>()
                     .max_publishers(1).max_subscribers(1).subscriber_max_buffer_size(8)
                     .overflow_policy(OverflowPolicy::Block).create();
  ASSERT_TRUE(service);
  auto sub = service->subscriber_builder().create();
  ASSERT_TRUE(sub);
  auto publisher = test::ChildProcess::fork([&] {
    // The child knows the service only by name: it adopts the type discovery reports.
    auto info = describe_service(name);
    if (!info) return 50;
    const PayloadType type{info->pubsub.type_name, info->pubsub.type_size,
                           info->pubsub.type_alignment, info->pubsub.is_slice};
    auto n = NodeBuilder().create();
    auto svc = n->service_builder(name).publish_subscribe(type).open();
    if (!svc) return 51;
    auto pub = svc->publisher_builder().max_slice_len(kMaxLen).block_timeout(30s).create();
    if (!pub) return 52;
    for (std::uint64_t i = 0; i < kSamples; ++i) {
      const std::uint64_t len = 1 + i % kMaxLen;
      auto sample = pub->loan_uninit(len);
      if (!sample) return 53;
      std::uint32_t sum = 0;
      for (std::uint64_t k = 0; k + 1 < len; ++k) {
        const auto v = static_cast<std::uint32_t>(i * 31 + k);
        std::memcpy(sample->payload().data() + k * 4, &v, 4);
        sum += v;
      }
      const auto last = len == 1 ? static_cast<std::uint32_t>(i) : sum;  // a checksum
      std::memcpy(sample->payload().data() + (len - 1) * 4, &last, 4);
      auto sent = pub->send(std::move(*sample));
      if (!sent || *sent != 1) return 54;
    }
    return 0;
  });
  std::uint64_t bad = 0;
  const auto received = receive_in_order(*sub, kSamples, bad, [&](const auto& sample,
                                                                 std::uint64_t i) {
    const auto values = sample.payload();
    const std::uint64_t len = 1 + i % kMaxLen;
    if (values.size() != len) return std::uint64_t{1};
    std::uint64_t wrong = 0;
    std::uint32_t sum = 0;
    for (std::uint64_t k = 0; k + 1 < len; ++k) {
      wrong += values[k] != static_cast<std::uint32_t>(i * 31 + k);
      sum += values[k];
    }
    return wrong + (values[len - 1] != (len == 1 ? static_cast<std::uint32_t>(i) : sum));
  });
  EXPECT_EQ(received, kSamples);
  EXPECT_EQ(bad, 0u);
  auto status = publisher.wait_for(30s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << "publisher exit " << status->code;
}

TEST(PubSubUntypedMultiProcess, TypedPublisherFeedsAnUntypedSubscriberEveryByteIntact) {
  constexpr std::uint64_t kSamples = 20000;
  const auto name = test::service_name("untyped_in");
  auto node = test::make_node("untyped-subscriber");
  auto service = node.service_builder(name).publish_subscribe(payload_type_of<Stamp>())
                     .max_publishers(1).max_subscribers(1).subscriber_max_buffer_size(8)
                     .overflow_policy(OverflowPolicy::Block).create();
  ASSERT_TRUE(service);
  auto sub = service->subscriber_builder().create();
  ASSERT_TRUE(sub);
  auto publisher = test::ChildProcess::fork([&] {
    auto n = NodeBuilder().create();
    auto svc = n->service_builder(name).publish_subscribe<Stamp>().open();
    if (!svc) return 60;
    auto pub = svc->publisher_builder().block_timeout(30s).create();
    if (!pub) return 61;
    for (std::uint64_t i = 0; i < kSamples; ++i) {
      auto sent = pub->send_copy(Stamp{7, static_cast<std::uint32_t>(i * 2654435761u), i});
      if (!sent || *sent != 1) return 62;
    }
    return 0;
  });
  std::uint64_t bad = 0;
  const auto received = receive_in_order(*sub, kSamples, bad, [&](const auto& sample,
                                                                 std::uint64_t i) {
    const auto bytes = sample.payload();
    if (bytes.size() != sizeof(Stamp)) return std::uint64_t{1};
    Stamp stamp;
    std::memcpy(&stamp, bytes.data(), sizeof(stamp));
    return std::uint64_t{stamp.sequence != i || stamp.publisher != 7 ||
                         stamp.reserved != static_cast<std::uint32_t>(i * 2654435761u)};
  });
  EXPECT_EQ(received, kSamples);
  EXPECT_EQ(bad, 0u);
  auto status = publisher.wait_for(30s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << "publisher exit " << status->code;
}

TEST(PubSubExamples, EverySampleArrivesInOrderWhileASecondSubscriberIsKilled) {
  const auto service = test::unique_name("topic");
  auto first = test::ChildProcess::spawn(test::bin("publish_subscribe_subscriber"), {service});
  auto second = test::ChildProcess::spawn(test::bin("publish_subscribe_subscriber"), {service, "--poll"});
  ASSERT_TRUE(test::wait_for_ports(service, &ServiceInfo::subscribers, 2));
  auto publisher = test::ChildProcess::spawn(test::bin("publish_subscribe_publisher"),
                                             {service, "--interval-ms", "50"});
  second.read_until("Received sample 5\n", 10s);
  second.kill(SIGKILL);
  ASSERT_TRUE(second.wait_for(5s));
  publisher.read_until("Send sample 30\n", 10s);
  publisher.kill(SIGINT);
  auto ps = publisher.wait_for(5s);
  ASSERT_TRUE(ps && ps->success());
  const auto sent_out = publisher.read_all(2s);
  const std::regex send_line("Send sample \\d+");
  const auto sent = static_cast<std::uint64_t>(std::distance(
      std::sregex_iterator(sent_out.begin(), sent_out.end(), send_line), std::sregex_iterator()));
  std::this_thread::sleep_for(300ms);
  first.kill(SIGTERM);
  auto fs = first.wait_for(5s);
  ASSERT_TRUE(fs && fs->success());
  const auto out = first.read_all(2s);
  std::string expected;
  for (std::uint64_t i = 0; i < sent; ++i) expected += "Received sample " + std::to_string(i) + "\n";
  expected += "exit\n";
  EXPECT_GE(sent, 31u);
  EXPECT_EQ(out, expected);
}

}  // namespace

namespace {

TEST(PubSubExamples, DynamicSlicesArriveWithTheirLengthAndContent) {
  using namespace std::chrono_literals;
  const auto service = axon::test::unique_name("dyn");
  auto sub = axon::test::ChildProcess::spawn(axon::test::bin("dynamic_data_subscriber"), {service});
  ASSERT_TRUE(axon::test::wait_for_ports(service, &axon::ServiceInfo::subscribers, 1));
  auto pub = axon::test::ChildProcess::spawn(axon::test::bin("dynamic_data_publisher"),
                                             {service, "--interval-ms", "20"});
  const auto sent = pub.read_until("Send sample 10 with", 10s);
  pub.kill(SIGINT);
  ASSERT_TRUE(pub.wait_for(5s));
  std::this_thread::sleep_for(200ms);
  sub.kill(SIGINT);
  auto s = sub.wait_for(5s);
  ASSERT_TRUE(s && s->success());
  const auto out = sub.read_all(2s);
  EXPECT_EQ(out.find("BAD"), std::string::npos) << out;
  EXPECT_NE(out.find("Received 98 bytes, first 1, pattern ok"), std::string::npos) << out;
  EXPECT_NE(out.find("Received 1 bytes, first 0, pattern ok"), std::string::npos) << out;
}

}  // namespace
