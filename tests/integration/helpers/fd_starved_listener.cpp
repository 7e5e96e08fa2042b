// A listener process that runs out of file descriptors on purpose, for the fd-exhaustion tests.
//
//   axon_test_fd_starved_listener SERVICE LISTENERS NOFILE FILL
//
// Lowers RLIMIT_NOFILE to NOFILE, opens (or creates) the eventfd service SERVICE with LISTENERS
// listeners, then, when FILL is 1, opens /dev/null until the process has no descriptor left.
// Prints "ready", then waits up to 30 s on the first listener and prints "got ID COUNT" for each
// event, until no event came for 30 s. Exit codes: 0 after at least one event, 2 none, 3 setup.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "axon/axon.hpp"

int main(int argc, char** argv) {
  using namespace axon;
  if (argc != 5) return 3;
  const auto listeners = static_cast<std::uint32_t>(std::strtoul(argv[2], nullptr, 10));
  const rlimit limit{std::strtoul(argv[3], nullptr, 10), std::strtoul(argv[3], nullptr, 10)};
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) return 3;
  auto node = NodeBuilder().name("fd-starved").create();
  if (!node) return 3;
  auto name = ServiceName::create(argv[1]);
  if (!name) return 3;
  auto service = node->service_builder(*name)
                     .event()
                     .max_listeners(listeners)
                     .backend(EventBackend::EventFd)
                     .open_or_create();
  if (!service) {
    std::printf("service: %s\n", to_string(service.error()));
    return 3;
  }
  std::vector<Listener> ports;
  for (std::uint32_t i = 0; i < listeners; ++i) {
    auto listener = service->listener_builder().create();
    if (!listener) {
      std::printf("listener %u: %s\n", i, to_string(listener.error()));
      return 3;
    }
    ports.push_back(std::move(*listener));
  }
  if (argv[4] == std::string("1")) {
    while (::open("/dev/null", O_RDONLY | O_CLOEXEC) >= 0) {
    }
  }
  std::printf("ready\n");
  std::fflush(stdout);
  bool any = false;
  for (;;) {
    std::size_t seen = 0;
    auto waited = ports.front().timed_wait(
        [&](EventId id, std::uint64_t count) {
          std::printf("got %llu %llu\n", static_cast<unsigned long long>(id.value),
                      static_cast<unsigned long long>(count));
          ++seen;
        },
        std::chrono::seconds(30));
    std::fflush(stdout);
    if (!waited || seen == 0) break;
    any = true;
  }
  return any ? 0 : 2;
}
