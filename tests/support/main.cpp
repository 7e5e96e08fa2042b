#include <gtest/gtest.h>

#include "test_env.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  axon::test::setup_environment();
  const int result = RUN_ALL_TESTS();
  axon::test::remove_everything();
  return result;
}
