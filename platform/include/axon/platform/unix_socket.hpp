// A Unix-domain SOCK_SEQPACKET socket: connection-oriented, message boundaries kept, and able to
// carry one descriptor per message (SCM_RIGHTS). axon uses it to hand an eventfd to notifiers in
// other processes. Messages are never split: a receive returns one whole message or Truncated.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <tl/expected.hpp>
#include <utility>

#include "axon/platform/error.hpp"
#include "axon/platform/file_descriptor.hpp"

namespace axon::platform {

/// Who is at the other end of a connected socket, as the kernel recorded it at connect time.
struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

/// Every socket is close-on-exec; connected sockets block (see set_receive_timeout), the listening
/// socket does not (accept() waits with poll). Move-only. The listening socket created its path
/// and unlinks it on destruction, but only while the path still names the socket it bound.
/// Thread-safety: one sender and one receiver may use a connected socket concurrently.
class UnixSocket {
 public:
  /// Binds `path` (socket file mode exactly `mode`) and listens.
  /// Errors: NameTooLong (longer than sockaddr_un allows), AlreadyExists (the path is taken, even
  /// by a dead socket: remove it first), DoesNotExist (a parent directory is missing),
  /// PermissionDenied.
  static tl::expected<UnixSocket, Error> listen(const std::string& path, mode_t mode = 0600);
  /// Connects to a listening socket. With a `timeout`, neither the connect (which waits while
  /// the listener's backlog is full) nor any later send or receive blocks longer than it.
  /// Errors: DoesNotExist (no such path), NoPeer (the path is a socket nobody listens on),
  /// NameTooLong, PermissionDenied, WrongType (the path is not a socket), TimedOut (the
  /// listener did not take the connection in time), LimitReached (out of descriptors).
  static tl::expected<UnixSocket, Error> connect(
      const std::string& path, std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  /// Two connected sockets, e.g. to share with a child process across fork().
  static tl::expected<std::pair<UnixSocket, UnixSocket>, Error> pair();

  /// Waits for and accepts one connection (listening socket only).
  /// Errors: Interrupted (a signal arrived; not retried so the caller can look at its flags).
  tl::expected<UnixSocket, Error> accept();
  /// Accepts a pending connection without waiting. Errors: WouldBlock (none pending).
  tl::expected<UnixSocket, Error> try_accept();

  /// Sends `payload` as one message, with `fd_to_pass` attached when it is >= 0. Never raises
  /// SIGPIPE. Errors: NoPeer (the peer closed), InvalidArgument (empty payload, or larger than
  /// the socket buffer).
  tl::expected<void, Error> send(std::span<const std::byte> payload, int fd_to_pass = -1);
  /// Receives one message into `payload`; returns its length. A descriptor that came with it is
  /// stored into `*received_fd` (close-on-exec), or closed when `received_fd` is null.
  /// Errors: NoPeer (the peer closed), Truncated (the message was longer than `payload`; the rest
  /// is lost), TimedOut (the receive timeout passed), Interrupted (a signal arrived),
  /// InvalidArgument (empty `payload`), LimitReached (a descriptor came but this process had no
  /// slot for it: the kernel dropped it).
  tl::expected<std::size_t, Error> receive(std::span<std::byte> payload,
                                           FileDescriptor* received_fd = nullptr);
  /// As receive(), but returns WouldBlock at once when no message is queued.
  tl::expected<std::size_t, Error> try_receive(std::span<std::byte> payload,
                                               FileDescriptor* received_fd = nullptr);
  /// Bounds every later blocking receive(); zero waits for ever. Errors: InvalidArgument (< 0).
  tl::expected<void, Error> set_receive_timeout(std::chrono::milliseconds timeout);
  /// The process at the other end (SO_PEERCRED).
  tl::expected<PeerCredentials, Error> peer_credentials() const;

  int fd() const { return m_fd.native(); }

  UnixSocket(UnixSocket&& other) noexcept;
  UnixSocket& operator=(UnixSocket&& other) noexcept;
  UnixSocket(const UnixSocket&) = delete;
  UnixSocket& operator=(const UnixSocket&) = delete;
  ~UnixSocket();

 private:
  explicit UnixSocket(FileDescriptor fd) : m_fd(std::move(fd)) {}
  tl::expected<std::size_t, Error> receive_with(std::span<std::byte> payload,
                                                FileDescriptor* received_fd, int flags);
  void unlink_own_path();
  tl::expected<void, Error> set_timeout(int option, std::chrono::milliseconds timeout);

  FileDescriptor m_fd;
  bool m_has_receive_timeout = false;
  std::string m_path;  ///< set on the listening socket only: the path it bound
  dev_t m_path_dev = 0;
  ino_t m_path_ino = 0;
};

}  // namespace axon::platform
