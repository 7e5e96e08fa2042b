// Hands a listener's eventfd to notifiers of other processes. One per node, started with the
// node's first eventfd listener: a thread that answers "give me listener N's fd" on a unix socket
// with the fd itself (SCM_RIGHTS). Notifiers ask once per listener, not per notification.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <tl/expected.hpp>

#include "axon/platform/epoll.hpp"
#include "axon/platform/event_fd.hpp"
#include "axon/platform/file_descriptor.hpp"
#include "axon/platform/unix_socket.hpp"

namespace axon::detail {

class FdServer {
 public:
  static tl::expected<std::unique_ptr<FdServer>, platform::Error> start(const std::string& path);
  FdServer(const FdServer&) = delete;
  FdServer& operator=(const FdServer&) = delete;
  ~FdServer();

  /// Serves a duplicate of `fd` under `key` until `remove`. Keys name a listener uniquely
  /// across the node's services (service hash and listener id; see ServiceCore::wake_address).
  tl::expected<void, platform::Error> add(const std::string& key, int fd);
  void remove(const std::string& key);

  /// Client side: asks the server at `path` for the fd served under `key`.
  static tl::expected<platform::FileDescriptor, platform::Error> request(const std::string& path,
                                                                         const std::string& key);
  static constexpr std::size_t kMaxKeyLength = 64;

 private:
  FdServer(platform::UnixSocket socket, platform::EventFd stop, platform::Epoll epoll,
           std::string path);
  void run();
  void serve_one(platform::UnixSocket& client);

  platform::UnixSocket m_socket;
  platform::EventFd m_stop;
  platform::Epoll m_epoll;
  std::string m_path;
  std::mutex m_mutex;
  std::map<std::string, platform::FileDescriptor, std::less<>> m_fds;
  std::thread m_thread;
};

}  // namespace axon::detail
