#include "axon/core/error.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace {

using axon::core::CoreError;

TEST(CoreError, EveryValueHasItsOwnName) {
  const CoreError all[] = {CoreError::InvalidArgument,
                           CoreError::InsufficientMemory,
                           CoreError::Misaligned,
                           CoreError::Corrupted,
                           CoreError::VersionMismatch,
                           CoreError::OutOfBounds,
                           CoreError::Full,
                           CoreError::Empty,
                           CoreError::DoubleRelease};
  std::set<std::string> names;
  for (const CoreError error : all) {
    names.insert(axon::core::to_string(error));
  }
  EXPECT_EQ(names.size(), std::size(all));
  EXPECT_EQ(names.count("Unknown"), 0U);
  static_assert(std::string_view{axon::core::to_string(CoreError::Corrupted)} == "Corrupted");
}

}  // namespace
