// Hands a listener's eventfd to notifiers of other processes. One per node, started with the
// node's first eventfd listener: a thread that answers "give me listener N's fd" on a unix socket
// with the fd itself (SCM_RIGHTS). Notifiers ask once per listener, not per notification.
//
// Out of descriptors: the server keeps one spare descriptor (/dev/null). When accept() fails
// with EMFILE/ENFILE it gives the spare's slot to the waiting connection, serves it (sending an
// fd needs no new slot here) and takes the spare back; with no spare to give it backs off
// (10 ms doubling to 500 ms) instead of retrying a failing accept() in a loop, and the waiting
// notifiers give up after kAnswerTimeout.
//
// Who may ask: the socket file's mode lets in the node's user (and, in a shared root, its group);
// the server then checks each peer's credentials (SO_PEERCRED) and hands a process of another
// user only the fds of listeners whose service has Access::Group.
#pragma once

#include <sys/types.h>

#include <chrono>
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

  /// Client side: asks the server at `path` for the fd served under `key`; never blocks longer
  /// than `timeout` (connect, send and receive each). Errors: DoesNotExist (no server there, or
  /// it serves no such key), NoPeer (nobody listens: the node is gone), TimedOut (the server did
  /// not answer: stopped, busy or out of descriptors), LimitReached (this process is out of
  /// descriptors), PermissionDenied, WrongType.
  static tl::expected<platform::FileDescriptor, platform::Error> request(
      const std::string& path, const std::string& key,
      std::chrono::milliseconds timeout = kAnswerTimeout);
  static constexpr std::size_t kMaxKeyLength = 64;
  /// How long the server waits for a client's request: a client sends it right after connecting.
  static constexpr std::chrono::milliseconds kRequestTimeout{100};
  /// How long a notifier waits for a node's fd server to answer. A healthy server answers in
  /// microseconds, but a loaded machine (or a sanitizer) can keep its thread off a core for tens
  /// of milliseconds, and a notifier that gives up owes the listener its wake-up until its next
  /// notify: long enough for a slow node, short enough that a stopped one costs a notify little
  /// (once per node and notify, Notifier::kConnectBudget in all).
  static constexpr std::chrono::milliseconds kAnswerTimeout{500};

 private:
  FdServer(platform::UnixSocket socket, platform::EventFd stop, platform::Epoll epoll,
           std::string path, platform::FileDescriptor spare);
  void run();
  void serve_one(platform::UnixSocket& client);
  /// accept() failed for want of a descriptor. Returns how long to back off before the next
  /// accept (zero: go on at once).
  std::chrono::milliseconds accept_out_of_fds();

  platform::UnixSocket m_socket;
  platform::EventFd m_stop;
  platform::Epoll m_epoll;
  std::string m_path;
  platform::FileDescriptor m_spare;  ///< server thread only; invalid while given away
  std::chrono::milliseconds m_backoff{0};
  std::mutex m_mutex;
  struct Served {
    platform::FileDescriptor fd;
    bool to_group = false;
  };
  std::map<std::string, Served, std::less<>> m_fds;
  std::thread m_thread;
};

}  // namespace axon::detail
