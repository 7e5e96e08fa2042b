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
/// Layout (version 3): one line of static config (magic, version, mode, capacity), the write
/// counter and the read counter on lines of their own, then `capacity` 16-byte slots of
/// {sequence, value}. Positions grow monotonically; position `p` lives in slot `p % capacity`,
/// and the slot's sequence word says what is there: `p + 1` once the value is published, with a
/// flag in its top bits while the producer writes it (`kWriting`) or once the consumer has taken
/// it (`kTaken`, overwriting mode only). The consumer that expects position `r` polls only its
/// slot, so a message costs the consumer one line.
///
/// Modes, fixed at `initialize`:
/// - `Bounded`: `push` fails with `Full`. The consumer alone advances the read counter (a plain
///   store); the producer re-reads it only when its cached copy says the queue is full.
/// - `Overwriting`: `push_overwrite` never fails for lack of room: it evicts the oldest element
///   when that is still there. Whether the producer evicts a position or the consumer takes it
///   is decided by one atomic operation on that position's sequence word (the producer's
///   exchange, the consumer's compare-exchange): exactly one of them owns the element, under any
///   interleaving, and the loser learns it from the same word. Neither side ever waits for the
///   other or retries against it in a loop that could fail: a consumer that loses a position
///   moves on to a later one, and `pop_newest` moves straight to the newest elements. What it
///   skips stays queued until the producer evicts it, so the producer still gets every element it
///   pushed back, either taken by the consumer or evicted.
///
/// Thread-safety: one producer handle (`push`, `push_overwrite`) and one consumer handle (`pop`,
/// `pop_newest`) at a time, in any processes; `size`, `empty`, `capacity` from anyone.
///
/// Trust: `attach` validates the static config and the counters against the mapping and copies
/// them; every sequence and counter read later is checked against the handle's own positions, and
/// a state no correct peer can produce is reported as `Corrupted` (or, where that is harmless,
/// read as "empty"), never turned into an out-of-bounds access. `Corrupted` always means that a
/// check failed, never that a peer was too fast.
class SpscIndexQueue {
 public:
  enum class Mode : std::uint32_t { Bounded = 1, Overwriting = 2 };

  static constexpr std::uint64_t kMagic = 0x4158'4f4e'5350'5351ULL;  // "AXONSPSQ"
  static constexpr std::uint32_t kVersion = 3;
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

  /// Producer, `Bounded` queues only. Appends `value`.
  /// Errors: `Full`, `InvalidArgument` (an `Overwriting` queue), `Corrupted`.
  [[nodiscard]] tl::expected<void, CoreError> push(std::uint64_t value) noexcept;
  /// Producer. `push` that folds every error into false.
  [[nodiscard]] bool try_push(std::uint64_t value) noexcept { return push(value).has_value(); }

  /// Producer, `Overwriting` queues only. Appends `value`; true when that evicted the element
  /// pushed `capacity()` pushes before it (the consumer had not taken it: it is the producer's
  /// again). The producer knows which element that is; the queue does not hand back a value a
  /// peer could have rewritten.
  /// Errors: `InvalidArgument` (a `Bounded` queue), `Corrupted` (the slot holds a state no
  /// consumer produces; nothing is stored, and whether the old element was taken is unknown).
  [[nodiscard]] tl::expected<bool, CoreError> push_overwrite(std::uint64_t value) noexcept;

  /// Consumer. Takes the oldest element there is, nullopt when empty. Errors: `Corrupted`.
  [[nodiscard]] tl::expected<std::optional<std::uint64_t>, CoreError> pop() noexcept {
    return pop_newest(m_capacity);
  }
  /// Consumer. Takes the oldest of the newest `window` elements (`window` >= capacity: the
  /// oldest there is), so a queue with spare slots behaves as a buffer of `window` that keeps
  /// the newest. `Overwriting` queues skip what is older, without taking it (the producer evicts
  /// it later); a `Bounded` queue cannot skip and ignores `window`. Nullopt when nothing is
  /// there, or (`Overwriting` only) when the producer overwrote every element this call tried to
  /// take: a producer that fast pushes again, so the next call finds one. Errors: `Corrupted`.
  [[nodiscard]] tl::expected<std::optional<std::uint64_t>, CoreError> pop_newest(
      std::uint64_t window) noexcept;
  /// Consumer. `pop` that reports a corrupted queue as empty.
  [[nodiscard]] std::optional<std::uint64_t> try_pop() noexcept {
    return pop().value_or(std::nullopt);
  }

  /// Elements currently queued; a snapshot that may be stale when the peer is active, clamped
  /// to `capacity()`. In overwriting mode it counts what the consumer skipped as queued.
  [[nodiscard]] std::uint64_t size() const noexcept;
  /// Consumer: elements published that it has not taken yet (a snapshot, clamped to
  /// `capacity()`; a peer that rewrites the queue can only make it wrong, never out of range).
  /// First looks at the slot of its next position, usually on the line it just read: when
  /// nothing is there the backlog is 0, and the line of the producer's write counter, which the
  /// producer stores on each push, is not touched. Only a consumer with a backlog reads it.
  [[nodiscard]] std::uint64_t backlog() const noexcept {
    if (m_shared == nullptr) return 0;
    // ORDERING: relaxed: a statistic.
    const std::uint64_t next =
        m_slots[m_read_index].sequence.load(std::memory_order_relaxed) & kPositionMask;
    if (next < m_read + 1) return 0;  // an earlier lap or never written: nothing waits
    // ORDERING: relaxed: a statistic.
    const std::uint64_t write = m_shared->write.load(std::memory_order_relaxed);
    if (write <= m_read) return 1;  // the next one is being published
    return write - m_read > m_capacity ? m_capacity : write - m_read;
  }
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
    /// Bounded: positions consumed so far. Overwriting: the consumer's position (for `size`).
    alignas(kCacheLine) std::atomic<std::uint64_t> read;
  };
  struct Slot {
    std::atomic<std::uint64_t> sequence;  ///< position + 1, and the flags below
    std::atomic<std::uint64_t> value;
  };
  static_assert(std::is_standard_layout_v<Shared>);
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

  static constexpr std::size_t kSlotsOffset = 3 * kCacheLine;
  static constexpr std::size_t kSlotSize = 16;
  static_assert(sizeof(Shared) == kSlotsOffset);
  static_assert(sizeof(Slot) == kSlotSize);

  /// Sequence flags. A position needs fewer than 62 bits for centuries at any message rate.
  static constexpr std::uint64_t kTaken = std::uint64_t{1} << 63;    ///< consumer owns it
  static constexpr std::uint64_t kWriting = std::uint64_t{1} << 62;  ///< producer writes it
  static constexpr std::uint64_t kPositionMask = kWriting - 1;

  SpscIndexQueue(Shared* shared, Slot* slots, std::uint64_t capacity, Mode mode,
                 std::uint64_t write, std::uint64_t read) noexcept;

  /// Producer, bounded: true when position `m_write` may be written, after re-reading the read
  /// counter if the cached copy says full. Errors: `Full`, `Corrupted`.
  [[nodiscard]] tl::expected<void, CoreError> make_room() noexcept;
  /// Producer: writes `value` at position `m_write` and publishes it.
  void publish(std::uint64_t value) noexcept;
  /// Consumer, bounded.
  [[nodiscard]] tl::expected<std::optional<std::uint64_t>, CoreError> pop_bounded() noexcept;
  /// Consumer, overwriting: moves to the oldest of the newest `window` positions the producer
  /// announced (never backwards, at least to `at_least`); false when that announcement is no
  /// position a producer reaches.
  [[nodiscard]] bool skip_to_newest(std::uint64_t window, std::uint64_t at_least) noexcept;
  void move_to(std::uint64_t position) noexcept;

  Shared* m_shared = nullptr;
  Slot* m_slots = nullptr;
  std::uint64_t m_capacity = 0;
  Mode m_mode = Mode::Bounded;
  // Producer side.
  std::uint64_t m_write = 0;
  std::uint64_t m_write_index = 0;  ///< m_write % m_capacity
  std::uint64_t m_cached_read = 0;  ///< a read counter seen earlier: a lower bound (bounded)
  // Consumer side.
  std::uint64_t m_read = 0;
  std::uint64_t m_read_index = 0;  ///< m_read % m_capacity
};

}  // namespace axon::core
