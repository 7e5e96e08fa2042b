// The usage comment at the top of services/include/axon/publish_subscribe/service.hpp is this test's code:
// it compiles and runs here, and the second test checks that the comment still reads exactly so.
// (Issue 15: the comment had a `while (init; cond)`, which is not C++.)
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "axon_test.hpp"
#include "usage_comment.hpp"

namespace {

using namespace axon;

struct Pose {
  static constexpr const char* AXON_TYPE_NAME = "test::UsagePose";
  double x, y, z;
};

TEST(PubSubUsage, TheHeadersUsageCommentSendsAndReceivesOnePose) {
  Node node = test::make_node("pubsub-usage");
  const ServiceName name = test::service_name("usage");
  const Pose pose{1.0, 2.0, 3.0};
  std::vector<Pose> used;
  const auto use = [&used](const Pose& payload) { used.push_back(payload); };

  // usage begin
  auto service = node.service_builder(name).publish_subscribe<Pose>().open_or_create();
  auto subscriber = service->subscriber_builder().create();
  auto publisher = service->publisher_builder().create();
  auto sample = publisher->loan_uninit();
  sample->payload() = pose;
  publisher->send(std::move(*sample));
  while (auto received = subscriber->receive()) {
    if (!*received) break;  // nothing more
    use((*received)->payload());
  }
  // usage end

  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(used[0].x, 1.0);
  EXPECT_EQ(used[0].z, 3.0);
}

TEST(PubSubUsage, TheHeadersUsageCommentIsTheCodeAbove) {
  test::expect_usage_comment_is_test("tests/unit/services/pubsub_usage_test.cpp",
                                     "services/include/axon/publish_subscribe/service.hpp");
}

}  // namespace
