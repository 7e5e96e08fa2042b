// The evt_* tools refuse bad input with exit 2 and a usage line, and create nothing while doing so.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "axon/system_event.hpp"
#include "process.hpp"
#include "test_env.hpp"

namespace {

using namespace axon;
using namespace std::chrono_literals;
using test::ChildProcess;

// Removes the event when the test ends, passed or failed (these tests expect none to be made).
class EventGuard {
 public:
  explicit EventGuard(std::string name) : m_name(std::move(name)) {}
  EventGuard(const EventGuard&) = delete;
  EventGuard& operator=(const EventGuard&) = delete;
  ~EventGuard() { (void)SystemEvent::remove(m_name); }
  const std::string& name() const { return m_name; }

 private:
  std::string m_name;
};

using Run = test::Finished;

Run run_tool(const std::string& tool, const std::vector<std::string>& args) {
  return test::run_to_end(test::bin(tool), args, /*merge_stderr=*/true, 20000ms);
}

void expect_usage_error(const std::string& tool, const std::vector<std::string>& args) {
  std::string shown = tool;
  for (const auto& a : args) shown += " '" + a + "'";
  const auto run = run_tool(tool, args);
  EXPECT_TRUE(run.status.exited) << shown;
  EXPECT_EQ(run.status.code, 2) << shown << "\n" << run.output;
  EXPECT_NE(run.output.find("usage: " + tool), std::string::npos) << shown << "\n" << run.output;
}

TEST(SystemEventToolsNegative, MissingExtraOrUnknownArgumentsExitTwoWithAUsageLine) {
  const EventGuard guard(test::unique_name("evt"));
  const std::string& name = guard.name();
  for (const std::string tool : {"evt_set", "evt_clear"}) {
    expect_usage_error(tool, {});
    expect_usage_error(tool, {name, "extra"});
    expect_usage_error(tool, {"--bogus"});
  }
  expect_usage_error("evt_wait", {});
  expect_usage_error("evt_wait", {name, "1", "extra"});
  expect_usage_error("evt_wait", {"--bogus", name});
}

TEST(SystemEventToolsNegative, NonNumericOrNegativeTimeoutExitsTwoAndCreatesNothing) {
  const auto shm_before = test::shm_objects();
  const auto files_before = test::root_files();
  const EventGuard guard(test::unique_name("evt"));
  const std::string& name = guard.name();
  // "inf" is no longer here: it means for ever, as for `axon listen --timeout` (one parser).
  for (const std::string timeout : {"abc", "-1", "-0.5", "1s", "", "nan", "-inf", "0x", " 1"}) {
    expect_usage_error("evt_wait", {name, timeout});
  }
  EXPECT_EQ(test::shm_objects(), shm_before);
  EXPECT_EQ(test::root_files(), files_before);
}

TEST(SystemEventToolsNegative, NamesThatTryToLeaveThePrefixExitTwoAndCreateNoFileAnywhere) {
  const auto shm_before = test::shm_objects();
  const auto files_before = test::root_files();
  const std::vector<std::string> names = {
      "../x", "/etc/passwd", "a//b", ".", "..", "a/..",
      "a b",  "x\ny",        "/",    "",  "x/", std::string(256, 'n')};
  for (const auto& name : names) {
    expect_usage_error("evt_set", {"--", name});
    expect_usage_error("evt_clear", {"--", name});
    expect_usage_error("evt_wait", {"--", name, "0"});
  }
  EXPECT_EQ(test::shm_objects(), shm_before);
  EXPECT_EQ(test::root_files(), files_before);
}

}  // namespace
