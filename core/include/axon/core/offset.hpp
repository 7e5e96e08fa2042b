#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <tl/expected.hpp>

#include "axon/core/error.hpp"

namespace axon::core {

static_assert(sizeof(std::size_t) == sizeof(std::uint64_t), "axon targets 64-bit platforms");

/// Every shared-memory structure of `core` keeps its hot atomics on lines of this size. Fixed
/// rather than `std::hardware_destructive_interference_size`, because the layout is shared between
/// processes and must not depend on the compiler that built each of them.
inline constexpr std::size_t kCacheLine = 64;

[[nodiscard]] constexpr bool is_power_of_two(std::size_t value) noexcept {
  return value != 0 && (value & (value - 1)) == 0;
}

/// `value` rounded up to a multiple of `alignment` (a power of two). The caller keeps `value`
/// small enough not to overflow; `checked_align_up` is the variant for untrusted values.
[[nodiscard]] constexpr std::size_t align_up(std::size_t value, std::size_t alignment) noexcept {
  return (value + alignment - 1) & ~(alignment - 1);
}

/// `align_up` for untrusted input: `OutOfBounds` when the result would overflow,
/// `InvalidArgument` when `alignment` is not a power of two.
[[nodiscard]] constexpr tl::expected<std::size_t, CoreError> checked_align_up(
    std::size_t value, std::size_t alignment) noexcept {
  if (!is_power_of_two(alignment)) {
    return tl::unexpected(CoreError::InvalidArgument);
  }
  if (value > std::numeric_limits<std::size_t>::max() - (alignment - 1)) {
    return tl::unexpected(CoreError::OutOfBounds);
  }
  return align_up(value, alignment);
}

/// True when `pointer` is a multiple of `alignment` (a power of two).
[[nodiscard]] inline bool is_aligned(const void* pointer, std::size_t alignment) noexcept {
  // SAFETY: converting a pointer to an integer only inspects its value; nothing is dereferenced.
  return (reinterpret_cast<std::uintptr_t>(pointer) & (alignment - 1)) == 0;
}

namespace detail {

[[nodiscard]] inline tl::expected<std::size_t, CoreError> check_range(
    const void* base, std::size_t segment_size, std::uint64_t offset, std::size_t count,
    std::size_t element_size, std::size_t element_alignment) noexcept {
  if (base == nullptr) {
    return tl::unexpected(CoreError::InvalidArgument);
  }
  if (offset > segment_size) {
    return tl::unexpected(CoreError::OutOfBounds);
  }
  const std::size_t room = segment_size - static_cast<std::size_t>(offset);
  // Written as a division so that `count * element_size` can never overflow.
  if (element_size != 0 && count > room / element_size) {
    return tl::unexpected(CoreError::OutOfBounds);
  }
  // SAFETY: `offset <= segment_size`, so the sum stays inside (or one past) the segment.
  const auto* address = static_cast<const std::byte*>(base) + offset;
  if (!is_aligned(address, element_alignment)) {
    return tl::unexpected(CoreError::Misaligned);
  }
  return static_cast<std::size_t>(offset);
}

}  // namespace detail

/// Translates an untrusted `offset` into a pointer to `count` objects of type `T` inside the
/// segment `[base, base + segment_size)`.
///
/// Errors: `InvalidArgument` for a null base, `OutOfBounds` when `offset + count * sizeof(T)`
/// exceeds the segment (overflow included), `Misaligned` when the address breaks `alignof(T)`.
/// `count == 0` is accepted for any `offset <= segment_size` (an empty range).
/// The pointer is only as valid as the objects the segment really holds; this checks the range.
template <typename T>
[[nodiscard]] tl::expected<T*, CoreError> checked_pointer(void* base, std::size_t segment_size,
                                                          std::uint64_t offset,
                                                          std::size_t count = 1) noexcept {
  return detail::check_range(base, segment_size, offset, count, sizeof(T), alignof(T))
      .map([base](std::size_t checked) {
        // SAFETY: the range [checked, checked + count * sizeof(T)) lies inside the segment and is
        // aligned for T; launder because the objects were created elsewhere (maybe another
        // process).
        return std::launder(reinterpret_cast<T*>(static_cast<std::byte*>(base) + checked));
      });
}

/// Read-only variant of `checked_pointer`.
template <typename T>
[[nodiscard]] tl::expected<const T*, CoreError> checked_pointer(const void* base,
                                                                std::size_t segment_size,
                                                                std::uint64_t offset,
                                                                std::size_t count = 1) noexcept {
  return detail::check_range(base, segment_size, offset, count, sizeof(T), alignof(T))
      .map([base](std::size_t checked) {
        // SAFETY: as in the mutable overload: in range, aligned, laundered.
        return std::launder(
            reinterpret_cast<const T*>(static_cast<const std::byte*>(base) + checked));
      });
}

}  // namespace axon::core
