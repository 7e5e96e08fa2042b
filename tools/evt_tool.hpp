// What evt_set, evt_clear and evt_wait share: argument handling, usage errors, exit codes.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "axon/axon.hpp"
#include "axon_tools/command_line.hpp"
#include "axon_tools/messages.hpp"
#include "axon_tools/root_hint.hpp"

namespace axon::evt_tool {

inline constexpr int kUsageError = tools::kUsageStatus;
inline constexpr int kFailure = 3;

struct Tool {
  const char* name;
  const char* usage;
  const char* help;
};

/// Prints `<tool>: error: <what>` on stderr (tools::error_line, the format of every program).
inline void complain(const Tool& tool, const std::string& what) {
  std::fprintf(stderr, "%s\n", tools::error_line(tool.name, what).c_str());
}

/// One line naming the problem, then the usage line; the usage-error exit status. Whatever the
/// problem repeats of the arguments must be tools::quoted() already.
inline int usage_error(const Tool& tool, const std::string& problem) {
  complain(tool, problem);
  std::fprintf(stderr, "%s\n", tool.usage);
  return kUsageError;
}

/// `cannot open event "<name>": <error>`, with what to do when the root directory is refused.
inline std::string cannot_open(std::string_view name, SystemEventError error) {
  return tools::with_root_hint("cannot open event " + tools::quoted(name) + ": " + to_string(error),
                               Config::from_environment());
}

/// Parses the command line with `app` (whose arguments the tool has added), then checks the
/// environment. nullopt: go on. Otherwise the exit status: 0 after -h/--help or --version; 2 after
/// a usage error (the problem, then the usage line) or an invalid AXON_PREFIX or AXON_ROOT (one
/// line naming the variable; the command line was right, so no usage line).
inline std::optional<int> parse(const Tool& tool, CLI::App& app, int argc, char** argv) {
  if (auto stop = tools::parse_command_line(app, tool.usage, argc, argv)) {
    return stop->status == 0 ? 0 : usage_error(tool, stop->problem);
  }
  if (const auto problem = tools::config_problem(Config::from_environment())) {
    complain(tool, *problem);
    return kUsageError;
  }
  return std::nullopt;
}

/// The problem of a refused NAME: the name escaped (it may hold newlines or terminal escapes),
/// then why.
inline std::string invalid_name(std::string_view name, ServiceNameError error) {
  return "invalid name " + tools::quoted(name) + ": " + tools::explain(error);
}

/// What a tool does when an exception ends it (CLI11 reports a mis-declared option by throwing;
/// memory may run out): one line on stderr, the failure status.
inline int died_of(const Tool& tool, const std::exception& e) {
  complain(tool, tools::escaped(e.what()));
  return kFailure;
}

/// evt_set / evt_clear: exactly one valid NAME; opens the event and applies `action` to it.
template <typename Action>
int run_on_event(const Tool& tool, int argc, char** argv, Action&& action) try {
  CLI::App app{tool.help, tool.name};
  std::string name;
  app.add_option("NAME", name, "The event's name")->required();
  if (const auto status = parse(tool, app, argc, argv)) return *status;
  if (auto valid = ServiceName::create(name); !valid) {
    return usage_error(tool, invalid_name(name, valid.error()));
  }
  auto event = SystemEvent::open(name);
  if (!event) {
    complain(tool, cannot_open(name, event.error()));
    return kFailure;
  }
  action(*event);
  return 0;
} catch (const std::exception& e) {
  return died_of(tool, e);
}

}  // namespace axon::evt_tool
