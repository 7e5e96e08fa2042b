// publish_subscribe_subscriber SERVICE [--poll]: prints `Received sample <n>` per sample.
// By default it sleeps in a WaitSet on its (wakeable) subscriber; --poll busy-polls.
#include <cstdio>
#include <string>
#include <thread>

#include "../common.hpp"
#include "axon/axon.hpp"
#include "transmission_data.hpp"

namespace {

/// Prints every sample that is there; false on a receive error.
bool print_available(axon::Subscriber<TransmissionData>& subscriber) {
  for (;;) {
    auto sample = subscriber.receive();
    if (!sample) {
      axon::examples::complain("receive failed: %s", axon::to_string(sample.error()));
      return sample.error() != axon::SubscriberReceiveError::Corrupted;
    }
    if (!*sample) return true;
    std::printf("Received sample %llu\n", static_cast<unsigned long long>((**sample)->counter));
  }
}

}  // namespace

int main(int argc, char** argv) try {
  using namespace axon;
  examples::line_buffered_stdout();
  CLI::App app{
      "Prints every TransmissionData of the publish-subscribe service SERVICE; sleeps in "
      "a WaitSet until a publisher wakes it, or busy-polls with --poll.",
      "publish_subscribe_subscriber"};
  std::string service_arg;
  bool poll = false;
  app.add_option("SERVICE", service_arg, "Publish-subscribe service name")->required();
  app.add_flag("--poll", poll, "Busy-poll instead of sleeping in a WaitSet");
  if (const auto status = examples::parse_arguments(
          app, "usage: publish_subscribe_subscriber SERVICE [--poll]", argc, argv)) {
    return *status;
  }
  const auto name = examples::service_name_or_complain(service_arg);
  if (!name) return 1;
  auto node = axon::examples::node_or_complain("subscriber");
  if (!node) return 1;
  // Before anything else, for both modes: a WaitSet would install the handlers only for its own
  // lifetime, and SIGTERM before it exists or after it is gone would end us by its default.
  if (!examples::handle_termination_signals(*node)) return 1;
  auto service =
      node->service_builder(*name).publish_subscribe<TransmissionData>().open_or_create();
  if (!service) {
    axon::examples::complain("cannot open service \"%s\": %s", service_arg.c_str(),
                             to_string(service.error()));
    return 1;
  }
  // Wakeable unless it polls: publishers then wake it after each send, and it sleeps in a WaitSet.
  auto subscriber = service->subscriber_builder().wakeable(!poll).create();
  if (!subscriber) {
    axon::examples::complain("cannot create subscriber: %s%s", to_string(subscriber.error()),
                             examples::root_hint().c_str());
    return 1;
  }
  if (poll) {
    while (examples::keep_running(*node)) {
      if (!print_available(*subscriber)) return 1;
      std::this_thread::yield();
    }
    std::printf("exit\n");
    return 0;
  }

  auto waitset = WaitSetBuilder().create();
  if (!waitset) {
    axon::examples::complain("cannot create the WaitSet: %s", to_string(waitset.error()));
    return 1;
  }
  auto guard = waitset->attach_notification(*subscriber);
  if (!guard) {
    axon::examples::complain("cannot attach the subscriber: %s", to_string(guard.error()));
    return 1;
  }
  // Fires while a sample may be waiting; receiving until nothing comes quiets it.
  bool failed = false;
  auto result = waitset->wait_and_process([&](AttachmentId) {
    if (!print_available(*subscriber)) {
      failed = true;
      return CallbackProgression::Stop;
    }
    return CallbackProgression::Continue;
  });
  if (failed) return 1;  // print_available said why
  if (!result) {
    axon::examples::complain("waiting failed: %s", to_string(result.error()));
    return 1;
  }
  std::printf("exit\n");
  return 0;
} catch (const std::exception& e) {
  return axon::examples::died_of("publish_subscribe_subscriber", e);
}
