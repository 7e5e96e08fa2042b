#include "axon/platform/event_fd.hpp"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <string>
#include <string_view>

#include "axon/platform/posix_call.hpp"

namespace axon::platform {

tl::expected<EventFd, Error> EventFd::create() {
  return posix_call("eventfd", [] { return ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); })
      .map([](int fd) { return EventFd(FileDescriptor(fd)); });
}

EventFd EventFd::adopt(FileDescriptor fd) { return EventFd(std::move(fd)); }

tl::expected<EventFd, Error> EventFd::adopt_received(FileDescriptor fd) {
  auto flags = posix_call("fcntl(F_GETFL)", [&] { return ::fcntl(fd.native(), F_GETFL); });
  if (!flags) return tl::unexpected(flags.error());
  if ((*flags & O_NONBLOCK) == 0) return tl::unexpected(make_error("fcntl", ErrorCode::WrongType));
  // The kernel names an eventfd's anonymous inode so; nothing else has this name.
  constexpr std::string_view kEventFdLink = "anon_inode:[eventfd]";
  const std::string link = "/proc/self/fd/" + std::to_string(fd.native());
  std::array<char, 64> target{};
  auto length = posix_call("readlink",
                           [&] { return ::readlink(link.c_str(), target.data(), target.size()); });
  if (!length) return tl::unexpected(length.error());
  if (std::string_view(target.data(), static_cast<std::size_t>(*length)) != kEventFdLink) {
    return tl::unexpected(make_error("readlink(eventfd)", ErrorCode::WrongType));
  }
  return EventFd(std::move(fd));
}

tl::expected<void, Error> EventFd::notify(std::uint64_t value) {
  auto written = posix_call("write(eventfd)", [&] { return ::write(fd(), &value, sizeof value); });
  if (!written) return tl::unexpected(written.error());
  // An eventfd transfers exactly eight bytes or fails; anything else is not an eventfd.
  if (*written != static_cast<ssize_t>(sizeof value)) {
    return tl::unexpected(make_error("write(eventfd)", ErrorCode::WrongType));
  }
  return {};
}

tl::expected<std::uint64_t, Error> EventFd::try_read() {
  std::uint64_t value = 0;
  auto got = posix_call("read(eventfd)", [&] { return ::read(fd(), &value, sizeof value); });
  if (!got) return tl::unexpected(got.error());
  if (*got != static_cast<ssize_t>(sizeof value)) {
    return tl::unexpected(make_error("read(eventfd)", ErrorCode::WrongType));
  }
  return value;
}

}  // namespace axon::platform
