// Hands a listener's eventfd to notifiers of other processes. One per node, started with the
// node's first eventfd listener: a thread that answers "give me listener N's fd" on a unix socket
// with the fd itself (SCM_RIGHTS). Notifiers ask once per listener, not per notification.
//
// Who may ask: the socket file's mode lets in the node's user (and, in a shared root, its group);
// the server then checks each peer's credentials (SO_PEERCRED) and hands a process of another
// user only the fds of listeners whose service has Access::Group.
#pragma once

#include <sys/types.h>

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
  /// Listens on `path` (socket file mode exactly `mode`).
  static tl::expected<std::unique_ptr<FdServer>, platform::Error> start(const std::string& path,
                                                                        mode_t mode = 0600);
  FdServer(const FdServer&) = delete;
  FdServer& operator=(const FdServer&) = delete;
  ~FdServer();

  /// Serves a duplicate of `fd` under `key` until `remove`, to processes of our user and, when
  /// `to_group`, of any user. Keys name a listener uniquely across the node's services (service
  /// hash and listener id; see ServiceCore::wake_address).
  tl::expected<void, platform::Error> add(const std::string& key, int fd, bool to_group = false);
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
  struct Served {
    platform::FileDescriptor fd;
    bool to_group = false;
  };
  std::map<std::string, Served, std::less<>> m_fds;
  std::thread m_thread;
};

}  // namespace axon::detail
