// How the evt_* tools and the examples read their command line: with CLI11, as the `axon` CLI
// does, so that every program takes -h/--help and --version, ends its options at `--`, and refuses
// an unknown option instead of taking it for a name (`event_listener --help` used to create a
// service called "--help"). Each program prints a usage error in its own format (evt_*: the
// problem, then the usage line; examples: one line); this header only finds the problem.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "axon_tools/messages.hpp"
#include "axon_tools/version.hpp"

namespace axon::tools {

/// CLI11's help with the program's own usage line first, e.g. `usage: evt_wait NAME [timeout_s]`
/// (in place of CLI11's generated `Usage: evt_wait [OPTIONS] NAME [timeout_s]`).
class UsageFirstFormatter : public CLI::Formatter {
 public:
  explicit UsageFirstFormatter(std::string usage) : m_usage(std::move(usage)) {}
  std::string make_usage(const CLI::App* /*app*/, std::string /*name*/) const override {
    return {};
  }
  std::string make_description(const CLI::App* app) const override {
    return m_usage + "\n" + CLI::Formatter::make_description(app);
  }

 private:
  std::string m_usage;
};

/// Why parse_command_line() stopped the program.
struct CommandLineStop {
  int status = 0;       ///< 0 after --help or --version (printed on stdout); else kUsageStatus
  std::string problem;  ///< for a usage error: one line, the arguments in it escaped
};

/// The exit status of a usage error, for every program (docs/cli.md).
inline constexpr int kUsageStatus = 2;

/// Adds --version (and `usage` as the help's first line) to `app`, then parses. nullopt: the
/// arguments are in `app`'s variables and the program goes on. Otherwise the program stops with
/// the status returned: after --help or --version, printed on stdout, 0; after a usage error
/// (a missing or extra argument, an unknown option) 2, with the problem for the program to print.
/// An argument that begins with '-' and is not a negative number is an unknown option, even
/// where a positional argument is missing: `evt_set --bogus` names "--bogus", not NAME. After
/// `--` every argument is positional (`evt_set -- -x` names the event "-x").
inline std::optional<CommandLineStop> parse_command_line(CLI::App& app, std::string usage, int argc,
                                                         char** argv) {
  app.formatter(std::make_shared<UsageFirstFormatter>(std::move(usage)));
  app.set_version_flag("--version", version_line(app.get_name()), "Print the version and exit");
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::CallForHelp& e) {
    return CommandLineStop{.status = app.exit(e), .problem = {}};
  } catch (const CLI::CallForAllHelp& e) {
    return CommandLineStop{.status = app.exit(e), .problem = {}};
  } catch (const CLI::CallForVersion& e) {
    return CommandLineStop{.status = app.exit(e), .problem = {}};
  } catch (const CLI::ParseError& e) {
    // What CLI11 could not place: an unknown option is the problem to name first. CLI11 keeps
    // `--` among them (for a top-level app), and what follows it was positional.
    for (const auto& arg : app.remaining()) {
      if (arg == "--") break;
      const bool negative_number =
          arg.size() > 1 && arg[0] == '-' && arg[1] >= '0' && arg[1] <= '9';
      if (arg.size() > 1 && arg.front() == '-' && !negative_number) {
        return CommandLineStop{.status = kUsageStatus,
                               .problem = "unknown option " + tools::quoted(arg)};
      }
    }
    if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
      return CommandLineStop{.status = kUsageStatus, .problem = "too many arguments"};
    }
    // CLI11's own words (e.g. `NAME is required`), escaped and on one line.
    std::string what = e.what();
    for (char& c : what) {
      if (c == '\n') c = ' ';
    }
    return CommandLineStop{.status = kUsageStatus, .problem = escaped(what)};
  }
}

}  // namespace axon::tools
