// Wake channel over a named pipe in the service's directory. Both ends open it O_RDWR, so a
// notifier never gets SIGPIPE when the listener is gone and the listener never sees EOF.
#pragma once

#include <string>

#include "axon/event/backend/wake_channel.hpp"
#include "axon/platform/fifo.hpp"

namespace axon::detail {

struct FifoBackend {
  class ListenerEnd {
   public:
    ListenerEnd(platform::Fifo fifo, std::string path)
        : m_fifo(std::move(fifo)), m_path(std::move(path)) {}
    ListenerEnd(ListenerEnd&& other) noexcept;
    ListenerEnd& operator=(ListenerEnd&&) = delete;
    ListenerEnd(const ListenerEnd&) = delete;
    ~ListenerEnd();
    int fd() const { return m_fifo.fd(); }
    void drain() { (void)m_fifo.drain(); }

   private:
    platform::Fifo m_fifo;
    std::string m_path;
  };

  class NotifierEnd {
   public:
    explicit NotifierEnd(platform::Fifo fifo) : m_fifo(std::move(fifo)) {}
    tl::expected<void, platform::Error> wake();

   private:
    platform::Fifo m_fifo;
  };

  static tl::expected<ListenerEnd, platform::Error> create_listener(NodeCore& node,
                                                                   const WakeAddress& address);
  static tl::expected<NotifierEnd, platform::Error> connect_notifier(const WakeAddress& address);
};
static_assert(WakeBackend<FifoBackend>);

}  // namespace axon::detail
