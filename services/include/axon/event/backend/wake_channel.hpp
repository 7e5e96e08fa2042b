// How a listener is woken: a wake channel. The event id and its count live in shared memory (the
// listener's counting bitset); the channel only wakes, so a full channel loses no event.
//
// A backend provides a listener end (owns an fd that is readable while a wake-up is pending) and
// a notifier end (writes one wake-up). Both must work between unrelated processes.
#pragma once

#include <sys/types.h>

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <tl/expected.hpp>

#include "axon/platform/error.hpp"

namespace axon::detail {

class NodeCore;

/// Everything a backend may need to create or find a listener's channel.
struct WakeAddress {
  std::uint64_t listener_id = 0;
  std::string fifo_path;         ///< FIFO backend: the named pipe of the listener
  std::string owner_socket_path; ///< eventfd backend: the fd server of the listener's node
  std::string server_key;        ///< eventfd backend: names the listener at that server
  /// Access::Group service: other users of the group may reach the channel.
  bool group_access = false;
  mode_t fifo_mode = 0600;          ///< FIFO backend: mode of the named pipe
  std::optional<gid_t> fifo_group;  ///< FIFO backend: its group, when not the creator's
};

template <typename B>
concept WakeBackend = requires(NodeCore& node, const WakeAddress& address) {
  typename B::ListenerEnd;
  typename B::NotifierEnd;
  { B::create_listener(node, address) }
      -> std::same_as<tl::expected<typename B::ListenerEnd, platform::Error>>;
  { B::connect_notifier(address) }
      -> std::same_as<tl::expected<typename B::NotifierEnd, platform::Error>>;
} && requires(typename B::ListenerEnd& listener, typename B::NotifierEnd& notifier) {
  /// The fd a WaitSet or poll waits on; readable while a wake-up is pending.
  { listener.fd() } -> std::same_as<int>;
  /// Consumes every pending wake-up; never blocks.
  { listener.drain() } -> std::same_as<void>;
  /// Makes the listener's fd readable; a full channel is success (the wake-up is pending anyway).
  { notifier.wake() } -> std::same_as<tl::expected<void, platform::Error>>;
};

}  // namespace axon::detail
