// What every program of build/bin (the `axon` CLI, the evt_* tools and the examples) does with
// the options they all share and with the environment they all read, run as a user would.
// Regressions of issue 15, each naming what the old code did:
//   - `event_listener --help` and `event_multiplexing_wait --help` (and every example taking a
//     SERVICE) created a service called "--help" and ran until killed; the examples took an
//     unknown option for a name as well;
//   - only `axon` had --version, with a version written by hand in its source;
//   - `AXON_PREFIX="bad/x" evt_set foo` blamed the valid event name ("InvalidName") and exited 3,
//     the examples said "cannot create node: InvalidConfig" and exited 1; now every program names
//     the variable and its value and exits 2 (docs/cli.md, "Exit status and errors").
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "axon/system_event.hpp"
#include "process.hpp"
#include "test_env.hpp"

namespace {

using namespace std::chrono_literals;
using axon::test::bin;
using axon::test::ChildProcess;
using Run = axon::test::Finished;

/// Long enough for a program that ends at once; an old program that runs instead is cut short.
constexpr auto kWatchdog = 5s;

/// A program and arguments with which it would run (and create what it needs) if nothing stopped
/// it: the options under test are added to these.
struct Program {
  std::string name;
  std::vector<std::string> args;
};

std::vector<Program> every_program() {
  const auto service = axon::test::unique_name("opts");
  return {
      {"axon", {"service", "list"}},
      {"evt_set", {service}},
      {"evt_clear", {service}},
      {"evt_wait", {service, "0"}},
      {"event_listener", {service}},
      {"event_notifier", {service, "1"}},
      {"event_multiplexing_notifier", {service, "1"}},
      {"event_multiplexing_wait", {service}},
      {"publish_subscribe_publisher", {service}},
      {"publish_subscribe_subscriber", {service}},
      {"dynamic_data_publisher", {service}},
      {"dynamic_data_subscriber", {service}},
  };
}

std::vector<std::string> with(std::vector<std::string> args, const std::string& extra) {
  args.push_back(extra);
  return args;
}

Run run(const std::string& program, const std::vector<std::string>& args,
        bool merge_stderr = true) {
  return axon::test::run_to_end(bin(program), args, merge_stderr, kWatchdog);
}

/// As run(), with `variable=value` in the child's environment only.
Run run_with_env(const std::string& program, const std::vector<std::string>& args,
                 const std::string& variable, const std::string& value) {
  const std::string saved = std::getenv(variable.c_str());
  ::setenv(variable.c_str(), value.c_str(), 1);
  auto child = ChildProcess::spawn(bin(program), args, /*merge_stderr=*/true);
  ::setenv(variable.c_str(), saved.c_str(), 1);
  return axon::test::finish(std::move(child), kWatchdog);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::size_t line_count(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

/// What this test process has in /dev/shm and in its root directory.
struct Footprint {
  std::vector<std::string> shm = axon::test::shm_objects();
  std::vector<std::string> files = axon::test::root_files();
  bool operator==(const Footprint&) const = default;
};

// -h and --help, alone or after arguments that would otherwise run the program: the usage on
// stdout, exit 0, nothing created. Old code: the examples took "--help" (and
// "-h") for SERVICE, created it and ran until killed.
TEST(ProgramOptions, HelpPrintsTheUsageOnStdoutExitsZeroAndCreatesNothing) {
  const Footprint before;
  for (const auto& program : every_program()) {
    for (const std::string help : {"-h", "--help"}) {
      for (const auto& args : {std::vector<std::string>{help}, with(program.args, help)}) {
        const auto sut = run(program.name, args, /*merge_stderr=*/false);

        EXPECT_TRUE(sut.status.exited && sut.status.code == 0)
            << program.name << " " << help << ": " << sut.status.code << "\n"
            << sut.output;
        const std::string usage = program.name == "axon" ? "Usage: axon" : "usage: " + program.name;
        EXPECT_TRUE(contains(sut.output, usage)) << program.name << " " << help << ":\n"
                                                 << sut.output;
      }
    }
  }
  EXPECT_EQ(Footprint{}, before);
}

// Old code: only `axon --version` existed (with "0.1.0" written in its source).
TEST(ProgramOptions, VersionPrintsTheProgramAndTheProjectVersion) {
  for (const auto& program : every_program()) {
    const auto sut = run(program.name, {"--version"}, /*merge_stderr=*/false);

    EXPECT_TRUE(sut.status.exited && sut.status.code == 0) << program.name << "\n" << sut.output;
    EXPECT_EQ(sut.output, program.name + " " + AXON_VERSION + "\n");
  }
}

// An unknown option, wherever it stands, is a usage error: exit 2, the option named (escaped),
// nothing created. Old code: the examples took it for a name or ignored it.
TEST(ProgramOptions, AnUnknownOptionExitsTwoNamingItAndCreatesNothing) {
  const Footprint before;
  for (const auto& program : every_program()) {
    for (const auto& args : {with(program.args, "--bogus"), with({"-x"}, program.args.front())}) {
      const auto sut = run(program.name, args);

      EXPECT_TRUE(sut.status.exited && sut.status.code == 2)
          << program.name << " " << args.back() << ": " << sut.status.code << "\n"
          << sut.output;
      EXPECT_TRUE(contains(sut.output, args[0] == "-x" ? "-x" : "--bogus")) << program.name << ":\n"
                                                                            << sut.output;
    }
  }
  EXPECT_EQ(Footprint{}, before);
}

// One voice (issue 20): every program's error line is `<program>: error: <what>`, an unknown
// option and a refused environment alike. Old code: `error: ...` (axon), `evt_set: ...` (evt_*),
// `event_listener: ...` or a bare `invalid service name ...` (examples).
TEST(ProgramOptions, EveryProgramWritesItsErrorsAsProgramColonError) {
  for (const auto& program : every_program()) {
    const auto option = run(program.name, with(program.args, "--bogus"));
    EXPECT_EQ(option.output.rfind(program.name + ": error: ", 0), 0u) << option.output;
    const auto prefix = run_with_env(program.name, program.args, "AXON_PREFIX", "bad/x");
    EXPECT_EQ(prefix.output.rfind(program.name + ": error: invalid AXON_PREFIX \"bad/x\": ", 0),
              0u)
        << prefix.output;
  }
}

// `--` ends the options: what follows is an argument even when it looks like an option, so the
// name "-x" is judged as a name (valid for events, so evt_set sets it).
TEST(ProgramOptions, DoubleDashEndsTheOptions) {
  const auto name = "-x" + axon::test::unique_name("dd");
  const auto set = run("evt_set", {"--", name});
  EXPECT_TRUE(set.status.success()) << set.output;
  const auto waited = run("evt_wait", {"--", name, "0"});
  EXPECT_TRUE(waited.status.success()) << waited.output;
  EXPECT_TRUE(run("evt_clear", {"--", name}).status.success());
  (void)axon::SystemEvent::remove(name);
}

// Old code: evt_* said `cannot open event "<a valid name>": InvalidName` and exited 3; the
// examples said `cannot create node: InvalidConfig` and exited 1; `axon` did not repeat the value.
TEST(ProgramOptions, AnInvalidPrefixOrRootIsNamedWithItsValueAndExitsTwo) {
  const Footprint before;
  for (const auto& [variable, value, shown] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"AXON_PREFIX", "bad/x", R"("bad/x")"},
           {"AXON_PREFIX", "a\nb", R"("a\nb")"},
           {"AXON_ROOT", "relative/dir", R"("relative/dir")"},
           {"AXON_ROOT", "/tmp/../etc", R"("/tmp/../etc")"}}) {
    for (const auto& program : every_program()) {
      const auto sut = run_with_env(program.name, program.args, variable, value);

      EXPECT_TRUE(sut.status.exited && sut.status.code == 2)
          << variable << " for " << program.name << ": " << sut.status.code << "\n"
          << sut.output;
      EXPECT_EQ(line_count(sut.output), 1u) << program.name << ":\n" << sut.output;
      const std::string expected = "invalid " + variable + " " + shown + ": ";
      EXPECT_TRUE(contains(sut.output, expected)) << program.name << ":\n" << sut.output;
    }
  }
  EXPECT_EQ(Footprint{}, before);
}

}  // namespace
