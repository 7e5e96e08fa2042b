#include "axon/platform/unix_socket.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cstring>

#include "axon/platform/filesystem.hpp"
#include "axon/platform/posix_call.hpp"

namespace axon::platform {
namespace {

constexpr std::size_t kMaxPassedFds = 4;  // room for a misbehaving peer; all but one are closed

tl::expected<sockaddr_un, Error> address_of(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  // An empty path or an embedded NUL would select Linux's abstract namespace or autobind.
  if (path.empty() || path.find('\0') != std::string::npos) {
    return tl::unexpected(make_error("sockaddr_un", ErrorCode::InvalidArgument));
  }
  // Keep room for the terminating NUL so the kernel and every tool see the same path.
  if (path.size() >= sizeof(address.sun_path)) {
    return tl::unexpected(make_error("sockaddr_un", ErrorCode::NameTooLong));
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return address;
}

tl::expected<FileDescriptor, Error> new_socket(int extra_flags) {
  return posix_call(
             "socket",
             [&] { return ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | extra_flags, 0); })
      .map([](int fd) { return FileDescriptor(fd); });
}

const sockaddr* as_sockaddr(const sockaddr_un& address) {
  // SAFETY: sockaddr_un starts with the common sockaddr header; this is the cast the socket API
  // is defined in terms of.
  return reinterpret_cast<const sockaddr*>(&address);
}

}  // namespace

UnixSocket::UnixSocket(UnixSocket&& other) noexcept
    : m_fd(std::move(other.m_fd)),
      m_has_receive_timeout(std::exchange(other.m_has_receive_timeout, false)),
      m_path(std::exchange(other.m_path, std::string())),
      m_path_dev(other.m_path_dev),
      m_path_ino(other.m_path_ino) {}

UnixSocket& UnixSocket::operator=(UnixSocket&& other) noexcept {
  if (this != &other) {
    unlink_own_path();
    m_fd = std::move(other.m_fd);
    m_has_receive_timeout = std::exchange(other.m_has_receive_timeout, false);
    m_path = std::exchange(other.m_path, std::string());
    m_path_dev = other.m_path_dev;
    m_path_ino = other.m_path_ino;
  }
  return *this;
}

UnixSocket::~UnixSocket() { unlink_own_path(); }

void UnixSocket::unlink_own_path() {
  if (m_path.empty()) return;
  // Only remove the path while it still names the socket this object bound: a cleaner may have
  // removed it and another process bound a new socket there since.
  struct stat st {};
  const bool ours = posix_call("lstat", [&] { return ::lstat(m_path.c_str(), &st); }) &&
                    st.st_dev == m_path_dev && st.st_ino == m_path_ino;
  // A failed unlink in a destructor has no one to report to; the path is left for a cleaner.
  if (ours) (void)posix_call("unlink(socket)", [&] { return ::unlink(m_path.c_str()); });
  m_path.clear();
}

tl::expected<UnixSocket, Error> UnixSocket::listen(const std::string& path, mode_t mode) {
  auto address = address_of(path);
  if (!address) return tl::unexpected(address.error());
  auto fd = new_socket(SOCK_NONBLOCK);
  if (!fd) return tl::unexpected(fd.error());
  // bind() creates the file with the socket inode's mode minus the umask, so narrowing the inode
  // first means the file is never more open than `mode`, not even before the chmod below.
  auto narrowed = posix_call("fchmod(socket)", [&] { return ::fchmod(fd->native(), mode); });
  if (!narrowed) return tl::unexpected(narrowed.error());
  auto bound = posix_call(
      "bind", [&] { return ::bind(fd->native(), as_sockaddr(*address), sizeof(sockaddr_un)); });
  if (!bound) {
    auto error = bound.error();
    if (error.sys_errno == EADDRINUSE) error.code = ErrorCode::AlreadyExists;
    return tl::unexpected(error);
  }
  UnixSocket listener(std::move(*fd));
  struct stat st {};
  auto stated = posix_call("lstat", [&] { return ::lstat(path.c_str(), &st); });
  if (!stated) {
    (void)posix_call("unlink(socket)", [&] { return ::unlink(path.c_str()); });
    return tl::unexpected(stated.error());
  }
  // From here on the destructor removes the path again if a later step fails.
  listener.m_path = path;
  listener.m_path_dev = st.st_dev;
  listener.m_path_ino = st.st_ino;
  // bind() applied the umask; the requested mode is the contract. Never chmod by path: a
  // symlink swapped in since bind would have us change the mode of what it points to.
  auto chmoded = change_mode_of_inode(path, mode, st.st_dev, st.st_ino);
  if (!chmoded) return tl::unexpected(chmoded.error());
  auto listening = posix_call("listen", [&] { return ::listen(listener.fd(), SOMAXCONN); });
  if (!listening) return tl::unexpected(listening.error());
  return listener;
}

tl::expected<UnixSocket, Error> UnixSocket::connect(
    const std::string& path, std::optional<std::chrono::milliseconds> timeout) {
  auto address = address_of(path);
  if (!address) return tl::unexpected(address.error());
  // connect() follows a symlink; refuse one (and anything else that is not a socket) first.
  struct stat st {};
  auto stated = posix_call("lstat(socket)", [&] { return ::lstat(path.c_str(), &st); });
  if (!stated) return tl::unexpected(stated.error());
  if (!S_ISSOCK(st.st_mode)) {
    return tl::unexpected(make_error("lstat(socket)", ErrorCode::WrongType));
  }
  auto fd = new_socket(0);
  if (!fd) return tl::unexpected(fd.error());
  UnixSocket socket(std::move(*fd));
  if (timeout) {
    // SO_SNDTIMEO also bounds connect(): it waits while the listener's backlog is full (a
    // listener that stopped accepting), and gives EAGAIN when the time is up.
    if (auto r = socket.set_timeout(SO_SNDTIMEO, *timeout); !r) return tl::unexpected(r.error());
    if (auto r = socket.set_receive_timeout(*timeout); !r) return tl::unexpected(r.error());
  }
  // A Unix-domain connect interrupted by a signal leaves the socket unconnected, so a retry is
  // a fresh attempt (unlike TCP's EINPROGRESS/EALREADY dance).
  auto connected = posix_call("connect", [&] {
    return ::connect(socket.fd(), as_sockaddr(*address), sizeof(sockaddr_un));
  });
  if (!connected) {
    auto error = connected.error();
    if (error.sys_errno == EPROTOTYPE) error.code = ErrorCode::WrongType;
    if (error.sys_errno == EAGAIN) error.code = ErrorCode::TimedOut;
    return tl::unexpected(error);
  }
  return socket;
}

tl::expected<std::pair<UnixSocket, UnixSocket>, Error> UnixSocket::pair() {
  std::array<int, 2> fds{-1, -1};
  auto made = posix_call("socketpair", [&] {
    return ::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds.data());
  });
  if (!made) return tl::unexpected(made.error());
  return std::pair<UnixSocket, UnixSocket>(UnixSocket(FileDescriptor(fds[0])),
                                           UnixSocket(FileDescriptor(fds[1])));
}

tl::expected<UnixSocket, Error> UnixSocket::try_accept() {
  for (;;) {
    auto accepted =
        posix_call("accept4", [&] { return ::accept4(fd(), nullptr, nullptr, SOCK_CLOEXEC); });
    if (accepted) return UnixSocket(FileDescriptor(*accepted));
    // A connection that was reset while queued is not this caller's failure.
    if (accepted.error().sys_errno == ECONNABORTED) continue;
    return tl::unexpected(accepted.error());
  }
}

tl::expected<UnixSocket, Error> UnixSocket::accept() {
  for (;;) {
    auto accepted = try_accept();
    if (accepted || accepted.error().code != ErrorCode::WouldBlock) return accepted;
    auto ready = wait_readable(fd(), std::nullopt);
    if (!ready) return tl::unexpected(ready.error());
  }
}

tl::expected<void, Error> UnixSocket::send(std::span<const std::byte> payload, int fd_to_pass) {
  // A zero-length message would read as "peer closed" at the other end.
  if (payload.empty()) return tl::unexpected(make_error("sendmsg", ErrorCode::InvalidArgument));
  iovec io{const_cast<std::byte*>(payload.data()), payload.size()};
  msghdr message{};
  message.msg_iov = &io;
  message.msg_iovlen = 1;
  union {
    cmsghdr align;
    char bytes[CMSG_SPACE(sizeof(int))];
  } control{};
  if (fd_to_pass >= 0) {
    message.msg_control = control.bytes;
    message.msg_controllen = sizeof(control.bytes);
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    // SAFETY: CMSG_DATA points into `control`, which has room for one int; memcpy because the
    // data need not be aligned for int.
    std::memcpy(CMSG_DATA(header), &fd_to_pass, sizeof(int));
  }
  auto sent = posix_call("sendmsg", [&] { return ::sendmsg(fd(), &message, MSG_NOSIGNAL); });
  if (!sent) {
    auto error = sent.error();
    if (error.sys_errno == EMSGSIZE) error.code = ErrorCode::InvalidArgument;
    return tl::unexpected(error);
  }
  // SOCK_SEQPACKET sends a message whole or not at all.
  if (static_cast<std::size_t>(*sent) != payload.size()) {
    return tl::unexpected(make_error("sendmsg", ErrorCode::Truncated));
  }
  return {};
}

tl::expected<std::size_t, Error> UnixSocket::receive(std::span<std::byte> payload,
                                                     FileDescriptor* received_fd) {
  return receive_with(payload, received_fd, 0);
}

tl::expected<std::size_t, Error> UnixSocket::try_receive(std::span<std::byte> payload,
                                                         FileDescriptor* received_fd) {
  return receive_with(payload, received_fd, MSG_DONTWAIT);
}

tl::expected<std::size_t, Error> UnixSocket::receive_with(std::span<std::byte> payload,
                                                          FileDescriptor* received_fd, int flags) {
  if (payload.empty()) return tl::unexpected(make_error("recvmsg", ErrorCode::InvalidArgument));
  iovec io{payload.data(), payload.size()};
  msghdr message{};
  message.msg_iov = &io;
  message.msg_iovlen = 1;
  union {
    cmsghdr align;
    char bytes[CMSG_SPACE(sizeof(int) * kMaxPassedFds)];
  } control{};
  message.msg_control = control.bytes;
  message.msg_controllen = sizeof(control.bytes);

  const bool blocking = (flags & MSG_DONTWAIT) == 0;
  auto got = posix_call(
      "recvmsg", [&] { return ::recvmsg(fd(), &message, flags | MSG_CMSG_CLOEXEC); },
      blocking ? OnInterrupt::Report : OnInterrupt::Retry);
  if (!got) {
    auto error = got.error();
    if (error.code == ErrorCode::WouldBlock && blocking && m_has_receive_timeout) {
      error.code = ErrorCode::TimedOut;
    }
    return tl::unexpected(error);
  }

  // Take ownership of every descriptor that arrived before anything can return early.
  FileDescriptor passed;
  for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr;
       header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int incoming = -1;
      // SAFETY: the kernel wrote `count` ints at CMSG_DATA within `control`; memcpy because
      // they need not be aligned for int.
      std::memcpy(&incoming, CMSG_DATA(header) + i * sizeof(int), sizeof(int));
      FileDescriptor owned(incoming);
      if (!passed) passed = std::move(owned);  // any further descriptor closes here
    }
  }

  if (*got == 0) return tl::unexpected(make_error("recvmsg", ErrorCode::NoPeer));
  if ((message.msg_flags & MSG_TRUNC) != 0) {
    return tl::unexpected(make_error("recvmsg", ErrorCode::Truncated));
  }
  // MSG_CTRUNC without any descriptor: one was sent, but this process had no free slot (the
  // kernel drops it then; a sender of too many still leaves us the first).
  if (received_fd != nullptr && !passed && (message.msg_flags & MSG_CTRUNC) != 0) {
    return tl::unexpected(make_error("recvmsg", EMFILE));
  }
  if (received_fd != nullptr) *received_fd = std::move(passed);
  return static_cast<std::size_t>(*got);
}

tl::expected<void, Error> UnixSocket::set_receive_timeout(std::chrono::milliseconds timeout) {
  auto set = set_timeout(SO_RCVTIMEO, timeout);
  if (!set) return set;
  m_has_receive_timeout = timeout.count() > 0;
  return {};
}

tl::expected<void, Error> UnixSocket::set_timeout(int option, std::chrono::milliseconds timeout) {
  const char* name = option == SO_RCVTIMEO ? "setsockopt(SO_RCVTIMEO)" : "setsockopt(SO_SNDTIMEO)";
  if (timeout.count() < 0) return tl::unexpected(make_error(name, ErrorCode::InvalidArgument));
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  auto set = posix_call(name, [&] { return ::setsockopt(fd(), SOL_SOCKET, option, &tv, sizeof tv); });
  if (!set) return tl::unexpected(set.error());
  return {};
}

tl::expected<PeerCredentials, Error> UnixSocket::peer_credentials() const {
  ucred credentials{};
  socklen_t length = sizeof credentials;
  auto got = posix_call("getsockopt(SO_PEERCRED)", [&] {
    return ::getsockopt(fd(), SOL_SOCKET, SO_PEERCRED, &credentials, &length);
  });
  if (!got) return tl::unexpected(got.error());
  return PeerCredentials{credentials.pid, credentials.uid, credentials.gid};
}

}  // namespace axon::platform
