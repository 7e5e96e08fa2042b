#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <tl/expected.hpp>
#include <type_traits>
#include <utility>

#include "axon/core/error.hpp"
#include "axon/core/offset.hpp"

namespace axon::core {

/// One atomic counter per event id `0..max_id`, in a caller-given block of (shared) memory, with a
/// two-level summary bitmap so that draining costs what is pending, not what `max_id` allows.
///
/// Layout: one line of static config, then the level-0 words (bit `j` of word `i` marks level-1
/// word `64 * i + j`), the level-1 words (bit `j` of word `i` marks id `64 * i + j`) and the
/// counters, each array starting on its own 64-byte line. Counters share lines (eight to a line);
/// padding each to a line would multiply the footprint by eight for a small win.
///
/// Thread-safety: any number of concurrent `add`ers (in any processes) and one drainer at a time.
/// `add` bumps the counter before it sets the summary bits, and `drain` clears the summary bits
/// before it takes the counters, so a count is never lost: an `add` that races a drain shows up
/// in that drain or the next one. A summary bit may outlive its count; such ids are skipped.
///
/// `CountingBitset` is a process-local handle: `initialize` and `attach` validate the static
/// config once and keep a copy of `max_id` and the layout, so a peer that rewrites the header
/// later cannot move any access outside the block.
///
/// Trust: the static config is validated by `attach`; every summary bit is bounds-checked before
/// it is used as an index, and a stray bit (which no correct peer sets) is dropped.
class CountingBitset {
 public:
  static constexpr std::uint64_t kMagic = 0x4158'4f4e'4342'4954ULL;  // "AXONCBIT"
  static constexpr std::uint32_t kVersion = 1;
  /// The design default: ids 0..4095.
  static constexpr std::uint64_t kDefaultMaxId = 4095;
  /// The largest `max_id` accepted.
  static constexpr std::uint64_t kMaxSupportedId = std::uint64_t{1} << 20;

  /// Bytes a bitset for ids `0..max_id` needs, header included; 0 when `max_id` exceeds
  /// `kMaxSupportedId`.
  static constexpr std::size_t required_size(std::uint64_t max_id) noexcept {
    return max_id > kMaxSupportedId ? 0 : layout_for(max_id).total;
  }

  /// Lays out an empty bitset for ids `0..max_id` in `memory`.
  /// Errors: `InvalidArgument` (null memory, max_id above kMaxSupportedId), `Misaligned` (memory
  /// not 64-byte aligned), `InsufficientMemory` (bytes < required_size(max_id)).
  [[nodiscard]] static tl::expected<CountingBitset, CoreError> initialize(
      void* memory, std::size_t bytes, std::uint64_t max_id = kDefaultMaxId) noexcept;

  /// Opens a bitset another process laid out in the same block.
  /// Errors: `InvalidArgument` (null), `Misaligned`, `VersionMismatch`, `Corrupted` (bad magic,
  /// truncated block, max_id out of range or larger than the block).
  [[nodiscard]] static tl::expected<CountingBitset, CoreError> attach(void* memory,
                                                                      std::size_t bytes) noexcept;

  /// A detached handle: `add` and `drain` report `Corrupted`.
  CountingBitset() noexcept = default;

  /// Adds `count` to the counter of `id` (a count of 0 records nothing).
  /// Errors: `OutOfBounds` (id > max_id; nothing is recorded), `Corrupted` (detached handle).
  [[nodiscard]] tl::expected<void, CoreError> add(std::uint64_t id,
                                                  std::uint64_t count = 1) const noexcept;

  /// Takes every pending count and calls `callback(std::uint64_t id, std::uint64_t count)` once
  /// per id with a count above 0, in ascending id order. One drainer at a time. The callback must
  /// not throw (counts of the summary word being drained would stay hidden until the next `add`
  /// in that word). It may call `add`; such counts arrive in this drain or the next.
  /// Errors: `Corrupted` (detached handle; nothing is taken).
  template <typename F>
  [[nodiscard]] tl::expected<void, CoreError> drain(F&& callback) const;

  /// True when some summary bit is set: a hint that a drain may deliver something. May be true
  /// for counts a concurrent drain is taking, and false for an `add` still in flight.
  [[nodiscard]] bool has_pending() const noexcept;

  [[nodiscard]] std::uint64_t max_id() const noexcept { return m_max_id; }
  [[nodiscard]] bool attached() const noexcept { return m_base != nullptr; }

 private:
  using Word = std::atomic<std::uint64_t>;
  static_assert(Word::is_always_lock_free);
  static constexpr std::size_t kBitsPerWord = 64;

  struct Layout {
    std::size_t level0_words;
    std::size_t level1_words;
    std::size_t level0_offset;
    std::size_t level1_offset;
    std::size_t counters_offset;
    std::size_t total;
  };

  static constexpr Layout layout_for(std::uint64_t max_id) noexcept {
    Layout layout{};
    const std::size_t ids = static_cast<std::size_t>(max_id) + 1;
    layout.level1_words = (ids + kBitsPerWord - 1) / kBitsPerWord;
    layout.level0_words = (layout.level1_words + kBitsPerWord - 1) / kBitsPerWord;
    layout.level0_offset = kCacheLine;
    layout.level1_offset =
        align_up(layout.level0_offset + layout.level0_words * sizeof(Word), kCacheLine);
    layout.counters_offset =
        align_up(layout.level1_offset + layout.level1_words * sizeof(Word), kCacheLine);
    layout.total = layout.counters_offset + ids * sizeof(Word);
    return layout;
  }

  CountingBitset(std::byte* base, std::uint64_t max_id) noexcept
      : m_base{base}, m_max_id{max_id}, m_layout{layout_for(max_id)} {}

  /// The array of atomic words starting `offset` bytes into the block.
  [[nodiscard]] Word* words_at(std::size_t offset) const noexcept;

  /// The header as it lies in shared memory.
  struct Shared {
    // Static config: written by `initialize` before `magic` is published, never changed after.
    alignas(kCacheLine) std::atomic<std::uint64_t> magic;
    std::uint32_t version;
    /// Explicit padding, so that the layout has no hole whose contents depend on the compiler.
    std::uint32_t reserved;
    std::uint64_t max_id;
  };
  static_assert(std::is_standard_layout_v<Shared>);
  static_assert(sizeof(Shared) == kCacheLine);

  std::byte* m_base = nullptr;
  std::uint64_t m_max_id = 0;
  Layout m_layout{};
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

template <typename F>
tl::expected<void, CoreError> CountingBitset::drain(F&& callback) const {
  if (m_base == nullptr) {
    return tl::unexpected(CoreError::Corrupted);
  }
  const std::uint64_t max = m_max_id;
  const Layout& layout = m_layout;
  Word* const level0 = words_at(layout.level0_offset);
  Word* const level1 = words_at(layout.level1_offset);
  Word* const counters = words_at(layout.counters_offset);

  for (std::size_t word0 = 0; word0 < layout.level0_words; ++word0) {
    // ORDERING: relaxed: only a filter that spares the exchange (and its cache-line transfer)
    // on empty words; a bit set after this load is found by the next drain.
    if (level0[word0].load(std::memory_order_relaxed) == 0) {
      continue;
    }
    // ORDERING: acquire pairs with the adders' release fetch_or: their level-1 bits and counter
    // increments are visible below.
    std::uint64_t bits0 = level0[word0].exchange(0, std::memory_order_acquire);
    while (bits0 != 0) {
      const std::size_t word1 =
          word0 * kBitsPerWord + static_cast<std::size_t>(std::countr_zero(bits0));
      bits0 &= bits0 - 1;
      if (word1 >= layout.level1_words) {
        continue;
      }
      // ORDERING: acquire pairs with the adders' release fetch_or: their counter increments
      // are visible below.
      std::uint64_t bits1 = level1[word1].exchange(0, std::memory_order_acquire);
      while (bits1 != 0) {
        const std::uint64_t id =
            word1 * kBitsPerWord + static_cast<std::uint64_t>(std::countr_zero(bits1));
        bits1 &= bits1 - 1;
        if (id > max) {
          continue;
        }
        // ORDERING: acquire pairs with the adder's release fetch_add, so what the notifier wrote
        // before `add` is visible to the callback even when its summary bits are still unset.
        const std::uint64_t count = counters[id].exchange(0, std::memory_order_acquire);
        if (count != 0) {
          callback(id, count);
        }
      }
    }
  }
  return {};
}

}  // namespace axon::core
