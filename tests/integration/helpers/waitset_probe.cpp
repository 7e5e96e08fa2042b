// A process that waits in a WaitSet, for the multi-process WaitSet tests.
//   waitset_probe signal             waits on an idle eventfd until a termination signal
//   waitset_probe timed MS           one wait with a timeout of MS milliseconds
//   waitset_probe deadline SERVICE MS  a listener of SERVICE with a deadline of MS milliseconds
// Every mode counts SIGUSR1 (a do-nothing handler without SA_RESTART, so it interrupts waits),
// prints "ready" once it waits, and at the end "result <WaitSetRunResult>" and "usr1 <count>".
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "axon/axon.hpp"
#include "axon/platform/event_fd.hpp"

namespace {

using namespace axon;

std::atomic<int> g_usr1{0};

extern "C" void on_usr1(int) {
  // ORDERING: relaxed; read once after the wait, in the same thread or after it.
  g_usr1.fetch_add(1, std::memory_order_relaxed);
}

bool install_usr1() {
  struct sigaction action {};
  action.sa_handler = on_usr1;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  return ::sigaction(SIGUSR1, &action, nullptr) == 0;
}

int finish(const tl::expected<WaitSetRunResult, WaitSetRunError>& result, long elapsed_ms = -1) {
  if (!result) {
    std::printf("error %s\n", to_string(result.error()));
    return 1;
  }
  std::printf("result %s\n", to_string(*result));
  if (elapsed_ms >= 0) std::printf("elapsed_ms %ld\n", elapsed_ms);
  std::printf("usr1 %d\n", g_usr1.load(std::memory_order_relaxed));
  return 0;
}

int run_signal() {
  auto event = platform::EventFd::create();
  auto waitset = WaitSetBuilder().create();
  if (!event || !waitset) return 3;
  auto guard = waitset->attach_fd(event->fd(), FdInterest::Read);
  if (!guard) return 3;
  std::printf("ready\n");
  return finish(
      waitset->wait_and_process([](AttachmentId) { return CallbackProgression::Continue; }));
}

int run_timed(long ms) {
  auto event = platform::EventFd::create();
  auto waitset = WaitSetBuilder().create();
  if (!event || !waitset) return 3;
  auto guard = waitset->attach_fd(event->fd(), FdInterest::Read);
  if (!guard) return 3;
  std::printf("ready\n");
  const auto start = std::chrono::steady_clock::now();
  auto result = waitset->wait_and_process_once_with_timeout(
      [](AttachmentId) { return CallbackProgression::Continue; }, std::chrono::milliseconds(ms));
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  return finish(result, static_cast<long>(elapsed.count()));
}

int run_deadline(const char* service_name, long ms) {
  auto name = ServiceName::create(service_name);
  if (!name) return 3;
  auto node = NodeBuilder().create();
  if (!node) return 3;
  auto service = node->service_builder(*name).event().open_or_create();
  if (!service) return 3;
  auto listener = service->listener_builder().create();
  auto waitset = WaitSetBuilder().create();
  if (!listener || !waitset) return 3;
  auto guard = waitset->attach_deadline(*listener, std::chrono::milliseconds(ms));
  if (!guard) return 3;
  std::printf("ready\n");
  auto result = waitset->wait_and_process([&](AttachmentId id) {
    if (id.has_missed_deadline(*guard)) std::printf("missed\n");
    if (id.has_event_from(*guard)) {
      (void)listener->try_wait([](EventId event, std::uint64_t count) {
        std::printf("event %llu %llu\n", static_cast<unsigned long long>(event.value),
                    static_cast<unsigned long long>(count));
      });
    }
    return CallbackProgression::Continue;
  });
  return finish(result);
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  if (!install_usr1()) return 3;
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "signal" && argc == 2) return run_signal();
  if (mode == "timed" && argc == 3) return run_timed(std::atol(argv[2]));
  if (mode == "deadline" && argc == 4) return run_deadline(argv[2], std::atol(argv[3]));
  std::fprintf(stderr, "usage: waitset_probe signal | timed MS | deadline SERVICE MS\n");
  return 2;
}
