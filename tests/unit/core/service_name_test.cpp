#include "axon/core/service_name.hpp"

#include <gtest/gtest.h>

#include <string>
#include <unordered_set>

namespace {

using axon::core::ServiceName;
using axon::core::ServiceNameError;

ServiceNameError error_of(std::string_view text) {
  const auto sut = ServiceName::create(text);
  EXPECT_FALSE(sut.has_value()) << "accepted: " << text;
  return sut.has_value() ? ServiceNameError{} : sut.error();
}

TEST(ServiceName, AcceptsSingleSegment) {
  const auto sut = ServiceName::create("fuu");
  ASSERT_TRUE(sut.has_value());
  EXPECT_EQ(sut->as_string(), "fuu");
}

TEST(ServiceName, AcceptsSeveralSegments) {
  const auto sut = ServiceName::create("My/Funk/Service");
  ASSERT_TRUE(sut.has_value());
  EXPECT_EQ(sut->as_string(), "My/Funk/Service");
}

TEST(ServiceName, AcceptsEveryPrintableNonSpaceByte) {
  std::string text;
  for (int c = 0x21; c <= 0x7E; ++c) {
    if (c != '/') {
      text.push_back(static_cast<char>(c));
    }
  }
  EXPECT_TRUE(ServiceName::create(text).has_value());
}

TEST(ServiceName, AcceptsDotsInsideASegment) {
  EXPECT_TRUE(ServiceName::create("a.b").has_value());
  EXPECT_TRUE(ServiceName::create(".hidden/x").has_value());
  EXPECT_TRUE(ServiceName::create("a/.../b").has_value());
  EXPECT_TRUE(ServiceName::create("a/..b").has_value());
}

TEST(ServiceName, AcceptsExactly255Bytes) {
  const std::string text(255, 'x');
  const auto sut = ServiceName::create(text);
  ASSERT_TRUE(sut.has_value());
  EXPECT_EQ(sut->as_string(), text);
}

TEST(ServiceName, RefusesEmptyText) { EXPECT_EQ(error_of(""), ServiceNameError::Empty); }

TEST(ServiceName, Refuses256Bytes) {
  EXPECT_EQ(error_of(std::string(256, 'x')), ServiceNameError::TooLong);
}

TEST(ServiceName, RefusesDoubleSlash) {
  EXPECT_EQ(error_of("a//b"), ServiceNameError::EmptySegment);
}

TEST(ServiceName, RefusesLeadingSlash) {
  EXPECT_EQ(error_of("/a"), ServiceNameError::EmptySegment);
}

TEST(ServiceName, RefusesTrailingSlash) {
  EXPECT_EQ(error_of("a/"), ServiceNameError::EmptySegment);
}

TEST(ServiceName, RefusesLoneSlash) { EXPECT_EQ(error_of("/"), ServiceNameError::EmptySegment); }

TEST(ServiceName, RefusesDotSegment) {
  EXPECT_EQ(error_of("a/./b"), ServiceNameError::DotSegment);
  EXPECT_EQ(error_of("."), ServiceNameError::DotSegment);
  EXPECT_EQ(error_of("a/."), ServiceNameError::DotSegment);
}

TEST(ServiceName, RefusesDotDotSegment) {
  EXPECT_EQ(error_of(".."), ServiceNameError::DotSegment);
  EXPECT_EQ(error_of("../etc"), ServiceNameError::DotSegment);
  EXPECT_EQ(error_of("a/../b"), ServiceNameError::DotSegment);
}

TEST(ServiceName, RefusesControlCharacters) {
  EXPECT_EQ(error_of("a\nb"), ServiceNameError::InvalidCharacter);
  EXPECT_EQ(error_of("a\tb"), ServiceNameError::InvalidCharacter);
  EXPECT_EQ(error_of("a\x7F"), ServiceNameError::InvalidCharacter);
  EXPECT_EQ(error_of(std::string_view{"a\0b", 3}), ServiceNameError::InvalidCharacter);
}

TEST(ServiceName, RefusesSpace) { EXPECT_EQ(error_of("a b"), ServiceNameError::InvalidCharacter); }

TEST(ServiceName, RefusesNonAsciiByte) {
  EXPECT_EQ(error_of("caf\xC3\xA9"), ServiceNameError::InvalidCharacter);
  EXPECT_EQ(error_of("\x80"), ServiceNameError::InvalidCharacter);
  EXPECT_EQ(error_of("\xFF"), ServiceNameError::InvalidCharacter);
}

TEST(ServiceName, ComparesAndOrdersByText) {
  const auto a = *ServiceName::create("a/b");
  const auto a2 = *ServiceName::create("a/b");
  const auto b = *ServiceName::create("a/c");
  EXPECT_EQ(a, a2);
  EXPECT_NE(a, b);
  EXPECT_LT(a, b);
  EXPECT_GT(b, a);
}

TEST(ServiceName, HashesEqualNamesEqually) {
  std::unordered_set<ServiceName> set;
  set.insert(*ServiceName::create("x/y"));
  set.insert(*ServiceName::create("x/y"));
  set.insert(*ServiceName::create("x/z"));
  EXPECT_EQ(set.size(), 2U);
}

TEST(ServiceNameError, EveryValueHasItsOwnName) {
  EXPECT_STREQ(axon::core::to_string(ServiceNameError::Empty), "Empty");
  EXPECT_STREQ(axon::core::to_string(ServiceNameError::TooLong), "TooLong");
  EXPECT_STREQ(axon::core::to_string(ServiceNameError::InvalidCharacter), "InvalidCharacter");
  EXPECT_STREQ(axon::core::to_string(ServiceNameError::EmptySegment), "EmptySegment");
  EXPECT_STREQ(axon::core::to_string(ServiceNameError::DotSegment), "DotSegment");
}

}  // namespace
