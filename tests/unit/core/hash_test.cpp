#include "axon/core/hash.hpp"

#include <gtest/gtest.h>

namespace {

using axon::core::fnv1a_64;

// Reference values of 64-bit FNV-1a (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
static_assert(fnv1a_64("") == 0xcbf29ce484222325ULL);
static_assert(fnv1a_64("a") == 0xaf63dc4c8601ec8cULL);
static_assert(fnv1a_64("foobar") == 0x85944171f73967e8ULL);

TEST(Fnv1a64, MatchesReferenceValuesAtRunTime) {
  EXPECT_EQ(fnv1a_64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a_64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv1a_64("foobar"), 0x85944171f73967e8ULL);
}

TEST(Fnv1a64, BytesAboveSevenBitsHashAsUnsigned) {
  // 0xFF must be mixed in as 255, not as a sign-extended -1.
  constexpr std::uint64_t kExpected = (0xcbf29ce484222325ULL ^ 0xFFULL) * 0x100000001b3ULL;
  EXPECT_EQ(fnv1a_64(std::string_view{"\xFF", 1}), kExpected);
}

TEST(Fnv1a64, SimilarServiceNamesHashApart) {
  EXPECT_NE(fnv1a_64("My/Service"), fnv1a_64("My/Servicf"));
  EXPECT_NE(fnv1a_64("ab"), fnv1a_64("ba"));
}

}  // namespace
