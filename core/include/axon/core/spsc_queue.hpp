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
/// `SpscIndexQueue` is a process-local handle: it keeps its own copy of the validated static
/// config (capacity, mode) and of its side's position, so the hot path neither re-reads nor
/// re-validates anything a peer could rewrite, and each side touches the peer's cache lines only
/// when it must.
///
/// Layout (version 2): one line of static config (magic, version, mode, capacity), the write
/// counter and the read counter on lines of their own, then `capacity` 16-byte slots of
/// {sequence, value}. Positions grow monotonically. The producer writes position `p` into slot
/// `p % capacity` and then publishes the slot by storing `sequence = p + 1`; the consumer that
/// expects position `r` polls only its slot (`sequence == r + 1` means ready), so a message costs
/// the consumer one line. The producer learns about free room from the read counter, which it
/// re-reads only when its cached copy says the queue is full.
///
/// Modes: `Bounded` (push fails with `Full`; the consumer alone advances the read counter, with a
/// plain store) and `Overwriting` (`push_overwrite` evicts the oldest element when full; producer
/// and consumer then both claim positions by CAS on the read counter, and a consumer that loses
/// discards what it read).
///
/// Thread-safety: one producer handle (`push`, `try_push`, `push_overwrite*`) and one consumer
/// handle (`pop`, `try_pop`) at a time, in any processes; `size`, `empty`, `capacity` from anyone.
///
/// Trust: `attach` validates the static config and the counters against the mapping and copies
/// them; every sequence and counter read later is checked against the handle's own positions, and
/// a state no correct peer can produce is reported as `Corrupted`, never turned into an
/// out-of-bounds access.
class SpscIndexQueue {
 public:
  enum class Mode : std::uint32_t { Bounded = 1, Overwriting = 2 };

  static constexpr std::uint64_t kMagic = 0x4158'4f4e'5350'5351ULL;  // "AXONSPSQ"
  static constexpr std::uint32_t kVersion = 2;
  static constexpr std::uint64_t kMaxCapacity = std::uint64_t{1} << 24;

  /// Bytes a queue of `capacity` elements needs, header included; 0 when `capacity` is outside
  /// `1..kMaxCapacity`.
  static constexpr std::size_t required_size(std::uint64_t capacity) noexcept {
    if (capacity == 0 || capacity > kMaxCapacity) {
      return 0;
    }
    return kSlotsOffset + capacity * kSlotSize;
  }

  /// A detached handle: every operation reports `Corrupted`, `size` is 0.
  SpscIndexQueue() noexcept = default;

  /// Lays out an empty queue in `memory` and returns a handle to it.
  /// Errors: `InvalidArgument` (null memory, capacity outside 1..kMaxCapacity, unknown mode),
  /// `Misaligned` (memory not 64-byte aligned), `InsufficientMemory` (bytes < required_size).
  [[nodiscard]] static tl::expected<SpscIndexQueue, CoreError> initialize(
      void* memory, std::size_t bytes, std::uint64_t capacity, Mode mode = Mode::Bounded) noexcept;

  /// Opens a queue another process laid out in the same block.
  /// Errors: `InvalidArgument` (null), `Misaligned`, `VersionMismatch`, `Corrupted` (bad magic,
  /// truncated block, capacity or mode out of range, counters no producer could have written).
  [[nodiscard]] static tl::expected<SpscIndexQueue, CoreError> attach(void* memory,
                                                                      std::size_t bytes) noexcept;

  /// Producer. Appends `value`. Errors: `Full`, `Corrupted`.
  [[nodiscard]] tl::expected<void, CoreError> push(std::uint64_t value) noexcept;
  /// Producer. `push` that folds every error into false.
  [[nodiscard]] bool try_push(std::uint64_t value) noexcept { return push(value).has_value(); }

  /// Producer, `Overwriting` queues only. Appends `value`; when the queue is full, first evicts
  /// the oldest element and returns it (nullopt when nothing was evicted).
  /// Errors: `InvalidArgument` (a `Bounded` queue), `Corrupted`; nothing is stored on an error.
  [[nodiscard]] tl::expected<std::optional<std::uint64_t>, CoreError> push_overwrite_checked(
      std::uint64_t value) noexcept;
  /// Producer. `push_overwrite_checked` that reports an error as "nothing evicted" (the value
  /// is then not stored either).
  [[nodiscard]] std::optional<std::uint64_t> push_overwrite(std::uint64_t value) noexcept {
    return push_overwrite_checked(value).value_or(std::nullopt);
  }

  /// Consumer. Takes the oldest element, nullopt when empty. Errors: `Corrupted`.
  [[nodiscard]] tl::expected<std::optional<std::uint64_t>, CoreError> pop() noexcept;

  /// What `pop_newest` took: `overflowed` when it is older than the newest `window` elements
  /// queued at that moment, i.e. the consumer is meant to discard it (give it back) and pop again.
  struct Entry {
    std::uint64_t value;
    bool overflowed;
  };
  /// Consumer. Takes the oldest element and tells whether it lies outside the newest `window`
  /// elements (`window` >= capacity: never). This lets a queue with spare slots behave as a
  /// buffer of `window` that keeps the newest, without the producer having to watch the
  /// consumer's position on every push. Errors: `Corrupted`.
  [[nodiscard]] tl::expected<std::optional<Entry>, CoreError> pop_newest(
      std::uint64_t window) noexcept;
  /// Consumer. `pop` that reports a corrupted queue as empty.
  [[nodiscard]] std::optional<std::uint64_t> try_pop() noexcept {
    return pop().value_or(std::nullopt);
  }

  /// Elements currently queued; a snapshot that may be stale when the peer is active, clamped
  /// to `capacity()`.
  [[nodiscard]] std::uint64_t size() const noexcept;
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  [[nodiscard]] std::uint64_t capacity() const noexcept { return m_capacity; }
  [[nodiscard]] Mode mode() const noexcept { return m_mode; }
  [[nodiscard]] bool attached() const noexcept { return m_shared != nullptr; }

  // A handle carries its side's position: copying it would make a second producer or consumer.
  SpscIndexQueue(const SpscIndexQueue&) = delete;
  SpscIndexQueue& operator=(const SpscIndexQueue&) = delete;
  SpscIndexQueue(SpscIndexQueue&& other) noexcept { *this = std::move(other); }
  SpscIndexQueue& operator=(SpscIndexQueue&& other) noexcept;
  ~SpscIndexQueue() = default;

 private:
  /// The part of the layout before the slots, as it lies in shared memory.
  struct Shared {
    // Static config: written by `initialize` before `magic` is published, never changed after.
    alignas(kCacheLine) std::atomic<std::uint64_t> magic;
    std::uint32_t version;
    std::uint32_t mode;
    std::uint64_t capacity;
    /// Positions written so far; stored by the producer after each slot is published.
    alignas(kCacheLine) std::atomic<std::uint64_t> write;
    /// Positions consumed or evicted so far.
    alignas(kCacheLine) std::atomic<std::uint64_t> read;
  };
  struct Slot {
    std::atomic<std::uint64_t> sequence;  ///< position + 1 once the value is published
    std::atomic<std::uint64_t> value;
  };
  static_assert(std::is_standard_layout_v<Shared>);
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

  static constexpr std::size_t kSlotsOffset = 3 * kCacheLine;
  static constexpr std::size_t kSlotSize = 16;
  static_assert(sizeof(Shared) == kSlotsOffset);
  static_assert(sizeof(Slot) == kSlotSize);

  SpscIndexQueue(Shared* shared, Slot* slots, std::uint64_t capacity, Mode mode,
                 std::uint64_t write, std::uint64_t read) noexcept;

  /// Producer: true when position `m_write` may be written, after re-reading the read counter
  /// if the cached copy says full. Errors: `Full` (reported with the fresh read position in
  /// `m_cached_read`), `Corrupted`.
  [[nodiscard]] tl::expected<void, CoreError> make_room() noexcept;
  /// Producer: writes `value` at position `m_write` and publishes it.
  void publish(std::uint64_t value) noexcept;
  /// Consumer: moves to `read` (a fresh read counter) after the producer evicted; false when it
  /// is not a position a correct producer could have set.
  [[nodiscard]] bool resync(std::uint64_t read) noexcept;

  Shared* m_shared = nullptr;
  Slot* m_slots = nullptr;
  std::uint64_t m_capacity = 0;
  Mode m_mode = Mode::Bounded;
  // Producer side.
  std::uint64_t m_write = 0;
  std::uint64_t m_write_index = 0;  ///< m_write % m_capacity
  std::uint64_t m_cached_read = 0;  ///< a read counter seen earlier: a lower bound
  // Consumer side.
  std::uint64_t m_read = 0;
  std::uint64_t m_read_index = 0;  ///< m_read % m_capacity
};

}  // namespace axon::core
