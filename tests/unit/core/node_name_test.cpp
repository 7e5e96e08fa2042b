#include "axon/core/node_name.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using axon::core::NodeName;
using axon::core::NodeNameError;

TEST(NodeName, AcceptsEmptyText) {
  const auto sut = NodeName::create("");
  ASSERT_TRUE(sut.has_value());
  EXPECT_EQ(sut->as_string(), "");
}

TEST(NodeName, AcceptsSpacesAndSlashes) {
  const auto sut = NodeName::create("camera node / left");
  ASSERT_TRUE(sut.has_value());
  EXPECT_EQ(sut->as_string(), "camera node / left");
}

TEST(NodeName, AcceptsExactly127Bytes) {
  EXPECT_TRUE(NodeName::create(std::string(127, 'n')).has_value());
}

TEST(NodeName, Refuses128Bytes) {
  const auto sut = NodeName::create(std::string(128, 'n'));
  ASSERT_FALSE(sut.has_value());
  EXPECT_EQ(sut.error(), NodeNameError::TooLong);
}

TEST(NodeName, RefusesControlAndNonAsciiBytes) {
  for (const std::string_view text : {std::string_view{"a\nb"}, std::string_view{"\x7F"},
                                      std::string_view{"\xC3\xA9"}, std::string_view{"\0", 1}}) {
    const auto sut = NodeName::create(text);
    ASSERT_FALSE(sut.has_value());
    EXPECT_EQ(sut.error(), NodeNameError::InvalidCharacter);
  }
}

TEST(NodeName, ComparesByText) {
  EXPECT_EQ(*NodeName::create("a"), *NodeName::create("a"));
  EXPECT_LT(*NodeName::create("a"), *NodeName::create("b"));
}

TEST(NodeNameError, EveryValueHasItsOwnName) {
  EXPECT_STREQ(axon::core::to_string(NodeNameError::TooLong), "TooLong");
  EXPECT_STREQ(axon::core::to_string(NodeNameError::InvalidCharacter), "InvalidCharacter");
}

}  // namespace
