#include "axon/core/chunk_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <random>
#include <set>
#include <thread>
#include <vector>

namespace {

using axon::core::ChunkPool;
using axon::core::CoreError;

// Layout version 1, as documented in chunk_pool.hpp: magic, version, chunk count, chunk size,
// alignment on the first line; head and free counter on the next two; links from line four.
constexpr std::size_t kVersionAt = 8;
constexpr std::size_t kChunkCountAt = 16;
constexpr std::size_t kChunkSizeAt = 24;
constexpr std::size_t kAlignmentAt = 32;
constexpr std::size_t kHeadAt = 64;
constexpr std::size_t kLinksAt = 192;

/// Heap memory with the alignment a mapping gives, freed on scope exit; sized exactly, so that
/// AddressSanitizer sees any access past the block.
class AlignedBuffer {
 public:
  explicit AlignedBuffer(std::size_t size, std::size_t alignment = 64)
      : m_size{size},
        m_data{static_cast<std::byte*>(::operator new (size, std::align_val_t{alignment})),
               Deleter{alignment}} {
    std::memset(m_data.get(), 0, m_size);
  }
  std::byte* data() const { return m_data.get(); }
  std::size_t size() const { return m_size; }
  void write_u64(std::size_t at, std::uint64_t value) { std::memcpy(data() + at, &value, 8); }
  void write_u32(std::size_t at, std::uint32_t value) { std::memcpy(data() + at, &value, 4); }

 private:
  struct Deleter {
    std::size_t alignment;
    void operator()(std::byte* p) const { ::operator delete (p, std::align_val_t{alignment}); }
  };
  std::size_t m_size;
  std::unique_ptr<std::byte, Deleter> m_data;
};

ChunkPool make_pool(AlignedBuffer& buffer, std::uint64_t count, std::uint64_t size,
                    std::uint64_t alignment) {
  auto sut = ChunkPool::initialize(buffer.data(), buffer.size(), count, size, alignment);
  EXPECT_TRUE(sut.has_value());
  return sut.value_or(ChunkPool{});
}

TEST(ChunkPool, RequiredSizeIsZeroForInvalidParameters) {
  EXPECT_EQ(ChunkPool::required_size(0, 8, 8), 0U);
  EXPECT_EQ(ChunkPool::required_size(ChunkPool::kMaxChunkCount + 1, 8, 8), 0U);
  EXPECT_EQ(ChunkPool::required_size(4, 0, 8), 0U);
  EXPECT_EQ(ChunkPool::required_size(4, ChunkPool::kMaxChunkSize + 1, 8), 0U);
  EXPECT_EQ(ChunkPool::required_size(4, 8, 0), 0U);
  EXPECT_EQ(ChunkPool::required_size(4, 8, 3), 0U);
  EXPECT_EQ(ChunkPool::required_size(4, 8, 8192), 0U);
  EXPECT_GE(ChunkPool::required_size(4, 100, 64), 4 * 128U);
}

TEST(ChunkPool, InitializeRefusesBadArguments) {
  AlignedBuffer buffer{ChunkPool::required_size(4, 64, 64) + 64};
  EXPECT_EQ(ChunkPool::initialize(nullptr, 4096, 4, 64, 64).error(), CoreError::InvalidArgument);
  EXPECT_EQ(ChunkPool::initialize(buffer.data(), buffer.size(), 0, 64, 64).error(),
            CoreError::InvalidArgument);
  EXPECT_EQ(ChunkPool::initialize(buffer.data(), buffer.size(), 4, 0, 64).error(),
            CoreError::InvalidArgument);
  EXPECT_EQ(ChunkPool::initialize(buffer.data(), buffer.size(), 4, 64, 48).error(),
            CoreError::InvalidArgument);
  EXPECT_EQ(ChunkPool::initialize(buffer.data(), buffer.size(), 4, 64, 8192).error(),
            CoreError::InvalidArgument);
  EXPECT_EQ(ChunkPool::initialize(buffer.data() + 8, buffer.size() - 8, 4, 64, 64).error(),
            CoreError::Misaligned);
  EXPECT_EQ(ChunkPool::initialize(buffer.data(), ChunkPool::required_size(4, 64, 64) - 1, 4, 64, 64)
                .error(),
            CoreError::InsufficientMemory);
}

TEST(ChunkPool, InitializeRefusesBlockLessAlignedThanTheChunks) {
  AlignedBuffer buffer{ChunkPool::required_size(2, 4096, 4096) + 4096, 4096};
  const auto sut = ChunkPool::initialize(buffer.data() + 64, buffer.size() - 64, 2, 4096, 4096);
  ASSERT_FALSE(sut.has_value());
  EXPECT_EQ(sut.error(), CoreError::Misaligned);
}

TEST(ChunkPool, AllocatesEveryChunkOnceThenNone) {
  AlignedBuffer buffer{ChunkPool::required_size(5, 32, 8)};
  auto sut = make_pool(buffer, 5, 32, 8);
  ASSERT_TRUE(sut.attached());
  std::set<std::uint32_t> taken;
  for (int i = 0; i < 5; ++i) {
    const auto index = sut.allocate();
    ASSERT_TRUE(index.has_value());
    EXPECT_LT(*index, 5U);
    taken.insert(*index);
  }
  EXPECT_EQ(taken.size(), 5U);
  EXPECT_EQ(sut.allocate(), std::nullopt);
  EXPECT_EQ(sut.allocate_checked().error(), CoreError::Empty);
  EXPECT_EQ(sut.free_count(), 0U);
}

TEST(ChunkPool, ReleasedChunkCanBeAllocatedAgain) {
  AlignedBuffer buffer{ChunkPool::required_size(2, 16, 16)};
  auto sut = make_pool(buffer, 2, 16, 16);
  const auto a = sut.allocate();
  const auto b = sut.allocate();
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(sut.release(*a).has_value());
  EXPECT_EQ(sut.free_count(), 1U);
  EXPECT_EQ(sut.allocate(), a);
  EXPECT_EQ(sut.allocate(), std::nullopt);
}

TEST(ChunkPool, ReleasingAFreeChunkIsDoubleRelease) {
  AlignedBuffer buffer{ChunkPool::required_size(3, 16, 16)};
  auto sut = make_pool(buffer, 3, 16, 16);
  const auto index = sut.allocate();
  ASSERT_TRUE(index.has_value());
  ASSERT_TRUE(sut.release(*index).has_value());
  EXPECT_EQ(sut.release(*index).error(), CoreError::DoubleRelease);
  EXPECT_EQ(sut.release((*index + 1) % 3).error(), CoreError::DoubleRelease);
  // The free list is intact: exactly three chunks come out, all different.
  std::set<std::uint32_t> taken;
  while (const auto next = sut.allocate()) {
    taken.insert(*next);
  }
  EXPECT_EQ(taken.size(), 3U);
}

TEST(ChunkPool, ReleasingAnIndexOutOfRangeIsOutOfBounds) {
  AlignedBuffer buffer{ChunkPool::required_size(3, 16, 16)};
  auto sut = make_pool(buffer, 3, 16, 16);
  EXPECT_EQ(sut.release(3).error(), CoreError::OutOfBounds);
  EXPECT_EQ(sut.release(std::numeric_limits<std::uint32_t>::max()).error(),
            CoreError::OutOfBounds);
  EXPECT_EQ(sut.free_count(), 3U);
}

TEST(ChunkPool, ChunksAreAlignedDisjointAndInsideTheBlock) {
  for (const std::uint64_t alignment : {1, 8, 64, 256, 4096}) {
    constexpr std::uint64_t kCount = 7;
    constexpr std::uint64_t kSize = 100;
    AlignedBuffer buffer{ChunkPool::required_size(kCount, kSize, alignment),
                         alignment > 64 ? alignment : 64};
    auto sut = make_pool(buffer, kCount, kSize, alignment);
    ASSERT_TRUE(sut.attached());
    for (std::uint32_t i = 0; i < kCount; ++i) {
      auto* chunk = static_cast<std::byte*>(sut.chunk(i));
      ASSERT_NE(chunk, nullptr);
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(chunk) % alignment, 0U);
      EXPECT_EQ(sut.offset_of(i) % alignment, 0U);
      EXPECT_EQ(chunk, buffer.data() + sut.offset_of(i));
      EXPECT_LE(sut.offset_of(i) + kSize, buffer.size());
      std::memset(chunk, static_cast<int>(i + 1), kSize);
    }
    for (std::uint32_t i = 0; i < kCount; ++i) {
      const auto* chunk = static_cast<const std::byte*>(sut.chunk(i));
      for (std::uint64_t b = 0; b < kSize; ++b) {
        ASSERT_EQ(chunk[b], static_cast<std::byte>(i + 1)) << "chunk " << i << " byte " << b;
      }
    }
    // The metadata survived writes to every chunk.
    std::set<std::uint32_t> taken;
    while (const auto index = sut.allocate()) {
      taken.insert(*index);
    }
    EXPECT_EQ(taken.size(), kCount) << "alignment " << alignment;
  }
}

TEST(ChunkPool, OffsetOfAndIndexOfOffsetRoundTrip) {
  AlignedBuffer buffer{ChunkPool::required_size(9, 24, 8)};
  auto sut = make_pool(buffer, 9, 24, 8);
  for (std::uint32_t i = 0; i < 9; ++i) {
    EXPECT_EQ(sut.index_of_offset(sut.offset_of(i)).value_or(99), i);
  }
}

TEST(ChunkPool, IndexOfOffsetRejectsHostileOffsets) {
  AlignedBuffer buffer{ChunkPool::required_size(4, 100, 16)};
  auto sut = make_pool(buffer, 4, 100, 16);
  const std::uint64_t first = sut.offset_of(0);
  const std::uint64_t last = sut.offset_of(3);
  const std::uint64_t size = buffer.size();
  for (const std::uint64_t offset :
       {std::uint64_t{0}, first - 1, size, last + 128, std::numeric_limits<std::uint64_t>::max(),
        ChunkPool::kInvalidOffset - 127}) {
    const auto index = sut.index_of_offset(offset);
    ASSERT_FALSE(index.has_value()) << offset;
    EXPECT_EQ(index.error(), CoreError::OutOfBounds) << offset;
  }
  // Chunks are a whole number of cache lines apart (stride 128 for 100 bytes), and the block
  // ends with the last chunk, so size - 1 is inside it.
  ASSERT_EQ(sut.stride(), 128U);
  ASSERT_EQ(size, last + 128);
  for (const std::uint64_t offset : {first + 1, first + 16, first + 127, last + 8, size - 1}) {
    const auto index = sut.index_of_offset(offset);
    ASSERT_FALSE(index.has_value()) << offset;
    EXPECT_EQ(index.error(), CoreError::Misaligned) << offset;
  }
}

TEST(ChunkPool, IndexOutOfRangeHasNoChunkAndNoOffset) {
  AlignedBuffer buffer{ChunkPool::required_size(2, 8, 8)};
  auto sut = make_pool(buffer, 2, 8, 8);
  EXPECT_EQ(sut.chunk(2), nullptr);
  const ChunkPool& read_only = sut;
  EXPECT_EQ(read_only.chunk(2), nullptr);
  EXPECT_EQ(read_only.chunk(1), sut.chunk(1));
  EXPECT_EQ(sut.chunk(std::numeric_limits<std::uint32_t>::max()), nullptr);
  EXPECT_EQ(sut.offset_of(2), ChunkPool::kInvalidOffset);
  EXPECT_FALSE(sut.index_of_offset(sut.offset_of(2)).has_value());
}

TEST(ChunkPool, ReportsItsParameters) {
  AlignedBuffer buffer{ChunkPool::required_size(6, 40, 32)};
  auto sut = make_pool(buffer, 6, 40, 32);
  EXPECT_EQ(sut.chunk_count(), 6U);
  EXPECT_EQ(sut.chunk_size(), 40U);
  EXPECT_EQ(sut.chunk_alignment(), 32U);
  EXPECT_EQ(sut.free_count(), 6U);
  EXPECT_EQ(sut.offset_of(1) - sut.offset_of(0), 64U);  // stride = align_up(40, 32)
}

TEST(ChunkPool, AttachedPoolSharesStateWithTheCreator) {
  AlignedBuffer buffer{ChunkPool::required_size(4, 64, 64)};
  auto creator = make_pool(buffer, 4, 64, 64);
  const auto index = creator.allocate();
  ASSERT_TRUE(index.has_value());
  std::memcpy(creator.chunk(*index), "payload", 8);

  auto sut = ChunkPool::attach(buffer.data(), buffer.size());
  ASSERT_TRUE(sut.has_value());
  EXPECT_EQ(sut->chunk_count(), 4U);
  EXPECT_EQ(sut->free_count(), 3U);
  const auto found = sut->index_of_offset(creator.offset_of(*index));
  ASSERT_TRUE(found.has_value());
  EXPECT_STREQ(static_cast<const char*>(sut->chunk(*found)), "payload");
  ASSERT_TRUE(sut->release(*found).has_value());
  EXPECT_EQ(creator.release(*index).error(), CoreError::DoubleRelease);
  EXPECT_EQ(creator.free_count(), 4U);
}

TEST(ChunkPool, AttachRefusesBadMagic) {
  AlignedBuffer buffer{ChunkPool::required_size(4, 64, 64)};
  make_pool(buffer, 4, 64, 64);
  buffer.data()[7] ^= std::byte{0x80};
  EXPECT_EQ(ChunkPool::attach(buffer.data(), buffer.size()).error(), CoreError::Corrupted);
}

TEST(ChunkPool, AttachRefusesOtherVersion) {
  AlignedBuffer buffer{ChunkPool::required_size(4, 64, 64)};
  make_pool(buffer, 4, 64, 64);
  buffer.write_u32(kVersionAt, 77);
  EXPECT_EQ(ChunkPool::attach(buffer.data(), buffer.size()).error(), CoreError::VersionMismatch);
}

TEST(ChunkPool, AttachRefusesTruncatedBlock) {
  AlignedBuffer buffer{ChunkPool::required_size(4, 64, 64)};
  make_pool(buffer, 4, 64, 64);
  for (const std::size_t bytes : {buffer.size() - 1, std::size_t{100}, std::size_t{0}}) {
    EXPECT_EQ(ChunkPool::attach(buffer.data(), bytes).error(), CoreError::Corrupted);
  }
}

TEST(ChunkPool, AttachRefusesParametersInconsistentWithBytes) {
  const struct {
    std::size_t at;
    std::uint64_t value;
  } corruptions[] = {
      {kChunkCountAt, 5}, {kChunkCountAt, 0}, {kChunkCountAt, ~0ULL},
      {kChunkSizeAt, 65}, {kChunkSizeAt, 0},  {kChunkSizeAt, ChunkPool::kMaxChunkSize + 1},
      {kAlignmentAt, 3},  {kAlignmentAt, 0},  {kAlignmentAt, 8192},
  };
  for (const auto& corruption : corruptions) {
    AlignedBuffer buffer{ChunkPool::required_size(4, 64, 64)};
    make_pool(buffer, 4, 64, 64);
    buffer.write_u64(corruption.at, corruption.value);
    const auto sut = ChunkPool::attach(buffer.data(), buffer.size());
    ASSERT_FALSE(sut.has_value()) << corruption.at << " = " << corruption.value;
    EXPECT_EQ(sut.error(), CoreError::Corrupted) << corruption.at << " = " << corruption.value;
  }
}

TEST(ChunkPool, AttachRefusesMappingLessAlignedThanTheChunks) {
  // A 256-aligned pool copied to an address that is only 64-aligned: offsets would no longer
  // point at aligned chunks.
  const std::size_t bytes = ChunkPool::required_size(2, 256, 256);
  AlignedBuffer original{bytes, 256};
  make_pool(original, 2, 256, 256);
  AlignedBuffer copy{bytes + 64, 256};
  std::memcpy(copy.data() + 64, original.data(), bytes);
  EXPECT_EQ(ChunkPool::attach(copy.data() + 64, bytes).error(), CoreError::Misaligned);
}

TEST(ChunkPool, CorruptedHeadIndexIsReportedNotFollowed) {
  AlignedBuffer buffer{ChunkPool::required_size(4, 8, 8)};
  auto sut = make_pool(buffer, 4, 8, 8);
  buffer.write_u64(kHeadAt, 4);  // tag 0, index 4 of 4
  EXPECT_EQ(sut.allocate_checked().error(), CoreError::Corrupted);
  EXPECT_EQ(sut.allocate(), std::nullopt);
}

TEST(ChunkPool, CorruptedLinkIsReportedNotFollowed) {
  AlignedBuffer buffer{ChunkPool::required_size(4, 8, 8)};
  auto sut = make_pool(buffer, 4, 8, 8);
  buffer.write_u32(kLinksAt + 0, 5000);  // chunk 0, the head, links past the end
  EXPECT_EQ(sut.allocate_checked().error(), CoreError::Corrupted);
}

TEST(ChunkPool, CycleInTheFreeListIsCaughtByTheStateWord) {
  AlignedBuffer buffer{ChunkPool::required_size(4, 8, 8)};
  auto sut = make_pool(buffer, 4, 8, 8);
  buffer.write_u32(kLinksAt + 0, 0);  // chunk 0 links to itself
  EXPECT_EQ(sut.allocate(), 0U);
  EXPECT_EQ(sut.allocate_checked().error(), CoreError::Corrupted);
}

TEST(ChunkPool, CorruptedStateWordMakesReleaseReportCorrupted) {
  AlignedBuffer buffer{ChunkPool::required_size(4, 8, 8)};
  auto sut = make_pool(buffer, 4, 8, 8);
  const auto index = sut.allocate();
  ASSERT_TRUE(index.has_value());
  // States follow the four links on the next line.
  buffer.write_u32(kLinksAt + 64 + std::size_t{4} * *index, 0xDEAD);
  EXPECT_EQ(sut.release(*index).error(), CoreError::Corrupted);
}

// Random bytes over parts of the block (1000 seeds): attach either refuses, or every operation
// stays inside the block (AddressSanitizer watches the exact-size buffer).
TEST(ChunkPool, RandomGarbageIsRefusedOrStaysInBounds) {
  int attached = 0;
  for (std::uint32_t seed = 0; seed < 1000; ++seed) {
    std::mt19937_64 rng{seed};
    const std::uint64_t count = 1 + rng() % 12;
    const std::uint64_t size = 1 + rng() % 80;
    const std::uint64_t alignment = std::uint64_t{1} << (rng() % 8);
    AlignedBuffer buffer{ChunkPool::required_size(count, size, alignment),
                         alignment > 64 ? alignment : 64};
    ASSERT_TRUE(make_pool(buffer, count, size, alignment).attached());
    const auto randomize = [&](std::size_t from, std::size_t to) {
      for (std::size_t i = from; i < to; ++i) {
        buffer.data()[i] = static_cast<std::byte>(rng());
      }
    };
    switch (seed % 4) {
      case 0:
        randomize(0, buffer.size());
        break;
      case 1:
        randomize(16, buffer.size());
        break;
      case 2:  // head, counter, links, states and chunks; config intact
        randomize(64, buffer.size());
        break;
      default:  // small head and links, so that some of them look valid
        randomize(64, buffer.size());
        buffer.write_u64(kHeadAt, rng() % (count + 2));
        for (std::uint64_t i = 0; i < count; ++i) {
          buffer.write_u32(kLinksAt + 4 * i, static_cast<std::uint32_t>(rng() % (count + 2)));
        }
        buffer.write_u64(kChunkCountAt, 1 + rng() % (count + 1));
        break;
    }
    const auto sut = ChunkPool::attach(buffer.data(), buffer.size());
    if (!sut) {
      continue;
    }
    ++attached;
    ChunkPool pool = *sut;
    for (int op = 0; op < 48; ++op) {
      switch (rng() % 3) {
        case 0:
          if (const auto index = pool.allocate()) {
            ASSERT_LT(*index, pool.chunk_count());
            void* chunk = pool.chunk(*index);
            ASSERT_NE(chunk, nullptr);
            std::memset(chunk, 0xAB, pool.chunk_size());
          }
          break;
        case 1:
          (void)pool.release(static_cast<std::uint32_t>(rng() % (pool.chunk_count() + 2)));
          break;
        default:
          if (const auto index = pool.index_of_offset(rng() % (buffer.size() + 16))) {
            ASSERT_NE(pool.chunk(*index), nullptr);
          }
          break;
      }
      EXPECT_LE(pool.free_count(), pool.chunk_count());
    }
  }
  EXPECT_GT(attached, 0);
}

TEST(ChunkPoolStress, FourThreadsNeverHoldTheSameChunkTwice) {
  constexpr std::uint32_t kChunks = 16;
  constexpr int kThreads = 4;
  constexpr int kRounds = 200'000;
  AlignedBuffer buffer{ChunkPool::required_size(kChunks, 64, 64)};
  auto sut = make_pool(buffer, kChunks, 64, 64);
  ASSERT_TRUE(sut.attached());

  std::vector<std::atomic<bool>> owned(kChunks);
  std::atomic<std::uint64_t> double_owned{0};
  std::atomic<std::uint64_t> failed_releases{0};
  std::atomic<std::uint64_t> corrupted{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::uint32_t> held;
      std::mt19937 rng{static_cast<std::uint32_t>(t)};
      for (int round = 0; round < kRounds; ++round) {
        // Hold up to three chunks at once, so that the list keeps changing under other threads.
        if (held.size() < 3 && (held.empty() || rng() % 2 == 0)) {
          const auto index = sut.allocate_checked();
          if (index) {
            if (owned[*index].exchange(true, std::memory_order_acq_rel)) {
              double_owned.fetch_add(1, std::memory_order_relaxed);
            }
            held.push_back(*index);
          } else if (index.error() != CoreError::Empty) {
            corrupted.fetch_add(1, std::memory_order_relaxed);
          }
        } else {
          const std::uint32_t index = held.back();
          held.pop_back();
          owned[index].store(false, std::memory_order_release);
          if (!sut.release(index)) {
            failed_releases.fetch_add(1, std::memory_order_relaxed);
          }
        }
      }
      for (const std::uint32_t index : held) {
        owned[index].store(false, std::memory_order_release);
        if (!sut.release(index)) {
          failed_releases.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(double_owned.load(), 0U);
  EXPECT_EQ(failed_releases.load(), 0U);
  EXPECT_EQ(corrupted.load(), 0U);
  EXPECT_EQ(sut.free_count(), kChunks);
  std::set<std::uint32_t> all;
  while (const auto index = sut.allocate()) {
    all.insert(*index);
  }
  EXPECT_EQ(all.size(), kChunks);
}

}  // namespace
