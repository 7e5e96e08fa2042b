// Object and file names of system events (SystemEvent): one place so that the library, cleanup and
// tests agree.
#pragma once

#include <string>
#include <string_view>

#include "axon/config.hpp"

namespace axon::detail {
struct SystemEventPaths {
  /// 16 lowercase hex digits of fnv1a_64(name).
  static std::string hash(std::string_view name);
  static std::string shared_memory(const Config& c, const std::string& hash) {
    return c.prefix + "evt_" + hash;
  }
  static std::string directory(const Config& c) { return c.root + "/events"; }
  static std::string fifo(const Config& c, const std::string& hash) {
    return directory(c) + "/" + hash + ".fifo";
  }
  /// Held only while an object is being created or a half-made one repaired; unlinked after.
  static std::string creation_lock(const Config& c, const std::string& hash) {
    return directory(c) + "/" + hash + ".lock";
  }
};
}  // namespace axon::detail
