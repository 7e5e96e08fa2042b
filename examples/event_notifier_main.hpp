// The event notifier example, shared by examples/event and examples/event_multiplexing: notifies
// once a second and prints `[service: "<name>"] Trigger event with id <id> ...`; on SIGINT or
// SIGTERM prints `exit` and exits 0; bad arguments exit non-zero with one line.
#pragma once

#include <cstdio>

#include "axon/axon.hpp"
#include "common.hpp"

namespace axon::examples {

/// The whole notifier program; `program` names it in the usage line.
inline int run_event_notifier(int argc, char** argv, const char* program) {
  line_buffered_stdout();
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s SERVICE EVENT_ID\n", program);
    return 2;
  }
  const auto name = service_name_or_complain(argv[1]);
  if (!name) return 1;
  const auto id = number_or_complain("event id", argv[2]);
  if (!id) return 1;
  if (!platform::TerminationSignals::install()) {
    std::fprintf(stderr, "cannot install signal handlers\n");
    return 1;
  }
  auto node = NodeBuilder().create();
  if (!node) {
    std::fprintf(stderr, "cannot create node: %s\n", to_string(node.error()));
    return 1;
  }
  auto service = node->service_builder(*name).event().open_or_create();
  if (!service) {
    std::fprintf(stderr, "cannot open service \"%s\": %s\n", argv[1],
                 to_string(service.error()).c_str());
    return 1;
  }
  auto notifier = service->notifier_builder().default_event_id(EventId{*id}).create();
  if (!notifier) {
    std::fprintf(stderr,
                 "cannot create notifier for id %llu: %s (the service's max event id is %llu)\n",
                 static_cast<unsigned long long>(*id), to_string(notifier.error()),
                 static_cast<unsigned long long>(service->static_config().event_id_max_value));
    return 1;
  }
  do {
    auto r = notifier->notify();
    if (!r) {
      std::fprintf(stderr, "notify failed: %s\n", to_string(r.error()));
      return 1;
    }
    std::printf("[service: \"%s\"] Trigger event with id %llu ...\n", argv[1],
                static_cast<unsigned long long>(*id));
  } while (sleep_unless_terminated(std::chrono::seconds(1)));
  std::printf("exit\n");
  return 0;
}

}  // namespace axon::examples
