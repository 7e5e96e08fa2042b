#include <array>
#include <cstddef>

#include "axon/event/backend/eventfd_backend.hpp"
#include "axon/event/backend/fifo_backend.hpp"
#include "axon/detail/node_core.hpp"
#include "axon/platform/filesystem.hpp"

namespace axon::detail {

EventFdBackend::ListenerEnd::ListenerEnd(ListenerEnd&& other) noexcept
    : m_fd(std::move(other.m_fd)),
      m_node(std::exchange(other.m_node, nullptr)),
      m_server_key(std::move(other.m_server_key)) {}

EventFdBackend::ListenerEnd::~ListenerEnd() {
  if (m_node != nullptr) {
    if (auto server = m_node->fd_server()) (*server)->remove(m_server_key);
  }
}

tl::expected<EventFdBackend::ListenerEnd, platform::Error> EventFdBackend::create_listener(
    NodeCore& node, const WakeAddress& address) {
  auto fd = platform::EventFd::create();
  if (!fd) return tl::unexpected(fd.error());
  auto server = node.fd_server();
  if (!server) return tl::unexpected(server.error());
  if (auto r = (*server)->add(address.server_key, fd->fd(), address.group_access); !r) {
    return tl::unexpected(r.error());
  }
  return ListenerEnd(std::move(*fd), &node, address.server_key);
}

tl::expected<EventFdBackend::NotifierEnd, platform::Error> EventFdBackend::connect_notifier(
    const WakeAddress& address) {
  return connect_notifier(address, FdServer::kAnswerTimeout);
}

tl::expected<EventFdBackend::NotifierEnd, platform::Error> EventFdBackend::connect_notifier(
    const WakeAddress& address, std::chrono::milliseconds timeout) {
  auto fd = FdServer::request(address.owner_socket_path, address.server_key, timeout);
  if (!fd) return tl::unexpected(fd.error());
  auto eventfd = platform::EventFd::adopt_received(std::move(*fd));
  if (!eventfd) return tl::unexpected(eventfd.error());
  return NotifierEnd(std::move(*eventfd));
}

FifoBackend::ListenerEnd::ListenerEnd(ListenerEnd&& other) noexcept
    : m_fifo(std::move(other.m_fifo)), m_path(std::exchange(other.m_path, {})) {}

FifoBackend::ListenerEnd::~ListenerEnd() {
  // Relative to its directory: a symlink swapped in for it meanwhile is never entered.
  if (!m_path.empty()) (void)platform::remove_file_below(m_path);
}

tl::expected<void, platform::Error> FifoBackend::NotifierEnd::wake() {
  static constexpr std::array<std::byte, 1> kWakeByte{std::byte{1}};
  auto r = m_fifo.write(kWakeByte);
  if (!r && r.error().code != platform::ErrorCode::WouldBlock) return tl::unexpected(r.error());
  return {};
}

tl::expected<FifoBackend::ListenerEnd, platform::Error> FifoBackend::create_listener(
    NodeCore& /*node*/, const WakeAddress& address) {
  if (auto r = platform::Fifo::make(address.fifo_path, address.fifo_mode, address.fifo_group); !r) {
    return tl::unexpected(r.error());
  }
  auto fifo = platform::Fifo::open(address.fifo_path);
  if (!fifo) {
    (void)platform::remove_file_below(address.fifo_path);
    return tl::unexpected(fifo.error());
  }
  return ListenerEnd(std::move(*fifo), address.fifo_path);
}

tl::expected<FifoBackend::NotifierEnd, platform::Error> FifoBackend::connect_notifier(
    const WakeAddress& address) {
  auto fifo = platform::Fifo::open(address.fifo_path);
  if (!fifo) return tl::unexpected(fifo.error());
  return NotifierEnd(std::move(*fifo));
}

}  // namespace axon::detail
