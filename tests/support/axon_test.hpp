// Shorthands for tests of the services layer.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "axon/axon.hpp"
#include "test_env.hpp"

namespace axon::test {

inline Node make_node(const std::string& name = "") {
  auto node = NodeBuilder().name(name).create();
  if (!node) {
    ADD_FAILURE() << "node creation failed: " << to_string(node.error());
    std::abort();
  }
  return std::move(*node);
}

inline ServiceName service_name(const std::string& stem) {
  return *ServiceName::create(unique_name(stem));
}

inline std::string backend_name(const ::testing::TestParamInfo<EventBackend>& info) {
  return to_string(info.param);
}

}  // namespace axon::test
