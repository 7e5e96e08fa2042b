// Small helpers shared by the example programs: argument parsing and signal-aware sleeping.
// Arguments are read with CLI11 and the tools' helpers (tools/shared/axon_tools/), so that every
// example takes -h/--help and --version and refuses an unknown option, a refused argument is
// repeated escaped, never raw, and numbers are refused rather than wrapped.
#pragma once

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "axon/config.hpp"
#include "axon/event/event_id.hpp"
#include "axon/node.hpp"
#include "axon/service_name.hpp"
#include "axon_tools/command_line.hpp"
#include "axon_tools/messages.hpp"
#include "axon_tools/root_hint.hpp"

namespace axon::examples {

/// The name every error line of this program starts with: the name its command line was parsed
/// under (parse_arguments() sets it), the executable's until then.
inline std::string& program_name() {
  static std::string name = program_invocation_short_name;
  return name;
}

/// Prints `<program>: error: <what>` as one line on stderr, the error format of every program of
/// axon (tools::error_line, docs/cli.md); `format` is printf's.
[[gnu::format(printf, 1, 2)]] inline void complain(const char* format, ...) {
  char what[1024];
  va_list args;
  va_start(args, format);
  std::vsnprintf(what, sizeof(what), format, args);
  va_end(args);
  std::fprintf(stderr, "%s\n", tools::error_line(program_name(), what).c_str());
}

/// What an example does when an exception ends it (CLI11 reports a mis-declared option by
/// throwing; memory may run out): one line on stderr, exit 1. Every main() ends with
/// `catch (const std::exception& e) { return died_of(...); }`, so none escapes.
inline int died_of(const std::string& program, const std::exception& e) {
  std::fprintf(stderr, "%s\n", tools::error_line(program, tools::escaped(e.what())).c_str());
  return 1;
}

/// Reads the command line into the options of `app` (the example adds them), then checks the
/// environment. nullopt: go on. Otherwise the exit status: 0 after -h/--help or --version (printed
/// on stdout); 2 after a usage error, one line on stderr
/// (`event_listener: error: SERVICE is required (usage: event_listener SERVICE)`), or after an
/// invalid AXON_PREFIX or AXON_ROOT, one line naming it
/// (`event_listener: error: invalid AXON_PREFIX "a/b": ...`).
inline std::optional<int> parse_arguments(CLI::App& app, const std::string& usage, int argc,
                                          char** argv) {
  program_name() = app.get_name();
  if (auto stop = tools::parse_command_line(app, usage, argc, argv)) {
    if (stop->status != 0) complain("%s (%s)", stop->problem.c_str(), usage.c_str());
    return stop->status;
  }
  if (const auto problem = tools::config_problem(Config::from_environment())) {
    complain("%s", problem->c_str());
    return tools::kUsageStatus;
  }
  return std::nullopt;
}

/// `text` as a ServiceName; otherwise one line on stderr,
/// `<program>: error: invalid service name "<text>": <why>` with the text escaped, and nullopt.
inline std::optional<ServiceName> service_name_or_complain(std::string_view text) {
  auto name = ServiceName::create(text);
  if (!name) {
    complain("invalid service name %s: %s", tools::quoted(text).c_str(),
             tools::explain(name.error()).c_str());
    return std::nullopt;
  }
  return *name;
}

/// A whole decimal number in [0, max]; otherwise one line on stderr naming `what` and why
/// (`event id "-1" is negative`), and nullopt.
inline std::optional<std::uint64_t> number_or_complain(
    const char* what, std::string_view text,
    std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) {
  auto value = tools::parse_unsigned(text, max);
  if (!value) {
    complain("%s", tools::refusal(what, text, value.error(), max).c_str());
    return std::nullopt;
  }
  return *value;
}

/// When a listener cannot be created: " (<why>)" if AXON_ROOT is too long for the node sockets of
/// the eventfd backend (the usual cause of ResourceCreationFailed), else "".
inline std::string root_hint() {
  const auto hint = tools::root_too_long_for_sockets(Config::from_environment());
  return hint ? " (" + *hint + ")" : std::string();
}

/// When the root directory was refused (PermissionDenied): " (<what to do>)" if AXON_ROOT is
/// world-writable, a symlink or another user's, else "".
inline std::string root_refusal_hint() {
  const auto hint = tools::root_refusal_hint(Config::from_environment());
  return hint ? " (" + *hint + ")" : std::string();
}

/// A node named `name` (every example names its node, so `axon node list` tells them apart);
/// otherwise one error line, with what to do about a refused root directory, and nullopt.
inline std::optional<Node> node_or_complain(const char* name) {
  auto node = NodeBuilder().name(name).create();
  if (!node) {
    complain("cannot create node: %s%s", to_string(node.error()), root_refusal_hint().c_str());
    return std::nullopt;
  }
  return std::move(*node);
}

/// How every example prints a notification, as `axon listen` does: `EventId(<id>) x<count>`,
/// after the service's name and a space when the program listens to several
/// (`fuu EventId(123) x1`; a service name has no space, so the line still splits on spaces).
inline void print_event(EventId id, std::uint64_t count, std::string_view service = {}) {
  std::printf("%s%sEventId(%llu) x%llu\n", tools::escaped(service).c_str(),
              service.empty() ? "" : " ", static_cast<unsigned long long>(id.value),
              static_cast<unsigned long long>(count));
}

/// The publishers' `--interval-ms`: an hour at most. A longer pause demonstrates nothing, and the
/// bound keeps the deadline `now + interval` far from overflow (an unbounded value used to wrap
/// into a negative duration: no pause at all).
inline constexpr std::uint64_t kMaxIntervalMs = 3'600'000;
inline std::optional<std::chrono::milliseconds> interval_or_complain(std::string_view text) {
  const auto value = number_or_complain("--interval-ms", text, kMaxIntervalMs);
  if (!value) return std::nullopt;
  return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(*value));
}

/// Installs the SIGINT/SIGTERM handlers of Node::wait() now (its first call does), so that a
/// signal during setup ends the program through its loop, not by the default action. False (and
/// a line on stderr) when they cannot be installed.
inline bool handle_termination_signals(const Node& node) {
  auto waited = node.wait(std::chrono::nanoseconds::zero());
  if (waited || waited.error() != NodeWaitError::InternalFailure) return true;
  complain("cannot install signal handlers");
  return false;
}

/// True until SIGINT or SIGTERM arrived: the condition of a loop that does not sleep itself.
inline bool keep_running(const Node& node) {
  return node.wait(std::chrono::nanoseconds::zero()).has_value();
}

/// Output goes to pipes and terminals alike: flush each line so readers see it at once.
inline void line_buffered_stdout() { std::setvbuf(stdout, nullptr, _IOLBF, 0); }

}  // namespace axon::examples
