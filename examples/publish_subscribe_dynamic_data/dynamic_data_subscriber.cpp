// dynamic_data_subscriber SERVICE: prints `Received <len> bytes, first <b0>, pattern ok|BAD`
// per slice (the publisher fills byte i of sample n with n + i).
#include <cstdio>
#include <string>
#include <thread>

#include "../common.hpp"
#include "axon/axon.hpp"

int main(int argc, char** argv) try {
  using namespace axon;
  examples::line_buffered_stdout();
  CLI::App app{
      "Prints the length and first byte of every slice of the publish-subscribe service "
      "SERVICE, and whether its bytes follow the publisher's pattern.",
      "dynamic_data_subscriber"};
  std::string service_arg;
  app.add_option("SERVICE", service_arg, "Publish-subscribe service name")->required();
  if (const auto status =
          examples::parse_arguments(app, "usage: dynamic_data_subscriber SERVICE", argc, argv)) {
    return *status;
  }
  const auto name = examples::service_name_or_complain(service_arg);
  if (!name) return 1;
  auto node = axon::examples::node_or_complain("dynamic_data_subscriber");
  if (!node) return 1;
  if (!examples::handle_termination_signals(*node)) return 1;
  auto service =
      node->service_builder(*name).publish_subscribe<Slice<std::uint8_t>>().open_or_create();
  if (!service) {
    axon::examples::complain("cannot open service: %s", to_string(service.error()));
    return 1;
  }
  auto subscriber = service->subscriber_builder().create();
  if (!subscriber) {
    axon::examples::complain("cannot create subscriber: %s", to_string(subscriber.error()));
    return 1;
  }
  while (node->wait(std::chrono::milliseconds(10))) {
    for (;;) {
      auto sample = subscriber->receive();
      if (!sample) {
        axon::examples::complain("receive failed: %s", to_string(sample.error()));
        break;
      }
      if (!*sample) break;
      const auto bytes = (*sample)->payload();
      bool ok = !bytes.empty();
      for (std::size_t i = 1; i < bytes.size(); ++i) {
        ok = ok && bytes[i] == static_cast<std::uint8_t>(bytes[0] + i);
      }
      std::printf("Received %zu bytes, first %u, pattern %s\n", bytes.size(),
                  bytes.empty() ? 0u : static_cast<unsigned>(bytes[0]), ok ? "ok" : "BAD");
    }
  }
  std::printf("exit\n");
  return 0;
} catch (const std::exception& e) {
  return axon::examples::died_of("dynamic_data_subscriber", e);
}
