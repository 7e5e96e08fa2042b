// The settings of an event service: what create() makes, what open() may require, what
// discovery reports.
#pragma once

#include <cstdint>

#include "axon/access.hpp"

namespace axon {

/// How a listener is woken. Both work between unrelated processes.
enum class EventBackend {
  EventFd,  ///< an eventfd, handed to notifiers over the node's unix socket (SCM_RIGHTS)
  Fifo,     ///< a named pipe in the root directory, opened by notifiers by its path
};
inline constexpr EventBackend kDefaultEventBackend = EventBackend::EventFd;
const char* to_string(EventBackend backend);

/// Defaults used by create() for every setting not given.
struct EventDefaults {
  static constexpr std::uint32_t kMaxListeners = 16;
  static constexpr std::uint32_t kMaxNotifiers = 16;
  static constexpr std::uint32_t kMaxNodes = 32;
  static constexpr std::uint64_t kEventIdMaxValue = 4095;
  /// Upper bounds accepted by create(); larger requests are InvalidSettings.
  static constexpr std::uint32_t kMaxPorts = 4096;
  static constexpr std::uint64_t kEventIdMaxLimit = (1ULL << 20) - 1;
};

/// The settings an event service was created with.
struct EventStaticConfig {
  std::uint32_t max_listeners = 0;
  std::uint32_t max_notifiers = 0;
  std::uint32_t max_nodes = 0;
  std::uint64_t event_id_max_value = 0;
  EventBackend backend = kDefaultEventBackend;
  Access access = kDefaultAccess;
};

}  // namespace axon
