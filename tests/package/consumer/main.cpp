// The package test's application (tests/package/run.sh builds it with CMake and with pkg-config):
// one node, an event service and a publish-subscribe service; one sample and one event, sent and
// received in this process. Prints "ok" and exits 0, or says which step failed and exits 1.
#include <axon/axon.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace {

struct Reading {
  static constexpr const char* AXON_TYPE_NAME = "consumer::Reading";
  std::uint64_t value;
};

// to_string of an error returns `const char*` or `std::string`: either becomes a string.
template <class Error>
int fail(const char* step, const Error& error) {
  std::fprintf(stderr, "consumer: %s failed: %s\n", step,
               std::string(axon::to_string(error)).c_str());
  return 1;
}

int fail(const char* step) {
  std::fprintf(stderr, "consumer: %s failed\n", step);
  return 1;
}

}  // namespace

int main() {
  auto node = axon::NodeBuilder().name("package-consumer").create();
  if (!node) return fail("creating the node", node.error());

  auto event_name = axon::ServiceName::create("consumer/ready");
  auto topic_name = axon::ServiceName::create("consumer/readings");
  if (!event_name || !topic_name) return fail("naming the services");

  auto events = node->service_builder(*event_name).event().open_or_create();
  if (!events) return fail("creating the event service", events.error());
  auto listener = events->listener_builder().create();
  if (!listener) return fail("creating the listener", listener.error());
  auto notifier = events->notifier_builder().create();
  if (!notifier) return fail("creating the notifier", notifier.error());

  auto topic = node->service_builder(*topic_name).publish_subscribe<Reading>().open_or_create();
  if (!topic) return fail("creating the publish-subscribe service", topic.error());
  auto subscriber = topic->subscriber_builder().create();
  if (!subscriber) return fail("creating the subscriber", subscriber.error());
  auto publisher = topic->publisher_builder().create();
  if (!publisher) return fail("creating the publisher", publisher.error());

  auto loan = publisher->loan_uninit();
  if (!loan) return fail("loaning a sample", loan.error());
  loan->payload() = Reading{42};
  if (auto sent = publisher->send(std::move(*loan)); !sent) return fail("sending", sent.error());
  if (auto notified = notifier->notify(axon::EventId(7)); !notified) {
    // On a loaded machine the listener's node may not hand out its wake channel within the
    // notifier's budget: the count is recorded all the same (notifier.hpp), and the wait below
    // takes it first.
    const auto error = notified.error();
    if (error != axon::NotifierNotifyError::ListenerUnresponsive &&
        error != axon::NotifierNotifyError::InsufficientResources) {
      return fail("notifying", error);
    }
    std::fprintf(stderr, "consumer: notify: %s (the count is recorded)\n",
                 std::string(axon::to_string(error)).c_str());
  }

  std::uint64_t count_of_7 = 0;
  std::uint64_t count_of_others = 0;
  auto waited = listener->timed_wait(
      [&](axon::EventId id, std::uint64_t count) {
        (id == axon::EventId(7) ? count_of_7 : count_of_others) += count;
      },
      std::chrono::seconds(10));
  if (!waited) return fail("waiting for the event", waited.error());
  if (count_of_7 != 1 || count_of_others != 0) {
    std::fprintf(stderr, "consumer: expected event 7 once, got it %llu times and others %llu\n",
                 static_cast<unsigned long long>(count_of_7),
                 static_cast<unsigned long long>(count_of_others));
    return 1;
  }

  auto received = subscriber->receive();
  if (!received) return fail("receiving", received.error());
  if (!*received || (**received)->value != 42) return fail("receiving the sample sent (42)");

  std::printf("ok\n");
  return 0;
}
