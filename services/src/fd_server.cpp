#include "axon/detail/fd_server.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <span>
#include <string_view>

#include "axon/platform/filesystem.hpp"
#include "axon/platform/process.hpp"

namespace axon::detail {
namespace {
constexpr std::uint64_t kStopToken = 1;
constexpr std::uint64_t kListenToken = 2;
constexpr std::byte kFound{1};
constexpr std::byte kNotFound{0};
constexpr auto kFirstBackoff = std::chrono::milliseconds(10);
constexpr auto kMaxBackoff = std::chrono::milliseconds(500);
}  // namespace

FdServer::FdServer(platform::UnixSocket socket, platform::EventFd stop, platform::Epoll epoll,
                   std::string path, platform::FileDescriptor spare)
    : m_socket(std::move(socket)),
      m_stop(std::move(stop)),
      m_epoll(std::move(epoll)),
      m_path(std::move(path)),
      m_spare(std::move(spare)) {}

tl::expected<std::unique_ptr<FdServer>, platform::Error> FdServer::start(const std::string& path,
                                                                         mode_t mode) {
  // A socket file left by a dead process of the same node id cannot exist (ids are random), but
  // one left by this node's own earlier server can: replace it.
  (void)platform::remove_file(path);
  auto socket = platform::UnixSocket::listen(path, mode);
  if (!socket) return tl::unexpected(socket.error());
  auto stop = platform::EventFd::create();
  if (!stop) return tl::unexpected(stop.error());
  auto epoll = platform::Epoll::create();
  if (!epoll) return tl::unexpected(epoll.error());
  if (auto r = epoll->add(stop->fd(), EPOLLIN, kStopToken); !r) return tl::unexpected(r.error());
  if (auto r = epoll->add(socket->fd(), EPOLLIN, kListenToken); !r) {
    return tl::unexpected(r.error());
  }
  auto spare = platform::reserve_descriptor();
  if (!spare) return tl::unexpected(spare.error());
  std::unique_ptr<FdServer> server(new FdServer(std::move(*socket), std::move(*stop),
                                                std::move(*epoll), path, std::move(*spare)));
  server->m_thread = std::thread([s = server.get()] { s->run(); });
  return server;
}

FdServer::~FdServer() {
  (void)m_stop.notify(1);
  if (m_thread.joinable()) m_thread.join();
}

tl::expected<void, platform::Error> FdServer::add(const std::string& key, int fd, bool to_group) {
  platform::FileDescriptor borrowed(fd);
  auto dup = borrowed.duplicate();
  borrowed.release();
  if (!dup) return tl::unexpected(dup.error());
  std::lock_guard lock(m_mutex);
  m_fds[key] = Served{std::move(*dup), to_group};
  return {};
}

void FdServer::remove(const std::string& key) {
  std::lock_guard lock(m_mutex);
  m_fds.erase(key);
}

void FdServer::run() {
  // SIGINT and SIGTERM belong to the user's threads: a blocking wait there must see EINTR.
  sigset_t blocked;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGINT);
  sigaddset(&blocked, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &blocked, nullptr);
  std::array<epoll_event, 2> events{};
  for (;;) {
    if (m_backoff.count() > 0) {
      // Only the stop event is waited for: the listening socket stays readable while the
      // connection we could not accept waits, and polling it would spin.
      auto stopped = platform::wait_readable(m_stop.fd(), m_backoff);
      if (stopped && *stopped) return;
    }
    auto n = m_epoll.wait(events, std::nullopt);
    if (!n) {
      if (n.error().code == platform::ErrorCode::Interrupted) continue;
      return;  // a broken epoll cannot serve; notifiers then see the listener as unreachable
    }
    for (std::size_t i = 0; i < *n; ++i) {
      if (events[i].data.u64 == kStopToken) return;
      auto client = m_socket.try_accept();
      if (client) {
        m_backoff = std::chrono::milliseconds(0);
        serve_one(*client);
      } else if (client.error().code == platform::ErrorCode::LimitReached) {
        m_backoff = accept_out_of_fds();
      }
    }
  }
}

std::chrono::milliseconds FdServer::accept_out_of_fds() {
  if (m_spare) {
    m_spare.reset();
    if (auto client = m_socket.try_accept()) serve_one(*client);
    // The client is closed by now: its slot is free again, unless another thread took it.
    if (auto spare = platform::reserve_descriptor()) {
      m_spare = std::move(*spare);
      return std::chrono::milliseconds(0);
    }
  } else if (auto spare = platform::reserve_descriptor()) {
    m_spare = std::move(*spare);  // the process freed a slot: serve from the next round on
    return std::chrono::milliseconds(0);
  }
  return m_backoff.count() == 0 ? kFirstBackoff : std::min(m_backoff * 2, kMaxBackoff);
}

void FdServer::serve_one(platform::UnixSocket& client) {
  (void)client.set_receive_timeout(kRequestTimeout);
  std::array<std::byte, kMaxKeyLength> request{};
  auto got = client.receive(request);
  if (!got || *got == 0 || *got > request.size()) return;
  const std::string_view key(reinterpret_cast<const char*>(request.data()), *got);
  // A peer of another user gets only what a group service shares; root could take it anyway.
  const auto peer = client.peer_credentials();
  const bool same_user = peer && (peer->uid == platform::current_uid() || peer->uid == 0);
  std::lock_guard lock(m_mutex);
  const auto it = m_fds.find(key);
  const bool serve = it != m_fds.end() && (same_user || (peer && it->second.to_group));
  const std::array<std::byte, 1> reply{serve ? kFound : kNotFound};
  (void)client.send(reply, serve ? it->second.fd.native() : -1);
}

tl::expected<platform::FileDescriptor, platform::Error> FdServer::request(
    const std::string& path, const std::string& key, std::chrono::milliseconds timeout) {
  if (key.empty() || key.size() > kMaxKeyLength) {
    return tl::unexpected(platform::make_error("fd_server.request", platform::ErrorCode::InvalidArgument));
  }
  auto socket = platform::UnixSocket::connect(path, timeout);
  if (!socket) return tl::unexpected(socket.error());
  const std::span<const std::byte> request(reinterpret_cast<const std::byte*>(key.data()),
                                           key.size());
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
