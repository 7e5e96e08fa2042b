#include "axon/core/spsc_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <random>
#include <thread>
#include <vector>

namespace {

using axon::core::CoreError;
using axon::core::SpscIndexQueue;

// Layout version 1, as documented in spsc_queue.hpp: magic, version, capacity on the first
// line; write and read counters on the next two.
constexpr std::size_t kVersionAt = 8;
constexpr std::size_t kCapacityAt = 16;
constexpr std::size_t kWriteAt = 64;
constexpr std::size_t kReadAt = 128;

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

/// A deadline for spin loops, so that a lost wake-up fails the test instead of hanging it.
class Watchdog {
 public:
  explicit Watchdog(std::chrono::seconds limit)
      : m_deadline{std::chrono::steady_clock::now() + limit} {}
  bool expired() {
    return (++m_polls % 1024 == 0) && std::chrono::steady_clock::now() > m_deadline;
  }

 private:
  std::chrono::steady_clock::time_point m_deadline;
  std::uint64_t m_polls{0};
};

SpscIndexQueue* make_queue(AlignedBuffer& buffer, std::uint64_t capacity) {
  auto sut = SpscIndexQueue::initialize(buffer.data(), buffer.size(), capacity);
  EXPECT_TRUE(sut.has_value());
  return sut.value_or(nullptr);
}

TEST(SpscIndexQueue, RequiredSizeCoversHeaderAndSlots) {
  EXPECT_EQ(SpscIndexQueue::required_size(1), 3 * 64 + 8U);
  EXPECT_EQ(SpscIndexQueue::required_size(100), 3 * 64 + 800U);
  EXPECT_EQ(SpscIndexQueue::required_size(0), 0U);
  EXPECT_EQ(SpscIndexQueue::required_size(SpscIndexQueue::kMaxCapacity + 1), 0U);
}

TEST(SpscIndexQueue, InitializeRefusesNullMemory) {
  const auto sut = SpscIndexQueue::initialize(nullptr, 4096, 4);
  ASSERT_FALSE(sut.has_value());
  EXPECT_EQ(sut.error(), CoreError::InvalidArgument);
}

TEST(SpscIndexQueue, InitializeRefusesMisalignedMemory) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(4) + 64};
  const auto sut = SpscIndexQueue::initialize(buffer.data() + 8, buffer.size() - 8, 4);
  ASSERT_FALSE(sut.has_value());
  EXPECT_EQ(sut.error(), CoreError::Misaligned);
}

TEST(SpscIndexQueue, InitializeRefusesCapacityOutOfRange) {
  AlignedBuffer buffer{4096};
  for (const std::uint64_t capacity : {std::uint64_t{0}, SpscIndexQueue::kMaxCapacity + 1}) {
    const auto sut = SpscIndexQueue::initialize(buffer.data(), buffer.size(), capacity);
    ASSERT_FALSE(sut.has_value());
    EXPECT_EQ(sut.error(), CoreError::InvalidArgument);
  }
}

TEST(SpscIndexQueue, InitializeRefusesTooFewBytes) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(8) - 1};
  const auto sut = SpscIndexQueue::initialize(buffer.data(), buffer.size(), 8);
  ASSERT_FALSE(sut.has_value());
  EXPECT_EQ(sut.error(), CoreError::InsufficientMemory);
}

TEST(SpscIndexQueue, AttachedQueueSharesStateWithTheCreator) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(4)};
  SpscIndexQueue* producer = make_queue(buffer, 4);
  ASSERT_NE(producer, nullptr);
  ASSERT_TRUE(producer->try_push(42));

  const auto sut = SpscIndexQueue::attach(buffer.data(), buffer.size());
  ASSERT_TRUE(sut.has_value());
  EXPECT_EQ((*sut)->capacity(), 4U);
  EXPECT_EQ((*sut)->try_pop(), 42U);
  EXPECT_TRUE(producer->empty());
}

TEST(SpscIndexQueue, AttachRefusesBadMagic) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(4)};
  make_queue(buffer, 4);
  buffer.data()[0] ^= std::byte{1};
  const auto sut = SpscIndexQueue::attach(buffer.data(), buffer.size());
  ASSERT_FALSE(sut.has_value());
  EXPECT_EQ(sut.error(), CoreError::Corrupted);
}

TEST(SpscIndexQueue, AttachRefusesNeverInitializedMemory) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(4)};
  const auto sut = SpscIndexQueue::attach(buffer.data(), buffer.size());
  ASSERT_FALSE(sut.has_value());
  EXPECT_EQ(sut.error(), CoreError::Corrupted);
}

TEST(SpscIndexQueue, AttachRefusesOtherVersion) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(4)};
  make_queue(buffer, 4);
  buffer.write_u32(kVersionAt, SpscIndexQueue::kVersion + 1);
  const auto sut = SpscIndexQueue::attach(buffer.data(), buffer.size());
  ASSERT_FALSE(sut.has_value());
  EXPECT_EQ(sut.error(), CoreError::VersionMismatch);
}

TEST(SpscIndexQueue, AttachRefusesTruncatedBlock) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(4)};
  make_queue(buffer, 4);
  for (const std::size_t bytes : {buffer.size() - 1, std::size_t{64}, std::size_t{0}}) {
    const auto sut = SpscIndexQueue::attach(buffer.data(), bytes);
    ASSERT_FALSE(sut.has_value());
    EXPECT_EQ(sut.error(), CoreError::Corrupted);
  }
}

TEST(SpscIndexQueue, AttachRefusesCapacityInconsistentWithBytes) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(4)};
  make_queue(buffer, 4);
  for (const std::uint64_t capacity :
       {std::uint64_t{5}, std::uint64_t{0}, SpscIndexQueue::kMaxCapacity + 1, ~std::uint64_t{0}}) {
    buffer.write_u64(kCapacityAt, capacity);
    const auto sut = SpscIndexQueue::attach(buffer.data(), buffer.size());
    ASSERT_FALSE(sut.has_value());
    EXPECT_EQ(sut.error(), CoreError::Corrupted);
  }
}

TEST(SpscIndexQueue, AttachRefusesNullAndMisalignedMemory) {
  EXPECT_EQ(SpscIndexQueue::attach(nullptr, 4096).error(), CoreError::InvalidArgument);
  AlignedBuffer buffer{4096};
  EXPECT_EQ(SpscIndexQueue::attach(buffer.data() + 8, 4000).error(), CoreError::Misaligned);
}

TEST(SpscIndexQueue, PopsInFifoOrder) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(8)};
  SpscIndexQueue* sut = make_queue(buffer, 8);
  for (std::uint64_t v = 10; v < 15; ++v) {
    ASSERT_TRUE(sut->try_push(v));
  }
  for (std::uint64_t v = 10; v < 15; ++v) {
    EXPECT_EQ(sut->try_pop(), v);
  }
  EXPECT_EQ(sut->try_pop(), std::nullopt);
}

TEST(SpscIndexQueue, PopOnEmptyQueueIsNothingNotAnError) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(2)};
  SpscIndexQueue* sut = make_queue(buffer, 2);
  const auto popped = sut->pop();
  ASSERT_TRUE(popped.has_value());
  EXPECT_EQ(*popped, std::nullopt);
  EXPECT_TRUE(sut->empty());
}

TEST(SpscIndexQueue, PushOnFullQueueFailsWithFull) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(3)};
  SpscIndexQueue* sut = make_queue(buffer, 3);
  for (std::uint64_t v = 0; v < 3; ++v) {
    ASSERT_TRUE(sut->try_push(v));
  }
  EXPECT_FALSE(sut->try_push(99));
  const auto pushed = sut->push(99);
  ASSERT_FALSE(pushed.has_value());
  EXPECT_EQ(pushed.error(), CoreError::Full);
  EXPECT_EQ(sut->size(), 3U);
  EXPECT_EQ(sut->try_pop(), 0U);
  EXPECT_TRUE(sut->try_push(99));
}

TEST(SpscIndexQueue, PushOverwriteOnFullQueueEvictsAndReturnsTheOldest) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(3)};
  SpscIndexQueue* sut = make_queue(buffer, 3);
  for (std::uint64_t v = 1; v <= 3; ++v) {
    ASSERT_TRUE(sut->try_push(v));
  }
  EXPECT_EQ(sut->push_overwrite(4), 1U);
  EXPECT_EQ(sut->push_overwrite(5), 2U);
  EXPECT_EQ(sut->size(), 3U);
  EXPECT_EQ(sut->try_pop(), 3U);
  EXPECT_EQ(sut->try_pop(), 4U);
  EXPECT_EQ(sut->try_pop(), 5U);
  EXPECT_EQ(sut->try_pop(), std::nullopt);
}

TEST(SpscIndexQueue, PushOverwriteWithRoomEvictsNothing) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(2)};
  SpscIndexQueue* sut = make_queue(buffer, 2);
  EXPECT_EQ(sut->push_overwrite(7), std::nullopt);
  EXPECT_EQ(sut->try_pop(), 7U);
}

TEST(SpscIndexQueue, CapacityOneKeepsOnlyTheNewest) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(1)};
  SpscIndexQueue* sut = make_queue(buffer, 1);
  EXPECT_TRUE(sut->try_push(1));
  EXPECT_FALSE(sut->try_push(2));
  EXPECT_EQ(sut->push_overwrite(2), 1U);
  EXPECT_EQ(sut->push_overwrite(3), 2U);
  EXPECT_EQ(sut->try_pop(), 3U);
  EXPECT_TRUE(sut->empty());
}

TEST(SpscIndexQueue, WrapsAroundManyTimesInOrder) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(5)};
  SpscIndexQueue* sut = make_queue(buffer, 5);
  std::uint64_t next_push = 0;
  std::uint64_t next_pop = 0;
  for (int round = 0; round < 100; ++round) {
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(sut->try_push(next_push++));
    }
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(sut->try_pop(), next_pop++);
    }
  }
  EXPECT_TRUE(sut->empty());
}

TEST(SpscIndexQueue, HoldsFullSixtyFourBitValues) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(2)};
  SpscIndexQueue* sut = make_queue(buffer, 2);
  ASSERT_TRUE(sut->try_push(~std::uint64_t{0}));
  EXPECT_EQ(sut->try_pop(), ~std::uint64_t{0});
}

TEST(SpscIndexQueue, WriteCounterTooFarAheadIsReportedCorrupted) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(4)};
  SpscIndexQueue* sut = make_queue(buffer, 4);
  buffer.write_u64(kWriteAt, 100);
  buffer.write_u64(kReadAt, 10);
  const auto popped = sut->pop();
  ASSERT_FALSE(popped.has_value());
  EXPECT_EQ(popped.error(), CoreError::Corrupted);
  EXPECT_EQ(sut->try_pop(), std::nullopt);
  EXPECT_EQ(sut->push(1).error(), CoreError::Corrupted);
  EXPECT_EQ(sut->push_overwrite_checked(1).error(), CoreError::Corrupted);
  EXPECT_EQ(sut->push_overwrite(1), std::nullopt);
  EXPECT_EQ(sut->size(), 4U);
}

TEST(SpscIndexQueue, ReadCounterAheadOfWriteIsReportedCorrupted) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(4)};
  SpscIndexQueue* sut = make_queue(buffer, 4);
  buffer.write_u64(kWriteAt, 3);
  buffer.write_u64(kReadAt, 5);
  EXPECT_EQ(sut->pop().error(), CoreError::Corrupted);
  EXPECT_EQ(sut->push(1).error(), CoreError::Corrupted);
  EXPECT_EQ(sut->size(), 0U);
}

TEST(SpscIndexQueue, CountersNearWrapAroundStillWork) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(3)};
  SpscIndexQueue* sut = make_queue(buffer, 3);
  const std::uint64_t start = ~std::uint64_t{0} - 4;
  buffer.write_u64(kWriteAt, start);
  buffer.write_u64(kReadAt, start);
  for (std::uint64_t v = 0; v < 20; ++v) {
    ASSERT_TRUE(sut->try_push(v));
    ASSERT_EQ(sut->try_pop(), v);
  }
}

// Random bytes over parts of the block (1000 seeds): attach either refuses, or every operation
// stays inside the block (AddressSanitizer watches the exact-size buffer) and keeps its promises.
TEST(SpscIndexQueue, RandomGarbageIsRefusedOrStaysInBounds) {
  int attached = 0;
  for (std::uint32_t seed = 0; seed < 1000; ++seed) {
    std::mt19937_64 rng{seed};
    const std::uint64_t capacity = 1 + rng() % 16;
    AlignedBuffer buffer{SpscIndexQueue::required_size(capacity)};
    ASSERT_NE(make_queue(buffer, capacity), nullptr);
    const auto randomize = [&](std::size_t from, std::size_t to) {
      for (std::size_t i = from; i < to; ++i) {
        buffer.data()[i] = static_cast<std::byte>(rng());
      }
    };
    switch (seed % 4) {
      case 0:  // everything: the magic almost surely breaks
        randomize(0, buffer.size());
        break;
      case 1:  // all but magic and version
        randomize(16, buffer.size());
        break;
      case 2:  // counters and slots, config intact
        randomize(64, buffer.size());
        break;
      default:  // small counters near each other, and a capacity that may not fit
        randomize(64, buffer.size());
        buffer.write_u64(kCapacityAt, rng() % (2 * capacity + 1));
        buffer.write_u64(kWriteAt, rng() % 64);
        buffer.write_u64(kReadAt, rng() % 64);
        break;
    }
    const auto sut = SpscIndexQueue::attach(buffer.data(), buffer.size());
    if (!sut) {
      continue;
    }
    ++attached;
    SpscIndexQueue* queue = *sut;
    for (int op = 0; op < 64; ++op) {
      switch (rng() % 4) {
        case 0:
          (void)queue->try_push(rng());
          break;
        case 1:
          (void)queue->try_pop();
          break;
        case 2:
          (void)queue->push_overwrite(rng());
          break;
        default:
          EXPECT_LE(queue->size(), queue->capacity());
          break;
      }
    }
  }
  EXPECT_GT(attached, 0);
}

TEST(SpscIndexQueueStress, OneProducerOneConsumerDeliverMillionValuesInOrder) {
  constexpr std::uint64_t kCount = 1'000'000;
  AlignedBuffer buffer{SpscIndexQueue::required_size(1024)};
  SpscIndexQueue* sut = make_queue(buffer, 1024);
  ASSERT_NE(sut, nullptr);
  std::atomic<bool> timed_out{false};

  std::thread producer{[&] {
    Watchdog watchdog{std::chrono::seconds{60}};
    for (std::uint64_t v = 0; v < kCount; ++v) {
      while (!sut->try_push(v)) {
        if (watchdog.expired()) {
          timed_out = true;
          return;
        }
        std::this_thread::yield();
      }
    }
  }};

  std::uint64_t expected = 0;
  std::uint64_t out_of_order = 0;
  Watchdog watchdog{std::chrono::seconds{60}};
  while (expected < kCount && !timed_out) {
    if (const auto value = sut->try_pop()) {
      out_of_order += (*value != expected) ? 1 : 0;
      ++expected;
    } else if (watchdog.expired()) {
      timed_out = true;
    } else {
      std::this_thread::yield();
    }
  }
  producer.join();
  EXPECT_FALSE(timed_out);
  EXPECT_EQ(expected, kCount);
  EXPECT_EQ(out_of_order, 0U);
  EXPECT_TRUE(sut->empty());
}

TEST(SpscIndexQueueStress, PushOverwriteWithConcurrentConsumerLosesNothing) {
  constexpr std::uint64_t kCount = 200'000;
  AlignedBuffer buffer{SpscIndexQueue::required_size(8)};
  SpscIndexQueue* sut = make_queue(buffer, 8);
  ASSERT_NE(sut, nullptr);
  std::atomic<bool> done{false};
  std::atomic<int> ready{0};
  std::atomic<std::uint64_t> popped_count{0};
  std::vector<std::uint64_t> evicted;
  const auto start_together = [&ready] {
    ready.fetch_add(1, std::memory_order_acq_rel);
    while (ready.load(std::memory_order_acquire) < 2) {
      std::this_thread::yield();
    }
  };

  std::thread producer{[&] {
    start_together();
    std::uint64_t seen = 0;
    for (std::uint64_t v = 0; v < kCount; ++v) {
      if (const auto oldest = sut->push_overwrite(v)) {
        evicted.push_back(*oldest);
      }
      // A producer running alone only ever evicts. Every 16 values, give a running consumer a
      // moment to pop, so that its pops race our evictions. Bounded spinning, no yield: on a
      // loaded machine a yield can cost a whole time slice.
      if (v % 16 == 0) {
        for (int spin = 0; spin < 1'000; ++spin) {
          if (popped_count.load(std::memory_order_relaxed) != seen) {
            break;
          }
        }
        seen = popped_count.load(std::memory_order_relaxed);
      }
    }
    done.store(true, std::memory_order_release);
  }};

  start_together();
  std::vector<std::uint64_t> popped;
  while (true) {
    const bool finished = done.load(std::memory_order_acquire);
    while (const auto value = sut->try_pop()) {
      popped.push_back(*value);
      popped_count.fetch_add(1, std::memory_order_relaxed);
    }
    if (finished) {
      break;
    }
  }
  producer.join();

  for (std::size_t i = 1; i < popped.size(); ++i) {
    ASSERT_LT(popped[i - 1], popped[i]) << "at " << i;
  }
  for (std::size_t i = 1; i < evicted.size(); ++i) {
    ASSERT_LT(evicted[i - 1], evicted[i]) << "at " << i;
  }
  EXPECT_EQ(popped.size() + evicted.size(), kCount);
  std::vector<bool> seen(kCount, false);
  for (const auto* list : {&popped, &evicted}) {
    for (const std::uint64_t v : *list) {
      ASSERT_LT(v, kCount);
      EXPECT_FALSE(seen[v]) << "value " << v << " delivered twice";
      seen[v] = true;
    }
  }
}

}  // namespace
