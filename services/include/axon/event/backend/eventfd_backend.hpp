// Wake channel over an eventfd. The listener's node serves the fd to notifiers of other
// processes (FdServer, SCM_RIGHTS); a notifier asks once and keeps its duplicate.
#pragma once

#include <chrono>
#include <string>

#include "axon/event/backend/wake_channel.hpp"
#include "axon/platform/event_fd.hpp"

namespace axon::detail {

struct EventFdBackend {
  class ListenerEnd {
   public:
    ListenerEnd(platform::EventFd fd, NodeCore* node, std::string server_key)
        : m_fd(std::move(fd)), m_node(node), m_server_key(std::move(server_key)) {}
    ListenerEnd(ListenerEnd&& other) noexcept;
    ListenerEnd& operator=(ListenerEnd&&) = delete;
    ListenerEnd(const ListenerEnd&) = delete;
    ~ListenerEnd();
    int fd() const { return m_fd.fd(); }
    void drain() { (void)m_fd.try_read(); }

   private:
    platform::EventFd m_fd;
    NodeCore* m_node;
    std::string m_server_key;
  };

  class NotifierEnd {
   public:
    explicit NotifierEnd(platform::EventFd fd) : m_fd(std::move(fd)) {}
    tl::expected<void, platform::Error> wake() {
      auto r = m_fd.notify(1);
      if (!r && r.error().code != platform::ErrorCode::WouldBlock) return r;
      return {};
    }

   private:
    platform::EventFd m_fd;
  };

  static tl::expected<ListenerEnd, platform::Error> create_listener(NodeCore& node,
                                                                   const WakeAddress& address);
  static tl::expected<NotifierEnd, platform::Error> connect_notifier(const WakeAddress& address);
  /// As above, waiting at most `timeout` for the listener's node to hand out the fd.
  static tl::expected<NotifierEnd, platform::Error> connect_notifier(
      const WakeAddress& address, std::chrono::milliseconds timeout);
};
static_assert(WakeBackend<EventFdBackend>);

}  // namespace axon::detail
