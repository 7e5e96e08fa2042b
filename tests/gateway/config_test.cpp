// The gateway's configuration (gateway/src/config.hpp): the glob dialect against an independent
// matcher built on fnmatch(3), exports()/imports(), the flags, real TOML files written to a
// temporary directory, their precedence, and the one-line error of every refusal.
#include "config.hpp"

#include <fnmatch.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "test_env.hpp"

namespace {

using axon::gateway::ConfigStop;
using axon::gateway::GatewayConfig;
using axon::gateway::glob_matches;
using axon::gateway::glob_problem;

TEST(GatewayGlob, ALiteralGlobMatchesOnlyTheSameName) {
  EXPECT_TRUE(glob_matches("camera/front", "camera/front"));
  EXPECT_FALSE(glob_matches("camera/front", "camera/fron"));
  EXPECT_FALSE(glob_matches("camera/front", "camera/front2"));
  EXPECT_FALSE(glob_matches("camera/front", "camera"));
  EXPECT_FALSE(glob_matches("camera/front", "camera/front/raw"));
  EXPECT_FALSE(glob_matches("camera/front", "Camera/front"));
}

TEST(GatewayGlob, StarMatchesWithinOneSegmentOnly) {
  EXPECT_TRUE(glob_matches("camera/*", "camera/front"));
  EXPECT_FALSE(glob_matches("camera/*", "camera/front/raw"));
  EXPECT_FALSE(glob_matches("camera/*", "camera"));
  EXPECT_TRUE(glob_matches("cam*", "cam"));  // none included
  EXPECT_TRUE(glob_matches("cam*", "camera"));
  EXPECT_FALSE(glob_matches("cam*", "cam/era"));
  EXPECT_TRUE(glob_matches("*", "a"));
  EXPECT_FALSE(glob_matches("*", "a/b"));
  EXPECT_TRUE(glob_matches("*/*", "a/b"));
  EXPECT_TRUE(glob_matches("a*b*c", "aXbYbZc"));
  EXPECT_FALSE(glob_matches("a*b*c", "aXbYbZ"));
  EXPECT_TRUE(glob_matches("*-raw", "front-raw"));
  EXPECT_FALSE(glob_matches("*-raw", "a/front-raw"));
}

TEST(GatewayGlob, QuestionMarkMatchesExactlyOneCharacterButNotSlash) {
  EXPECT_TRUE(glob_matches("a?c", "abc"));
  EXPECT_FALSE(glob_matches("a?c", "ac"));
  EXPECT_FALSE(glob_matches("a?c", "abbc"));
  EXPECT_FALSE(glob_matches("a?c", "a/c"));
  EXPECT_TRUE(glob_matches("lidar?/points", "lidar2/points"));
}

TEST(GatewayGlob, DoubleStarMatchesAnyNumberOfWholeSegmentsNoneIncluded) {
  EXPECT_TRUE(glob_matches("**", "a"));
  EXPECT_TRUE(glob_matches("**", "a/b/c"));
  EXPECT_TRUE(glob_matches("lidar/**", "lidar"));
  EXPECT_TRUE(glob_matches("lidar/**", "lidar/points"));
  EXPECT_TRUE(glob_matches("lidar/**", "lidar/points/raw"));
  EXPECT_FALSE(glob_matches("lidar/**", "lidar2/points"));
  EXPECT_FALSE(glob_matches("lidar/**", "lidarx"));
  EXPECT_TRUE(glob_matches("**/raw", "raw"));
  EXPECT_TRUE(glob_matches("**/raw", "camera/front/raw"));
  EXPECT_FALSE(glob_matches("**/raw", "camera/front/raw2"));
  EXPECT_TRUE(glob_matches("a/**/b", "a/b"));
  EXPECT_TRUE(glob_matches("a/**/b", "a/x/b"));
  EXPECT_TRUE(glob_matches("a/**/b", "a/x/y/b"));
  EXPECT_FALSE(glob_matches("a/**/b", "a/x/y/c"));
  EXPECT_TRUE(glob_matches("a/**/b/**", "a/b/b/b"));
  // To leave out the name itself: one segment, then any number.
  EXPECT_FALSE(glob_matches("lidar/*/**", "lidar"));
  EXPECT_TRUE(glob_matches("lidar/*/**", "lidar/points"));
  EXPECT_TRUE(glob_matches("**/*-raw/**", "x/y/front-raw/z"));
}

TEST(GatewayGlob, BackslashMakesWildcardsAndReservedCharactersLiteral) {
  EXPECT_TRUE(glob_matches(R"(a\*)", "a*"));
  EXPECT_FALSE(glob_matches(R"(a\*)", "ab"));
  EXPECT_TRUE(glob_matches(R"(\?)", "?"));
  EXPECT_FALSE(glob_matches(R"(\?)", "x"));
  EXPECT_TRUE(glob_matches(R"(a\\b)", R"(a\b)"));
  EXPECT_TRUE(glob_matches(R"(cam\[1\])", "cam[1]"));
  EXPECT_TRUE(glob_matches(R"(\{a\})", "{a}"));
  EXPECT_TRUE(glob_matches(R"(a\\/*)", R"(a\/b)"));  // an escaped '\' before a separator
}

TEST(GatewayGlob, MalformedGlobsAreRefusedWithTheirReason) {
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"", "an empty glob"},
      {"a//b", "an empty segment ('//', or a leading or trailing '/')"},
      {"/a", "an empty segment ('//', or a leading or trailing '/')"},
      {"a/", "an empty segment ('//', or a leading or trailing '/')"},
      {".", "a '.' or '..' segment, which no service name has"},
      {"a/../b", "a '.' or '..' segment, which no service name has"},
      {"a**", "'**' inside a segment: '**' must be a whole segment (a/**/b)"},
      {"**b", "'**' inside a segment: '**' must be a whole segment (a/**/b)"},
      {"a/***", "'**' inside a segment: '**' must be a whole segment (a/**/b)"},
      {R"(a\)", R"(a '\' with nothing after it)"},
      {R"(a\/b)", R"(a '\' with nothing after it)"},
      {R"(a\x)", R"('\x': only * ? \ [ ] { } may follow a '\')"},
      {"cam[12]",
       R"('[': there are no character classes or alternatives (write '\[' for the character itself))"},
      {"cam]",
       R"(']': there are no character classes or alternatives (write '\]' for the character itself))"},
      {"{a,b}",
       R"('{': there are no character classes or alternatives (write '\{' for the character itself))"},
      {"a b", "only printable ASCII without space is allowed"},
      {"a\nb", "only printable ASCII without space is allowed"},
      {std::string("a\0b", 3), "only printable ASCII without space is allowed"},
      {"caf\xc3\xa9", "only printable ASCII without space is allowed"},
      {std::string(256, 'a'), "longer than 255 bytes"},
  };
  for (const auto& [glob, why] : refused) {
    EXPECT_EQ(glob_problem(glob), why) << glob;
    EXPECT_FALSE(glob_matches(glob, glob)) << "an invalid glob matches nothing: " << glob;
  }
  for (const std::string glob :
       {"a", "**", "*", "?", "a/**/b/*", "x.y/.z/..w", "a\\*", "a\"b", "!#$%&'()+,-:;<=>@^_`|~"}) {
    EXPECT_EQ(glob_problem(glob), std::nullopt) << glob;
  }
  EXPECT_EQ(glob_problem(std::string(255, 'a')), std::nullopt);
}

// An independent matcher for the dialect: fnmatch(3) for one segment (without FNM_PATHNAME it
// lets `*` and `?` take any character, but a name segment holds no '/'), and a naive recursion
// for `**`. Exponential at worst, so only fed small inputs.
std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t slash; (slash = text.find('/', start)) != std::string::npos; start = slash + 1) {
    parts.push_back(text.substr(start, slash - start));
  }
  parts.push_back(text.substr(start));
  return parts;
}

bool reference_match(const std::vector<std::string>& glob, std::size_t g,
                     const std::vector<std::string>& name, std::size_t n) {
  if (g == glob.size()) return n == name.size();
  if (glob[g] == "**") {
    return reference_match(glob, g + 1, name, n) ||
           (n < name.size() && reference_match(glob, g, name, n + 1));
  }
  return n < name.size() && ::fnmatch(glob[g].c_str(), name[n].c_str(), 0) == 0 &&
         reference_match(glob, g + 1, name, n + 1);
}

std::string random_text(std::mt19937& random, std::string_view alphabet, std::size_t max_size) {
  std::uniform_int_distribution<std::size_t> size(1, max_size);
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  std::string out(size(random), ' ');
  for (char& c : out) c = alphabet[pick(random)];
  return out;
}

TEST(GatewayGlob, AgreesWithAnFnmatchBasedReferenceOnRandomGlobsAndNames) {
  std::mt19937 random(18);  // fixed: a failure is reproducible
  std::size_t compared = 0;
  std::size_t matched = 0;
  while (compared < 20000) {
    const auto glob = random_text(random, "ab/*?*/", 9);
    const auto name = random_text(random, "ab/", 8);
    const auto name_segments = split(name);
    // Valid globs and valid names only (no empty segment).
    if (glob_problem(glob) ||
        std::find(name_segments.begin(), name_segments.end(), "") != name_segments.end()) {
      continue;
    }
    const bool expected = reference_match(split(glob), 0, name_segments, 0);
    ASSERT_EQ(glob_matches(glob, name), expected) << "glob " << glob << " name " << name;
    ++compared;
    matched += expected ? 1 : 0;
  }
  // The comparison means something only when both answers occur often.
  EXPECT_GT(matched, 1000u);
  EXPECT_LT(matched, 19000u);
}

TEST(GatewayGlob, PathologicalGlobsAreAnsweredWithoutBacktrackingBlowUp) {
  // Exponential backtracking would not finish these within the test's timeout.
  const std::string as(255, 'a');
  EXPECT_FALSE(glob_matches("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", as));
  std::string name;
  for (int i = 0; i < 127; ++i) name += i == 0 ? "a" : "/a";
  std::string glob;
  for (int i = 0; i < 60; ++i) glob += "**/";
  EXPECT_FALSE(glob_matches(glob + "b", name));
  EXPECT_TRUE(glob_matches(glob + "a", name));
}

TEST(GatewayConfigDirections, TheDefaultLetsNothingCross) {
  const GatewayConfig sut;
  EXPECT_FALSE(sut.exports("a"));
  EXPECT_FALSE(sut.imports("a"));
  EXPECT_FALSE(sut.exports("camera/front"));
}

TEST(GatewayConfigDirections, EachDirectionUsesItsOwnGlobs) {
  GatewayConfig sut;
  sut.export_globs = {"camera/*", "lidar/**"};
  sut.import_globs = {"cmd/**"};
  EXPECT_TRUE(sut.exports("camera/front"));
  EXPECT_TRUE(sut.exports("lidar/points/raw"));
  EXPECT_FALSE(sut.exports("cmd/velocity"));
  EXPECT_FALSE(sut.exports("camera/front/raw"));
  EXPECT_TRUE(sut.imports("cmd/velocity"));
  EXPECT_FALSE(sut.imports("camera/front"));
}

TEST(GatewayConfigDirections, AllLetsEveryValidNameCrossButNoInvalidOne) {
  GatewayConfig sut;
  sut.all = true;
  EXPECT_TRUE(sut.exports("a"));
  EXPECT_TRUE(sut.imports("x/y/z"));
  EXPECT_TRUE(sut.imports(std::string(255, 'n')));
  for (const std::string& bad :
       std::vector<std::string>{"", "a//b", "/a", "a/../b", "a b", std::string(256, 'n')}) {
    EXPECT_FALSE(sut.exports(bad)) << bad;
    EXPECT_FALSE(sut.imports(bad)) << bad;
  }
  sut.all = false;
  sut.import_globs = {"**"};
  EXPECT_FALSE(sut.imports("a//b")) << "a remote gateway is not trusted to send valid names";
}

/// An argv that parse_gateway_arguments() can take (it wants char**, as main() gets it).
tl::expected<GatewayConfig, ConfigStop> parse(std::vector<std::string> arguments) {
  arguments.insert(arguments.begin(), "axon-gateway");
  std::vector<char*> argv;
  argv.reserve(arguments.size() + 1);
  for (auto& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  return axon::gateway::parse_gateway_arguments(static_cast<int>(arguments.size()), argv.data());
}

/// The problem of a refused configuration; checks that it is one line and the status is 2.
std::string problem_of(const std::vector<std::string>& arguments) {
  const auto result = parse(arguments);
  if (result) {
    ADD_FAILURE() << "accepted";
    return {};
  }
  EXPECT_EQ(result.error().status, axon::gateway::kUsageStatus);
  EXPECT_EQ(result.error().problem.find('\n'), std::string::npos) << result.error().problem;
  return result.error().problem;
}

std::string host_name() {
  char buffer[HOST_NAME_MAX + 1] = {};
  EXPECT_EQ(::gethostname(buffer, sizeof(buffer) - 1), 0);
  return buffer;
}

/// A network interface name that does not exist here.
std::string missing_interface() {
  std::string name = "axnoif" + std::to_string(::getpid() % 100000);
  EXPECT_EQ(::if_nametoindex(name.c_str()), 0u);
  return name;
}

TEST(GatewayConfigFlags, NoArgumentsGiveTheSafeDefaults) {
  const auto sut = parse({});

  ASSERT_TRUE(sut) << sut.error().problem;
  EXPECT_EQ(sut->domain_id, 0u);
  EXPECT_EQ(sut->network_interface, "");
  EXPECT_TRUE(sut->export_globs.empty());
  EXPECT_TRUE(sut->import_globs.empty());
  EXPECT_FALSE(sut->all);
  EXPECT_EQ(sut->gateway_name, host_name());
  EXPECT_EQ(sut->config_file, std::nullopt);
  EXPECT_FALSE(sut->verbose);
  EXPECT_EQ(sut->busy_poll_us, 0u);
  EXPECT_FALSE(sut->check_only);
  EXPECT_FALSE(sut->exports("anything"));
}

TEST(GatewayConfigFlags, EveryFlagIsRead) {
  const auto sut =
      parse({"--domain", "232", "--interface", "lo", "--name", "perception-board", "--export",
             "camera/*", "--import", "cmd/**", "--export", "lidar/**", "--all", "-v", "--check",
             "--busy-poll", "1000000"});

  ASSERT_TRUE(sut) << sut.error().problem;
  EXPECT_EQ(sut->domain_id, 232u);
  EXPECT_EQ(sut->network_interface, "lo");
  EXPECT_EQ(sut->gateway_name, "perception-board");
  EXPECT_EQ(sut->export_globs, (std::vector<std::string>{"camera/*", "lidar/**"}));
  EXPECT_EQ(sut->import_globs, (std::vector<std::string>{"cmd/**"}));
  EXPECT_TRUE(sut->all);
  EXPECT_TRUE(sut->verbose);
  EXPECT_TRUE(sut->check_only);
  EXPECT_EQ(sut->busy_poll_us, 1'000'000u);
  EXPECT_EQ(parse({"--verbose"})->verbose, true);
  EXPECT_EQ(parse({"--domain=5"})->domain_id, 5u);
}

TEST(GatewayConfigFlags, HelpExplainsEveryFlagAndStopsWithStatusZero) {
  ::testing::internal::CaptureStdout();
  const auto sut = parse({"--help"});
  const std::string help = ::testing::internal::GetCapturedStdout();

  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error().status, 0);
  EXPECT_EQ(sut.error().problem, "");
  EXPECT_EQ(help.rfind("usage: axon-gateway", 0), 0u) << help;
  for (const char* flag :
       {"--config FILE", "--domain N", "--interface NAME", "--name NAME", "--export GLOB",
        "--import GLOB", "--all", "--verbose", "--busy-poll US", "--check", "--version",
        "--help"}) {
    EXPECT_NE(help.find(flag), std::string::npos) << flag << " missing from:\n" << help;
  }
  EXPECT_NE(help.find("0..232"), std::string::npos) << help;
  EXPECT_NE(help.find("nothing crosses"), std::string::npos) << help;
}

TEST(GatewayConfigFlags, VersionStopsWithStatusZero) {
  ::testing::internal::CaptureStdout();
  const auto sut = parse({"--version"});
  const std::string printed = ::testing::internal::GetCapturedStdout();

  ASSERT_FALSE(sut);
  EXPECT_EQ(sut.error().status, 0);
  EXPECT_EQ(printed, std::string("axon-gateway ") + AXON_VERSION + "\n");
}

TEST(GatewayConfigFlags, UnknownOptionsAndExtraArgumentsAreOneLineUsageErrors) {
  EXPECT_EQ(problem_of({"--frobnicate"}),
            "unknown option \"--frobnicate\" (run 'axon-gateway --help')");
  EXPECT_EQ(problem_of({"--domian", "1"}),
            "unknown option \"--domian\" (run 'axon-gateway --help')");
  EXPECT_EQ(problem_of({"camera/*"}), "too many arguments (run 'axon-gateway --help')");
  // One glob a flag: a second word is not taken as another glob.
  EXPECT_EQ(problem_of({"--export", "a", "b"}), "too many arguments (run 'axon-gateway --help')");
  EXPECT_NE(problem_of({"--domain"}).find("--domain"), std::string::npos);
  EXPECT_NE(problem_of({"--domain", "1", "--domain", "2"}).find("--domain"), std::string::npos);
}

TEST(GatewayConfigFlags, DomainOutsideZeroTo232IsRefused) {
  EXPECT_EQ(parse({"--domain", "0"})->domain_id, 0u);
  EXPECT_EQ(problem_of({"--domain", "233"}), "--domain \"233\" is too large (at most 232)");
  EXPECT_EQ(problem_of({"--domain", "-1"}), "--domain \"-1\" is negative");
  EXPECT_EQ(problem_of({"--domain", "1x"}),
            "--domain \"1x\" is not a whole non-negative decimal number");
  EXPECT_EQ(problem_of({"--domain", "99999999999999999999"}),
            "--domain \"99999999999999999999\" is too large (at most 232)");
}

TEST(GatewayConfigFlags, BusyPollOutsideZeroToOneSecondIsRefused) {
  EXPECT_EQ(parse({"--busy-poll", "0"})->busy_poll_us, 0u);
  EXPECT_EQ(problem_of({"--busy-poll", "1000001"}),
            "--busy-poll \"1000001\" is too large (at most 1000000)");
  EXPECT_EQ(problem_of({"--busy-poll", "-5"}), "--busy-poll \"-5\" is negative");
  EXPECT_EQ(problem_of({"--busy-poll", "20us"}),
            "--busy-poll \"20us\" is not a whole non-negative decimal number");
}

TEST(GatewayConfigFlags, MalformedGlobIsRefusedNamingTheFlag) {
  EXPECT_EQ(problem_of({"--export", "ok", "--export", "a//b"}),
            "--export \"a//b\" is not a valid glob: an empty segment ('//', or a leading or "
            "trailing '/')");
  EXPECT_EQ(problem_of({"--import", ""}), "--import \"\" is not a valid glob: an empty glob");
  EXPECT_EQ(problem_of({"--import", "cmd/[ab]"}),
            "--import \"cmd/[ab]\" is not a valid glob: '[': there are no character classes or "
            "alternatives (write '\\[' for the character itself)");
}

TEST(GatewayConfigFlags, InterfaceMustExistOnThisMachine) {
  EXPECT_EQ(parse({"--interface", "lo"})->network_interface, "lo");
  const auto missing = missing_interface();
  EXPECT_EQ(problem_of({"--interface", missing}),
            "--interface \"" + missing + "\": no such network interface on this machine");
  EXPECT_EQ(problem_of({"--interface", ""}),
            "--interface \"\" is empty (leave the setting out to let DDS choose)");
  EXPECT_EQ(problem_of({"--interface", "sixteen-bytes-xx"}),
            "--interface \"sixteen-bytes-xx\" is too long for a network interface name (at most "
            "15 bytes)");
}

TEST(GatewayConfigFlags, NameMustBeOneToSixtyFourPrintableBytes) {
  EXPECT_EQ(parse({"--name", std::string(64, 'n')})->gateway_name, std::string(64, 'n'));
  EXPECT_EQ(problem_of({"--name", std::string(65, 'n')}),
            "--name \"" + std::string(65, 'n') + "\" is too long (at most 64 bytes)");
  EXPECT_EQ(problem_of({"--name", ""}), "--name \"\" is empty");
  // The refused text is escaped: the error stays one line and sends no control byte.
  EXPECT_EQ(problem_of({"--name", "a\nb\x1b"}),
            "--name \"a\\nb\\x1b\" may hold only printable ASCII without space");
  EXPECT_EQ(problem_of({"--name", "a b"}),
            "--name \"a b\" may hold only printable ASCII without space");
}

TEST(GatewayConfigFlags, AnInvalidAxonPrefixIsRefusedAsByEveryProgram) {
  const std::string saved = std::getenv("AXON_PREFIX") != nullptr ? std::getenv("AXON_PREFIX") : "";
  ASSERT_EQ(::setenv("AXON_PREFIX", "bad/x", 1), 0);
  const auto problem = problem_of({});
  ASSERT_EQ(::setenv("AXON_PREFIX", saved.c_str(), 1), 0);

  EXPECT_EQ(problem.rfind("invalid AXON_PREFIX \"bad/x\": ", 0), 0u) << problem;
}

/// Writes files into a fresh directory under the test process's root (removed at exit even if
/// the test dies) and removes it after each test.
class GatewayConfigFile : public ::testing::Test {
 protected:
  void SetUp() override {
    // The root is made by the first node otherwise; 0700 as axon makes it.
    ASSERT_TRUE(::mkdir(axon::test::root().c_str(), 0700) == 0 || errno == EEXIST);
    std::string pattern = axon::test::root() + "/gateway-config-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    m_dir = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(m_dir, ignored);
    EXPECT_FALSE(std::filesystem::exists(m_dir));
  }

  std::string write(const std::string& content, const std::string& name = "gateway.toml") {
    std::string path = m_dir + "/" + name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    EXPECT_TRUE(out) << path;
    return path;
  }

  /// The problem of `content` as a file; with the file's path replaced by `FILE`.
  std::string file_problem(const std::string& content,
                           const std::vector<std::string>& more_arguments = {}) {
    const auto path = write(content);
    std::vector<std::string> arguments = {"--config", path};
    arguments.insert(arguments.end(), more_arguments.begin(), more_arguments.end());
    auto problem = problem_of(arguments);
    if (const auto at = problem.find(path); at != std::string::npos) {
      problem.replace(at, path.size(), "FILE");
    }
    return problem;
  }

  std::string m_dir;
};

TEST_F(GatewayConfigFile, TheFullExampleIsRead) {
  const auto path = write(R"(# the perception board
domain = 7
interface = "lo"
name = "perception-board"
all = false
verbose = true
busy_poll_us = 20

[export]
services = ["camera/*", "lidar/**"]

[import]
services = ["cmd/**"]
)");
  const auto sut = parse({"--config", path});

  ASSERT_TRUE(sut) << sut.error().problem;
  EXPECT_EQ(sut->domain_id, 7u);
  EXPECT_EQ(sut->network_interface, "lo");
  EXPECT_EQ(sut->gateway_name, "perception-board");
  EXPECT_EQ(sut->export_globs, (std::vector<std::string>{"camera/*", "lidar/**"}));
  EXPECT_EQ(sut->import_globs, (std::vector<std::string>{"cmd/**"}));
  EXPECT_FALSE(sut->all);
  EXPECT_TRUE(sut->verbose);
  EXPECT_EQ(sut->busy_poll_us, 20u);
  EXPECT_EQ(sut->config_file, path);
  EXPECT_TRUE(sut->exports("camera/front"));
  EXPECT_FALSE(sut->exports("cmd/stop"));
  EXPECT_TRUE(sut->imports("cmd/stop"));
}

TEST_F(GatewayConfigFile, AnEmptyFileGivesTheDefaults) {
  const auto sut = parse({"--config", write("")});

  ASSERT_TRUE(sut) << sut.error().problem;
  EXPECT_EQ(sut->domain_id, 0u);
  EXPECT_TRUE(sut->export_globs.empty());
  EXPECT_FALSE(sut->all);
  EXPECT_EQ(sut->gateway_name, host_name());
}

TEST_F(GatewayConfigFile, FlagsReplaceTheFilesSettingsAndGlobListsAsAWhole) {
  const auto path = write(R"(domain = 3
name = "from-file"
all = true
[export]
services = ["a/*", "b/**"]
[import]
services = ["c"]
)");
  const auto sut = parse({"--config", path, "--domain", "4", "--export", "z"});

  ASSERT_TRUE(sut) << sut.error().problem;
  EXPECT_EQ(sut->domain_id, 4u);
  EXPECT_EQ(sut->gateway_name, "from-file");
  EXPECT_TRUE(sut->all);
  EXPECT_EQ(sut->export_globs, (std::vector<std::string>{"z"})) << "replaced, not merged";
  EXPECT_EQ(sut->import_globs, (std::vector<std::string>{"c"}));
  // A flag can also switch off what the file switched on.
  const auto not_all = parse({"--config", path, "--all=false"});
  ASSERT_TRUE(not_all) << not_all.error().problem;
  EXPECT_FALSE(not_all->all);
}

TEST_F(GatewayConfigFile, UnknownKeysAreRefusedWithFileLineAndKey) {
  EXPECT_EQ(file_problem("domain = 1\ndomian = 2\n"),
            "FILE:2:1: unknown key \"domian\" (known keys: all, busy_poll_us, domain, export, "
            "import, interface, name, verbose)");
  EXPECT_EQ(file_problem("[export]\nservice = [\"a\"]\n"),
            "FILE:2:1: unknown key \"export.service\" (the only key of [export] is services)");
  EXPECT_EQ(file_problem("[exports]\nservices = [\"a\"]\n"),
            "FILE:1:2: unknown key \"exports\" (known keys: all, busy_poll_us, domain, export, "
            "import, interface, name, verbose)");
}

TEST_F(GatewayConfigFile, WrongTypesAreRefusedNamingTheKeyAndBothTypes) {
  EXPECT_EQ(file_problem("domain = \"1\"\n"), "FILE:1:10: domain must be an integer, not a string");
  EXPECT_EQ(file_problem("domain = 1.0\n"),
            "FILE:1:10: domain must be an integer, not a floating-point number");
  EXPECT_EQ(file_problem("all = 1\n"), "FILE:1:7: all must be true or false, not an integer");
  EXPECT_EQ(file_problem("verbose = \"yes\"\n"),
            "FILE:1:11: verbose must be true or false, not a string");
  EXPECT_EQ(file_problem("busy_poll_us = 1.5\n"),
            "FILE:1:16: busy_poll_us must be an integer, not a floating-point number");
  EXPECT_EQ(file_problem("busy_poll_us = -1\n"), "FILE:1:16: busy_poll_us -1 is negative");
  EXPECT_EQ(file_problem("busy_poll_us = 1000001\n"),
            "FILE:1:16: busy_poll_us 1000001 is too large (at most 1000000)");
  EXPECT_EQ(file_problem("interface = 0\n"),
            "FILE:1:13: interface must be a string, not an integer");
  EXPECT_EQ(file_problem("name = [\"a\"]\n"), "FILE:1:8: name must be a string, not an array");
  EXPECT_EQ(file_problem("export = [\"a/*\"]\n"),
            "FILE:1:10: export must be a table ([export] services = [...]), not an array");
  EXPECT_EQ(file_problem("[import]\nservices = \"a/*\"\n"),
            "FILE:2:12: import.services must be an array of globs, not a string");
  EXPECT_EQ(file_problem("[import]\nservices = [\"a\", 2]\n"),
            "FILE:2:18: import.services[1] must be a string (a glob), not an integer");
}

TEST_F(GatewayConfigFile, DomainOutsideZeroTo232IsRefused) {
  EXPECT_EQ(file_problem("domain = 233\n"), "FILE:1:10: domain 233 is too large (at most 232)");
  EXPECT_EQ(file_problem("domain = -1\n"), "FILE:1:10: domain -1 is negative");
  EXPECT_EQ(parse({"--config", write("domain = 232\n")})->domain_id, 232u);
}

TEST_F(GatewayConfigFile, MalformedGlobsNameTheirPositionInTheList) {
  EXPECT_EQ(file_problem("[export]\nservices = [\"ok/*\", \"a**\"]\n"),
            "FILE:2:21: export.services[1] \"a**\" is not a valid glob: '**' inside a segment: "
            "'**' must be a whole segment (a/**/b)");
  EXPECT_EQ(file_problem("[import]\nservices = [\"\"]\n"),
            "FILE:2:13: import.services[0] \"\" is not a valid glob: an empty glob");
}

TEST_F(GatewayConfigFile, TheNameAndTheInterfaceAreCheckedAsOnTheCommandLine) {
  EXPECT_EQ(file_problem("name = \"" + std::string(65, 'n') + "\"\n"),
            "FILE:1:8: name \"" + std::string(65, 'n') + "\" is too long (at most 64 bytes)");
  EXPECT_EQ(file_problem("name = \"a\\tb\"\n"),
            "FILE:1:8: name \"a\\tb\" may hold only printable ASCII without space");
  EXPECT_EQ(file_problem("interface = \"\"\n"),
            "FILE:1:13: interface \"\" is empty (leave the setting out to let DDS choose)");
  const auto missing = missing_interface();
  EXPECT_EQ(file_problem("interface = \"" + missing + "\"\n"),
            "FILE:1:13: interface \"" + missing + "\": no such network interface on this machine");
}

TEST_F(GatewayConfigFile, AnInterfaceMissingHereIsAcceptedWhenAFlagOverridesIt) {
  // A file shared by several machines may name another machine's interface.
  const auto path = write("interface = \"" + missing_interface() + "\"\n");
  const auto sut = parse({"--config", path, "--interface", "lo"});

  ASSERT_TRUE(sut) << sut.error().problem;
  EXPECT_EQ(sut->network_interface, "lo");
}

TEST_F(GatewayConfigFile, ASyntaxErrorNamesFileLineAndColumnOnOneLine) {
  const auto problem = file_problem("domain = 1\nname = \n");
  EXPECT_EQ(problem.rfind("FILE:2:", 0), 0u) << problem;
  const auto duplicate = file_problem("domain = 1\ndomain = 2\n");
  EXPECT_EQ(duplicate.rfind("FILE:2:", 0), 0u) << duplicate;
}

TEST_F(GatewayConfigFile, AFileThatCannotBeReadIsRefusedWithTheReason) {
  const std::string missing = m_dir + "/missing.toml";
  EXPECT_EQ(problem_of({"--config", missing}),
            "--config \"" + missing + "\": cannot open: No such file or directory");
  EXPECT_EQ(problem_of({"--config", m_dir}),
            "--config \"" + m_dir + "\": cannot read: Is a directory");
}

TEST_F(GatewayConfigFile, AFileLargerThanOneMebibyteIsRefusedBeforeParsing) {
  std::string comment = "#" + std::string(1023, 'x') + "\n";
  std::string content;
  while (content.size() <= axon::gateway::kMaxConfigFileBytes) content += comment;
  const auto path = write(content);

  EXPECT_EQ(problem_of({"--config", path}),
            "--config \"" + path + "\": larger than 1048576 bytes, not a gateway configuration");
  // Just below the limit is read.
  EXPECT_TRUE(parse(
      {"--config", write(content.substr(0, axon::gateway::kMaxConfigFileBytes), "big.toml")}));
}

TEST_F(GatewayConfigFile, DescribeWritesAFileThatReadsBackTheSameSettings) {
  const auto original =
      parse({"--domain", "9", "--interface", "lo", "--name", "q\"uote\\d", "--export", R"(a\*/**)",
             "--export", "b?", "--import", "c/*", "--all", "--verbose", "--busy-poll", "50"});
  ASSERT_TRUE(original) << original.error().problem;
  const auto text = axon::gateway::describe(*original);

  const auto sut = parse({"--config", write(text)});

  ASSERT_TRUE(sut) << sut.error().problem << "\n" << text;
  EXPECT_EQ(sut->domain_id, 9u);
  EXPECT_EQ(sut->network_interface, "lo");
  EXPECT_EQ(sut->gateway_name, "q\"uote\\d");
  EXPECT_EQ(sut->export_globs, original->export_globs);
  EXPECT_EQ(sut->import_globs, original->import_globs);
  EXPECT_TRUE(sut->all);
  EXPECT_TRUE(sut->verbose);
  EXPECT_EQ(sut->busy_poll_us, 50u);
}

TEST_F(GatewayConfigFile, DescribeLeavesOutAnEmptyInterfaceAndEmptyListsStayEmpty) {
  GatewayConfig config;
  config.gateway_name = "g";
  const auto text = axon::gateway::describe(config);
  EXPECT_EQ(text.find("interface"), std::string::npos) << text;

  const auto sut = parse({"--config", write(text)});

  ASSERT_TRUE(sut) << sut.error().problem << "\n" << text;
  EXPECT_EQ(sut->network_interface, "");
  EXPECT_TRUE(sut->export_globs.empty());
  EXPECT_TRUE(sut->import_globs.empty());
  EXPECT_FALSE(sut->all);
}

}  // namespace
