// event_listener SERVICE: prints every notification of an event service.
//   EventId(123) x1   (as `axon listen` prints it)
#include <cstdio>
#include <string>

#include "../common.hpp"
#include "axon/axon.hpp"

int main(int argc, char** argv) try {
  using namespace axon;
  examples::line_buffered_stdout();
  CLI::App app{"Prints every notification of the event service SERVICE (created when absent).",
               "event_listener"};
  std::string service_arg;
  app.add_option("SERVICE", service_arg, "Event service name")->required();
  if (const auto status =
          examples::parse_arguments(app, "usage: event_listener SERVICE", argc, argv)) {
    return *status;
  }
  const auto name = examples::service_name_or_complain(service_arg);
  if (!name) return 1;
  auto node = axon::examples::node_or_complain("event_listener");
  if (!node) return 1;
  if (!examples::handle_termination_signals(*node)) return 1;
  auto service = node->service_builder(*name).event().open_or_create();
  if (!service) {
    axon::examples::complain("cannot open service \"%s\": %s", service_arg.c_str(),
                             to_string(service.error()));
    return 1;
  }
  auto listener = service->listener_builder().create();
  if (!listener) {
    axon::examples::complain("cannot create listener: %s%s", to_string(listener.error()),
                             examples::root_hint().c_str());
    return 1;
  }
  while (examples::keep_running(*node)) {
    // A bounded wait so a signal that lands between two waits is seen within 100 ms.
    auto r = listener->timed_wait(
        [](EventId id, std::uint64_t count) { axon::examples::print_event(id, count); },
        std::chrono::milliseconds(100));
    if (!r && r.error() != ListenerWaitError::InterruptSignal) {
      axon::examples::complain("wait failed: %s", to_string(r.error()));
      return 1;
    }
  }
  std::printf("exit\n");
  return 0;
} catch (const std::exception& e) {
  return axon::examples::died_of("event_listener", e);
}
