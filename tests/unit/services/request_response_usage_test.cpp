// The usage comment at the top of services/include/axon/request_response/service.hpp is this
// test's code: it compiles and runs here, and the second test checks that the comment still
// reads exactly so.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "axon_test.hpp"
#include "usage_comment.hpp"

namespace {

using namespace axon;

struct Goal {
  static constexpr const char* AXON_TYPE_NAME = "test::UsageGoal";
  std::uint64_t value;
};
struct Feedback {
  static constexpr const char* AXON_TYPE_NAME = "test::UsageFeedback";
  std::uint64_t value;
  std::uint64_t step;
};

TEST(RequestResponseUsage, TheHeadersUsageCommentAnswersOneRequest) {
  Node node = test::make_node("rr-usage");
  const ServiceName name = test::service_name("rr-usage");
  const Goal goal{42};
  std::vector<Feedback> used;
  const auto use = [&used](const Feedback& payload) { used.push_back(payload); };

  // usage begin
  auto service = node.service_builder(name).request_response<Goal, Feedback>().open_or_create();
  auto server = service->server_builder().create();  // usually in another process
  auto client = service->client_builder().create();
  auto pending = client->send_copy(goal);
  if (auto request = server->receive(); request && *request) {
    (*request)->send_copy(Feedback{(*request)->payload().value, 1});  // as many as it likes
  }  // dropping the ActiveRequest ends the stream
  while (!pending->is_done()) {
    auto response = pending->receive();
    if (!response) break;  // ServerGone, ...
    if (*response) use((**response).payload());
  }
  // usage end

  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(used[0].value, 42u);
  EXPECT_EQ(used[0].step, 1u);
}

TEST(RequestResponseUsage, TheHeadersUsageCommentIsTheCodeAbove) {
  test::expect_usage_comment_is_test("tests/unit/services/request_response_usage_test.cpp",
                                     "services/include/axon/request_response/service.hpp");
}

}  // namespace
