#include "axon/core/counting_bitset.hpp"

#include <new>

namespace axon::core {

tl::expected<CountingBitset, CoreError> CountingBitset::initialize(void* memory, std::size_t bytes,
                                                                   std::uint64_t max_id) noexcept {
  if (memory == nullptr || max_id > kMaxSupportedId) {
    return tl::unexpected(CoreError::InvalidArgument);
  }
  if (!is_aligned(memory, kCacheLine)) {
    return tl::unexpected(CoreError::Misaligned);
  }
  const Layout layout = layout_for(max_id);
  if (bytes < layout.total) {
    return tl::unexpected(CoreError::InsufficientMemory);
  }

  // SAFETY: the block is non-null, 64-byte aligned and large enough for the header and arrays.
  auto* shared = new (memory) Shared{};
  // ORDERING: relaxed: the magic is published last, with release, below.
  shared->magic.store(0, std::memory_order_relaxed);
  shared->version = kVersion;
  shared->reserved = 0;
  shared->max_id = max_id;
  auto* base = static_cast<std::byte*>(memory);
  const auto construct_words = [base](std::size_t offset, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
      // SAFETY: [offset, offset + count * 8) lies inside the block by `layout_for`, and offset is
      // a multiple of 64, so each word is aligned.
      new (base + offset + i * sizeof(Word)) Word{0};
    }
  };
  construct_words(layout.level0_offset, layout.level0_words);
  construct_words(layout.level1_offset, layout.level1_words);
  construct_words(layout.counters_offset, static_cast<std::size_t>(max_id) + 1);
  // ORDERING: release publishes the header and arrays to an `attach` that acquires the magic.
  shared->magic.store(kMagic, std::memory_order_release);
  return CountingBitset{base, max_id};
}

tl::expected<CountingBitset, CoreError> CountingBitset::attach(void* memory,
                                                               std::size_t bytes) noexcept {
  if (memory == nullptr) {
    return tl::unexpected(CoreError::InvalidArgument);
  }
  if (!is_aligned(memory, kCacheLine)) {
    return tl::unexpected(CoreError::Misaligned);
  }
  if (bytes < sizeof(Shared)) {
    return tl::unexpected(CoreError::Corrupted);
  }
  // SAFETY: the block is aligned and holds at least a header; `initialize` created the bitset
  // there (maybe in another process). Whether it did is what the checks below establish.
  auto* shared = std::launder(static_cast<Shared*>(memory));
  // ORDERING: acquire pairs with the release in `initialize`, making the static config visible.
  if (shared->magic.load(std::memory_order_acquire) != kMagic) {
    return tl::unexpected(CoreError::Corrupted);
  }
  if (shared->version != kVersion) {
    return tl::unexpected(CoreError::VersionMismatch);
  }
  // Read once: the handle keeps this copy and never looks at the header again.
  const std::uint64_t max_id = shared->max_id;
  if (max_id > kMaxSupportedId || layout_for(max_id).total > bytes) {
    return tl::unexpected(CoreError::Corrupted);
  }
  return CountingBitset{static_cast<std::byte*>(memory), max_id};
}

CountingBitset::Word* CountingBitset::words_at(std::size_t offset) const noexcept {
  // SAFETY: `offset` comes from our copy of the layout, whose arrays `initialize` created and
  // `attach` checked to fit the block.
  return std::launder(reinterpret_cast<Word*>(m_base + offset));
}

tl::expected<void, CoreError> CountingBitset::add(std::uint64_t id,
                                                  std::uint64_t count) const noexcept {
  if (m_base == nullptr) {
    return tl::unexpected(CoreError::Corrupted);
  }
  if (id > m_max_id) {
    return tl::unexpected(CoreError::OutOfBounds);
  }
  if (count == 0) {
    return {};
  }
  const Layout& layout = m_layout;
  const std::size_t word1 = static_cast<std::size_t>(id / kBitsPerWord);
  const std::size_t word0 = word1 / kBitsPerWord;

  // Counter first, then level 1, then level 0: the drainer clears level 0, then level 1, then
  // the counter, so whenever it finds a bit, the count behind it is already there. The reverse
  // order could let a drain clear the bits, find the counter still 0, and strand the count
  // without a bit until some later add in the same word.
  // ORDERING: release pairs with the drainer's acquire exchange of the counter.
  words_at(layout.counters_offset)[id].fetch_add(count, std::memory_order_release);
  // ORDERING: release pairs with the drainer's acquire exchange: the counter is visible first.
  words_at(layout.level1_offset)[word1].fetch_or(std::uint64_t{1} << (id % kBitsPerWord),
                                                 std::memory_order_release);
  // ORDERING: release pairs with the drainer's acquire exchange: level 1 is visible first.
  words_at(layout.level0_offset)[word0].fetch_or(std::uint64_t{1} << (word1 % kBitsPerWord),
                                                 std::memory_order_release);
  return {};
}

bool CountingBitset::has_pending() const noexcept {
  if (m_base == nullptr) {
    return false;
  }
  const Layout& layout = m_layout;
  const Word* const level0 = words_at(layout.level0_offset);
  for (std::size_t i = 0; i < layout.level0_words; ++i) {
    // ORDERING: relaxed: a hint; the drain that follows acquires what it takes.
    if (level0[i].load(std::memory_order_relaxed) != 0) {
      return true;
    }
  }
  return false;
}

}  // namespace axon::core
