// The usage comment at the top of services/include/axon/publish_subscribe/service.hpp is this test's code:
// it compiles and runs here, and the second test checks that the comment still reads exactly so.
// (Issue 15: the comment had a `while (init; cond)`, which is not C++.)
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "axon_test.hpp"

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

/// The lines of `path` after the one holding `first` and before the next one holding `last`,
/// each without its first `indent` characters.
std::vector<std::string> lines_between(const std::string& path, const std::string& first,
                                       const std::string& last, std::size_t indent) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::vector<std::string> out;
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (inside && line.find(last) != std::string::npos) return out;
    if (inside) out.push_back(line.size() >= indent ? line.substr(indent) : std::string());
    if (!inside && line.find(first) != std::string::npos) inside = true;
  }
  ADD_FAILURE() << "no block from \"" << first << "\" to \"" << last << "\" in " << path;
  return out;
}

/// The code lines of the header's opening comment: those indented by three spaces after "//".
std::vector<std::string> usage_in_header(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line) && line.rfind("#pragma", 0) != 0;) {
    if (line.rfind("//   ", 0) == 0) out.push_back(line.substr(5));
  }
  return out;
}

TEST(PubSubUsage, TheHeadersUsageCommentIsTheCodeAbove) {
  const std::string source_dir = AXON_SOURCE_DIR;
  // Built here, so that these lines are not taken for the block's delimiters themselves.
  const std::string begin = std::string("// usage") + " begin";
  const std::string end = std::string("// usage") + " end";
  const auto tested =
      lines_between(source_dir + "/tests/unit/services/pubsub_usage_test.cpp", begin, end, 2);
  ASSERT_FALSE(tested.empty());
  EXPECT_EQ(usage_in_header(source_dir + "/services/include/axon/publish_subscribe/service.hpp"), tested);
}

}  // namespace
