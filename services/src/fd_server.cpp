#include "axon/detail/fd_server.hpp"

#include <sys/epoll.h>

#include <array>
#include <chrono>
#include <cstring>

#include "axon/platform/filesystem.hpp"

namespace axon::detail {
namespace {
constexpr std::uint64_t kStopToken = 1;
constexpr std::uint64_t kListenToken = 2;
constexpr std::byte kFound{1};
constexpr std::byte kNotFound{0};
constexpr auto kRequestTimeout = std::chrono::milliseconds(1000);
}  // namespace

FdServer::FdServer(platform::UnixSocket socket, platform::EventFd stop, platform::Epoll epoll,
                   std::string path)
    : m_socket(std::move(socket)),
      m_stop(std::move(stop)),
      m_epoll(std::move(epoll)),
      m_path(std::move(path)) {}

tl::expected<std::unique_ptr<FdServer>, platform::Error> FdServer::start(const std::string& path) {
  // A socket file left by a dead process of the same node id cannot exist (ids are random), but
  // one left by this node's own earlier server can: replace it.
  (void)platform::remove_file(path);
  auto socket = platform::UnixSocket::listen(path);
  if (!socket) return tl::unexpected(socket.error());
  auto stop = platform::EventFd::create();
  if (!stop) return tl::unexpected(stop.error());
  auto epoll = platform::Epoll::create();
  if (!epoll) return tl::unexpected(epoll.error());
  if (auto r = epoll->add(stop->fd(), EPOLLIN, kStopToken); !r) return tl::unexpected(r.error());
  if (auto r = epoll->add(socket->fd(), EPOLLIN, kListenToken); !r) {
    return tl::unexpected(r.error());
  }
  std::unique_ptr<FdServer> server(
      new FdServer(std::move(*socket), std::move(*stop), std::move(*epoll), path));
  server->m_thread = std::thread([s = server.get()] { s->run(); });
  return server;
}

FdServer::~FdServer() {
  (void)m_stop.notify(1);
  if (m_thread.joinable()) m_thread.join();
}

tl::expected<void, platform::Error> FdServer::add(std::uint64_t listener_id, int fd) {
  platform::FileDescriptor borrowed(fd);
  auto dup = borrowed.duplicate();
  borrowed.release();
  if (!dup) return tl::unexpected(dup.error());
  std::lock_guard lock(m_mutex);
  m_fds[listener_id] = std::move(*dup);
  return {};
}

void FdServer::remove(std::uint64_t listener_id) {
  std::lock_guard lock(m_mutex);
  m_fds.erase(listener_id);
}

void FdServer::run() {
  std::array<epoll_event, 2> events{};
  for (;;) {
    auto n = m_epoll.wait(events, std::nullopt);
    if (!n) continue;  // EINTR: a signal for the process; keep serving
    for (std::size_t i = 0; i < *n; ++i) {
      if (events[i].data.u64 == kStopToken) return;
      auto client = m_socket.try_accept();
      if (client) serve_one(*client);
    }
  }
}

void FdServer::serve_one(platform::UnixSocket& client) {
  (void)client.set_receive_timeout(kRequestTimeout);
  std::uint64_t listener_id = 0;
  std::array<std::byte, sizeof(listener_id)> request{};
  auto got = client.receive(request);
  if (!got || *got != request.size()) return;
  std::memcpy(&listener_id, request.data(), sizeof(listener_id));
  std::lock_guard lock(m_mutex);
  const auto it = m_fds.find(listener_id);
  const std::array<std::byte, 1> reply{it == m_fds.end() ? kNotFound : kFound};
  (void)client.send(reply, it == m_fds.end() ? -1 : it->second.native());
}

tl::expected<platform::FileDescriptor, platform::Error> FdServer::request(
    const std::string& path, std::uint64_t listener_id) {
  auto socket = platform::UnixSocket::connect(path);
  if (!socket) return tl::unexpected(socket.error());
  if (auto r = socket->set_receive_timeout(kRequestTimeout); !r) return tl::unexpected(r.error());
  std::array<std::byte, sizeof(listener_id)> request{};
  std::memcpy(request.data(), &listener_id, sizeof(listener_id));
  if (auto r = socket->send(request); !r) return tl::unexpected(r.error());
  std::array<std::byte, 1> reply{};
  platform::FileDescriptor fd;
  auto got = socket->receive(reply, &fd);
  if (!got) return tl::unexpected(got.error());
  if (*got != 1 || reply[0] != kFound || !fd.valid()) {
    return tl::unexpected(platform::make_error("fd_server.request", platform::ErrorCode::DoesNotExist));
  }
  return fd;
}

}  // namespace axon::detail
