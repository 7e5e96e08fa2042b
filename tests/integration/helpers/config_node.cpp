// A process that creates its node as every axon program does (NodeBuilder, the process's own
// configuration: file and environment), without checking the configuration first, for the
// configuration file's multi-process tests.
//   config_node   prints "node ok" (exit 0), or "node error <NodeCreateError>" and, when the
//                 configuration file is to blame, "file <FILE:LINE:COLUMN: what>" (exit 3)
#include <cstdio>

#include "axon/axon.hpp"

int main() {
  using namespace axon;
  auto node = NodeBuilder().name("config_node").create();
  if (node) {
    std::printf("node ok\n");
    return 0;
  }
  std::printf("node error %s\n", to_string(node.error()));
  if (node.error() == NodeCreateError::InvalidConfigFile) {
    const auto config = Config::from_environment();
    if (config.file_error) std::printf("file %s\n", config.file_error->to_string().c_str());
  }
  return 3;
}
