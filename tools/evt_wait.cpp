// evt_wait NAME [timeout_s]: blocks until the latched event NAME is set (at once if it is set
// already), creating it (clear) if needed. timeout_s is in seconds, fractions allowed (0.2); 0
// only looks; without it, or with "inf", evt_wait waits for ever.
// Exit status: 0 set; 1 timed out; 2 usage error (a usage line on stderr) or an invalid
// AXON_PREFIX or AXON_ROOT; 3 any other failure; 130 on SIGINT and 143 on SIGTERM, after one
// line on stderr.
//
// Two threads, so that neither a set() nor a signal can be missed:
// - The main thread sleeps in SystemEvent::wait / wait_for, on the event's futex: the one wait
//   that cannot miss a set(), since it returns true for a set() made during the wait even when a
//   clear() follows at once. The event's fd() (a FIFO kept in line with the latched state) would
//   let a waiter sleep in a WaitSet together with the signals, but it is not used: a set() and a
//   clear() in quick succession may pass it unseen, a process killed between changing the state
//   and updating the FIFO leaves it wrong (readable while clear: a level-triggered wait would
//   spin) until the next change, and its first use makes a FIFO that every later set() and
//   clear() of every process then keeps up to date.
// - A futex wait cannot also wait for a signal: the handlers (installed without SA_RESTART)
//   interrupt it only in the thread the kernel picked, and only when the signal lands during the
//   call, not just before it. So a second thread sleeps in a WaitSet whose own SIGINT/SIGTERM
//   handling ends its wait whichever thread got the signal and whenever it came (a signal is
//   remembered, so one that came before the wait ends it at once); that thread ends the process.
//   The WaitSet is made before the event is opened: from then on a signal never takes its
//   default action. Once the signal thread runs, the main thread blocks SIGINT and SIGTERM, so
//   the kernel hands them to the signal thread alone: a handler deferred by a sanitizer (which
//   runs it only at the thread's next intercepted call, never inside a raw futex wait) cannot be
//   stranded in the main thread.
// The deadline is a point on std::chrono::steady_clock, so an interrupted wait goes on for what
// remains of it, never longer.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "axon/axon.hpp"
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

/// Called by a thread that is about to end the process (print its last line, return or exit):
/// the first one goes on. A later one sleeps for ever, for the other thread is ending the process
/// already, with its own line and status.
void claim_exit_or_sleep() {
  // ORDERING: relaxed: only decides which of the two threads speaks; nothing else is published.
  if (!g_exiting.exchange(true, std::memory_order_relaxed)) return;
  for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
}

// The signal thread: sleeps until SIGINT or SIGTERM, then ends the process. A WaitSet does not
// wait with nothing attached (NoAttachments), so an hourly interval is attached as well; it only
// makes the loop go round.
void end_on_termination_signal(axon::WaitSet waitset, axon::WaitSetGuard /*interval*/) {
  for (;;) {
    auto woken = waitset.wait(std::nullopt);
    if (!woken) {
      // A signal could no longer end the wait: better to fail now than to hang for ever.
      claim_exit_or_sleep();
      axon::evt_tool::complain(
          kThisTool, std::string("waiting for signals failed: ") + axon::to_string(woken.error()));
      std::_Exit(kFailure);
    }
    const char* signal_name = nullptr;
    int status = 0;
    switch (woken->result) {
      case axon::WaitSetRunResult::Interrupt:
        signal_name = "SIGINT";
        status = 128 + SIGINT;
        break;
      case axon::WaitSetRunResult::TerminationRequest:
        signal_name = "SIGTERM";
        status = 128 + SIGTERM;
        break;
      case axon::WaitSetRunResult::AllEventsHandled:  // the interval
      case axon::WaitSetRunResult::StopRequest:       // never from wait()
        continue;
    }
    claim_exit_or_sleep();
    axon::evt_tool::complain(kThisTool, std::string("interrupted by ") + signal_name);
    std::_Exit(status);
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
  // than the open itself. nullopt: for ever.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (timeout) deadline = axon::tools::deadline_after(*timeout);

  auto waitset = axon::WaitSetBuilder().capacity(1).create();
  if (!waitset) {
    axon::evt_tool::complain(kThisTool, std::string("cannot install signal handlers: ") +
                                            axon::to_string(waitset.error()));
    return kFailure;
  }
  auto interval = waitset->attach_interval(std::chrono::hours(1));
  if (!interval) {
    axon::evt_tool::complain(
        kThisTool, std::string("cannot watch for signals: ") + axon::to_string(interval.error()));
    return kFailure;
  }
  std::thread(end_on_termination_signal, std::move(*waitset), std::move(*interval)).detach();
  sigset_t termination{};
  sigemptyset(&termination);
  sigaddset(&termination, SIGINT);
  sigaddset(&termination, SIGTERM);
  (void)pthread_sigmask(SIG_BLOCK, &termination, nullptr);  // the signal thread keeps them

  auto event = axon::SystemEvent::open(name);
  if (!event) {
    claim_exit_or_sleep();
    axon::evt_tool::complain(kThisTool, axon::evt_tool::cannot_open(name, event.error()));
    return kFailure;
  }

  for (;;) {
    auto woken =
        deadline ? event->wait_for(axon::tools::remaining_until(*deadline)) : event->wait();
    if (woken) {
      claim_exit_or_sleep();
      if (*woken) return 0;
      axon::evt_tool::complain(
          kThisTool, axon::tools::quoted(name) + " was not set within " + *timeout_text + " s");
      return kTimedOut;
    }
    if (woken.error() != axon::SystemEventWaitError::Interrupted) {
      claim_exit_or_sleep();
      axon::evt_tool::complain(kThisTool, "waiting on " + axon::tools::quoted(name) +
                                              " failed: " + axon::to_string(woken.error()));
      return kFailure;
    }
    // A handler of another signal ran in this thread (SIGINT and SIGTERM go to the signal
    // thread): the wait goes on for what remains.
  }
} catch (const std::exception& e) {
  return axon::evt_tool::died_of(kThisTool, e);
}
