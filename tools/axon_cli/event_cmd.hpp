// `axon event list|show|set|clear|wait|rm`: the latched named events of axon::SystemEvent (the
// ones evt_set, evt_clear and evt_wait work on), and what `axon clean` says and does about them.
// Output formats and exit codes are a contract (docs/cli.md).
//
// list and show open nothing for writing and create nothing; set, clear and wait open the event,
// creating it (clear) when missing, as the evt_* tools do; rm removes it.
#pragma once

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "args.hpp"
#include "axon/axon.hpp"
#include "axon_tools/messages.hpp"
#include "errors.hpp"
#include "format.hpp"

namespace axon::cli {

/// `text` if it is a valid event name (the rules of service names); otherwise prints the usage
/// error, worded as for a service name, and stores its exit code.
inline std::optional<std::string> parse_event_name(const std::string& text, int& exit_code) {
  if (auto name = ServiceName::create(text); !name) {
    exit_code = fail(kExitUsage, "invalid event name " + tools::quoted(text) + ": " +
                                     tools::explain(name.error()));
    return std::nullopt;
  }
  return text;
}

/// The command of process `pid` as the kernel names it (/proc/<pid>/comm, at most 15 bytes),
/// printable; empty when it is gone or cannot be read.
inline std::string command_of(int pid) {
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(comm, name);
  return printable(name);
}

inline const char* event_state(const SystemEventInfo& event) {
  return event.is_set ? "set" : "clear";
}

/// `<set|clear> <name> holders=<n>`, or `unreadable <name> error=<reason>`.
inline std::string event_line(const SystemEventInfo& event) {
  if (event.error) {
    return "unreadable " + printable(event.name) + " error=" + to_string(*event.error);
  }
  return std::string(event_state(event)) + " " + printable(event.name) +
         " holders=" + std::to_string(event.holders.size());
}

/// `{"name","state","holders":[{"pid","command"},...]}`, or `{"name","error"}`.
inline Json event_json(const SystemEventInfo& event) {
  Json object = Json::object();
  object["name"] = json_text(event.name);
  if (event.error) {
    object["error"] = to_string(*event.error);
    return object;
  }
  object["state"] = event_state(event);
  Json holders = Json::array();
  for (const int pid : event.holders) {
    Json holder = Json::object();
    holder["pid"] = static_cast<std::uint64_t>(pid);
    holder["command"] = json_text(command_of(pid));
    holders.push_back(std::move(holder));
  }
  object["holders"] = std::move(holders);
  return object;
}

/// `/dev/shm/<prefix>evt_<hash>`: where the event lives, for `show`.
inline std::string event_object(const SystemEventInfo& event) {
  return "/dev/shm/" + Config::from_environment().prefix + "evt_" + event.hash;
}

inline std::string event_error(const std::string& text, SystemEventError error) {
  if (error == SystemEventError::DoesNotExist) return "no event named " + tools::quoted(text);
  return "cannot read event " + tools::quoted(text) + ": " + to_string(error);
}

/// stderr, not an error: an empty list is a valid answer, but a wrong AXON_PREFIX or AXON_ROOT is
/// the usual reason for one, so the place looked in is named.
inline void say_nothing_found(const char* what) {
  const auto config = Config::from_environment();
  std::fprintf(stderr, "axon: no %s under prefix '%s' in root '%s'\n", what,
               printable(config.prefix).c_str(), printable(config.root).c_str());
}

inline int event_list(bool json) {
  auto events = SystemEvent::list();
  if (!events) {
    return fail(kExitFailure, std::string("cannot list events: ") + to_string(events.error()));
  }
  if (json) {
    std::vector<std::string> objects;
    objects.reserve(events->size());
    for (const auto& event : *events) objects.push_back(json_line(event_json(event)));
    std::printf("%s\n", json_array_lines(objects).c_str());
  } else {
    for (const auto& event : *events) std::printf("%s\n", event_line(event).c_str());
  }
  if (events->empty()) say_nothing_found("events");
  return kExitOk;
}

inline int event_show(const std::string& text, bool json) {
  int code = kExitOk;
  const auto name = parse_event_name(text, code);
  if (!name) return code;
  auto event = SystemEvent::describe(*name);
  if (!event) return fail(kExitFailure, event_error(text, event.error()));
  if (json) {
    Json object = event_json(*event);
    object["object"] = event_object(*event);
    std::printf("%s\n", json_line(object).c_str());
    return kExitOk;
  }
  std::printf("name: %s\nstate: %s\nobject: %s\nholders: %zu\n", printable(event->name).c_str(),
              event_state(*event), event_object(*event).c_str(), event->holders.size());
  for (const int pid : event->holders) {
    const auto command = command_of(pid);
    std::printf("holder: %d%s%s\n", pid, command.empty() ? "" : " ", command.c_str());
  }
  return kExitOk;
}

/// `set` (true) or `clear` (false), as evt_set and evt_clear: creates the event when missing.
inline int event_change(const std::string& text, bool set) {
  int code = kExitOk;
  const auto name = parse_event_name(text, code);
  if (!name) return code;
  auto event = SystemEvent::open(*name);
  if (!event) {
    return fail(kExitFailure,
                "cannot open event " + tools::quoted(text) + ": " + to_string(event.error()));
  }
  if (set) {
    event->set();
  } else {
    event->clear();
  }
  return kExitOk;
}

namespace detail {

/// The first of the two threads of `event wait` to end the process goes on; a later one sleeps
/// for ever, for the other is ending the process with its own line and status.
inline void claim_exit_or_sleep() {
  static std::atomic<bool> exiting{false};
  // ORDERING: relaxed: only decides which thread speaks; nothing else is published.
  if (!exiting.exchange(true, std::memory_order_relaxed)) return;
  for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
}

/// The signal thread of `event wait` (see event_wait()): sleeps in the WaitSet until SIGINT or
/// SIGTERM, then ends the process with 130 or 143. The hourly interval only gives the WaitSet an
/// attachment (it does not wait with none).
inline void end_on_termination_signal(WaitSet waitset, WaitSetGuard /*interval*/) {
  for (;;) {
    auto woken = waitset.wait(std::nullopt);
    if (!woken) {
      claim_exit_or_sleep();
      std::_Exit(fail(kExitFailure,
                      std::string("waiting for signals failed: ") + to_string(woken.error())));
    }
    switch (woken->result) {
      case WaitSetRunResult::Interrupt:
        claim_exit_or_sleep();
        std::_Exit(fail(128 + SIGINT, "interrupted by SIGINT"));
      case WaitSetRunResult::TerminationRequest:
        claim_exit_or_sleep();
        std::_Exit(fail(128 + SIGTERM, "interrupted by SIGTERM"));
      case WaitSetRunResult::AllEventsHandled:  // the interval
      case WaitSetRunResult::StopRequest:       // never from wait()
        break;
    }
  }
}

}  // namespace detail

/// `event wait`, as evt_wait (its header comment says why in full): the main thread sleeps on the
/// event's futex, the one wait that cannot miss a set() (even one cleared again at once); a futex
/// wait cannot also wait for a signal, so a second thread sleeps in a WaitSet, whose own SIGINT
/// and SIGTERM handling ends its wait whichever thread got the signal, and ends the process. The
/// WaitSet exists before the event is opened, so a signal never takes its default action.
inline int event_wait(const std::string& text, const std::optional<std::string>& timeout_text) {
  int code = kExitOk;
  const auto name = parse_event_name(text, code);
  if (!name) return code;
  std::optional<Timeout> timeout;
  if (timeout_text) {
    timeout = parse_timeout("--timeout", *timeout_text, code);
    if (!timeout) return code;
  }
  // Counted from before the open, as evt_wait's.
  const auto deadline =
      timeout && !timeout->forever ? tools::deadline_after(timeout->duration) : std::nullopt;

  auto waitset = WaitSetBuilder().capacity(1).create();
  if (!waitset) {
    return fail(kExitFailure,
                std::string("cannot install signal handlers: ") + to_string(waitset.error()));
  }
  auto interval = waitset->attach_interval(std::chrono::hours(1));
  if (!interval) {
    return fail(kExitFailure,
                std::string("cannot watch for signals: ") + to_string(interval.error()));
  }
  std::thread(detail::end_on_termination_signal, std::move(*waitset), std::move(*interval))
      .detach();
  // The signal thread alone takes SIGINT and SIGTERM from now on.
  sigset_t termination{};
  sigemptyset(&termination);
  sigaddset(&termination, SIGINT);
  sigaddset(&termination, SIGTERM);
  (void)pthread_sigmask(SIG_BLOCK, &termination, nullptr);

  auto event = SystemEvent::open(*name);
  if (!event) {
    detail::claim_exit_or_sleep();
    return fail(kExitFailure,
                "cannot open event " + tools::quoted(text) + ": " + to_string(event.error()));
  }
  for (;;) {
    auto woken = deadline ? event->wait_for(tools::remaining_until(*deadline)) : event->wait();
    if (woken) {
      detail::claim_exit_or_sleep();
      if (*woken) return kExitOk;
      return fail(kExitFailure,
                  tools::quoted(text) + " was not set within " + *timeout_text + " s");
    }
    if (woken.error() != SystemEventWaitError::Interrupted) {
      detail::claim_exit_or_sleep();
      return fail(kExitFailure,
                  "waiting on " + tools::quoted(text) + " failed: " + to_string(woken.error()));
    }
    // Another signal's handler ran in this thread: the wait goes on for what remains.
  }
}

/// One `warning:` line on stderr per process that still maps the event; used before removing it.
inline void warn_about_holders(const std::string& text) {
  auto event = SystemEvent::describe(text);
  if (!event) return;
  for (const int pid : event->holders) {
    const auto command = command_of(pid);
    std::fprintf(stderr, "warning: process %d%s%s holds event %s; removed anyway\n", pid,
                 command.empty() ? "" : " ", command.c_str(), tools::quoted(text).c_str());
  }
}

inline int event_rm(const std::string& text) {
  int code = kExitOk;
  const auto name = parse_event_name(text, code);
  if (!name) return code;
  warn_about_holders(*name);
  auto removed = SystemEvent::remove(*name);
  if (!removed) return fail(kExitFailure, event_error(text, removed.error()));
  std::printf("removed event %s\n", printable(*name).c_str());
  return kExitOk;
}

/// `axon clean --force NAME`, the event part: removes the latched event NAME if there is one.
/// True when one was removed ('removed event <name>' on stdout); a failure other than absence is
/// a `warning:` line on stderr.
inline bool remove_event_forcibly(const std::string& text) {
  if (!ServiceName::create(text)) return false;  // the caller has refused the name already
  warn_about_holders(text);
  auto removed = SystemEvent::remove(text);
  if (removed) {
    std::printf("removed event %s\n", printable(text).c_str());
    return true;
  }
  if (removed.error() != SystemEventError::DoesNotExist) {
    std::fprintf(stderr, "warning: cannot remove event %s: %s\n", tools::quoted(text).c_str(),
                 to_string(removed.error()));
  }
  return false;
}

/// `axon clean`, the event part: one `unheld event <name>` line per latched event that no
/// process maps. They are reported, never removed: an event is latched on purpose, to outlive
/// its processes (`axon event rm` or `axon clean --force NAME` removes one).
inline void report_unheld_events() {
  auto events = SystemEvent::list();
  if (!events) {
    std::fprintf(stderr, "warning: cannot list events: %s\n", to_string(events.error()));
    return;
  }
  for (const auto& event : *events) {
    if (!event.error && event.holders.empty()) {
      std::printf("unheld event %s\n", printable(event.name).c_str());
    }
  }
}

/// The `axon event` subcommands and their options; registered once, never moved (CLI11 keeps
/// pointers to the options' storage).
struct EventCommands {
  CLI::App* event = nullptr;
  CLI::App* list = nullptr;
  CLI::App* show = nullptr;
  CLI::App* set = nullptr;
  CLI::App* clear = nullptr;
  CLI::App* wait = nullptr;
  CLI::App* rm = nullptr;
  std::string name;
  std::optional<std::string> timeout;
  bool json = false;
};

inline std::unique_ptr<EventCommands> add_event_commands(CLI::App& app, const char* exit_codes) {
  auto commands = std::make_unique<EventCommands>();
  auto& c = *commands;
  c.event = app.add_subcommand("event", "List, inspect and drive latched events (evt_*)");
  c.event->footer(exit_codes);
  c.list = c.event->add_subcommand("list", "List latched events, one line each");
  c.list->add_flag("--json", c.json, "Print a JSON array of objects instead");
  c.list->footer(
      "Output, one line per event, sorted by name:\n"
      "  <set|clear> <name> holders=<n>\n"
      "  unreadable <name> error=<reason>\n"
      "holders: processes that map the event now (read from /proc/<pid>/maps).\n"
      "--json: [{\"name\",\"state\",\"holders\":[{\"pid\",\"command\"},...]},...]\n" +
      std::string(exit_codes));
  c.show = c.event->add_subcommand("show", "Show one latched event and who holds it");
  c.show->add_option("NAME", c.name, "Event name")->required();
  c.show->add_flag("--json", c.json, "Print one JSON object instead");
  c.show->footer(
      "Output: 'name:', 'state:', 'object:', 'holders:' lines, then 'holder: <pid> <command>'\n"
      "per process. Exit status: 0 shown, 1 no such event (or unreadable), 2 usage error.");
  c.set = c.event->add_subcommand("set", "Set an event (creating it), as evt_set");
  c.set->add_option("NAME", c.name, "Event name")->required();
  c.set->footer("Prints nothing. " + std::string(exit_codes));
  c.clear = c.event->add_subcommand("clear", "Clear an event (creating it), as evt_clear");
  c.clear->add_option("NAME", c.name, "Event name")->required();
  c.clear->footer("Prints nothing. " + std::string(exit_codes));
  c.wait = c.event->add_subcommand("wait", "Wait until an event is set (creating it), as evt_wait");
  c.wait->add_option("NAME", c.name, "Event name")->required();
  c.wait
      ->add_option("--timeout", c.timeout, "Give up after S seconds (fractions allowed, e.g. 0.2)")
      ->type_name("S");
  c.wait->footer(
      "Prints nothing. Exit status: 0 set (at once when set already), 1 not set within\n"
      "--timeout or failure, 2 usage error, 130/143 SIGINT/SIGTERM.");
  c.rm = c.event->add_subcommand("rm", "Remove an event");
  c.rm->add_option("NAME", c.name, "Event name")->required();
  c.rm->footer(
      "Output: 'removed event <name>' (a 'warning:' line on stderr per process that still held\n"
      "it). Exit status: 0 removed, 1 no such event, 2 usage error.");
  return commands;
}

/// The exit status of the `axon event` command that was parsed; nullopt when none was.
inline std::optional<int> run_event_command(const EventCommands& c) {
  if (c.list->parsed()) return event_list(c.json);
  if (c.show->parsed()) return event_show(c.name, c.json);
  if (c.set->parsed()) return event_change(c.name, true);
  if (c.clear->parsed()) return event_change(c.name, false);
  if (c.wait->parsed()) return event_wait(c.name, c.timeout);
  if (c.rm->parsed()) return event_rm(c.name);
  if (c.event->parsed()) {
    return fail(kExitUsage,
                "missing command: list, show, set, clear, wait or rm (run 'axon event --help')");
  }
  return std::nullopt;
}

}  // namespace axon::cli
