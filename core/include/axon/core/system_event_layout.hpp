// The shared-memory object behind one latched named event (axon::SystemEvent): a header written
// once by its creator and one 32-bit state word that doubles as the futex every waiter sleeps on.
//
// The state word counts transitions: an odd value means set, an even value clear, and every
// set (even -> odd) or clear (odd -> even) adds one. A waiter that saw an even value and later
// sees any other value therefore knows a set happened in between, even when a clear followed at
// once; a plain 0/1 flag would lose such a pulse. Wrapping at 2^32 keeps the parity.
//
// Plain data and atomics only, no system call: the services layer maps the object and calls
// `construct_system_event` (creator) or `check_system_event` (everyone else) on the mapping.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <string_view>
#include <type_traits>

#include "axon/core/fixed_string.hpp"
#include "axon/core/offset.hpp"

namespace axon::core {

inline constexpr std::uint64_t kSystemEventMagic = 0x61786f6e45564e54ULL;  // "axonEVNT"
inline constexpr std::uint32_t kSystemEventVersion = 1;
inline constexpr std::size_t kMaxSystemEventNameLength = 255;

struct SystemEventLayout {
  /// 0 while the creator is still writing the header, kSystemEventMagic once it is complete.
  std::atomic<std::uint64_t> magic;
  std::uint32_t version;
  std::uint32_t size_of_self;
  /// The event's full name: two names with the same hash meet in one object, and this tells them
  /// apart.
  FixedString<kMaxSystemEventNameLength> name;
  /// 0 until some process has made the event's FIFO (SystemEvent::fd()); from then on set() and
  /// clear() keep the FIFO in step with the state. Never returns to 0.
  std::atomic<std::uint32_t> fifo_enabled;
  /// Odd: set; even: clear (see the top of this file). The futex word, alone on its line.
  alignas(kCacheLine) std::atomic<std::uint32_t> state;
};

static_assert(std::is_standard_layout_v<SystemEventLayout>);
// std::atomic members make the struct not trivially copyable; every byte of it is still plain
// data (the atomics below are lock-free, so they hold no hidden lock or pointer).
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t),
              "the kernel reads the futex word as a plain 32-bit integer");
static_assert(offsetof(SystemEventLayout, state) % kCacheLine == 0);
static_assert(sizeof(SystemEventLayout) % kCacheLine == 0);

/// The bytes at the start of the object that every version keeps: magic, version, size_of_self.
inline constexpr std::size_t kSystemEventHeaderBytes = 16;
static_assert(offsetof(SystemEventLayout, name) == kSystemEventHeaderBytes);

[[nodiscard]] constexpr bool is_set_state(std::uint32_t state) noexcept {
  return (state & 1U) != 0;
}

/// What an opener finds in a mapped event object.
enum class SystemEventCheck : std::uint8_t {
  /// A complete event of the expected name.
  Valid,
  /// Smaller than the layout or without its magic yet: a creator is still writing it, or died
  /// doing so.
  Incomplete,
  /// Complete, but laid out by another version of axon.
  VersionMismatch,
  /// Bytes that no creator of any version writes.
  Corrupted,
  /// A complete event of another name whose hash is the same.
  OtherName,
};

/// Judges `size` mapped bytes at `memory` (aligned to at least kCacheLine) as the event `name`.
/// Reads the magic with acquire, so on Valid every header field the creator wrote is visible.
/// Thread-safety: reads only; may run while another process writes the object.
[[nodiscard]] inline SystemEventCheck check_system_event(const void* memory, std::size_t size,
                                                         std::string_view name) noexcept {
  if (memory == nullptr || size < kSystemEventHeaderBytes) return SystemEventCheck::Incomplete;
  // SAFETY: the caller maps at least kSystemEventHeaderBytes at a suitably aligned address; only
  // the magic and the version (both within those bytes) are read before the size is checked.
  const auto* layout = static_cast<const SystemEventLayout*>(memory);
  // ORDERING: acquire pairs with the creator's release store of the magic: the header is whole.
  const std::uint64_t magic = layout->magic.load(std::memory_order_acquire);
  if (magic == 0) return SystemEventCheck::Incomplete;
  if (magic != kSystemEventMagic) return SystemEventCheck::Corrupted;
  if (layout->version != kSystemEventVersion) return SystemEventCheck::VersionMismatch;
  if (size < sizeof(SystemEventLayout)) return SystemEventCheck::Incomplete;
  if (layout->size_of_self != sizeof(SystemEventLayout)) return SystemEventCheck::Corrupted;
  if (layout->name.m_len > kMaxSystemEventNameLength) return SystemEventCheck::Corrupted;
  // ORDERING: relaxed: a plain sanity read; the value is only compared with 0 and 1.
  if (layout->fifo_enabled.load(std::memory_order_relaxed) > 1) return SystemEventCheck::Corrupted;
  if (layout->name.view() != name) return SystemEventCheck::OtherName;
  return SystemEventCheck::Valid;
}

/// Builds a clear event named `name` in `size` zero-filled bytes at `memory` (aligned to at least
/// kCacheLine) and publishes it by storing the magic last. Returns nullptr when the memory is too
/// small or the name too long. Thread-safety: for the creator only, before anyone trusts the
/// object (openers wait for the magic).
[[nodiscard]] inline SystemEventLayout* construct_system_event(void* memory, std::size_t size,
                                                               std::string_view name) noexcept {
  const auto stored_name = FixedString<kMaxSystemEventNameLength>::from(name);
  if (memory == nullptr || size < sizeof(SystemEventLayout) || !stored_name) return nullptr;
  // SAFETY: the memory is large and aligned enough (checked above, alignment by the caller) and
  // holds no live object yet; the value-initialised atomics are 0, the bytes it already held.
  auto* layout = new (memory) SystemEventLayout{};
  layout->version = kSystemEventVersion;
  layout->size_of_self = static_cast<std::uint32_t>(sizeof(SystemEventLayout));
  layout->name = *stored_name;
  // ORDERING: relaxed: published by the release store of the magic below.
  layout->fifo_enabled.store(0, std::memory_order_relaxed);
  // ORDERING: relaxed: as above.
  layout->state.store(0, std::memory_order_relaxed);
  // ORDERING: release: an opener that acquires the magic sees every field written above.
  layout->magic.store(kSystemEventMagic, std::memory_order_release);
  return layout;
}

}  // namespace axon::core
