// The conformance suite every messaging pattern passes (TYPED_TEST_SUITE over PatternTraits):
// create / open / open_or_create, every settings mismatch with its own error, port and node
// limits, node death and cleanup across real processes, discovery, forced removal. A new pattern
// adds a traits struct below and is held to the same contract (docs/extending.md).
#include <signal.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "axon/axon.hpp"
#include "axon_test.hpp"
#include "process.hpp"

namespace {

using namespace axon;
using namespace std::chrono_literals;

/// One setting the creator chose and an opener requires otherwise, and the error that gives.
template <typename Builder, typename OpenError>
struct Mismatch {
  const char* what;
  std::function<Builder(Builder)> create;  ///< applied to the creator's builder
  std::function<Builder(Builder)> open;    ///< applied to the opener's builder
  OpenError expected;
};

/// What the suite needs of the event pattern.
struct EventTraits {
  static constexpr MessagingPattern kPattern = MessagingPattern::Event;
  using Builder = EventServiceBuilder;
  using OpenError = EventOpenError;
  using CreateError = EventCreateError;
  using OpenOrCreateError = EventOpenOrCreateError;

  static Builder builder(Node& node, const ServiceName& name) {
    return node.service_builder(name).event();
  }
  /// The smallest service: one port of each kind, `nodes` nodes.
  static Builder small(Node& node, const ServiceName& name, std::uint32_t nodes) {
    return builder(node, name).max_listeners(1).max_notifiers(1).max_nodes(nodes);
  }
  /// One port of each kind, kept alive by the returned holder; empty when one failed.
  template <typename Service>
  static std::function<void()> ports(const Service& service) {
    auto listener = service.listener_builder().create();
    auto notifier = service.notifier_builder().create();
    if (!listener || !notifier) return {};
    auto held = std::make_shared<std::pair<Listener, Notifier>>(std::move(*listener),
                                                                 std::move(*notifier));
    return [held] {};
  }
  /// A port of each kind past the limit of small(): each must fail with its Exceeds... error.
  template <typename Service>
  static bool next_ports_refused(const Service& service) {
    auto listener = service.listener_builder().create();
    auto notifier = service.notifier_builder().create();
    return !listener && listener.error() == ListenerCreateError::ExceedsMaxListeners &&
           !notifier && notifier.error() == NotifierCreateError::ExceedsMaxNotifiers;
  }
  static std::size_t port_count(const ServiceInfo& info) { return info.listeners + info.notifiers; }
  static bool settings_match(const ServiceInfo& info, const EventStaticConfig& config) {
    return info.event.max_listeners == config.max_listeners &&
           info.event.max_notifiers == config.max_notifiers &&
           info.event.max_nodes == config.max_nodes &&
           info.event.event_id_max_value == config.event_id_max_value &&
           info.event.backend == config.backend && info.event.access == config.access;
  }
  /// Creates `name` as the other pattern (for IncompatibleMessagingPattern), held by `hold`.
  static bool create_other(Node& node, const ServiceName& name, std::function<void()>& hold) {
    auto other = node.service_builder(name).publish_subscribe<std::uint64_t>().create();
    if (!other) return false;
    auto held = std::make_shared<PubSubService<std::uint64_t>>(std::move(*other));
    hold = [held] {};
    return true;
  }
  static std::vector<Mismatch<Builder, OpenError>> mismatches() {
    using E = EventOpenError;
    auto same = [](Builder b) { return b; };
    return {
        {"listeners", [](Builder b) { return Builder(std::move(b).max_listeners(2)); },
         [](Builder b) { return Builder(std::move(b).max_listeners(3)); },
         E::DoesNotSupportRequestedAmountOfListeners},
        {"notifiers", [](Builder b) { return Builder(std::move(b).max_notifiers(2)); },
         [](Builder b) { return Builder(std::move(b).max_notifiers(3)); },
         E::DoesNotSupportRequestedAmountOfNotifiers},
        {"nodes", [](Builder b) { return Builder(std::move(b).max_nodes(2)); },
         [](Builder b) { return Builder(std::move(b).max_nodes(3)); },
         E::DoesNotSupportRequestedAmountOfNodes},
        {"max event id", [](Builder b) { return Builder(std::move(b).event_id_max_value(10)); },
         [](Builder b) { return Builder(std::move(b).event_id_max_value(11)); },
         E::DoesNotSupportRequestedMaxEventId},
        {"backend", [](Builder b) { return Builder(std::move(b).backend(EventBackend::Fifo)); },
         [](Builder b) { return Builder(std::move(b).backend(EventBackend::EventFd)); },
         E::IncompatibleBackend},
        {"access", same, [](Builder b) { return Builder(std::move(b).access(Access::Group)); },
         E::IncompatibleAccess},
    };
  }
};

/// What the suite needs of the publish-subscribe pattern.
struct PubSubTraits {
  static constexpr MessagingPattern kPattern = MessagingPattern::PublishSubscribe;
  using Builder = PubSubServiceBuilder<std::uint64_t>;
  using OpenError = PubSubOpenError;
  using CreateError = PubSubCreateError;
  using OpenOrCreateError = PubSubOpenOrCreateError;

  static Builder builder(Node& node, const ServiceName& name) {
    return node.service_builder(name).publish_subscribe<std::uint64_t>();
  }
  static Builder small(Node& node, const ServiceName& name, std::uint32_t nodes) {
    return builder(node, name).max_publishers(1).max_subscribers(1).max_nodes(nodes);
  }
  template <typename Service>
  static std::function<void()> ports(const Service& service) {
    auto publisher = service.publisher_builder().create();
    auto subscriber = service.subscriber_builder().create();
    if (!publisher || !subscriber) return {};
    auto held = std::make_shared<std::pair<Publisher<std::uint64_t>, Subscriber<std::uint64_t>>>(
        std::move(*publisher), std::move(*subscriber));
    return [held] {};
  }
  template <typename Service>
  static bool next_ports_refused(const Service& service) {
    auto publisher = service.publisher_builder().create();
    auto subscriber = service.subscriber_builder().create();
    return !publisher && publisher.error() == PublisherCreateError::ExceedsMaxPublishers &&
           !subscriber && subscriber.error() == SubscriberCreateError::ExceedsMaxSubscribers;
  }
  static std::size_t port_count(const ServiceInfo& info) {
    return info.publishers + info.subscribers;
  }
  static bool settings_match(const ServiceInfo& info, const PubSubStaticConfig& config) {
    const auto& p = info.pubsub;
    return p.type_name == config.type_name && p.type_size == config.type_size &&
           p.type_alignment == config.type_alignment && p.is_slice == config.is_slice &&
           p.max_publishers == config.max_publishers &&
           p.max_subscribers == config.max_subscribers && p.max_nodes == config.max_nodes &&
           p.history_size == config.history_size &&
           p.subscriber_buffer_size == config.subscriber_buffer_size &&
           p.max_loans == config.max_loans &&
           p.max_borrowed_samples == config.max_borrowed_samples &&
           p.overflow == config.overflow && p.access == config.access;
  }
  static bool create_other(Node& node, const ServiceName& name, std::function<void()>& hold) {
    auto other = node.service_builder(name).event().create();
    if (!other) return false;
    auto held = std::make_shared<EventService>(std::move(*other));
    hold = [held] {};
    return true;
  }
  static std::vector<Mismatch<Builder, OpenError>> mismatches() {
    using E = PubSubOpenError;
    auto same = [](Builder b) { return b; };
    return {
        {"publishers", [](Builder b) { return Builder(std::move(b).max_publishers(2)); },
         [](Builder b) { return Builder(std::move(b).max_publishers(3)); },
         E::DoesNotSupportRequestedAmountOfPublishers},
        {"subscribers", [](Builder b) { return Builder(std::move(b).max_subscribers(2)); },
         [](Builder b) { return Builder(std::move(b).max_subscribers(3)); },
         E::DoesNotSupportRequestedAmountOfSubscribers},
        {"nodes", [](Builder b) { return Builder(std::move(b).max_nodes(2)); },
         [](Builder b) { return Builder(std::move(b).max_nodes(3)); },
         E::DoesNotSupportRequestedAmountOfNodes},
        {"history", [](Builder b) { return Builder(std::move(b).history_size(1)); },
         [](Builder b) { return Builder(std::move(b).history_size(2)); },
         E::DoesNotSupportRequestedHistorySize},
        {"buffer", [](Builder b) { return Builder(std::move(b).subscriber_max_buffer_size(2)); },
         [](Builder b) { return Builder(std::move(b).subscriber_max_buffer_size(3)); },
         E::DoesNotSupportRequestedBufferSize},
        {"overflow",
         [](Builder b) { return Builder(std::move(b).overflow_policy(OverflowPolicy::Refuse)); },
         [](Builder b) { return Builder(std::move(b).overflow_policy(OverflowPolicy::Block)); },
         E::IncompatibleOverflowPolicy},
        {"access", same, [](Builder b) { return Builder(std::move(b).access(Access::Group)); },
         E::IncompatibleAccess},
    };
  }
};

/// What the suite needs of the request-response pattern. (Payload type mismatches need a builder
/// of other types, which a Mismatch cannot make; tests/unit/services/request_response_test.cpp
/// checks them.)
struct RequestResponseTraits {
  static constexpr MessagingPattern kPattern = MessagingPattern::RequestResponse;
  using Builder = RequestResponseServiceBuilder<std::uint64_t, std::uint64_t>;
  using OpenError = RequestResponseOpenError;
  using CreateError = RequestResponseCreateError;
  using OpenOrCreateError = RequestResponseOpenOrCreateError;

  static Builder builder(Node& node, const ServiceName& name) {
    return node.service_builder(name).request_response<std::uint64_t, std::uint64_t>();
  }
  static Builder small(Node& node, const ServiceName& name, std::uint32_t nodes) {
    return builder(node, name).max_clients(1).max_servers(1).max_nodes(nodes);
  }
  template <typename Service>
  static std::function<void()> ports(const Service& service) {
    auto client = service.client_builder().create();
    auto server = service.server_builder().create();
    if (!client || !server) return {};
    auto held = std::make_shared<
        std::pair<Client<std::uint64_t, std::uint64_t>, Server<std::uint64_t, std::uint64_t>>>(
        std::move(*client), std::move(*server));
    return [held] {};
  }
  template <typename Service>
  static bool next_ports_refused(const Service& service) {
    auto client = service.client_builder().create();
    auto server = service.server_builder().create();
    return !client && client.error() == ClientCreateError::ExceedsMaxClients && !server &&
           server.error() == ServerCreateError::ExceedsMaxServers;
  }
  static std::size_t port_count(const ServiceInfo& info) { return info.clients + info.servers; }
  static bool settings_match(const ServiceInfo& info, const RequestResponseStaticConfig& config) {
    const auto& r = info.request_response;
    return r.request_type == config.request_type && r.response_type == config.response_type &&
           r.max_clients == config.max_clients && r.max_servers == config.max_servers &&
           r.max_nodes == config.max_nodes &&
           r.max_active_requests_per_client == config.max_active_requests_per_client &&
           r.max_response_buffer_size == config.max_response_buffer_size &&
           r.max_loaned_requests == config.max_loaned_requests &&
           r.max_loaned_responses == config.max_loaned_responses &&
           r.max_borrowed_responses == config.max_borrowed_responses &&
           r.fire_and_forget == config.fire_and_forget && r.overflow == config.overflow &&
           r.access == config.access;
  }
  static bool create_other(Node& node, const ServiceName& name, std::function<void()>& hold) {
    auto other = node.service_builder(name).publish_subscribe<std::uint64_t>().create();
    if (!other) return false;
    auto held = std::make_shared<PubSubService<std::uint64_t>>(std::move(*other));
    hold = [held] {};
    return true;
  }
  static std::vector<Mismatch<Builder, OpenError>> mismatches() {
    using E = RequestResponseOpenError;
    auto same = [](Builder b) { return b; };
    return {
        {"clients", [](Builder b) { return Builder(std::move(b).max_clients(2)); },
         [](Builder b) { return Builder(std::move(b).max_clients(3)); },
         E::DoesNotSupportRequestedAmountOfClients},
        {"servers", [](Builder b) { return Builder(std::move(b).max_servers(2)); },
         [](Builder b) { return Builder(std::move(b).max_servers(3)); },
         E::DoesNotSupportRequestedAmountOfServers},
        {"nodes", [](Builder b) { return Builder(std::move(b).max_nodes(2)); },
         [](Builder b) { return Builder(std::move(b).max_nodes(3)); },
         E::DoesNotSupportRequestedAmountOfNodes},
        {"active requests",
         [](Builder b) { return Builder(std::move(b).max_active_requests_per_client(2)); },
         [](Builder b) { return Builder(std::move(b).max_active_requests_per_client(3)); },
         E::DoesNotSupportRequestedAmountOfActiveRequests},
        {"response buffer",
         [](Builder b) { return Builder(std::move(b).max_response_buffer_size(2)); },
         [](Builder b) { return Builder(std::move(b).max_response_buffer_size(3)); },
         E::DoesNotSupportRequestedResponseBufferSize},
        {"loaned requests", [](Builder b) { return Builder(std::move(b).max_loaned_requests(2)); },
         [](Builder b) { return Builder(std::move(b).max_loaned_requests(3)); },
         E::DoesNotSupportRequestedAmountOfLoans},
        {"loaned responses",
         [](Builder b) { return Builder(std::move(b).max_loaned_responses(2)); },
         [](Builder b) { return Builder(std::move(b).max_loaned_responses(3)); },
         E::DoesNotSupportRequestedAmountOfLoans},
        {"borrowed responses",
         [](Builder b) { return Builder(std::move(b).max_borrowed_responses(2)); },
         [](Builder b) { return Builder(std::move(b).max_borrowed_responses(3)); },
         E::DoesNotSupportRequestedAmountOfBorrowedResponses},
        {"fire and forget", [](Builder b) { return Builder(std::move(b).fire_and_forget(false)); },
         [](Builder b) { return Builder(std::move(b).fire_and_forget(true)); },
         E::IncompatibleFireAndForget},
        {"overflow",
         [](Builder b) { return Builder(std::move(b).overflow_policy(OverflowPolicy::Refuse)); },
         [](Builder b) { return Builder(std::move(b).overflow_policy(OverflowPolicy::Block)); },
         E::IncompatibleOverflowPolicy},
        {"access", same, [](Builder b) { return Builder(std::move(b).access(Access::Group)); },
         E::IncompatibleAccess},
    };
  }
};

template <typename Traits>
class PatternConformance : public ::testing::Test {};

using Patterns = ::testing::Types<EventTraits, PubSubTraits, RequestResponseTraits>;
class PatternNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::string(to_string(T::kPattern));
  }
};
TYPED_TEST_SUITE(PatternConformance, Patterns, PatternNames);

TYPED_TEST(PatternConformance, CreateOpenAndOpenOrCreateAgreeOnOneService) {
  using T = TypeParam;
  auto a = test::make_node("a");
  auto b = test::make_node("b");
  const auto name = test::service_name("conf_open");
  auto created = T::builder(a, name).create();
  ASSERT_TRUE(created);
  auto opened = T::builder(b, name).open();
  ASSERT_TRUE(opened) << to_string(opened.error());
  auto either = T::builder(b, name).open_or_create();
  ASSERT_TRUE(either) << to_string(either.error());
  EXPECT_EQ(opened->name(), name);
  auto info = describe_service(name);
  ASSERT_TRUE(info) << to_string(info.error());
  EXPECT_EQ(info->pattern, T::kPattern);
  EXPECT_TRUE(T::settings_match(*info, created->static_config()));
  EXPECT_TRUE(T::settings_match(*info, opened->static_config()));
  EXPECT_EQ(info->nodes, 2u);
}

TYPED_TEST(PatternConformance, OpenOrCreateCreatesWhenMissingAndCreateTwiceIsAlreadyExists) {
  using T = TypeParam;
  auto node = test::make_node();
  const auto name = test::service_name("conf_twice");
  auto missing = T::builder(node, name).open();
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), T::OpenError::DoesNotExist);
  auto first = T::builder(node, name).open_or_create();
  ASSERT_TRUE(first) << to_string(first.error());
  auto second = T::builder(node, name).create();
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), T::CreateError::AlreadyExists);
}

TYPED_TEST(PatternConformance, AnotherPatternsNameIsIncompatibleMessagingPattern) {
  using T = TypeParam;
  auto node = test::make_node();
  const auto name = test::service_name("conf_other");
  std::function<void()> other;
  ASSERT_TRUE(T::create_other(node, name, other));
  auto opened = T::builder(node, name).open();
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error(), T::OpenError::IncompatibleMessagingPattern);
  auto either = T::builder(node, name).open_or_create();
  ASSERT_FALSE(either);
  EXPECT_EQ(either.error(),
            typename T::OpenOrCreateError(T::OpenError::IncompatibleMessagingPattern));
  auto created = T::builder(node, name).create();
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error(), T::CreateError::AlreadyExists);
}

TYPED_TEST(PatternConformance, EverySettingsMismatchHasItsOwnError) {
  using T = TypeParam;
  auto creator = test::make_node("creator");
  auto opener = test::make_node("opener");
  for (const auto& m : T::mismatches()) {
    SCOPED_TRACE(m.what);
    const auto name = test::service_name("conf_mismatch");
    auto created = m.create(T::builder(creator, name)).create();
    ASSERT_TRUE(created) << to_string(created.error());
    // What the creator chose is met: the same requirement opens.
    auto met = m.create(T::builder(opener, name)).open();
    EXPECT_TRUE(met) << to_string(met.error());
    auto refused = m.open(T::builder(opener, name)).open();
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error(), m.expected) << to_string(refused.error());
  }
}

TYPED_TEST(PatternConformance, PortAndNodeLimitsAreTheirErrors) {
  using T = TypeParam;
  auto a = test::make_node("a");
  auto b = test::make_node("b");
  const auto name = test::service_name("conf_limits");
  auto service = T::small(a, name, 1).create();
  ASSERT_TRUE(service);
  auto held = T::ports(*service);
  ASSERT_TRUE(held);
  EXPECT_TRUE(T::next_ports_refused(*service));
  auto second_node = T::builder(b, name).open();
  ASSERT_FALSE(second_node);
  EXPECT_EQ(second_node.error(), T::OpenError::ExceedsMaxNodes);
  // Invalid settings are refused before anything is made.
  auto zero = T::small(a, test::service_name("conf_zero"), 0).create();
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error(), T::CreateError::InvalidSettings);
}

// A process holding the service and one port of each kind dies by SIGKILL: cleanup removes its
// ports and node slot, the service lives on for the survivor, and once the survivor leaves too
// the name is free and nothing of it is left.
TYPED_TEST(PatternConformance, APortHoldersDeathIsCleanedAcrossProcesses) {
  using T = TypeParam;
  const auto name = test::service_name("conf_death");
  std::optional<Node> survivor(test::make_node("survivor"));
  auto created = T::builder(*survivor, name).create();
  ASSERT_TRUE(created);
  std::optional service(std::move(*created));
  auto child = test::ChildProcess::fork([&]() -> int {
    auto node = NodeBuilder().name("victim").create();
    if (!node) return 10;
    auto opened = T::builder(*node, name).open();
    if (!opened) return 11;
    auto held = T::ports(*opened);
    if (!held) return 12;
    for (;;) std::this_thread::sleep_for(1s);
  });
  ASSERT_TRUE(test::eventually([&] {
    auto info = describe_service(name);
    return info && T::port_count(*info) == 2 && info->nodes == 2;
  })) << "the child never held its ports";
  child.kill(SIGKILL);
  ASSERT_TRUE(child.wait_for(10s));

  const auto report = Node::cleanup_dead_nodes();
  EXPECT_EQ(report.dead_nodes.size(), 1u);
  EXPECT_EQ(report.removed_ports, 2u);
  auto info = describe_service(name);
  ASSERT_TRUE(info) << to_string(info.error());
  EXPECT_EQ(T::port_count(*info), 0u);
  EXPECT_EQ(info->nodes, 1u);
  // The survivor's own ports work after the purge.
  EXPECT_TRUE(T::ports(*service));

  service.reset();
  survivor.reset();
  auto gone = describe_service(name);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error(), DiscoveryError::DoesNotExist);
  for (const auto& object : test::shm_objects()) {
    EXPECT_EQ(object.find(detail::Paths::service_hash(name.as_string())), std::string::npos)
        << object;
  }
}

TYPED_TEST(PatternConformance, ForcedRemovalFreesTheNameForANewService) {
  using T = TypeParam;
  auto node = test::make_node();
  const auto name = test::service_name("conf_force");
  auto service = T::builder(node, name).create();
  ASSERT_TRUE(service);
  auto held = T::ports(*service);
  ASSERT_TRUE(held);
  auto forced = remove_service_forcibly(name);
  ASSERT_TRUE(forced);
  EXPECT_FALSE(forced->removed.empty());
  auto again = T::builder(node, name).create();
  ASSERT_TRUE(again) << to_string(again.error());
  auto info = describe_service(name);
  ASSERT_TRUE(info);
  EXPECT_EQ(T::port_count(*info), 0u);
}

}  // namespace
