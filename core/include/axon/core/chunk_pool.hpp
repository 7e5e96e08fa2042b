#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <tl/expected.hpp>
#include <type_traits>

#include "axon/core/error.hpp"
#include "axon/core/offset.hpp"

namespace axon::core {

/// A fixed number of fixed-size chunks in a caller-given block of (shared) memory, handed out by a
/// lock-free free list of indices.
///
/// `ChunkPool` is a process-local handle: `initialize` and `attach` validate the static config
/// once and keep a copy (count, stride, offsets), so that the hot path does arithmetic on local
/// values and never re-reads a config a peer could rewrite.
///
/// Layout (version 2): one line of static config, the free-list head and the free counter on
/// lines of their own, the next-link array, the per-chunk state array, then the chunks: chunk `i`
/// starts at `data_offset + i * stride` with `stride = align_up(chunk_size, max(alignment, 64))`,
/// so no two chunks share a cache line, and `data_offset` aligned to `max(alignment, 64)`. The
/// block itself must be aligned that much too, so that an offset means the same aligned address
/// in every process that maps the block.
///
/// The head packs a 32-bit index (low half) with a 32-bit tag (high half) that every change
/// increments, so a CAS cannot succeed on a head that was popped and pushed back in between (ABA).
/// Each chunk also has a state word (Free/Allocated): releasing a chunk that is not allocated is
/// refused with `DoubleRelease` instead of linking it into the list twice.
///
/// Thread-safety: every operation may run concurrently from any number of threads and processes.
///
/// Trust: `attach` validates the static config against the mapping; every index read from the
/// free list is bounds-checked, and a state no correct peer can produce yields `Corrupted`.
class ChunkPool {
 public:
  static constexpr std::uint64_t kMagic = 0x4158'4f4e'504f'4f4cULL;  // "AXONPOOL"
  static constexpr std::uint32_t kVersion = 2;
  static constexpr std::uint32_t kMaxChunkCount = std::uint32_t{1} << 24;
  static constexpr std::uint64_t kMaxChunkSize = std::uint64_t{1} << 30;
  static constexpr std::uint64_t kMaxAlignment = 4096;
  /// What `offset_of` returns for an index out of range; `index_of_offset` rejects it.
  static constexpr std::uint64_t kInvalidOffset = std::numeric_limits<std::uint64_t>::max();

  /// Bytes a pool needs, header included; 0 when a parameter is out of range (chunk_count
  /// 1..kMaxChunkCount, chunk_size 1..kMaxChunkSize, alignment a power of two up to 4096).
  static constexpr std::size_t required_size(std::uint64_t chunk_count, std::uint64_t chunk_size,
                                             std::uint64_t alignment) noexcept {
    if (!valid_config(chunk_count, chunk_size, alignment)) {
      return 0;
    }
    return layout_for(chunk_count, chunk_size, alignment).total;
  }

  /// A detached handle: `allocate` and `release` report `Corrupted`, `chunk` returns nullptr.
  ChunkPool() noexcept = default;

  /// Lays out a pool with every chunk free. Chunk contents are left as they are.
  /// Errors: `InvalidArgument` (null memory, parameter out of range), `Misaligned` (memory not
  /// aligned to max(alignment, 64)), `InsufficientMemory` (bytes < required_size(...)).
  [[nodiscard]] static tl::expected<ChunkPool, CoreError> initialize(
      void* memory, std::size_t bytes, std::uint64_t chunk_count, std::uint64_t chunk_size,
      std::uint64_t alignment) noexcept;

  /// Opens a pool another process laid out in the same block.
  /// Errors: `InvalidArgument` (null), `Misaligned` (not 64-aligned, or not aligned to the stored
  /// chunk alignment), `VersionMismatch`, `Corrupted` (bad magic, truncated block, parameter out
  /// of range, chunks larger than the block).
  [[nodiscard]] static tl::expected<ChunkPool, CoreError> attach(void* memory,
                                                                 std::size_t bytes) noexcept;

  /// Takes a free chunk. Errors: `Empty`, `Corrupted` (a bad link or state in the free list).
  [[nodiscard]] tl::expected<std::uint32_t, CoreError> allocate_checked() noexcept;
  /// `allocate_checked` that reports every error as nullopt.
  [[nodiscard]] std::optional<std::uint32_t> allocate() noexcept {
    const auto index = allocate_checked();
    return index ? std::optional<std::uint32_t>{*index} : std::nullopt;
  }

  /// Returns chunk `index` to the pool.
  /// Errors: `OutOfBounds` (index >= chunk_count), `DoubleRelease` (the chunk is free),
  /// `Corrupted` (a detached handle, or a bad state word).
  [[nodiscard]] tl::expected<void, CoreError> release(std::uint32_t index) noexcept;

  /// Start of chunk `index`, nullptr when out of range.
  [[nodiscard]] void* chunk(std::uint32_t index) const noexcept {
    return index < m_chunk_count ? m_base + m_layout.data_offset + index * m_layout.stride
                                 : nullptr;
  }
  /// Offset of chunk `index` from the start of the block, `kInvalidOffset` when out of range.
  [[nodiscard]] std::uint64_t offset_of(std::uint32_t index) const noexcept {
    return index < m_chunk_count ? m_layout.data_offset + std::uint64_t{index} * m_layout.stride
                                 : kInvalidOffset;
  }
  /// The chunk that starts exactly at `offset` (an untrusted value, e.g. read from a queue).
  /// Errors: `OutOfBounds` (before the first or past the last chunk), `Misaligned` (inside a
  /// chunk rather than at its start), `Corrupted` (a detached handle).
  [[nodiscard]] tl::expected<std::uint32_t, CoreError> index_of_offset(
      std::uint64_t offset) const noexcept;

  [[nodiscard]] std::uint32_t chunk_count() const noexcept { return m_chunk_count; }
  [[nodiscard]] std::uint64_t chunk_size() const noexcept { return m_chunk_size; }
  [[nodiscard]] std::uint64_t chunk_alignment() const noexcept { return m_alignment; }
  /// Bytes from one chunk's start to the next's.
  [[nodiscard]] std::uint64_t stride() const noexcept { return m_layout.stride; }
  /// Free chunks. Exact when the pool is quiescent; while others allocate and release it may
  /// count chunks in transit as free, but it always stays within 0..chunk_count().
  [[nodiscard]] std::uint32_t free_count() const noexcept;
  [[nodiscard]] bool attached() const noexcept { return m_shared != nullptr; }

 private:
  using Link = std::atomic<std::uint32_t>;
  using State = std::atomic<std::uint32_t>;
  static_assert(Link::is_always_lock_free);
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

  static constexpr std::uint32_t kNil = std::numeric_limits<std::uint32_t>::max();
  // Distinct non-zero patterns, so that zeroed or random memory does not pass for a state.
  static constexpr std::uint32_t kStateFree = 0x4652'4545;       // "FREE"
  static constexpr std::uint32_t kStateAllocated = 0x5553'4544;  // "USED"

  struct Layout {
    std::size_t next_offset;
    std::size_t state_offset;
    std::size_t data_offset;
    std::size_t stride;
    std::size_t total;
  };

  static constexpr bool valid_config(std::uint64_t chunk_count, std::uint64_t chunk_size,
                                     std::uint64_t alignment) noexcept {
    return chunk_count >= 1 && chunk_count <= kMaxChunkCount && chunk_size >= 1 &&
           chunk_size <= kMaxChunkSize && is_power_of_two(alignment) && alignment <= kMaxAlignment;
  }

  /// Only for a `valid_config`: the bounds there keep every sum far below 2^64.
  static constexpr Layout layout_for(std::uint64_t chunk_count, std::uint64_t chunk_size,
                                     std::uint64_t alignment) noexcept {
    const std::uint64_t chunk_alignment = alignment > kCacheLine ? alignment : kCacheLine;
    Layout layout{};
    layout.next_offset = 3 * kCacheLine;
    layout.state_offset = align_up(layout.next_offset + chunk_count * sizeof(Link), kCacheLine);
    layout.data_offset =
        align_up(layout.state_offset + chunk_count * sizeof(State), chunk_alignment);
    layout.stride = align_up(chunk_size, chunk_alignment);
    layout.total = layout.data_offset + chunk_count * layout.stride;
    return layout;
  }

  /// The part of the layout before the arrays, as it lies in shared memory.
  struct Shared {
    // Static config: written by `initialize` before `magic` is published, never changed after.
    alignas(kCacheLine) std::atomic<std::uint64_t> magic;
    std::uint32_t version;
    /// Explicit padding, so that the layout has no hole whose contents depend on the compiler.
    std::uint32_t reserved;
    std::uint64_t chunk_count;
    std::uint64_t chunk_size;
    std::uint64_t alignment;
    /// Free-list head: index of the first free chunk (kNil when none) | tag << 32.
    alignas(kCacheLine) std::atomic<std::uint64_t> head;
    /// Free chunks plus chunks in transit; see `free_count`.
    alignas(kCacheLine) std::atomic<std::uint32_t> free_count;
  };
  static_assert(std::is_standard_layout_v<Shared>);
  static_assert(sizeof(Shared) == 3 * kCacheLine);
  static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

  ChunkPool(Shared* shared, std::uint32_t chunk_count, std::uint64_t chunk_size,
            std::uint64_t alignment) noexcept;

  [[nodiscard]] Link* links() const noexcept;
  [[nodiscard]] State* states() const noexcept;

  static constexpr std::uint64_t pack(std::uint32_t index, std::uint32_t tag) noexcept {
    return (std::uint64_t{tag} << 32) | index;
  }
  static constexpr std::uint32_t index_of(std::uint64_t head) noexcept {
    return static_cast<std::uint32_t>(head);
  }
  static constexpr std::uint32_t tag_of(std::uint64_t head) noexcept {
    return static_cast<std::uint32_t>(head >> 32);
  }

  Shared* m_shared = nullptr;
  std::byte* m_base = nullptr;
  std::uint32_t m_chunk_count = 0;
  std::uint64_t m_chunk_size = 0;
  std::uint64_t m_alignment = 0;
  Layout m_layout{};
  /// log2(stride) when the stride is a power of two (it is at least 64), else 0.
  std::uint32_t m_stride_shift = 0;
};

}  // namespace axon::core
