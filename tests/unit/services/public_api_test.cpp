// What the public API promises of its types, checked by the compiler, and move-assignment of
// ports checked at run time: the port that is overwritten leaves the service.
#include <type_traits>

#include "axon/axon.hpp"
#include "axon_test.hpp"

namespace {

using namespace axon;

template <typename T>
constexpr bool kMovable = std::is_nothrow_move_constructible_v<T> && std::is_move_assignable_v<T>;

static_assert(kMovable<Node>);
static_assert(kMovable<EventService>);
static_assert(kMovable<Listener>);
static_assert(kMovable<Notifier>);
static_assert(kMovable<PubSubService<int>>);
static_assert(kMovable<Publisher<int>>);
static_assert(kMovable<Subscriber<int>>);
static_assert(kMovable<WaitSet>);
static_assert(kMovable<SystemEvent>);
static_assert(kMovable<UntypedPubSubService>);
static_assert(kMovable<UntypedPublisher>);
static_assert(kMovable<UntypedSubscriber>);
static_assert(std::is_nothrow_move_constructible_v<UntypedSample>);
static_assert(std::is_nothrow_move_constructible_v<UntypedSampleMut>);
static_assert(std::is_nothrow_move_constructible_v<Sample<int>>);
static_assert(std::is_nothrow_move_constructible_v<SampleMut<int>>);
// Ports and samples are never copied: a copy would own a port slot or a chunk twice.
static_assert(!std::is_copy_constructible_v<UntypedPublisher>);
static_assert(!std::is_copy_constructible_v<Publisher<int>>);
static_assert(!std::is_copy_constructible_v<Sample<int>>);
static_assert(!std::is_copy_constructible_v<UntypedSampleMut>);
static_assert(!std::is_copy_constructible_v<Listener>);
static_assert(!std::is_copy_constructible_v<UntypedSubscriber>);
static_assert(!std::is_copy_constructible_v<Subscriber<int>>);

// Every to_string of an error is a static string.
static_assert(std::is_same_v<decltype(to_string(EventOpenOrCreateError{})), const char*>);
static_assert(std::is_same_v<decltype(to_string(PubSubOpenOrCreateError{})), const char*>);
static_assert(std::is_same_v<decltype(to_string(EventOpenError{})), const char*>);
static_assert(std::is_same_v<decltype(to_string(NodeWaitError{})), const char*>);

TEST(PublicApi, MoveAssigningAPortReleasesTheOneItReplaces) {
  auto node = test::make_node();
  auto service = node.service_builder(test::service_name("api_move")).event().create();
  ASSERT_TRUE(service);
  auto first = service->listener_builder().create();
  auto second = service->listener_builder().create();
  auto notifier = service->notifier_builder().create();
  auto other_notifier = service->notifier_builder().create();
  ASSERT_TRUE(first && second && notifier && other_notifier);
  EXPECT_EQ(service->number_of_listeners(), 2u);
  *first = std::move(*second);
  EXPECT_EQ(service->number_of_listeners(), 1u);
  *notifier = std::move(*other_notifier);
  EXPECT_EQ(service->number_of_notifiers(), 1u);
  // The survivors work: a notify reaches the listener that was moved.
  auto reached = notifier->notify(EventId{3});
  ASSERT_TRUE(reached);
  EXPECT_EQ(*reached, 1u);
  std::uint64_t seen = 0;
  ASSERT_TRUE(first->try_wait([&](EventId id, std::uint64_t count) {
    EXPECT_EQ(id.value, 3u);
    seen += count;
  }));
  EXPECT_EQ(seen, 1u);
}

TEST(PublicApi, MoveAssigningAPublishSubscribePortReleasesTheOneItReplaces) {
  auto node = test::make_node();
  auto service = node.service_builder(test::service_name("api_move_pubsub"))
                     .publish_subscribe<std::uint64_t>()
                     .create();
  ASSERT_TRUE(service);
  auto first = service->publisher_builder().create();
  auto second = service->publisher_builder().create();
  auto subscriber = service->subscriber_builder().create();
  ASSERT_TRUE(first && second && subscriber);
  const auto survivor = second->id();
  EXPECT_EQ(service->number_of_publishers(), 2u);
  *first = std::move(*second);
  EXPECT_EQ(service->number_of_publishers(), 1u);
  EXPECT_EQ(first->id(), survivor);
  ASSERT_EQ(*first->send_copy(99), 1u);
  auto got = subscriber->receive();
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->payload(), 99u);
  EXPECT_EQ((*got)->publisher_id(), survivor);
}

TEST(PublicApi, BuildersWorkStepwiseAsWellAsChained) {
  auto node = test::make_node();
  auto builder = node.service_builder(test::service_name("api_stepwise")).event();
  builder.max_listeners(4);
  builder.max_notifiers(2).event_id_max_value(9);
  auto service = builder.create();
  ASSERT_TRUE(service);
  EXPECT_EQ(service->static_config().max_listeners, 4u);
  EXPECT_EQ(service->static_config().max_notifiers, 2u);
  EXPECT_EQ(service->static_config().event_id_max_value, 9u);
  // The same builder opens what it created (its settings are now requirements).
  EXPECT_TRUE(builder.open());

  auto notifier_builder = service->notifier_builder();
  notifier_builder.default_event_id(EventId{7});
  auto notifier = notifier_builder.create();
  ASSERT_TRUE(notifier);
  EXPECT_EQ(notifier->default_event_id().value, 7u);

  auto pubsub = node.service_builder(test::service_name("api_stepwise_ps")).publish_subscribe<int>();
  pubsub.max_subscribers(3);
  pubsub.subscriber_max_buffer_size(5);
  auto samples = pubsub.create();
  ASSERT_TRUE(samples);
  EXPECT_EQ(samples->static_config().max_subscribers, 3u);
  EXPECT_EQ(samples->static_config().subscriber_buffer_size, 5u);

  auto waitset_builder = WaitSetBuilder();
  waitset_builder.capacity(8);
  EXPECT_TRUE(waitset_builder.create());
  // And chained, on temporaries, as before.
  EXPECT_TRUE(node.service_builder(test::service_name("api_chained")).event().max_nodes(3).create());
}

}  // namespace
