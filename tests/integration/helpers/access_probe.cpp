// axon_test_access_probe UID GID GROUP ROOT COMMAND NAME: becomes user UID (primary group GID,
// supplementary group GROUP) and then, as that user, with AXON_PREFIX from the environment and
// ROOT as its root directory, runs one COMMAND against the service NAME another user made:
//   notify     opens the event service, notifies id 7 once:  "notified <n>"
//   listen     opens the event service, creates a listener, prints "listening", waits up to 10 s
//              for id 7:                                      "received 7"
//   subscribe  opens the publish-subscribe service of std::uint64_t, creates a subscriber, prints
//              "subscribed", waits up to 10 s for a sample:   "received <value>"
//   open       opens the event service and the publish-subscribe service of that name (one of
//              them exists):                                  "opened" or "denied <error>"
// Any failure prints "error: <what>". Exit status: 0 done, 1 the command failed, 2 usage error,
// 3 could not become UID.
#include <grp.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>

#include "axon/axon.hpp"

namespace {

using namespace axon;
using namespace std::chrono_literals;

int failed(const std::string& what) {
  std::printf("error: %s\n", what.c_str());
  return 1;
}

int run(const Config& config, std::string_view command, const ServiceName& name) {
  auto node = NodeBuilder().name("access-probe").config(config).create();
  if (!node) return failed(std::string("node: ") + to_string(node.error()));
  if (command == "open") {
    auto event = node->service_builder(name).event().open();
    if (event) {
      std::printf("opened\n");
      return 0;
    }
    if (event.error() != EventOpenError::IncompatibleMessagingPattern) {
      std::printf("denied %s\n", to_string(event.error()));
      return 0;
    }
    auto pubsub = node->service_builder(name).publish_subscribe<std::uint64_t>().open();
    if (pubsub) {
      std::printf("opened\n");
    } else {
      std::printf("denied %s\n", to_string(pubsub.error()));
    }
    return 0;
  }
  if (command == "notify" || command == "listen") {
    auto service = node->service_builder(name).event().open();
    if (!service) return failed(std::string("open: ") + to_string(service.error()));
    if (command == "notify") {
      auto notifier = service->notifier_builder().create();
      if (!notifier) return failed(std::string("notifier: ") + to_string(notifier.error()));
      auto reached = notifier->notify(EventId{7});
      if (!reached) return failed(std::string("notify: ") + to_string(reached.error()));
      std::printf("notified %zu\n", *reached);
      return 0;
    }
    auto listener = service->listener_builder().create();
    if (!listener) return failed(std::string("listener: ") + to_string(listener.error()));
    std::printf("listening\n");
    std::fflush(stdout);
    std::uint64_t got = 0;
    auto waited = listener->timed_wait([&](EventId id, std::uint64_t) { got = id.value; }, 10s);
    if (!waited || got == 0) return failed("nothing received");
    std::printf("received %llu\n", static_cast<unsigned long long>(got));
    return 0;
  }
  if (command == "subscribe") {
    auto service = node->service_builder(name).publish_subscribe<std::uint64_t>().open();
    if (!service) return failed(std::string("open: ") + to_string(service.error()));
    auto subscriber = service->subscriber_builder().create();
    if (!subscriber) return failed(std::string("subscriber: ") + to_string(subscriber.error()));
    std::printf("subscribed\n");
    std::fflush(stdout);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto sample = subscriber->receive();
      if (!sample) return failed(std::string("receive: ") + to_string(sample.error()));
      if (*sample) {
        std::printf("received %llu\n", static_cast<unsigned long long>((*sample)->payload()));
        return 0;
      }
      std::this_thread::sleep_for(1ms);
    }
    return failed("nothing received");
  }
  std::fprintf(stderr, "unknown command\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: axon_test_access_probe UID GID GROUP ROOT COMMAND NAME\n");
    return 2;
  }
  const auto uid = static_cast<uid_t>(std::strtoul(argv[1], nullptr, 10));
  const auto gid = static_cast<gid_t>(std::strtoul(argv[2], nullptr, 10));
  const auto group = static_cast<gid_t>(std::strtoul(argv[3], nullptr, 10));
  // Groups first: once the user id is dropped, the groups can no longer be changed.
  if (::setgroups(1, &group) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0 ||
      ::geteuid() != uid || ::getegid() != gid) {
    std::printf("error: cannot become uid %u\n", static_cast<unsigned>(uid));
    return 3;
  }
  Config config = Config::from_environment();
  config.root = argv[4];
  config.root_chosen = true;
  auto name = ServiceName::create(argv[6]);
  if (!name) {
    std::fprintf(stderr, "invalid name\n");
    return 2;
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  return run(config, argv[5], *name);
}
