#include "axon/core/fixed_string.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <string>

namespace {

using axon::core::FixedString;

TEST(FixedString, HoldsTextUpToItsCapacity) {
  const auto sut = FixedString<8>::from("12345678");
  ASSERT_TRUE(sut.has_value());
  EXPECT_EQ(sut->view(), "12345678");
  EXPECT_EQ(sut->size(), 8U);
  EXPECT_TRUE(*sut == std::string_view{"12345678"});
}

TEST(FixedString, RefusesTextLongerThanItsCapacity) {
  EXPECT_FALSE(FixedString<8>::from("123456789").has_value());
}

TEST(FixedString, EmptyTextIsEmpty) {
  const auto sut = FixedString<8>::from("");
  ASSERT_TRUE(sut.has_value());
  EXPECT_TRUE(sut->empty());
  EXPECT_EQ(sut->view(), "");
}

TEST(FixedString, DefaultConstructedIsEmpty) {
  const FixedString<4> sut{};
  EXPECT_TRUE(sut.empty());
}

TEST(FixedString, KeepsEmbeddedZeroBytes) {
  const std::string_view text{"a\0b", 3};
  const auto sut = FixedString<8>::from(text);
  ASSERT_TRUE(sut.has_value());
  EXPECT_EQ(sut->view(), text);
}

TEST(FixedString, CorruptedLengthIsClampedToCapacity) {
  auto sut = *FixedString<4>::from("abcd");
  sut.m_len = std::numeric_limits<std::uint32_t>::max();
  EXPECT_EQ(sut.view().size(), 4U);
  EXPECT_EQ(sut.view(), "abcd");
  sut.m_len = 5;
  EXPECT_EQ(sut.view().size(), 4U);
}

TEST(FixedString, SurvivesAByteCopyLikeSharedMemory) {
  const auto original = *FixedString<16>::from("service/name");
  alignas(FixedString<16>) unsigned char raw[sizeof(FixedString<16>)];
  std::memcpy(raw, &original, sizeof original);
  FixedString<16> sut{};
  std::memcpy(&sut, raw, sizeof sut);
  EXPECT_EQ(sut, original);
  EXPECT_EQ(sut.view(), "service/name");
}

TEST(FixedString, ComparesByContent) {
  const auto a = *FixedString<8>::from("abc");
  const auto b = *FixedString<8>::from("abc");
  const auto c = *FixedString<8>::from("abd");
  EXPECT_EQ(a, b);
  EXPECT_FALSE(a == c);
  EXPECT_FALSE(a == std::string_view{"ab"});
}

TEST(FixedString, IsUsableAtCompileTime) {
  constexpr auto sut = FixedString<4>::from("ok");
  static_assert(sut.has_value() && sut->view() == "ok");
  SUCCEED();
}

}  // namespace
