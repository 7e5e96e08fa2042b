// dynamic_data_publisher SERVICE [--interval-ms N]: sends byte slices of varying length (up to
// 4 KiB, fixed when the publisher is created), printing `Send sample <n> with <len> bytes`.
#include <cstdio>
#include <string>

#include "../common.hpp"
#include "axon/axon.hpp"

int main(int argc, char** argv) try {
  using namespace axon;
  examples::line_buffered_stdout();
  constexpr std::uint64_t kMaxLen = 4096;
  CLI::App app{
      "Sends byte slices of varying length (up to 4 KiB) on the publish-subscribe service "
      "SERVICE every N ms.",
      "dynamic_data_publisher"};
  std::string service_arg;
  std::string interval_arg = "1000";
  app.add_option("SERVICE", service_arg, "Publish-subscribe service name")->required();
  app.add_option("--interval-ms", interval_arg, "Pause between two samples (at most an hour)")
      ->type_name("N")
      ->capture_default_str();
  if (const auto status = examples::parse_arguments(
          app, "usage: dynamic_data_publisher SERVICE [--interval-ms N]", argc, argv)) {
    return *status;
  }
  const auto interval = examples::interval_or_complain(interval_arg);
  if (!interval) return 1;
  const auto name = examples::service_name_or_complain(service_arg);
  if (!name) return 1;
  auto node = axon::examples::node_or_complain("dynamic_data_publisher");
  if (!node) return 1;
  if (!examples::handle_termination_signals(*node)) return 1;
  auto service =
      node->service_builder(*name).publish_subscribe<Slice<std::uint8_t>>().open_or_create();
  if (!service) {
    axon::examples::complain("cannot open service: %s", to_string(service.error()));
    return 1;
  }
  auto publisher = service->publisher_builder().max_slice_len(kMaxLen).create();
  if (!publisher) {
    axon::examples::complain("cannot create publisher: %s", to_string(publisher.error()));
    return 1;
  }
  std::uint64_t counter = 0;
  do {
    const std::uint64_t len = (counter * 97) % kMaxLen + 1;
    auto sample = publisher->loan_uninit(len);
    if (!sample) {
      axon::examples::complain("loan failed: %s", to_string(sample.error()));
      return 1;
    }
    auto bytes = sample->payload();
    for (std::uint64_t i = 0; i < len; ++i) bytes[i] = static_cast<std::uint8_t>(counter + i);
    if (auto sent = publisher->send(std::move(*sample)); !sent) {
      axon::examples::complain("send failed: %s", to_string(sent.error()));
      return 1;
    }
    std::printf("Send sample %llu with %llu bytes\n", static_cast<unsigned long long>(counter),
                static_cast<unsigned long long>(len));
    ++counter;
  } while (node->wait(*interval));
  std::printf("exit\n");
  return 0;
} catch (const std::exception& e) {
  return axon::examples::died_of("dynamic_data_publisher", e);
}
