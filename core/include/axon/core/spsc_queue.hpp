#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <tl/expected.hpp>
#include <type_traits>

#include "axon/core/error.hpp"
#include "axon/core/offset.hpp"

namespace axon::core {

/// A bounded, lock-free single-producer single-consumer queue of 64-bit values (chunk offsets)
/// that lives in a caller-given block of (shared) memory.
///
/// Layout: one line of static config (magic, version, capacity; written once by `initialize`),
/// the write counter and the read counter on lines of their own, then `capacity` slots. The
/// counters grow monotonically and are reduced modulo the capacity only to address a slot.
///
/// Thread-safety: one producer (`push`, `try_push`, `push_overwrite*`) and one consumer (`pop`,
/// `try_pop`) at a time, in any processes; `size`, `empty`, `capacity` from anyone. The producer
/// may evict the oldest element while the consumer pops: both advance the read counter by CAS,
/// and a consumer whose CAS fails discards what it read and retries.
///
/// Trust: `attach` validates the static config against the mapping; every operation re-checks the
/// counters it reads, and a state no correct peer can produce is reported as `Corrupted`, never
/// turned into an out-of-bounds access. The static config itself is trusted after `attach`
/// (a peer that rewrites it later is outside what this structure can detect).
class SpscIndexQueue {
 public:
  static constexpr std::uint64_t kMagic = 0x4158'4f4e'5350'5351ULL;  // "AXONSPSQ"
  static constexpr std::uint32_t kVersion = 1;
  static constexpr std::uint64_t kMaxCapacity = std::uint64_t{1} << 24;

  /// Bytes a queue of `capacity` elements needs, header included; 0 when `capacity` is outside
  /// `1..kMaxCapacity`.
  static constexpr std::size_t required_size(std::uint64_t capacity) noexcept {
    if (capacity == 0 || capacity > kMaxCapacity) {
      return 0;
    }
    return kSlotsOffset + capacity * sizeof(Slot);
  }

  /// Lays out an empty queue in `memory`.
  /// Errors: `InvalidArgument` (null memory, capacity outside 1..kMaxCapacity), `Misaligned`
  /// (memory not 64-byte aligned), `InsufficientMemory` (bytes < required_size(capacity)).
  [[nodiscard]] static tl::expected<SpscIndexQueue*, CoreError> initialize(
      void* memory, std::size_t bytes, std::uint64_t capacity) noexcept;

  /// Opens a queue another process laid out in the same block.
  /// Errors: `InvalidArgument` (null), `Misaligned`, `VersionMismatch`, `Corrupted` (bad magic,
  /// truncated block, capacity out of range or larger than the block).
  [[nodiscard]] static tl::expected<SpscIndexQueue*, CoreError> attach(void* memory,
                                                                       std::size_t bytes) noexcept;

  /// Producer. Appends `value`. Errors: `Full`, `Corrupted`.
  [[nodiscard]] tl::expected<void, CoreError> push(std::uint64_t value) noexcept;
  /// Producer. `push` that folds every error into false.
  [[nodiscard]] bool try_push(std::uint64_t value) noexcept { return push(value).has_value(); }

  /// Producer. Appends `value`; when the queue is full, first evicts the oldest element and
  /// returns it (nullopt when nothing was evicted). Errors: `Corrupted` (nothing is stored).
  [[nodiscard]] tl::expected<std::optional<std::uint64_t>, CoreError> push_overwrite_checked(
      std::uint64_t value) noexcept;
  /// Producer. `push_overwrite_checked` that reports a corrupted queue as "nothing evicted"
  /// (the value is then not stored either).
  [[nodiscard]] std::optional<std::uint64_t> push_overwrite(std::uint64_t value) noexcept {
    return push_overwrite_checked(value).value_or(std::nullopt);
  }

  /// Consumer. Takes the oldest element, nullopt when empty. Errors: `Corrupted`.
  [[nodiscard]] tl::expected<std::optional<std::uint64_t>, CoreError> pop() noexcept;
  /// Consumer. `pop` that reports a corrupted queue as empty.
  [[nodiscard]] std::optional<std::uint64_t> try_pop() noexcept {
    return pop().value_or(std::nullopt);
  }

  /// Elements currently queued; a snapshot that may be stale when the peer is active, clamped
  /// to `capacity()`.
  [[nodiscard]] std::uint64_t size() const noexcept;
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  [[nodiscard]] std::uint64_t capacity() const noexcept { return m_capacity; }

  SpscIndexQueue(const SpscIndexQueue&) = delete;
  SpscIndexQueue& operator=(const SpscIndexQueue&) = delete;
  SpscIndexQueue(SpscIndexQueue&&) = delete;
  SpscIndexQueue& operator=(SpscIndexQueue&&) = delete;
  ~SpscIndexQueue() = default;

 private:
  using Slot = std::atomic<std::uint64_t>;
  static_assert(Slot::is_always_lock_free);

  explicit SpscIndexQueue(std::uint64_t capacity) noexcept : m_capacity{capacity} {}

  [[nodiscard]] Slot* slots() noexcept;
  /// The capacity, or 0 when the stored value is out of range (corruption).
  [[nodiscard]] std::uint64_t checked_capacity() const noexcept;

  // Static config: written by `initialize` before `m_magic` is published, never changed after.
  alignas(kCacheLine) std::atomic<std::uint64_t> m_magic{0};
  std::uint32_t m_version{kVersion};
  /// Explicit padding, so that the layout has no hole whose contents depend on the compiler.
  [[maybe_unused]] std::uint32_t m_reserved{0};
  std::uint64_t m_capacity;

  /// Next position to write; only the producer stores it.
  alignas(kCacheLine) std::atomic<std::uint64_t> m_write{0};
  /// Next position to read; the consumer advances it, and the producer when it evicts.
  alignas(kCacheLine) std::atomic<std::uint64_t> m_read{0};

  static constexpr std::size_t kSlotsOffset = 3 * kCacheLine;
};

static_assert(std::is_standard_layout_v<SpscIndexQueue>);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(sizeof(SpscIndexQueue) == 3 * kCacheLine);
static_assert(alignof(SpscIndexQueue) == kCacheLine);

}  // namespace axon::core
