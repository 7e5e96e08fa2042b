#pragma once

#include <cstdint>

namespace axon::core {

/// Why an operation on a shared-memory structure of `core` failed.
enum class CoreError : std::uint8_t {
  /// A parameter is out of its documented range, or a required pointer is null.
  InvalidArgument,
  /// The memory block is smaller than the structure needs.
  InsufficientMemory,
  /// The memory block, or an offset into it, does not have the required alignment.
  Misaligned,
  /// The shared memory holds a value no correct peer could have written.
  Corrupted,
  /// The block was laid out by an incompatible version of axon.
  VersionMismatch,
  /// An index or offset lies outside the structure.
  OutOfBounds,
  /// No room for another element.
  Full,
  /// Nothing to take.
  Empty,
  /// An element was released that is not currently held.
  DoubleRelease,
};

constexpr const char* to_string(CoreError error) noexcept {
  switch (error) {
    case CoreError::InvalidArgument:
      return "InvalidArgument";
    case CoreError::InsufficientMemory:
      return "InsufficientMemory";
    case CoreError::Misaligned:
      return "Misaligned";
    case CoreError::Corrupted:
      return "Corrupted";
    case CoreError::VersionMismatch:
      return "VersionMismatch";
    case CoreError::OutOfBounds:
      return "OutOfBounds";
    case CoreError::Full:
      return "Full";
    case CoreError::Empty:
      return "Empty";
    case CoreError::DoubleRelease:
      return "DoubleRelease";
  }
  return "Unknown";
}

}  // namespace axon::core
