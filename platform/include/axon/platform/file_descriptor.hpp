// Owns one file descriptor; closes it exactly once.
#pragma once

#include <chrono>
#include <optional>
#include <utility>

#include <tl/expected.hpp>

#include "axon/platform/error.hpp"

namespace axon::platform {

class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : m_fd(fd) {}
  FileDescriptor(FileDescriptor&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept {
    if (this != &other) reset(std::exchange(other.m_fd, -1));
    return *this;
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() { reset(); }

  int native() const { return m_fd; }
  bool valid() const { return m_fd >= 0; }
  explicit operator bool() const { return valid(); }
  /// Gives up ownership without closing.
  int release() { return std::exchange(m_fd, -1); }
  /// Closes the owned fd (if any) and takes `fd`.
  void reset(int fd = -1);
  /// A second, independent descriptor of the same open file (CLOEXEC).
  tl::expected<FileDescriptor, Error> duplicate() const;

 private:
  int m_fd = -1;
};

/// Opens /dev/null read-only (CLOEXEC): a placeholder that keeps one descriptor slot free for
/// the moment the process runs out (close it, use the slot, open it again).
/// Errors: LimitReached (the process or system is out of descriptors already).
tl::expected<FileDescriptor, Error> reserve_descriptor();

/// Blocks until `fd` is readable, for at most `timeout` (nullopt: for ever).
/// Returns true when readable, false on timeout; a signal gives ErrorCode::Interrupted.
tl::expected<bool, Error> wait_readable(int fd, std::optional<std::chrono::nanoseconds> timeout);

}  // namespace axon::platform
