// publish_subscribe_publisher SERVICE [--interval-ms N]: sends a TransmissionData whose counter
// starts at 0, every N ms (default 1000), printing `Send sample <n>`.
#include <cstdio>
#include <cstring>
#include <string>

#include "../common.hpp"
#include "axon/axon.hpp"
#include "transmission_data.hpp"

int main(int argc, char** argv) {
  using namespace axon;
  examples::line_buffered_stdout();
  std::optional<std::string> service_arg;
  std::chrono::milliseconds interval(1000);
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--interval-ms") == 0 && i + 1 < argc) {
      const auto v = examples::interval_or_complain(argv[++i]);
      if (!v) return 1;
      interval = *v;
    } else if (!service_arg && argv[i][0] != '-') {
      service_arg = argv[i];
    } else {
      service_arg.reset();
      break;
    }
  }
  if (!service_arg) {
    std::fprintf(stderr, "usage: publish_subscribe_publisher SERVICE [--interval-ms N]\n");
    return 2;
  }
  const auto names = example_names(*service_arg);
  if (!names) return 1;
  if (!platform::TerminationSignals::install()) return 1;
  auto node = NodeBuilder().name("publisher").create();
  if (!node) {
    std::fprintf(stderr, "cannot create node: %s\n", to_string(node.error()));
    return 1;
  }
  auto service =
      node->service_builder(names->service).publish_subscribe<TransmissionData>().open_or_create();
  if (!service) {
    std::fprintf(stderr, "cannot open service \"%s\": %s\n", service_arg->c_str(),
                 to_string(service.error()).c_str());
    return 1;
  }
  auto publisher = service->publisher_builder().create();
  if (!publisher) {
    std::fprintf(stderr, "cannot create publisher: %s\n", to_string(publisher.error()));
    return 1;
  }
  // Wake subscribers that sleep in a WaitSet.
  auto events = node->service_builder(names->notifications).event().open_or_create();
  if (events) {
    if (auto notifier = events->notifier_builder().create()) {
      publisher->notify_on_send(std::move(*notifier));
    }
  }
  std::uint64_t counter = 0;
  do {
    auto sample = publisher->loan_uninit();
    if (!sample) {
      std::fprintf(stderr, "loan failed: %s\n", to_string(sample.error()));
      return 1;
    }
    sample->payload() = TransmissionData{counter, static_cast<std::int32_t>(counter),
                                         static_cast<std::int32_t>(counter * 3),
                                         static_cast<double>(counter) * 812.12};
    if (auto sent = publisher->send(std::move(*sample)); !sent) {
      std::fprintf(stderr, "send failed: %s\n", to_string(sent.error()));
      return 1;
    }
    std::printf("Send sample %llu\n", static_cast<unsigned long long>(counter));
    ++counter;
  } while (examples::sleep_unless_terminated(interval));
  std::printf("exit\n");
  return 0;
}
