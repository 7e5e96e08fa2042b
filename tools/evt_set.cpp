// evt_set NAME: sets the latched event NAME, creating it if needed, and so releases every
// evt_wait and SystemEvent::wait on it in every process. It stays set until evt_clear NAME.
// Exit status: 0 set; 2 usage error (a usage line on stderr); 3 any other failure.
#include <cstdio>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "axon/axon.hpp"

namespace {

constexpr const char* kTool = "evt_set";
constexpr const char* kUsage = "usage: evt_set NAME";
constexpr const char* kHelp =
    "Sets the latched event NAME (creating it if needed) and releases every waiter.\n"
    "NAME follows the rules of service names, e.g. robot/ready.\n"
    "Exit status: 0 set, 2 usage error, 3 other failure.\n";
constexpr int kUsageError = 2;
constexpr int kFailure = 3;

int usage_error(const std::string& problem) {
  std::fprintf(stderr, "%s: %s\n%s\n", kTool, problem.c_str(), kUsage);
  return kUsageError;
}

// The positional arguments, or the exit status when there is nothing more to do: "-h" and
// "--help" print the help, any other option is a usage error. "--" ends the options.
std::variant<std::vector<std::string_view>, int> positional_arguments(int argc, char** argv) {
  std::vector<std::string_view> positional;
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (!options_done && arg == "--") {
      options_done = true;
    } else if (!options_done && (arg == "-h" || arg == "--help")) {
      std::printf("%s\n%s", kUsage, kHelp);
      return 0;
    } else if (!options_done && arg.size() > 1 && arg[0] == '-') {
      return usage_error("unknown option " + std::string(arg));
    } else {
      positional.push_back(arg);
    }
  }
  return positional;
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = positional_arguments(argc, argv);
  if (const int* status = std::get_if<int>(&parsed)) return *status;
  const auto& args = std::get<std::vector<std::string_view>>(parsed);
  if (args.size() != 1) return usage_error(args.empty() ? "missing NAME" : "too many arguments");
  const std::string name(args[0]);
  if (auto valid = axon::ServiceName::create(name); !valid) {
    return usage_error("invalid name \"" + name + "\": " + axon::to_string(valid.error()));
  }

  auto event = axon::SystemEvent::open(name);
  if (!event) {
    std::fprintf(stderr, "%s: cannot open event \"%s\": %s\n", kTool, name.c_str(),
                 axon::to_string(event.error()));
    return kFailure;  // InvalidName here comes from AXON_PREFIX or AXON_ROOT, not from NAME
  }
  event->set();
  return 0;
}
