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

  /// Serves a duplicate of `fd` for `listener_id` until `remove`.
  tl::expected<void, platform::Error> add(std::uint64_t listener_id, int fd);
  void remove(std::uint64_t listener_id);

  /// Client side: asks the server at `path` for listener `listener_id`'s fd.
  static tl::expected<platform::FileDescriptor, platform::Error> request(const std::string& path,
                                                                         std::uint64_t listener_id);

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
  std::map<std::uint64_t, platform::FileDescriptor> m_fds;
  std::thread m_thread;
};

}  // namespace axon::detail
