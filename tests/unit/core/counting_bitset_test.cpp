#include "axon/core/counting_bitset.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <random>
#include <thread>
#include <utility>
#include <vector>

namespace {

using axon::core::CoreError;
using axon::core::CountingBitset;

using Drained = std::vector<std::pair<std::uint64_t, std::uint64_t>>;

// Layout version 1, as documented in counting_bitset.hpp: magic, version, max id on the first
// line, level-0 words from the second line on.
constexpr std::size_t kVersionAt = 8;
constexpr std::size_t kMaxIdAt = 16;
constexpr std::size_t kLevel0At = 64;

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

CountingBitset make_bitset(AlignedBuffer& buffer, std::uint64_t max_id) {
  auto sut = CountingBitset::initialize(buffer.data(), buffer.size(), max_id);
  EXPECT_TRUE(sut.has_value());
  return sut.value_or(CountingBitset{});
}

Drained drain_all(const CountingBitset& sut) {
  Drained drained;
  const auto result =
      sut.drain([&](std::uint64_t id, std::uint64_t count) { drained.emplace_back(id, count); });
  EXPECT_TRUE(result.has_value());
  return drained;
}

TEST(CountingBitset, DefaultMaxIdCoversTheDemoIds) {
  AlignedBuffer buffer{CountingBitset::required_size(CountingBitset::kDefaultMaxId)};
  auto sut = CountingBitset::initialize(buffer.data(), buffer.size());
  ASSERT_TRUE(sut.has_value());
  EXPECT_EQ(sut->max_id(), 4095U);
  ASSERT_TRUE(sut->add(123).has_value());
  ASSERT_TRUE(sut->add(456).has_value());
  EXPECT_EQ(drain_all(*sut), (Drained{{123, 1}, {456, 1}}));
}

TEST(CountingBitset, RequiredSizeIsZeroAboveTheSupportedMaximum) {
  EXPECT_EQ(CountingBitset::required_size(CountingBitset::kMaxSupportedId + 1), 0U);
  EXPECT_GT(CountingBitset::required_size(CountingBitset::kMaxSupportedId), 0U);
  EXPECT_GE(CountingBitset::required_size(4095), 4096 * 8U);
}

TEST(CountingBitset, InitializeRefusesBadArguments) {
  AlignedBuffer buffer{CountingBitset::required_size(63) + 64};
  EXPECT_EQ(CountingBitset::initialize(nullptr, 4096, 63).error(), CoreError::InvalidArgument);
  EXPECT_EQ(CountingBitset::initialize(buffer.data() + 8, buffer.size() - 8, 63).error(),
            CoreError::Misaligned);
  EXPECT_EQ(
      CountingBitset::initialize(buffer.data(), buffer.size(), CountingBitset::kMaxSupportedId + 1)
          .error(),
      CoreError::InvalidArgument);
  EXPECT_EQ(
      CountingBitset::initialize(buffer.data(), CountingBitset::required_size(63) - 1, 63).error(),
      CoreError::InsufficientMemory);
}

TEST(CountingBitset, AttachedBitsetSharesStateWithTheCreator) {
  AlignedBuffer buffer{CountingBitset::required_size(200)};
  auto notifier = make_bitset(buffer, 200);
  ASSERT_TRUE(notifier.attached());
  ASSERT_TRUE(notifier.add(7, 3).has_value());

  const auto sut = CountingBitset::attach(buffer.data(), buffer.size());
  ASSERT_TRUE(sut.has_value());
  EXPECT_EQ(sut->max_id(), 200U);
  EXPECT_EQ(drain_all(*sut), (Drained{{7, 3}}));
  EXPECT_FALSE(notifier.has_pending());
}

TEST(CountingBitset, AttachRefusesBadMagic) {
  AlignedBuffer buffer{CountingBitset::required_size(63)};
  make_bitset(buffer, 63);
  buffer.data()[3] ^= std::byte{0x10};
  EXPECT_EQ(CountingBitset::attach(buffer.data(), buffer.size()).error(), CoreError::Corrupted);
}

TEST(CountingBitset, AttachRefusesOtherVersion) {
  AlignedBuffer buffer{CountingBitset::required_size(63)};
  make_bitset(buffer, 63);
  buffer.write_u32(kVersionAt, 0);
  EXPECT_EQ(CountingBitset::attach(buffer.data(), buffer.size()).error(),
            CoreError::VersionMismatch);
}

TEST(CountingBitset, AttachRefusesTruncatedBlock) {
  AlignedBuffer buffer{CountingBitset::required_size(63)};
  make_bitset(buffer, 63);
  for (const std::size_t bytes : {buffer.size() - 1, std::size_t{63}, std::size_t{0}}) {
    EXPECT_EQ(CountingBitset::attach(buffer.data(), bytes).error(), CoreError::Corrupted);
  }
}

TEST(CountingBitset, AttachRefusesMaxIdInconsistentWithBytes) {
  AlignedBuffer buffer{CountingBitset::required_size(63)};
  make_bitset(buffer, 63);
  for (const std::uint64_t max_id :
       {std::uint64_t{64}, CountingBitset::kMaxSupportedId + 1, ~std::uint64_t{0}}) {
    buffer.write_u64(kMaxIdAt, max_id);
    EXPECT_EQ(CountingBitset::attach(buffer.data(), buffer.size()).error(), CoreError::Corrupted);
  }
}

TEST(CountingBitset, SameIdAddedTwiceDrainsOnceWithCountTwo) {
  AlignedBuffer buffer{CountingBitset::required_size(4095)};
  auto sut = make_bitset(buffer, 4095);
  ASSERT_TRUE(sut.add(9).has_value());
  ASSERT_TRUE(sut.add(9).has_value());
  EXPECT_EQ(drain_all(sut), (Drained{{9, 2}}));
}

TEST(CountingBitset, CountsAccumulate) {
  AlignedBuffer buffer{CountingBitset::required_size(4095)};
  auto sut = make_bitset(buffer, 4095);
  ASSERT_TRUE(sut.add(5, 10).has_value());
  ASSERT_TRUE(sut.add(5).has_value());
  EXPECT_EQ(drain_all(sut), (Drained{{5, 11}}));
}

TEST(CountingBitset, DrainsInAscendingIdOrderWhateverTheAddOrder) {
  AlignedBuffer buffer{CountingBitset::required_size(4095)};
  auto sut = make_bitset(buffer, 4095);
  for (const std::uint64_t id : {4095, 456, 123, 0, 64, 63, 4032, 65, 1}) {
    ASSERT_TRUE(sut.add(id).has_value());
  }
  EXPECT_EQ(
      drain_all(sut),
      (Drained{
          {0, 1}, {1, 1}, {63, 1}, {64, 1}, {65, 1}, {123, 1}, {456, 1}, {4032, 1}, {4095, 1}}));
}

TEST(CountingBitset, DrainTakesEverythingSoTheNextDrainIsEmpty) {
  AlignedBuffer buffer{CountingBitset::required_size(4095)};
  auto sut = make_bitset(buffer, 4095);
  ASSERT_TRUE(sut.add(100).has_value());
  EXPECT_TRUE(sut.has_pending());
  EXPECT_EQ(drain_all(sut).size(), 1U);
  EXPECT_FALSE(sut.has_pending());
  EXPECT_TRUE(drain_all(sut).empty());
}

TEST(CountingBitset, OutOfBoundsIdIsRefusedAndNothingRecorded) {
  AlignedBuffer buffer{CountingBitset::required_size(100)};
  auto sut = make_bitset(buffer, 100);
  for (const std::uint64_t id :
       {std::uint64_t{101}, std::uint64_t{127}, std::uint64_t{4096}, ~std::uint64_t{0}}) {
    const auto added = sut.add(id);
    ASSERT_FALSE(added.has_value());
    EXPECT_EQ(added.error(), CoreError::OutOfBounds);
  }
  EXPECT_FALSE(sut.has_pending());
  EXPECT_TRUE(drain_all(sut).empty());
}

TEST(CountingBitset, ZeroCountRecordsNothing) {
  AlignedBuffer buffer{CountingBitset::required_size(10)};
  auto sut = make_bitset(buffer, 10);
  ASSERT_TRUE(sut.add(3, 0).has_value());
  EXPECT_FALSE(sut.has_pending());
}

TEST(CountingBitset, EveryIdFromZeroToMaxIsDeliverable) {
  for (const std::uint64_t max_id :
       {std::uint64_t{0}, std::uint64_t{63}, std::uint64_t{64}, std::uint64_t{4095},
        std::uint64_t{4096}, std::uint64_t{70000}}) {
    AlignedBuffer buffer{CountingBitset::required_size(max_id)};
    auto sut = make_bitset(buffer, max_id);
    ASSERT_TRUE(sut.attached());
    for (std::uint64_t id = 0; id <= max_id; ++id) {
      ASSERT_TRUE(sut.add(id, id + 1).has_value());
    }
    std::uint64_t expected_id = 0;
    bool all_match = true;
    ASSERT_TRUE(sut.drain([&](std::uint64_t id, std::uint64_t count) {
                     all_match = all_match && id == expected_id && count == id + 1;
                     ++expected_id;
                   })
                    .has_value());
    EXPECT_TRUE(all_match) << "max_id " << max_id;
    EXPECT_EQ(expected_id, max_id + 1) << "max_id " << max_id;
  }
}

TEST(CountingBitset, LargestSupportedMaxIdDeliversItsEdges) {
  constexpr std::uint64_t kMax = CountingBitset::kMaxSupportedId;
  AlignedBuffer buffer{CountingBitset::required_size(kMax)};
  auto sut = make_bitset(buffer, kMax);
  ASSERT_TRUE(sut.attached());
  for (const std::uint64_t id :
       {kMax, kMax - 1, std::uint64_t{0}, std::uint64_t{262143}, std::uint64_t{262144}}) {
    ASSERT_TRUE(sut.add(id).has_value());
  }
  EXPECT_EQ(sut.add(kMax + 1).error(), CoreError::OutOfBounds);
  EXPECT_EQ(drain_all(sut), (Drained{{0, 1}, {262143, 1}, {262144, 1}, {kMax - 1, 1}, {kMax, 1}}));
}

TEST(CountingBitset, AddFromInsideTheCallbackIsNotLost) {
  AlignedBuffer buffer{CountingBitset::required_size(4095)};
  auto sut = make_bitset(buffer, 4095);
  ASSERT_TRUE(sut.add(10).has_value());
  Drained drained;
  ASSERT_TRUE(sut.drain([&](std::uint64_t id, std::uint64_t count) {
                   drained.emplace_back(id, count);
                   if (id == 10) {
                     (void)sut.add(10);
                     (void)sut.add(3);
                   }
                 })
                  .has_value());
  const Drained rest = drain_all(sut);
  drained.insert(drained.end(), rest.begin(), rest.end());
  std::uint64_t total_10 = 0;
  std::uint64_t total_3 = 0;
  for (const auto& [id, count] : drained) {
    (id == 10 ? total_10 : total_3) += count;
  }
  EXPECT_EQ(total_10, 2U);
  EXPECT_EQ(total_3, 1U);
}

TEST(CountingBitset, StraySummaryBitsAreSkipped) {
  // Max id 100: one level-0 word on the second line, two level-1 words on the third.
  constexpr std::size_t kLevel1Word1At = 2 * 64 + 8;
  AlignedBuffer buffer{CountingBitset::required_size(100)};
  auto sut = make_bitset(buffer, 100);
  ASSERT_TRUE(sut.add(100).has_value());  // id 100 is bit 36 of level-1 word 1
  // Level-1 word 5 does not exist.
  buffer.write_u64(kLevel0At, 0b100011);
  // Id 124 is past the max.
  buffer.write_u64(kLevel1Word1At, (std::uint64_t{1} << 60) | (std::uint64_t{1} << 36));
  EXPECT_EQ(drain_all(sut), (Drained{{100, 1}}));
}

TEST(CountingBitset, MaxIdRewrittenAfterAttachIsNotTrusted) {
  // A peer raises the stored max id after we attached: our handle keeps the validated copy, so
  // ids past the real max stay refused and nothing is written past the block (ASan watches it).
  AlignedBuffer buffer{CountingBitset::required_size(10)};
  auto sut = make_bitset(buffer, 10);
  for (const std::uint64_t forged : {std::uint64_t{5000}, ~std::uint64_t{0}}) {
    buffer.write_u64(kMaxIdAt, forged);
    EXPECT_EQ(sut.max_id(), 10U);
    EXPECT_EQ(sut.add(4000).error(), CoreError::OutOfBounds);
    ASSERT_TRUE(sut.add(10).has_value());
    EXPECT_EQ(drain_all(sut), (Drained{{10, 1}}));
  }
  EXPECT_EQ(CountingBitset::attach(buffer.data(), buffer.size()).error(), CoreError::Corrupted);
}

TEST(CountingBitset, DetachedHandleReportsCorrupted) {
  const CountingBitset sut;
  EXPECT_FALSE(sut.attached());
  EXPECT_EQ(sut.add(1).error(), CoreError::Corrupted);
  EXPECT_EQ(sut.drain([](std::uint64_t, std::uint64_t) {}).error(), CoreError::Corrupted);
  EXPECT_FALSE(sut.has_pending());
}

// Random bytes over parts of the block (1000 seeds): attach either refuses, or drains deliver
// only ids up to the max in ascending order and nothing touches memory outside the block.
TEST(CountingBitset, RandomGarbageIsRefusedOrStaysInBounds) {
  int attached = 0;
  for (std::uint32_t seed = 0; seed < 1000; ++seed) {
    std::mt19937_64 rng{seed};
    const std::uint64_t max_id = rng() % 300;
    AlignedBuffer buffer{CountingBitset::required_size(max_id)};
    ASSERT_TRUE(make_bitset(buffer, max_id).attached());
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
      case 2:
        randomize(64, buffer.size());
        break;
      default:
        randomize(64, buffer.size());
        buffer.write_u64(kMaxIdAt, rng() % (2 * max_id + 2));
        break;
    }
    const auto sut = CountingBitset::attach(buffer.data(), buffer.size());
    if (!sut) {
      continue;
    }
    ++attached;
    const CountingBitset& bitset = *sut;
    for (int round = 0; round < 3; ++round) {
      std::uint64_t previous = 0;
      bool first = true;
      ASSERT_TRUE(bitset
                      .drain([&](std::uint64_t id, std::uint64_t count) {
                        EXPECT_LE(id, bitset.max_id());
                        EXPECT_GT(count, 0U);
                        EXPECT_TRUE(first || id > previous);
                        first = false;
                        previous = id;
                      })
                      .has_value());
      (void)bitset.add(rng() % (bitset.max_id() + 3));
    }
  }
  EXPECT_GT(attached, 0);
}

TEST(CountingBitsetStress, FourAddersAndOneDrainerLoseNoCount) {
  constexpr std::uint64_t kIds = 10;
  constexpr int kAdders = 4;
  constexpr int kAddsPerAdder = 100'000;
  AlignedBuffer buffer{CountingBitset::required_size(4095)};
  auto sut = make_bitset(buffer, 4095);
  ASSERT_TRUE(sut.attached());

  std::atomic<int> finished{0};
  std::atomic<std::uint64_t> refused{0};
  std::vector<std::thread> adders;
  adders.reserve(kAdders);
  for (int t = 0; t < kAdders; ++t) {
    adders.emplace_back([&, t] {
      for (int i = 0; i < kAddsPerAdder; ++i) {
        // Ids spread over two level-1 words so both summary levels see traffic.
        const std::uint64_t id = (static_cast<std::uint64_t>(i + t) % kIds) * 13;
        if (!sut.add(id)) {
          refused.fetch_add(1, std::memory_order_relaxed);
        }
      }
      finished.fetch_add(1, std::memory_order_release);
    });
  }

  std::vector<std::uint64_t> totals(kIds * 13, 0);
  bool ascending = true;
  const auto take = [&] {
    std::uint64_t previous = 0;
    bool first = true;
    (void)sut.drain([&](std::uint64_t id, std::uint64_t count) {
      ascending = ascending && (first || id > previous);
      first = false;
      previous = id;
      totals[id] += count;
    });
  };
  while (finished.load(std::memory_order_acquire) < kAdders) {
    take();
    std::this_thread::yield();
  }
  for (auto& adder : adders) {
    adder.join();
  }
  take();

  EXPECT_EQ(refused.load(), 0U);
  EXPECT_TRUE(ascending);
  std::uint64_t sum = 0;
  for (std::uint64_t id = 0; id < kIds; ++id) {
    EXPECT_EQ(totals[id * 13], std::uint64_t{kAdders} * kAddsPerAdder / kIds) << "id " << id * 13;
    sum += totals[id * 13];
  }
  EXPECT_EQ(sum, std::uint64_t{kAdders} * kAddsPerAdder);
  EXPECT_FALSE(sut.has_pending());
}

}  // namespace
