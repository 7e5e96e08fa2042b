#include "axon/config.hpp"

#include <cstdlib>

#include "axon/platform/process.hpp"

namespace axon {

Config Config::from_environment() {
  Config c;
  const char* prefix = std::getenv("AXON_PREFIX");
  const char* root = std::getenv("AXON_ROOT");
  c.prefix = (prefix != nullptr && *prefix != '\0') ? prefix : "axon_";
  c.root = (root != nullptr && *root != '\0')
               ? root
               : "/tmp/axon-" + std::to_string(platform::current_uid());
  return c;
}

}  // namespace axon
