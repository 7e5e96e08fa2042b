// axon-gateway: carries the axon services of this machine to other machines over Cyclone DDS, and
// theirs to this one (docs/gateway.md; flags and file: gateway/CONFIG.md). One per machine.
#include <cstdio>

#include "bridge.hpp"
#include "config.hpp"

int main(int argc, char** argv) {
  using namespace axon::gateway;
  auto config = parse_gateway_arguments(argc, argv);
  if (!config) {
    if (!config.error().problem.empty()) {
      std::fprintf(stderr, "axon-gateway: %s\n", config.error().problem.c_str());
    }
    return config.error().status;
  }
  if (config->check_only) {
    std::fputs(describe(*config).c_str(), stdout);
    return 0;
  }
  auto gateway = Gateway::create(std::move(*config));
  if (!gateway) {
    std::fprintf(stderr, "axon-gateway: %s\n", gateway.error().c_str());
    return 1;
  }
  return (*gateway)->run();
}
