#include "axon/platform/fifo.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>

#include "axon/platform/posix_call.hpp"

namespace axon::platform {
namespace {

// A write to a pipe without readers raises SIGPIPE, which kills a process by default. Only the
// write-only end can meet that; there the signal is blocked for the calling thread around the
// write and, if the write raised it, taken off the pending set before unblocking.
ssize_t write_without_sigpipe(int fd, const void* data, std::size_t size) {
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &pipe_only, &previous);
  sigset_t pending;
  sigemptyset(&pending);
  sigpending(&pending);
  const bool already_pending = sigismember(&pending, SIGPIPE) == 1;

  const ssize_t written = ::write(fd, data, size);
  const int saved_errno = errno;
  if (written < 0 && saved_errno == EPIPE && !already_pending) {
    const timespec no_wait{0, 0};
    while (sigtimedwait(&pipe_only, nullptr, &no_wait) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  errno = saved_errno;
  return written;
}

}  // namespace

tl::expected<void, Error> Fifo::make(const std::string& path, mode_t mode,
                                     std::optional<gid_t> group) {
  // mkfifo never follows a symlink: anything at the path is AlreadyExists.
  auto made = posix_call("mkfifo", [&] { return ::mkfifo(path.c_str(), mode & 0777); });
  if (!made) return tl::unexpected(made.error());
  auto fail = [&](const Error& error) {
    (void)posix_call("unlink(fifo)", [&] { return ::unlink(path.c_str()); });
    return tl::unexpected(error);
  };
  // mkfifo applies the umask; the requested mode is the contract. A non-blocking read-only open
  // of a FIFO succeeds without a writer; O_NOFOLLOW refuses a symlink swapped in meanwhile.
  auto fd = posix_call("open(fifo)", [&] {
    return ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
  });
  if (!fd) return fail(fd.error());
  const FileDescriptor owned(*fd);
  struct stat st {};
  auto stated = posix_call("fstat", [&] { return ::fstat(owned.native(), &st); });
  if (!stated) return fail(stated.error());
  if (!S_ISFIFO(st.st_mode) || st.st_uid != ::geteuid()) {
    return fail(make_error("fstat(fifo)", ErrorCode::WrongType));
  }
  if (group) {
    auto chowned = posix_call("fchown(fifo)", [&] { return ::fchown(owned.native(), -1, *group); });
    if (!chowned) return fail(chowned.error());
  }
  auto chmoded = posix_call("fchmod(fifo)", [&] { return ::fchmod(owned.native(), mode); });
  if (!chmoded) return fail(chmoded.error());
  return {};
}

tl::expected<Fifo, Error> Fifo::open_with(const std::string& path, int access) {
  // O_NOFOLLOW: a symlink planted in place of the FIFO fails with ELOOP (WrongType).
  auto fd = posix_call("open(fifo)", [&] {
    return ::open(path.c_str(), access | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
  });
  if (!fd) return tl::unexpected(fd.error());
  FileDescriptor owned(*fd);
  struct stat st {};
  auto stated = posix_call("fstat", [&] { return ::fstat(owned.native(), &st); });
  if (!stated) return tl::unexpected(stated.error());
  if (!S_ISFIFO(st.st_mode)) return tl::unexpected(make_error("fstat(fifo)", ErrorCode::WrongType));
  return Fifo(std::move(owned), access == O_WRONLY);
}

tl::expected<Fifo, Error> Fifo::open(const std::string& path) { return open_with(path, O_RDWR); }

tl::expected<Fifo, Error> Fifo::open_reader(const std::string& path) {
  return open_with(path, O_RDONLY);
}

tl::expected<Fifo, Error> Fifo::open_writer(const std::string& path) {
  return open_with(path, O_WRONLY);
}

tl::expected<void, Error> Fifo::remove(const std::string& path) {
  return posix_call("unlink(fifo)", [&] { return ::unlink(path.c_str()); }).map([](int) {});
}

tl::expected<std::size_t, Error> Fifo::write(std::span<const std::byte> data) {
  if (data.empty()) return 0;
  auto written = posix_call("write(fifo)", [&] {
    return m_write_only ? write_without_sigpipe(fd(), data.data(), data.size())
                        : ::write(fd(), data.data(), data.size());
  });
  if (!written) return tl::unexpected(written.error());
  return static_cast<std::size_t>(*written);
}

tl::expected<std::size_t, Error> Fifo::read(std::span<std::byte> buffer) {
  if (buffer.empty()) return 0;
  auto got = posix_call("read(fifo)", [&] { return ::read(fd(), buffer.data(), buffer.size()); });
  if (!got) return tl::unexpected(got.error());
  // End-of-file: only a read-only end sees it, once every writer has closed.
  if (*got == 0) return tl::unexpected(make_error("read(fifo)", ErrorCode::NoPeer));
  return static_cast<std::size_t>(*got);
}

tl::expected<std::size_t, Error> Fifo::drain() {
  std::array<std::byte, 512> sink{};
  std::size_t total = 0;
  for (;;) {
    auto got = posix_call("read(fifo)", [&] { return ::read(fd(), sink.data(), sink.size()); });
    if (!got) {
      if (got.error().code == ErrorCode::WouldBlock) return total;
      return tl::unexpected(got.error());
    }
    if (*got == 0) return total;
    total += static_cast<std::size_t>(*got);
  }
}

}  // namespace axon::platform
