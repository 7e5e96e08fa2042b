#include "axon/core/offset.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace {

using axon::core::align_up;
using axon::core::checked_align_up;
using axon::core::checked_pointer;
using axon::core::CoreError;

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

struct Segment {
  alignas(64) std::array<std::byte, 256> bytes{};
  void* base() { return bytes.data(); }
  std::size_t size() const { return bytes.size(); }
};

TEST(CheckedPointer, TranslatesAnOffsetInsideTheSegment) {
  Segment segment;
  const auto sut = checked_pointer<std::uint64_t>(segment.base(), segment.size(), 8);
  ASSERT_TRUE(sut.has_value());
  EXPECT_EQ(static_cast<void*>(*sut), static_cast<void*>(segment.bytes.data() + 8));
}

TEST(CheckedPointer, AcceptsTheLastElementThatFits) {
  Segment segment;
  EXPECT_TRUE(checked_pointer<std::uint64_t>(segment.base(), segment.size(), segment.size() - 8)
                  .has_value());
  EXPECT_TRUE(checked_pointer<std::uint64_t>(segment.base(), segment.size(), 0, 32).has_value());
}

TEST(CheckedPointer, RefusesOffsetEqualToSize) {
  Segment segment;
  const auto sut = checked_pointer<std::byte>(segment.base(), segment.size(), segment.size());
  ASSERT_FALSE(sut.has_value());
  EXPECT_EQ(sut.error(), CoreError::OutOfBounds);
}

TEST(CheckedPointer, RefusesAnElementThatStraddlesTheEnd) {
  Segment segment;
  const auto sut =
      checked_pointer<std::uint16_t>(segment.base(), segment.size(), segment.size() - 1);
  ASSERT_FALSE(sut.has_value());
  EXPECT_EQ(sut.error(), CoreError::OutOfBounds);
}

TEST(CheckedPointer, AcceptsTheLastByteButNotOneMore) {
  Segment segment;
  EXPECT_TRUE(
      checked_pointer<std::byte>(segment.base(), segment.size(), segment.size() - 1).has_value());
  EXPECT_FALSE(checked_pointer<std::byte>(segment.base(), segment.size(), segment.size() - 1, 2)
                   .has_value());
}

TEST(CheckedPointer, RefusesMaximumOffset) {
  Segment segment;
  const auto sut = checked_pointer<std::byte>(segment.base(), segment.size(), kMax);
  ASSERT_FALSE(sut.has_value());
  EXPECT_EQ(sut.error(), CoreError::OutOfBounds);
}

TEST(CheckedPointer, RefusesCountWhoseByteSizeOverflows) {
  Segment segment;
  const std::size_t huge = std::numeric_limits<std::size_t>::max() / sizeof(std::uint64_t) + 2;
  const auto sut = checked_pointer<std::uint64_t>(segment.base(), segment.size(), 0, huge);
  ASSERT_FALSE(sut.has_value());
  EXPECT_EQ(sut.error(), CoreError::OutOfBounds);
}

TEST(CheckedPointer, RefusesCountThatRunsPastTheEnd) {
  Segment segment;
  const auto sut = checked_pointer<std::uint64_t>(segment.base(), segment.size(), 8, 32);
  ASSERT_FALSE(sut.has_value());
  EXPECT_EQ(sut.error(), CoreError::OutOfBounds);
}

TEST(CheckedPointer, RefusesMisalignedOffset) {
  Segment segment;
  const auto sut = checked_pointer<std::uint64_t>(segment.base(), segment.size(), 4);
  ASSERT_FALSE(sut.has_value());
  EXPECT_EQ(sut.error(), CoreError::Misaligned);
}

TEST(CheckedPointer, RefusesNullBase) {
  const auto sut = checked_pointer<std::uint64_t>(static_cast<void*>(nullptr), 64, 0);
  ASSERT_FALSE(sut.has_value());
  EXPECT_EQ(sut.error(), CoreError::InvalidArgument);
}

TEST(CheckedPointer, AcceptsEmptyRangeUpToTheEnd) {
  Segment segment;
  EXPECT_TRUE(checked_pointer<std::uint64_t>(segment.base(), segment.size(), segment.size(), 0)
                  .has_value());
  EXPECT_FALSE(checked_pointer<std::uint64_t>(segment.base(), segment.size(), segment.size() + 8, 0)
                   .has_value());
}

TEST(CheckedPointer, ConstOverloadYieldsConstPointer) {
  const Segment segment;
  const void* base = segment.bytes.data();
  const auto sut = checked_pointer<std::uint32_t>(base, segment.size(), 4);
  static_assert(std::is_same_v<decltype(sut)::value_type, const std::uint32_t*>);
  ASSERT_TRUE(sut.has_value());
  EXPECT_EQ(static_cast<const void*>(*sut), static_cast<const void*>(segment.bytes.data() + 4));
  EXPECT_FALSE(checked_pointer<std::uint32_t>(base, segment.size(), kMax).has_value());
}

TEST(AlignUp, RoundsUpToTheAlignment) {
  static_assert(align_up(0, 64) == 0);
  static_assert(align_up(1, 64) == 64);
  static_assert(align_up(64, 64) == 64);
  static_assert(align_up(65, 64) == 128);
  static_assert(align_up(7, 1) == 7);
  EXPECT_EQ(align_up(4097, 4096), 8192U);
}

TEST(CheckedAlignUp, RefusesOverflowAndNonPowerOfTwo) {
  EXPECT_EQ(checked_align_up(65, 64).value_or(0), 128U);
  const auto overflow = checked_align_up(std::numeric_limits<std::size_t>::max() - 2, 64);
  ASSERT_FALSE(overflow.has_value());
  EXPECT_EQ(overflow.error(), CoreError::OutOfBounds);
  const auto odd = checked_align_up(10, 12);
  ASSERT_FALSE(odd.has_value());
  EXPECT_EQ(odd.error(), CoreError::InvalidArgument);
  EXPECT_FALSE(checked_align_up(10, 0).has_value());
}

}  // namespace
