// What evt_set, evt_clear and evt_wait share: argument handling, usage errors, exit codes.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "axon/axon.hpp"
#include "axon_tools/messages.hpp"

namespace axon::evt_tool {

inline constexpr int kUsageError = 2;
inline constexpr int kFailure = 3;

struct Tool {
  const char* name;
  const char* usage;
  const char* help;
};

/// One line naming the problem, then the usage line; the usage-error exit status. Whatever the
/// problem repeats of the arguments must be tools::quoted() already.
inline int usage_error(const Tool& tool, const std::string& problem) {
  std::fprintf(stderr, "%s: %s\n%s\n", tool.name, problem.c_str(), tool.usage);
  return kUsageError;
}

inline bool looks_numeric(std::string_view arg) {
  return arg.size() > 1 && arg[0] == '-' && ((arg[1] >= '0' && arg[1] <= '9') || arg[1] == '.');
}

/// The positional arguments, or the exit status when there is nothing more to do: "-h" and
/// "--help" print the help, any other option is a usage error, "--" ends the options. With
/// `keep_negative_numbers`, "-1" stays an argument so that its error names the real problem.
inline std::variant<std::vector<std::string_view>, int> positional_arguments(
    const Tool& tool, int argc, char** argv, bool keep_negative_numbers = false) {
  std::vector<std::string_view> positional;
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (!options_done && arg == "--") {
      options_done = true;
    } else if (!options_done && (arg == "-h" || arg == "--help")) {
      std::printf("%s\n%s", tool.usage, tool.help);
      return 0;
    } else if (!options_done && arg.size() > 1 && arg[0] == '-' &&
               !(keep_negative_numbers && looks_numeric(arg))) {
      return usage_error(tool, "unknown option " + tools::quoted(arg));
    } else {
      positional.push_back(arg);
    }
  }
  return positional;
}

/// The problem of a refused NAME: the name escaped (it may hold newlines or terminal escapes),
/// then why.
inline std::string invalid_name(std::string_view name, ServiceNameError error) {
  return "invalid name " + tools::quoted(name) + ": " + tools::explain(error);
}

/// evt_set / evt_clear: exactly one valid NAME; opens the event and applies `action` to it.
template <typename Action>
int run_on_event(const Tool& tool, int argc, char** argv, Action&& action) {
  auto parsed = positional_arguments(tool, argc, argv);
  if (const int* status = std::get_if<int>(&parsed)) return *status;
  const auto& args = std::get<std::vector<std::string_view>>(parsed);
  if (args.size() != 1) {
    return usage_error(tool, args.empty() ? "missing NAME" : "too many arguments");
  }
  const std::string name(args[0]);
  if (auto valid = ServiceName::create(name); !valid) {
    return usage_error(tool, invalid_name(name, valid.error()));
  }
  auto event = SystemEvent::open(name);
  if (!event) {
    std::fprintf(stderr, "%s: cannot open event \"%s\": %s\n", tool.name, name.c_str(),
                 to_string(event.error()));
    return kFailure;  // InvalidName here comes from AXON_PREFIX or AXON_ROOT, not from NAME
  }
  action(*event);
  return 0;
}

}  // namespace axon::evt_tool
