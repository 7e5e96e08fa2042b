// The request-response examples run as a user runs them: a server and a client, separate
// processes started from build/bin, and what the client printed checked line by line.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <sstream>
#include <string>
#include <vector>

#include "axon_test.hpp"
#include "process.hpp"
#include "test_env.hpp"

namespace {

using namespace std::chrono_literals;
using axon::test::bin;
using axon::test::ChildProcess;

using axon::test::lines_of;

/// Checks that `expected` are lines of `out`, in this order (other lines may come between), and
/// that each appears once.
void expect_in_order(const std::string& out, const std::vector<std::string>& expected) {
  const auto lines = lines_of(out);
  std::size_t at = 0;
  for (const auto& want : expected) {
    EXPECT_EQ(std::count(lines.begin(), lines.end(), want), 1) << want << "\n" << out;
    const auto it = std::find(lines.begin() + static_cast<std::ptrdiff_t>(at), lines.end(), want);
    ASSERT_NE(it, lines.end()) << "missing, or before the line it must follow: " << want << "\n"
                               << out;
    at = static_cast<std::size_t>(it - lines.begin()) + 1;
  }
}

std::size_t count_starting_with(const std::string& out, const std::string& prefix) {
  const auto lines = lines_of(out);
  return static_cast<std::size_t>(std::count_if(lines.begin(), lines.end(), [&](const auto& l) {
    return l.rfind(prefix, 0) == 0;
  }));
}

TEST(RequestResponseExamples, ClientPrintsEveryResponseOfEveryRequestInOrder) {
  const auto service = axon::test::unique_name("rr");
  auto server = ChildProcess::spawn(bin("request_response_server"),
                                    {service, "--responses", "3", "--pause-ms", "20"});
  ASSERT_TRUE(axon::test::wait_for_ports(service, &axon::ServiceInfo::servers, 1));
  constexpr std::uint64_t kRequests = 4;
  auto client = axon::test::run_to_end(
      bin("request_response_client"),
      {service, "--interval-ms", "100", "--count", std::to_string(kRequests)},
      /*merge_stderr=*/true);
  EXPECT_TRUE(client.status.success()) << client.output;
  // In order within each request's stream; two streams may overlap.
  for (std::uint64_t n = 0; n < kRequests; ++n) {
    const auto request = std::to_string(n);
    std::vector<std::string> expected{"Send request " + request};
    for (std::uint64_t step = 0; step < 3; ++step) {
      expected.push_back("Received response " + std::to_string(step) + " to request " + request +
                         ": " + std::to_string(n * (step + 1)));
    }
    expected.push_back("Request " + request + ": stream ended after 3 responses");
    expected.push_back("exit");
    expect_in_order(client.output, expected);
  }
  EXPECT_EQ(count_starting_with(client.output, "Received response "), 3 * kRequests);

  server.kill(SIGINT);
  auto stopped = axon::test::finish(std::move(server), 5s);
  EXPECT_TRUE(stopped.status.success());
  std::vector<std::string> served;
  for (std::uint64_t n = 0; n < kRequests; ++n) {
    const auto request = std::to_string(n);
    served.push_back("Received request " + request);
    for (int step = 0; step < 3; ++step) {
      served.push_back("Send response " + std::to_string(step) + " to request " + request);
    }
    served.push_back("Ended the stream of request " + request);
  }
  served.push_back("exit");
  expect_in_order(stopped.output, served);
}

TEST(RequestResponseExamples, ClientSaysWhenTheServerIsGoneInTheMiddleOfAStream) {
  const auto service = axon::test::unique_name("rr");
  // The second response would come after 10 s: the stream is open when the server is killed.
  auto server = ChildProcess::spawn(bin("request_response_server"),
                                    {service, "--responses", "3", "--pause-ms", "10000"});
  ASSERT_TRUE(axon::test::wait_for_ports(service, &axon::ServiceInfo::servers, 1));
  auto client = ChildProcess::spawn(bin("request_response_client"),
                                    {service, "--interval-ms", "50", "--count", "1"});
  const auto seen = client.read_until("Received response 0 to request 0: 0\n", 10s);
  ASSERT_NE(seen.find("Received response 0 to request 0: 0\n"), std::string::npos) << seen;
  server.kill(SIGKILL);
  ASSERT_TRUE(server.wait_for(5s));
  // The client finds out by a liveness probe (every 100 ms at most), then exits: --count 1.
  auto ended = axon::test::finish(std::move(client), 10s);
  EXPECT_TRUE(ended.status.success()) << ended.output;
  expect_in_order(ended.output, {"Send request 0", "Received response 0 to request 0: 0",
                                 "Request 0: the server is gone after 1 responses", "exit"});
  EXPECT_EQ(ended.output.find("stream ended"), std::string::npos) << ended.output;
}

TEST(RequestResponseExamples, ARequestWithoutAServerSaysSo) {
  const auto service = axon::test::unique_name("rr");
  auto client = axon::test::run_to_end(bin("request_response_client"),
                                       {service, "--count", "1"}, /*merge_stderr=*/true);
  EXPECT_TRUE(client.status.success()) << client.output;
  expect_in_order(client.output, {"Send request 0", "Request 0: no server", "exit"});
}

TEST(RequestResponseExamples, SliceRequestsGetSliceResponsesOfTheRightLengthAndBytes) {
  const auto service = axon::test::unique_name("rr-dyn");
  auto server = ChildProcess::spawn(bin("dynamic_data_server"), {service});
  ASSERT_TRUE(axon::test::wait_for_ports(service, &axon::ServiceInfo::servers, 1));
  constexpr std::uint64_t kRequests = 3;
  auto client = axon::test::run_to_end(
      bin("dynamic_data_client"),
      {service, "--interval-ms", "50", "--count", std::to_string(kRequests)},
      /*merge_stderr=*/true);
  EXPECT_TRUE(client.status.success()) << client.output;
  for (std::uint64_t n = 0; n < kRequests; ++n) {
    const auto len = (n * 97) % 4096 + 1;
    const auto request = std::to_string(n);
    std::vector<std::string> expected{"Send request " + request + " with " +
                                      std::to_string(len) + " bytes"};
    for (std::uint64_t s = 0; s < 2; ++s) {
      expected.push_back("Received response " + std::to_string(s) + " to request " + request +
                         ": " + std::to_string(std::max<std::uint64_t>(1, len / (s + 1))) +
                         " bytes, pattern ok");
    }
    expected.push_back("Request " + request + ": stream ended after 2 responses");
    expected.push_back("exit");
    expect_in_order(client.output, expected);
  }
  EXPECT_EQ(client.output.find("BAD"), std::string::npos) << client.output;

  server.kill(SIGTERM);
  auto stopped = axon::test::finish(std::move(server), 5s);
  EXPECT_TRUE(stopped.status.success());
  EXPECT_EQ(count_starting_with(stopped.output, "Received request with "), kRequests);
  EXPECT_EQ(stopped.output.find("BAD"), std::string::npos) << stopped.output;
}

TEST(RequestResponseExamples, BadArgumentsGiveOneLineAndANonZeroExit) {
  struct Case {
    std::string program;
    std::vector<std::string> args;
    int code;
  };
  const std::vector<Case> cases = {
      {"request_response_client", {}, 2},
      {"request_response_server", {}, 2},
      {"dynamic_data_client", {}, 2},
      {"dynamic_data_server", {"a", "b"}, 2},
      {"request_response_server", {"a//b"}, 1},
      {"request_response_client", {"fuu", "--count", "-1"}, 1},
      {"request_response_client", {"fuu", "--interval-ms", "3600001"}, 1},
      {"request_response_server", {"fuu", "--responses", "1001"}, 1},
      {"dynamic_data_client", {"fuu", "--count", "x"}, 1},
      // Valid as a service name, too long once "/new_response" is appended.
      {"request_response_client", {std::string(250, 'a')}, 1},
  };
  const auto before_shm = axon::test::shm_objects();
  for (const auto& c : cases) {
    auto run = axon::test::run_to_end(bin(c.program), c.args, /*merge_stderr=*/true, 10s);
    EXPECT_TRUE(run.status.exited) << c.program;
    EXPECT_EQ(run.status.code, c.code) << c.program << ": " << run.output;
    EXPECT_EQ(std::count(run.output.begin(), run.output.end(), '\n'), 1) << run.output;
  }
  EXPECT_EQ(axon::test::shm_objects(), before_shm);
}

}  // namespace
