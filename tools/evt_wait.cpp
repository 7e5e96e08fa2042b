// evt_wait NAME [timeout_s]: blocks until the latched event NAME is set (at once if it is set
// already), creating it (clear) if needed. timeout_s is in seconds, fractions allowed (0.2); 0
// only looks; without it, or with "inf", evt_wait waits for ever.
// Exit status: 0 set; 1 timed out; 2 usage error (a usage line on stderr) or an invalid
// AXON_PREFIX or AXON_ROOT; 3 any other failure; 130 on SIGINT and 143 on SIGTERM, after one
// line on stderr.
//
// The wait sleeps in the kernel on the event's futex. SIGINT and SIGTERM handlers are installed
// without SA_RESTART, so a signal makes that wait return EINTR. A signal that lands after the
// last check of the flag and before the futex call would not interrupt it; a second thread that
// sleeps on the signal eventfd closes that window.
#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include "axon/axon.hpp"
#include "axon/platform/clock.hpp"
#include "axon/platform/epoll.hpp"
#include "axon/platform/signals.hpp"
#include "axon_tools/messages.hpp"
#include "evt_tool.hpp"

namespace {

constexpr const char* kTool = "evt_wait";
constexpr axon::evt_tool::Tool kThisTool{
    kTool, "usage: evt_wait NAME [timeout_s]",
    "Blocks until the latched event NAME is set (creating it, clear, if needed).\n"
    "timeout_s: seconds to wait at most, fractions allowed (0.2); default or inf: for ever.\n"
    "Exit status: 0 set, 1 timed out, 2 usage error or invalid AXON_PREFIX/AXON_ROOT, 3 other\n"
    "failure, 130 SIGINT, 143 SIGTERM.\n"};
constexpr int kTimedOut = 1;
constexpr int kFailure = axon::evt_tool::kFailure;

int usage_error(const std::string& problem) {
  return axon::evt_tool::usage_error(kThisTool, problem);
}

std::atomic<bool> g_exiting{false};

[[noreturn]] void exit_on_signal() {
  // ORDERING: relaxed: only decides which of the two threads prints; the other stays quiet.
  if (!g_exiting.exchange(true, std::memory_order_relaxed)) {
    const int signal_number = axon::platform::TerminationSignals::last_signal();
    const bool terminated = signal_number == SIGTERM;
    std::fprintf(stderr, "%s: interrupted by %s\n", kTool, terminated ? "SIGTERM" : "SIGINT");
    std::_Exit(terminated ? 128 + SIGTERM : 128 + SIGINT);
  }
  for (;;) std::this_thread::sleep_for(std::chrono::hours(1));  // the other thread exits
}

// Sleeps on the eventfd that the signal handler writes. It catches a signal whichever thread
// the kernel delivers it to and whenever it lands, including the moment just before the main
// thread enters its futex wait, where EINTR cannot help.
void watch_termination_signals() {
  auto epoll = axon::platform::Epoll::create();
  if (!epoll) return;  // the main thread's EINTR path still works
  if (!epoll->add(axon::platform::TerminationSignals::fd(), EPOLLIN, 0)) return;
  std::array<epoll_event, 1> ready{};
  for (;;) {
    auto woken = epoll->wait(ready, std::nullopt);
    if ((woken && *woken > 0) || axon::platform::TerminationSignals::termination_requested()) {
      exit_on_signal();
    }
  }
}

}  // namespace

int main(int argc, char** argv) try {
  CLI::App app{kThisTool.help, kTool};
  std::string name;
  std::optional<std::string> timeout_text;
  app.add_option("NAME", name, "The event's name")->required();
  app.add_option("timeout_s", timeout_text, "Seconds to wait at most (default: for ever)");
  if (const auto status = axon::evt_tool::parse(kThisTool, app, argc, argv)) return *status;
  if (auto valid = axon::ServiceName::create(name); !valid) {
    return usage_error(axon::evt_tool::invalid_name(name, valid.error()));
  }
  std::optional<std::chrono::nanoseconds> timeout;  // nullopt: for ever
  if (timeout_text) {
    // The rules of `axon listen --timeout`: one parser for both.
    auto parsed_timeout = axon::tools::parse_seconds(*timeout_text);
    if (!parsed_timeout) {
      return usage_error(
          axon::tools::seconds_refusal("timeout", *timeout_text, parsed_timeout.error()));
    }
    timeout = *parsed_timeout;
  }
  // The deadline starts now, before opening, so the total never exceeds what was asked by more
  // than the open itself.
  const auto deadline =
      timeout ? axon::platform::Deadline::after(*timeout) : axon::platform::Deadline::never();

  if (auto installed = axon::platform::TerminationSignals::install(); !installed) {
    std::fprintf(stderr, "%s: cannot install signal handlers: %s\n", kTool,
                 installed.error().describe().c_str());
    return kFailure;
  }
  std::thread(watch_termination_signals).detach();

  auto event = axon::SystemEvent::open(name);
  if (!event) {
    std::fprintf(stderr, "%s: cannot open event %s: %s\n", kTool, axon::tools::quoted(name).c_str(),
                 axon::to_string(event.error()));
    return kFailure;
  }

  for (;;) {
    if (axon::platform::TerminationSignals::termination_requested()) exit_on_signal();
    const auto remaining = deadline.remaining();
    auto woken = remaining ? event->wait_for(*remaining) : event->wait();
    if (woken) {
      if (*woken) return 0;
      std::fprintf(stderr, "%s: %s was not set within %s s\n", kTool,
                   axon::tools::quoted(name).c_str(), timeout_text->c_str());
      return kTimedOut;
    }
    if (woken.error() != axon::SystemEventWaitError::Interrupted) {
      std::fprintf(stderr, "%s: waiting on %s failed: %s\n", kTool,
                   axon::tools::quoted(name).c_str(), axon::to_string(woken.error()));
      return kFailure;
    }
    // Interrupted by a signal that is not ours (or not yet recorded): the loop looks again.
  }
} catch (const std::exception& e) {
  return axon::evt_tool::died_of(kThisTool, e);
}
