#include "axon/platform/file_descriptor.hpp"

#include <fcntl.h>
#include <algorithm>
#include <poll.h>
#include <unistd.h>

#include "axon/platform/posix_call.hpp"

namespace axon::platform {

void FileDescriptor::reset(int fd) {
  if (m_fd >= 0) {
    // close() must not be retried on EINTR on Linux: the fd is released either way.
    ::close(m_fd);
  }
  m_fd = fd;
}

tl::expected<FileDescriptor, Error> FileDescriptor::duplicate() const {
  return posix_call("fcntl(F_DUPFD_CLOEXEC)", [&] { return ::fcntl(m_fd, F_DUPFD_CLOEXEC, 0); })
      .map([](int fd) { return FileDescriptor(fd); });
}

tl::expected<FileDescriptor, Error> reserve_descriptor() {
  return posix_call("open(/dev/null)", [] { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); })
      .map([](int fd) { return FileDescriptor(fd); });
}

tl::expected<bool, Error> wait_readable(int fd, std::optional<std::chrono::nanoseconds> timeout) {
  timespec ts{};
  timespec* tsp = nullptr;
  if (timeout) {
    const auto ns = std::max<std::int64_t>(0, timeout->count());
    ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    tsp = &ts;
  }
  pollfd p{fd, POLLIN, 0};
  auto r = posix_call("ppoll", [&] { return ::ppoll(&p, 1, tsp, nullptr); }, OnInterrupt::Report);
  if (!r) return tl::unexpected(r.error());
  return *r > 0;
}

}  // namespace axon::platform
