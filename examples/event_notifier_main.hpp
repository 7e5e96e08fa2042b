// The event notifier example, shared by examples/event and examples/event_multiplexing: notifies
// once a second and prints `[service: "<name>"] Trigger event with id <id> ...`; on SIGINT or
// SIGTERM prints `exit` and exits 0; bad arguments exit non-zero with one line.
#pragma once

#include <cstdio>
#include <string>

#include "axon/axon.hpp"
#include "common.hpp"

namespace axon::examples {

/// The whole notifier program; `program` names it in the usage line.
inline int run_event_notifier(int argc, char** argv, const char* program) try {
  line_buffered_stdout();
  CLI::App app{
      "Notifies EVENT_ID on the event service SERVICE (created when absent) once a "
      "second.",
      program};
  std::string service_arg;
  std::string id_arg;
  app.add_option("SERVICE", service_arg, "Event service name")->required();
  app.add_option("EVENT_ID", id_arg, "Event id to notify")->required();
  if (const auto status = parse_arguments(
          app, "usage: " + std::string(program) + " SERVICE EVENT_ID", argc, argv)) {
    return *status;
  }
  const auto name = service_name_or_complain(service_arg);
  if (!name) return 1;
  const auto id = number_or_complain("event id", id_arg);
  if (!id) return 1;
  auto node = node_or_complain(program);
  if (!node) return 1;
  if (!handle_termination_signals(*node)) return 1;
  auto service = node->service_builder(*name).event().open_or_create();
  if (!service) {
    complain("cannot open service \"%s\": %s", service_arg.c_str(), to_string(service.error()));
    return 1;
  }
  auto notifier = service->notifier_builder().default_event_id(EventId{*id}).create();
  if (!notifier) {
    complain("cannot create notifier for id %llu: %s (the service's max event id is %llu)",
             static_cast<unsigned long long>(*id), to_string(notifier.error()),
             static_cast<unsigned long long>(service->static_config().event_id_max_value));
    return 1;
  }
  do {
    auto r = notifier->notify();
    if (!r) {
      complain("notify failed: %s", to_string(r.error()));
      return 1;
    }
    std::printf("[service: \"%s\"] Trigger event with id %llu ...\n", service_arg.c_str(),
                static_cast<unsigned long long>(*id));
  } while (node->wait(std::chrono::seconds(1)));
  std::printf("exit\n");
  return 0;
} catch (const std::exception& e) {
  return died_of(program, e);
}

}  // namespace axon::examples
