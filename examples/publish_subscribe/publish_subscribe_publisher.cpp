// publish_subscribe_publisher SERVICE [--interval-ms N]: sends a TransmissionData whose counter
// starts at 0, every N ms (default 1000), printing `Send sample <n>`.
#include <cstdio>
#include <string>

#include "../common.hpp"
#include "axon/axon.hpp"
#include "transmission_data.hpp"

int main(int argc, char** argv) try {
  using namespace axon;
  examples::line_buffered_stdout();
  CLI::App app{"Sends a TransmissionData on the publish-subscribe service SERVICE every N ms.",
               "publish_subscribe_publisher"};
  std::string service_arg;
  std::string interval_arg = "1000";
  app.add_option("SERVICE", service_arg, "Publish-subscribe service name")->required();
  app.add_option("--interval-ms", interval_arg, "Pause between two samples (at most an hour)")
      ->type_name("N")
      ->capture_default_str();
  if (const auto status = examples::parse_arguments(
          app, "usage: publish_subscribe_publisher SERVICE [--interval-ms N]", argc, argv)) {
    return *status;
  }
  const auto interval = examples::interval_or_complain(interval_arg);
  if (!interval) return 1;
  const auto name = examples::service_name_or_complain(service_arg);
  if (!name) return 1;
  auto node = axon::examples::node_or_complain("publisher");
  if (!node) return 1;
  if (!examples::handle_termination_signals(*node)) return 1;
  auto service =
      node->service_builder(*name).publish_subscribe<TransmissionData>().open_or_create();
  if (!service) {
    axon::examples::complain("cannot open service \"%s\": %s", service_arg.c_str(),
                             to_string(service.error()));
    return 1;
  }
  auto publisher = service->publisher_builder().create();
  if (!publisher) {
    axon::examples::complain("cannot create publisher: %s", to_string(publisher.error()));
    return 1;
  }
  // Subscribers that sleep in a WaitSet are wakeable ones: each send wakes them, nothing to set up.
  std::uint64_t counter = 0;
  do {
    auto sample = publisher->loan_uninit();
    if (!sample) {
      axon::examples::complain("loan failed: %s", to_string(sample.error()));
      return 1;
    }
    sample->payload() = TransmissionData{counter, static_cast<std::int32_t>(counter),
                                         static_cast<std::int32_t>(counter * 3),
                                         static_cast<double>(counter) * 812.12};
    if (auto sent = publisher->send(std::move(*sample)); !sent) {
      axon::examples::complain("send failed: %s", to_string(sent.error()));
      return 1;
    }
    std::printf("Send sample %llu\n", static_cast<unsigned long long>(counter));
    ++counter;
  } while (node->wait(*interval));
  std::printf("exit\n");
  return 0;
} catch (const std::exception& e) {
  return axon::examples::died_of("publish_subscribe_publisher", e);
}
