// event_multiplexing_wait SERVICE [SERVICE...]: one WaitSet waits on a listener of each service
// and prints every notification that arrives on any of them.
//   Waiting on the following services: fuu, bar
//   fuu EventId(123) x1
#include <cstdio>
#include <string>
#include <vector>

#include "../common.hpp"
#include "axon/axon.hpp"

int main(int argc, char** argv) try {
  using namespace axon;
  examples::line_buffered_stdout();
  CLI::App app{
      "Waits in one WaitSet on a listener of each event service SERVICE (created when "
      "absent) and prints every notification.",
      "event_multiplexing_wait"};
  std::vector<std::string> texts;
  app.add_option("SERVICE", texts, "Event service names")->required();
  if (const auto status = examples::parse_arguments(
          app, "usage: event_multiplexing_wait SERVICE [SERVICE...]", argc, argv)) {
    return *status;
  }
  std::vector<ServiceName> names;
  for (const auto& text : texts) {
    auto name = examples::service_name_or_complain(text);
    if (!name) return 1;
    names.push_back(std::move(*name));
  }

  auto node = axon::examples::node_or_complain("event_multiplexing_wait");
  if (!node) return 1;
  // The WaitSet installs the SIGINT/SIGTERM handlers: a signal ends wait_and_process.
  auto waitset = WaitSetBuilder().create();
  if (!waitset) {
    axon::examples::complain("cannot create waitset: %s", to_string(waitset.error()));
    return 1;
  }

  const std::size_t count = names.size();
  std::vector<EventService> services;
  std::vector<Listener> listeners;
  std::vector<WaitSetGuard> guards;
  services.reserve(count);
  listeners.reserve(count);
  guards.reserve(count);
  std::string joined;
  for (std::size_t i = 0; i < count; ++i) {
    const char* text = texts[i].c_str();
    auto service = node->service_builder(names[i]).event().open_or_create();
    if (!service) {
      axon::examples::complain("cannot open service \"%s\": %s", text, to_string(service.error()));
      return 1;
    }
    auto listener = service->listener_builder().create();
    if (!listener) {
      axon::examples::complain("cannot create listener on \"%s\": %s%s", text,
                               to_string(listener.error()), examples::root_hint().c_str());
      return 1;
    }
    services.push_back(std::move(*service));
    listeners.push_back(std::move(*listener));
    auto guard = waitset->attach_notification(listeners.back());
    if (!guard) {
      axon::examples::complain("cannot attach \"%s\": %s", text, to_string(guard.error()));
      return 1;
    }
    guards.push_back(std::move(*guard));
    joined += (i == 0 ? "" : ", ");
    joined += text;
  }
  std::printf("Waiting on the following services: %s\n", joined.c_str());

  bool failed = false;
  auto result = waitset->wait_and_process([&](AttachmentId id) {
    for (std::size_t i = 0; i < count; ++i) {
      if (!id.has_event_from(guards[i])) continue;
      // Draining consumes the wake-up; a listener left undrained would fire again at once.
      auto drained = listeners[i].try_wait([&](EventId event, std::uint64_t times) {
        axon::examples::print_event(event, times, texts[i]);
      });
      if (!drained) {
        axon::examples::complain("wait on \"%s\" failed: %s", texts[i].c_str(),
                                 to_string(drained.error()));
        failed = true;
        return CallbackProgression::Stop;
      }
    }
    return CallbackProgression::Continue;
  });
  if (!result) {
    axon::examples::complain("waitset failed: %s", to_string(result.error()));
    return 1;
  }
  if (failed) return 1;
  std::printf("exit\n");
  return 0;
} catch (const std::exception& e) {
  return axon::examples::died_of("event_multiplexing_wait", e);
}
