// A named pipe used as a wake-up channel that any process can reach by its path (the alternative
// to an eventfd, which must be passed as a descriptor). The listener and every notifier open it
// read-write (Linux allows O_RDWR on a FIFO): then a writer is never alone, so it never gets
// SIGPIPE/EPIPE, and a reader is never alone, so it never sees end-of-file. A full pipe refuses a
// write with WouldBlock, which is harmless for a wake-up channel.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <tl/expected.hpp>
#include <utility>

#include "axon/platform/error.hpp"
#include "axon/platform/file_descriptor.hpp"

namespace axon::platform {

/// An open FIFO, always non-blocking and close-on-exec. Move-only; closes on destruction (the path
/// stays: remove() it). Thread-safety: read/write/drain are single system calls and may run
/// concurrently; writes of at most PIPE_BUF bytes are atomic.
class Fifo {
 public:
  /// Creates the FIFO file with exactly `mode` (not reduced by the umask) and, when given, the
  /// group `group`. The mode and group are set through a descriptor of the FIFO made, never by
  /// path, so a symlink swapped in meanwhile is not followed.
  /// Errors: AlreadyExists (anything at `path`, a symlink included), DoesNotExist (a parent
  /// directory is missing), PermissionDenied, NameTooLong, WrongType (replaced meanwhile).
  static tl::expected<void, Error> make(const std::string& path, mode_t mode = 0600,
                                        std::optional<gid_t> group = std::nullopt);
  /// Opens read-write; the normal way for both the listener and the notifiers.
  /// Errors: DoesNotExist, WrongType (not a FIFO, or a symlink), PermissionDenied.
  static tl::expected<Fifo, Error> open(const std::string& path);
  /// Opens for reading only. read() then reports NoPeer once every writer has closed.
  /// Errors: as open().
  static tl::expected<Fifo, Error> open_reader(const std::string& path);
  /// Opens for writing only. A write after the last reader closed gives NoPeer (SIGPIPE is
  /// suppressed for the calling thread). Errors: as open(), and NoPeer (no reader has it open).
  static tl::expected<Fifo, Error> open_writer(const std::string& path);
  /// Errors: DoesNotExist, PermissionDenied.
  static tl::expected<void, Error> remove(const std::string& path);

  /// Returns the number of bytes written (all of them when `data` <= PIPE_BUF).
  /// Errors: WouldBlock (the pipe is full), NoPeer (write-only end and no reader left).
  tl::expected<std::size_t, Error> write(std::span<const std::byte> data);
  /// Returns the number of bytes read (> 0, or 0 for an empty `buffer`).
  /// Errors: WouldBlock (the pipe is empty), NoPeer (read-only end and no writer left).
  tl::expected<std::size_t, Error> read(std::span<std::byte> buffer);
  /// Reads until the pipe is empty; returns how many bytes were discarded (0 if it was empty).
  tl::expected<std::size_t, Error> drain();

  int fd() const { return m_fd.native(); }

 private:
  Fifo(FileDescriptor fd, bool write_only) : m_fd(std::move(fd)), m_write_only(write_only) {}
  static tl::expected<Fifo, Error> open_with(const std::string& path, int access);
  FileDescriptor m_fd;
  bool m_write_only = false;
};

}  // namespace axon::platform
