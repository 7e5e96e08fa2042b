// Config: what the public API says about the root directory's limits.
#include "axon/config.hpp"

#include <gtest/gtest.h>
#include <sys/un.h>

#include <cstdint>
#include <string>

#include "axon/detail/node_core.hpp"
#include "axon/node.hpp"

namespace {

// The limit is whatever makes the longest node socket path fit sun_path with its NUL: 107 bytes
// on Linux, minus "/nodes/" (7), 16 hex digits and ".sock" (5): 79.
TEST(Config, MaxRootLengthForSocketsIsTheLongestRootWhoseNodeSocketPathStillFits) {
  const auto sut = axon::Config::max_root_length_for_sockets();
  axon::Config config;
  config.root = "/" + std::string(sut - 1, 'r');

  const auto path = axon::detail::Paths::node_socket(config, axon::NodeId{~std::uint64_t{0}});

  EXPECT_EQ(path.size(), sizeof(sockaddr_un::sun_path) - 1);
  EXPECT_EQ(sut, 79u);
}

}  // namespace
