#include "axon/core/chunk_pool.hpp"

#include <bit>
#include <new>

namespace axon::core {

ChunkPool::ChunkPool(Shared* shared, std::uint32_t chunk_count, std::uint64_t chunk_size,
                     std::uint64_t alignment) noexcept
    : m_shared{shared},
      m_base{reinterpret_cast<std::byte*>(shared)},
      m_chunk_count{chunk_count},
      m_chunk_size{chunk_size},
      m_alignment{alignment},
      m_layout{layout_for(chunk_count, chunk_size, alignment)},
      m_stride_shift{is_power_of_two(m_layout.stride)
                         ? static_cast<std::uint32_t>(std::countr_zero(m_layout.stride))
                         : 0U} {}

tl::expected<ChunkPool, CoreError> ChunkPool::initialize(void* memory, std::size_t bytes,
                                                         std::uint64_t chunk_count,
                                                         std::uint64_t chunk_size,
                                                         std::uint64_t alignment) noexcept {
  if (memory == nullptr || !valid_config(chunk_count, chunk_size, alignment)) {
    return tl::unexpected(CoreError::InvalidArgument);
  }
  if (!is_aligned(memory, kCacheLine) || !is_aligned(memory, alignment)) {
    return tl::unexpected(CoreError::Misaligned);
  }
  const Layout layout = layout_for(chunk_count, chunk_size, alignment);
  if (bytes < layout.total) {
    return tl::unexpected(CoreError::InsufficientMemory);
  }

  // SAFETY: the block is non-null, aligned for the header and large enough for every array.
  auto* shared = new (memory) Shared{};
  // ORDERING: relaxed: the magic is published last, with release, below.
  shared->magic.store(0, std::memory_order_relaxed);
  shared->version = kVersion;
  shared->reserved = 0;
  shared->chunk_count = chunk_count;
  shared->chunk_size = chunk_size;
  shared->alignment = alignment;
  auto* bytes_base = static_cast<std::byte*>(memory);
  const auto count = static_cast<std::uint32_t>(chunk_count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::uint32_t next = i + 1 < count ? i + 1 : kNil;
    // SAFETY: link i and state i lie inside their arrays (inside the block by `layout_for`);
    // both arrays start on a 64-byte line, so each 4-byte word is aligned.
    new (bytes_base + layout.next_offset + i * sizeof(Link)) Link{next};
    // SAFETY: as above.
    new (bytes_base + layout.state_offset + i * sizeof(State)) State{kStateFree};
  }
  // ORDERING: relaxed: published together with the header by the release store of the magic.
  shared->head.store(pack(0, 0), std::memory_order_relaxed);
  // ORDERING: relaxed: published by the release store of the magic.
  shared->free_count.store(count, std::memory_order_relaxed);
  // ORDERING: release publishes the header and arrays to an `attach` that acquires the magic.
  shared->magic.store(kMagic, std::memory_order_release);
  return ChunkPool{shared, count, chunk_size, alignment};
}

tl::expected<ChunkPool, CoreError> ChunkPool::attach(void* memory, std::size_t bytes) noexcept {
  if (memory == nullptr) {
    return tl::unexpected(CoreError::InvalidArgument);
  }
  if (!is_aligned(memory, kCacheLine)) {
    return tl::unexpected(CoreError::Misaligned);
  }
  if (bytes < sizeof(Shared)) {
    return tl::unexpected(CoreError::Corrupted);
  }
  // SAFETY: the block is aligned and holds at least a header; `initialize` created the pool there
  // (maybe in another process). Whether it did is what the checks below establish.
  auto* shared = std::launder(static_cast<Shared*>(memory));
  // ORDERING: acquire pairs with the release in `initialize`, making the static config visible.
  if (shared->magic.load(std::memory_order_acquire) != kMagic) {
    return tl::unexpected(CoreError::Corrupted);
  }
  if (shared->version != kVersion) {
    return tl::unexpected(CoreError::VersionMismatch);
  }
  // Read once: the handle keeps these copies and never looks at the static config again.
  const std::uint64_t chunk_count = shared->chunk_count;
  const std::uint64_t chunk_size = shared->chunk_size;
  const std::uint64_t alignment = shared->alignment;
  if (!valid_config(chunk_count, chunk_size, alignment) ||
      layout_for(chunk_count, chunk_size, alignment).total > bytes) {
    return tl::unexpected(CoreError::Corrupted);
  }
  if (!is_aligned(memory, alignment)) {
    return tl::unexpected(CoreError::Misaligned);
  }
  return ChunkPool{shared, static_cast<std::uint32_t>(chunk_count), chunk_size, alignment};
}

ChunkPool::Link* ChunkPool::links() const noexcept {
  // SAFETY: `initialize` created chunk_count links at this offset; `attach` checked they fit.
  return std::launder(reinterpret_cast<Link*>(m_base + m_layout.next_offset));
}

ChunkPool::State* ChunkPool::states() const noexcept {
  // SAFETY: `initialize` created chunk_count states at this offset; `attach` checked they fit.
  return std::launder(reinterpret_cast<State*>(m_base + m_layout.state_offset));
}

tl::expected<std::uint32_t, CoreError> ChunkPool::allocate_checked() noexcept {
  if (m_shared == nullptr) {
    return tl::unexpected(CoreError::Corrupted);
  }
  Link* const link_array = links();

  // ORDERING: acquire pairs with the release CAS of `release`: the link it stored is visible.
  std::uint64_t head = m_shared->head.load(std::memory_order_acquire);
  std::uint32_t index = 0;
  while (true) {
    index = index_of(head);
    if (index == kNil) {
      return tl::unexpected(CoreError::Empty);
    }
    if (index >= m_chunk_count) {
      return tl::unexpected(CoreError::Corrupted);
    }
    // ORDERING: relaxed: visible through the acquire on the head; if another thread pops this
    // chunk and rewrites the link meanwhile, the head's tag has changed and the CAS below fails.
    const std::uint32_t next = link_array[index].load(std::memory_order_relaxed);
    if (next != kNil && next >= m_chunk_count) {
      // Either the link was rewritten under us (then the head moved) or the list is corrupt.
      // ORDERING: acquire, as the first load of the head.
      const std::uint64_t fresh = m_shared->head.load(std::memory_order_acquire);
      if (fresh != head) {
        head = fresh;
        continue;
      }
      return tl::unexpected(CoreError::Corrupted);
    }
    // ORDERING: acquire on success, so the chunk's previous owner's writes (released with the
    // push) happen before ours; acquire on failure, as the first load of the head.
    if (m_shared->head.compare_exchange_weak(head, pack(next, tag_of(head) + 1), std::memory_order_acquire,
                                     std::memory_order_acquire)) {
      break;
    }
  }

  // ORDERING: relaxed: the chunk is ours through the head CAS; the state word only needs its
  // own modification order to tell Free from Allocated.
  const std::uint32_t previous =
      states()[index].exchange(kStateAllocated, std::memory_order_relaxed);
  // ORDERING: relaxed: a statistic; see `free_count`.
  m_shared->free_count.fetch_sub(1, std::memory_order_relaxed);
  if (previous != kStateFree) {
    // A listed chunk that is not free: someone else may hold it, so it stays out of the list.
    return tl::unexpected(CoreError::Corrupted);
  }
  return index;
}

tl::expected<void, CoreError> ChunkPool::release(std::uint32_t index) noexcept {
  if (m_shared == nullptr) {
    return tl::unexpected(CoreError::Corrupted);
  }
  if (index >= m_chunk_count) {
    return tl::unexpected(CoreError::OutOfBounds);
  }
  std::uint32_t expected = kStateAllocated;
  // ORDERING: relaxed: only the state word's own modification order matters, so that of two
  // racing releases exactly one wins; the chunk contents are published by the head CAS below.
  if (!states()[index].compare_exchange_strong(
          expected, kStateFree, std::memory_order_relaxed, std::memory_order_relaxed)) {
    return tl::unexpected(expected == kStateFree ? CoreError::DoubleRelease : CoreError::Corrupted);
  }
  // Counted before the push so that `free_count` never drops below the chunks really listed.
  // ORDERING: relaxed: a statistic; see `free_count`.
  m_shared->free_count.fetch_add(1, std::memory_order_relaxed);

  Link* const link_array = links();
  // ORDERING: relaxed: the CAS below validates the value.
  std::uint64_t head = m_shared->head.load(std::memory_order_relaxed);
  do {
    // ORDERING: relaxed: published by the release CAS below.
    link_array[index].store(index_of(head), std::memory_order_relaxed);
    // ORDERING: release on success publishes the link and our writes to the chunk to the next
    // allocator (acquire); relaxed on failure: we only retry with the fresh head.
  } while (!m_shared->head.compare_exchange_weak(head, pack(index, tag_of(head) + 1),
                                         std::memory_order_release, std::memory_order_relaxed));
  return {};
}

tl::expected<std::uint32_t, CoreError> ChunkPool::index_of_offset(
    std::uint64_t offset) const noexcept {
  if (m_shared == nullptr) {
    return tl::unexpected(CoreError::Corrupted);
  }
  const Layout& layout = m_layout;
  if (offset < layout.data_offset || offset >= layout.total) {
    return tl::unexpected(CoreError::OutOfBounds);
  }
  const std::uint64_t relative = offset - layout.data_offset;
  if (m_stride_shift != 0) {
    // A power-of-two stride (most small payloads): a mask and a shift instead of a division.
    if ((relative & (layout.stride - 1)) != 0) {
      return tl::unexpected(CoreError::Misaligned);
    }
    return static_cast<std::uint32_t>(relative >> m_stride_shift);
  }
  if (relative % layout.stride != 0) {
    return tl::unexpected(CoreError::Misaligned);
  }
  return static_cast<std::uint32_t>(relative / layout.stride);
}

std::uint32_t ChunkPool::free_count() const noexcept {
  // ORDERING: relaxed: a statistic, exact only when the pool is quiescent.
  if (m_shared == nullptr) {
    return 0;
  }
  const std::uint32_t count = m_shared->free_count.load(std::memory_order_relaxed);
  const std::uint32_t total = chunk_count();
  return count > total ? total : count;
}

}  // namespace axon::core
