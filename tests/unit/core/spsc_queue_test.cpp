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

using Mode = SpscIndexQueue::Mode;

// Layout version 3, as documented in spsc_queue.hpp: magic, version, mode, capacity on the first
// line; write and read counters on the next two; then 16-byte slots {sequence, value}.
constexpr std::size_t kVersionAt = 8;
constexpr std::size_t kModeAt = 12;
constexpr std::size_t kCapacityAt = 16;
constexpr std::size_t kWriteAt = 64;
constexpr std::size_t kReadAt = 128;
constexpr std::size_t kSlotsAt = 192;
constexpr std::size_t sequence_at(std::size_t slot) { return kSlotsAt + 16 * slot; }

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

SpscIndexQueue make_queue(AlignedBuffer& buffer, std::uint64_t capacity,
                          Mode mode = Mode::Bounded) {
  auto sut = SpscIndexQueue::initialize(buffer.data(), buffer.size(), capacity, mode);
  EXPECT_TRUE(sut.has_value());
  return sut ? std::move(*sut) : SpscIndexQueue{};
}

/// A second handle on the same block: the other side of the queue, as another process has it.
SpscIndexQueue attach_queue(AlignedBuffer& buffer) {
  auto sut = SpscIndexQueue::attach(buffer.data(), buffer.size());
  EXPECT_TRUE(sut.has_value());
  return sut ? std::move(*sut) : SpscIndexQueue{};
}

TEST(SpscIndexQueue, RequiredSizeCoversHeaderAndSlots) {
  EXPECT_EQ(SpscIndexQueue::required_size(1), 3 * 64 + 16U);
  EXPECT_EQ(SpscIndexQueue::required_size(100), 3 * 64 + 1600U);
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
  auto producer = make_queue(buffer, 4);
  ASSERT_TRUE(producer.attached());
  ASSERT_TRUE(producer.try_push(42));

  auto sut = SpscIndexQueue::attach(buffer.data(), buffer.size());
  ASSERT_TRUE(sut.has_value());
  EXPECT_EQ(sut->capacity(), 4U);
  EXPECT_EQ(sut->try_pop(), 42U);
  EXPECT_TRUE(producer.empty());
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
  auto sut = make_queue(buffer, 8);
  for (std::uint64_t v = 10; v < 15; ++v) {
    ASSERT_TRUE(sut.try_push(v));
  }
  for (std::uint64_t v = 10; v < 15; ++v) {
    EXPECT_EQ(sut.try_pop(), v);
  }
  EXPECT_EQ(sut.try_pop(), std::nullopt);
}

TEST(SpscIndexQueue, PopOnEmptyQueueIsNothingNotAnError) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(2)};
  auto sut = make_queue(buffer, 2);
  const auto popped = sut.pop();
  ASSERT_TRUE(popped.has_value());
  EXPECT_EQ(*popped, std::nullopt);
  EXPECT_TRUE(sut.empty());
}

TEST(SpscIndexQueue, PushOnFullQueueFailsWithFull) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(3)};
  auto sut = make_queue(buffer, 3);
  for (std::uint64_t v = 0; v < 3; ++v) {
    ASSERT_TRUE(sut.try_push(v));
  }
  EXPECT_FALSE(sut.try_push(99));
  const auto pushed = sut.push(99);
  ASSERT_FALSE(pushed.has_value());
  EXPECT_EQ(pushed.error(), CoreError::Full);
  EXPECT_EQ(sut.size(), 3U);
  EXPECT_EQ(sut.try_pop(), 0U);
  EXPECT_TRUE(sut.try_push(99));
}

TEST(SpscIndexQueue, PushOverwriteOnFullQueueEvictsTheOldest) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(3)};
  auto sut = make_queue(buffer, 3, Mode::Overwriting);
  for (std::uint64_t v = 1; v <= 3; ++v) {
    ASSERT_EQ(sut.push_overwrite(v), false);
  }
  EXPECT_EQ(sut.push_overwrite(4), true);  // evicts 1
  EXPECT_EQ(sut.push_overwrite(5), true);  // evicts 2
  EXPECT_EQ(sut.size(), 3U);
  EXPECT_EQ(sut.try_pop(), 3U);
  EXPECT_EQ(sut.try_pop(), 4U);
  EXPECT_EQ(sut.try_pop(), 5U);
  EXPECT_EQ(sut.try_pop(), std::nullopt);
}

TEST(SpscIndexQueue, PushOverwriteWithRoomEvictsNothing) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(2)};
  auto sut = make_queue(buffer, 2, Mode::Overwriting);
  EXPECT_EQ(sut.push_overwrite(7), false);
  EXPECT_EQ(sut.try_pop(), 7U);
}

TEST(SpscIndexQueue, PushOverwriteOverATakenElementEvictsNothing) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(2)};
  auto sut = make_queue(buffer, 2, Mode::Overwriting);
  ASSERT_EQ(sut.push_overwrite(1), false);
  ASSERT_EQ(sut.push_overwrite(2), false);
  ASSERT_EQ(sut.try_pop(), 1U);
  EXPECT_EQ(sut.push_overwrite(3), false);  // 1's slot: the consumer owns 1
  EXPECT_EQ(sut.push_overwrite(4), true);   // 2's slot: 2 was never taken
  EXPECT_EQ(sut.try_pop(), 3U);
  EXPECT_EQ(sut.try_pop(), 4U);
}

TEST(SpscIndexQueue, CapacityOneKeepsOnlyTheNewest) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(1)};
  auto sut = make_queue(buffer, 1, Mode::Overwriting);
  EXPECT_EQ(sut.push_overwrite(1), false);
  EXPECT_EQ(sut.push_overwrite(2), true);
  EXPECT_EQ(sut.push_overwrite(3), true);
  EXPECT_EQ(sut.try_pop(), 3U);
  EXPECT_TRUE(sut.empty());
}

TEST(SpscIndexQueue, PopNewestTakesTheOldestOfTheWindowAndLeavesTheRestToEviction) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(10)};
  auto sut = make_queue(buffer, 10, Mode::Overwriting);
  for (std::uint64_t v = 0; v < 8; ++v) {
    ASSERT_EQ(sut.push_overwrite(v), false);
  }
  EXPECT_EQ(sut.pop_newest(2).value(), std::optional<std::uint64_t>{6});
  EXPECT_EQ(sut.pop_newest(2).value(), std::optional<std::uint64_t>{7});
  EXPECT_EQ(sut.pop_newest(2).value(), std::optional<std::uint64_t>{});
  // Positions 0..5 were skipped, not taken: the producer gets exactly those back when it laps
  // them, and nothing of 6 and 7, which the consumer owns.
  int evictions = 0;
  for (std::uint64_t v = 8; v < 18; ++v) {
    const auto evicted = sut.push_overwrite(v);
    ASSERT_TRUE(evicted.has_value());
    evictions += *evicted ? 1 : 0;
    EXPECT_EQ(*evicted, v >= 10 && v < 16) << "pushing " << v;
  }
  EXPECT_EQ(evictions, 6);
  EXPECT_EQ(sut.pop_newest(3).value(), std::optional<std::uint64_t>{15});
}

TEST(SpscIndexQueue, WrapsAroundManyTimesInOrder) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(5)};
  auto sut = make_queue(buffer, 5);
  std::uint64_t next_push = 0;
  std::uint64_t next_pop = 0;
  for (int round = 0; round < 100; ++round) {
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(sut.try_push(next_push++));
    }
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(sut.try_pop(), next_pop++);
    }
  }
  EXPECT_TRUE(sut.empty());
}

TEST(SpscIndexQueue, HoldsFullSixtyFourBitValues) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(2)};
  auto sut = make_queue(buffer, 2);
  ASSERT_TRUE(sut.try_push(~std::uint64_t{0}));
  EXPECT_EQ(sut.try_pop(), ~std::uint64_t{0});
}

TEST(SpscIndexQueue, PushOverwriteOnBoundedQueueIsRefused) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(2)};
  auto sut = make_queue(buffer, 2);
  EXPECT_EQ(sut.push_overwrite(1).error(), CoreError::InvalidArgument);
  EXPECT_TRUE(sut.empty());
}

TEST(SpscIndexQueue, PushOnOverwritingQueueIsRefused) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(2)};
  auto sut = make_queue(buffer, 2, Mode::Overwriting);
  EXPECT_EQ(sut.push(1).error(), CoreError::InvalidArgument);
  EXPECT_TRUE(sut.empty());
}

TEST(SpscIndexQueue, DetachedHandleReportsCorrupted) {
  SpscIndexQueue sut;
  EXPECT_FALSE(sut.attached());
  EXPECT_EQ(sut.push(1).error(), CoreError::Corrupted);
  EXPECT_EQ(sut.pop().error(), CoreError::Corrupted);
  EXPECT_EQ(sut.size(), 0U);
}

TEST(SpscIndexQueue, AttachRefusesCountersNoProducerCouldWrite) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(4)};
  make_queue(buffer, 4);
  buffer.write_u64(kWriteAt, 100);  // 90 queued in a queue of 4
  buffer.write_u64(kReadAt, 10);
  EXPECT_EQ(SpscIndexQueue::attach(buffer.data(), buffer.size()).error(), CoreError::Corrupted);
  buffer.write_u64(kWriteAt, 3);  // read ahead of write
  buffer.write_u64(kReadAt, 5);
  EXPECT_EQ(SpscIndexQueue::attach(buffer.data(), buffer.size()).error(), CoreError::Corrupted);
}

TEST(SpscIndexQueue, AttachRefusesUnknownMode) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(4)};
  make_queue(buffer, 4);
  for (const std::uint32_t mode : {0U, 3U, ~0U}) {
    buffer.write_u32(kModeAt, mode);
    EXPECT_EQ(SpscIndexQueue::attach(buffer.data(), buffer.size()).error(), CoreError::Corrupted);
  }
}

TEST(SpscIndexQueue, HostileReadCounterIsReportedToTheProducer) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(2)};
  auto sut = make_queue(buffer, 2);
  ASSERT_TRUE(sut.try_push(1));
  ASSERT_TRUE(sut.try_push(2));
  // Full: the producer must re-read the read counter. Past what was written, or backwards.
  for (const std::uint64_t read : {std::uint64_t{3}, ~std::uint64_t{0}}) {
    buffer.write_u64(kReadAt, read);
    EXPECT_EQ(sut.push(3).error(), CoreError::Corrupted);
  }
  buffer.write_u64(kReadAt, 1);
  ASSERT_TRUE(sut.try_push(3));  // the consumer took one: room for one
  buffer.write_u64(kReadAt, 0);  // and now it "untook" it
  EXPECT_EQ(sut.push(4).error(), CoreError::Corrupted);
}

// An overwriting producer never reads the read counter: the consumer's only say is the sequence
// of the slot the producer is about to reuse, and a state no consumer writes there stops the
// queue (nothing stored, whether the old element was taken unknown) instead of being guessed at.
TEST(SpscIndexQueue, HostileSlotStateIsReportedToTheOverwritingProducer) {
  constexpr std::uint64_t kTaken = std::uint64_t{1} << 63;
  for (const std::uint64_t garbage : {std::uint64_t{0}, std::uint64_t{2}, std::uint64_t{4},
                                      std::uint64_t{2} | kTaken, ~std::uint64_t{0}}) {
    AlignedBuffer buffer{SpscIndexQueue::required_size(2)};
    auto sut = make_queue(buffer, 2, Mode::Overwriting);
    auto consumer = attach_queue(buffer);
    ASSERT_EQ(sut.push_overwrite(1), false);
    ASSERT_EQ(sut.push_overwrite(2), false);
    buffer.write_u64(sequence_at(0), garbage);  // position 0 lives in slot 0: sequence 1
    EXPECT_EQ(sut.push_overwrite(3).error(), CoreError::Corrupted) << garbage;
    EXPECT_EQ(sut.push_overwrite(3).error(), CoreError::Corrupted) << garbage;
    // The consumer may still take what was published before; never the unpublished 3.
    std::vector<std::uint64_t> popped;
    while (const auto v = consumer.try_pop()) popped.push_back(*v);
    for (const auto v : popped) EXPECT_NE(v, 3U);
  }
}

TEST(SpscIndexQueue, HostileSequenceIsReportedToTheConsumer) {
  constexpr std::uint64_t kTaken = std::uint64_t{1} << 63;
  // Bounded: a later lap in the slot the consumer expects can only be forged. Overwriting: a
  // later lap is an eviction, but only one of a position that lives in that slot (5 - 1 = 4 is
  // not 0 mod 3), and a taken mark at the position the consumer expects is not one a producer
  // writes.
  struct Case {
    Mode mode;
    std::uint64_t sequence;
  };
  for (const Case c : {Case{Mode::Bounded, 5}, Case{Mode::Overwriting, 5},
                       Case{Mode::Overwriting, 1 | kTaken}}) {
    AlignedBuffer buffer{SpscIndexQueue::required_size(3)};
    auto producer = make_queue(buffer, 3, c.mode);
    auto consumer = attach_queue(buffer);
    if (c.mode == Mode::Bounded) {
      ASSERT_TRUE(producer.try_push(7));
    } else {
      ASSERT_EQ(producer.push_overwrite(7), false);
    }
    buffer.write_u64(sequence_at(0), c.sequence);
    const auto popped = consumer.pop();
    ASSERT_FALSE(popped.has_value()) << c.sequence;
    EXPECT_EQ(popped.error(), CoreError::Corrupted);
    EXPECT_EQ(consumer.try_pop(), std::nullopt);
  }
}

// A write counter no producer reaches: the consumer that skips to it refuses instead of moving
// its position there. A merely large one (a lap the producer has not written) reads as empty.
TEST(SpscIndexQueue, HostileWriteCounterCannotMoveTheConsumerOutOfBounds) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(4)};
  auto producer = make_queue(buffer, 4, Mode::Overwriting);
  auto consumer = attach_queue(buffer);
  for (std::uint64_t v = 0; v < 4; ++v) ASSERT_EQ(producer.push_overwrite(v), false);
  buffer.write_u64(kWriteAt, ~std::uint64_t{0});
  EXPECT_EQ(consumer.pop_newest(1).error(), CoreError::Corrupted);
  buffer.write_u64(kWriteAt, 1'000'003);
  EXPECT_EQ(consumer.pop_newest(1).value(), std::optional<std::uint64_t>{});
}

TEST(SpscIndexQueue, AttachedInMidLifeContinuesInOrder) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(3)};
  auto creator = make_queue(buffer, 3);
  for (std::uint64_t v = 0; v < 10; ++v) {  // positions 0..9: the next write is slot 1
    ASSERT_TRUE(creator.try_push(v));
    ASSERT_EQ(creator.try_pop(), v);
  }
  ASSERT_TRUE(creator.try_push(10));
  auto producer = attach_queue(buffer);
  auto consumer = attach_queue(buffer);
  EXPECT_EQ(consumer.try_pop(), 10U);
  for (std::uint64_t v = 11; v < 40; ++v) {
    ASSERT_TRUE(producer.try_push(v));
    ASSERT_EQ(consumer.try_pop(), v);
  }
  EXPECT_TRUE(consumer.empty());
}

TEST(SpscIndexQueue, ConsumerSkipsWhatTheProducerEvicted) {
  AlignedBuffer buffer{SpscIndexQueue::required_size(2)};
  auto producer = make_queue(buffer, 2, Mode::Overwriting);
  auto consumer = attach_queue(buffer);
  EXPECT_EQ(consumer.mode(), Mode::Overwriting);
  EXPECT_EQ(producer.push_overwrite(1), false);
  EXPECT_EQ(producer.push_overwrite(2), false);
  EXPECT_EQ(producer.push_overwrite(3), true);  // evicts 1 under the consumer's nose
  EXPECT_EQ(producer.push_overwrite(4), true);  // evicts 2
  EXPECT_EQ(consumer.try_pop(), 3U);
  EXPECT_EQ(producer.push_overwrite(5), false);  // 3 is the consumer's
  EXPECT_EQ(producer.push_overwrite(6), true);   // evicts 4
  EXPECT_EQ(producer.push_overwrite(7), true);   // evicts 5: a lap ahead of the consumer's slot
  EXPECT_EQ(consumer.try_pop(), 6U);
  EXPECT_EQ(consumer.try_pop(), 7U);
  EXPECT_EQ(consumer.try_pop(), std::nullopt);
}

// Random bytes over parts of the block (1000 seeds): attach either refuses, or every operation
// stays inside the block (AddressSanitizer watches the exact-size buffer) and keeps its promises.
TEST(SpscIndexQueue, RandomGarbageIsRefusedOrStaysInBounds) {
  int attached = 0;
  for (std::uint32_t seed = 0; seed < 1000; ++seed) {
    std::mt19937_64 rng{seed};
    const std::uint64_t capacity = 1 + rng() % 16;
    AlignedBuffer buffer{SpscIndexQueue::required_size(capacity)};
    ASSERT_TRUE(make_queue(buffer, capacity, seed % 2 == 0 ? Mode::Bounded : Mode::Overwriting)
                    .attached());
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
    auto sut = SpscIndexQueue::attach(buffer.data(), buffer.size());
    if (!sut) {
      continue;
    }
    ++attached;
    SpscIndexQueue& queue = *sut;
    for (int op = 0; op < 64; ++op) {
      switch (rng() % 4) {
        case 0:
          (void)queue.try_push(rng());
          break;
        case 1:
          (void)queue.try_pop();
          break;
        case 2:
          (void)queue.push_overwrite(rng());
          break;
        default:
          EXPECT_LE(queue.size(), queue.capacity());
          break;
      }
    }
  }
  EXPECT_GT(attached, 0);
}

TEST(SpscIndexQueueStress, OneProducerOneConsumerDeliverMillionValuesInOrder) {
  constexpr std::uint64_t kCount = 1'000'000;
  AlignedBuffer buffer{SpscIndexQueue::required_size(1024)};
  auto sut = make_queue(buffer, 1024);
  ASSERT_TRUE(sut.attached());
  auto consumer = attach_queue(buffer);
  std::atomic<bool> timed_out{false};

  std::thread producer{[&] {
    Watchdog watchdog{std::chrono::seconds{60}};
    for (std::uint64_t v = 0; v < kCount; ++v) {
      while (!sut.try_push(v)) {
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
    if (const auto value = consumer.try_pop()) {
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
  EXPECT_TRUE(sut.empty());
}

// Every value pushed is owned by exactly one side at the end: taken by the consumer (in order,
// once) or evicted back to the producer, whatever the interleaving. The consumer mixes windows,
// so it also skips, and what it skips must come back through eviction. A flush of `capacity`
// pushes at the end evicts whatever was still queued.
TEST(SpscIndexQueueStress, PushOverwriteWithConcurrentConsumerLosesNothing) {
  constexpr std::uint64_t kCount = 400'000;
  constexpr std::uint64_t kCapacity = 8;
  AlignedBuffer buffer{SpscIndexQueue::required_size(kCapacity)};
  auto sut = make_queue(buffer, kCapacity, Mode::Overwriting);
  ASSERT_TRUE(sut.attached());
  auto consumer = attach_queue(buffer);
  std::atomic<bool> done{false};
  std::atomic<int> ready{0};
  std::atomic<std::uint64_t> popped_count{0};
  std::vector<std::uint64_t> evicted;
  bool producer_error = false;
  const auto start_together = [&ready] {
    ready.fetch_add(1, std::memory_order_acq_rel);
    while (ready.load(std::memory_order_acquire) < 2) {
      std::this_thread::yield();
    }
  };

  std::thread producer{[&] {
    start_together();
    std::uint64_t ring[kCapacity] = {};
    std::uint64_t seen = 0;
    const auto push = [&](std::uint64_t v, std::uint64_t position) {
      const auto result = sut.push_overwrite(v);
      if (!result) {
        producer_error = true;
        return;
      }
      if (*result) evicted.push_back(ring[position % kCapacity]);
      ring[position % kCapacity] = v;
    };
    for (std::uint64_t v = 0; v < kCount; ++v) {
      push(v, v);
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
    while (ready.load(std::memory_order_acquire) < 3) std::this_thread::yield();
    for (std::uint64_t i = 0; i < kCapacity; ++i) push(kCount + i, kCount + i);
  }};

  start_together();
  std::vector<std::uint64_t> popped;
  std::uint64_t errors = 0;
  std::uint64_t round = 0;
  while (true) {
    const bool finished = done.load(std::memory_order_acquire);
    for (;;) {
      const std::uint64_t window = 1 + (round++ % (kCapacity + 1));
      const auto value = consumer.pop_newest(window);
      if (!value) ++errors;
      if (!value || !*value) break;
      popped.push_back(**value);
      popped_count.fetch_add(1, std::memory_order_relaxed);
    }
    if (finished) {
      break;
    }
  }
  ready.fetch_add(1, std::memory_order_acq_rel);  // the consumer is done: flush
  producer.join();

  EXPECT_FALSE(producer_error);
  EXPECT_EQ(errors, 0U);
  for (std::size_t i = 1; i < popped.size(); ++i) {
    ASSERT_LT(popped[i - 1], popped[i]) << "at " << i;
  }
  std::erase_if(evicted, [](std::uint64_t v) { return v >= kCount; });
  for (std::size_t i = 1; i < evicted.size(); ++i) {
    ASSERT_LT(evicted[i - 1], evicted[i]) << "at " << i;
  }
  EXPECT_EQ(popped.size() + evicted.size(), kCount);
  std::vector<bool> seen(kCount, false);
  for (const auto* list : {&popped, &evicted}) {
    for (const std::uint64_t v : *list) {
      ASSERT_LT(v, kCount);
      EXPECT_FALSE(seen[v]) << "value " << v << " owned twice";
      seen[v] = true;
    }
  }
  EXPECT_GT(popped.size(), 0U);
}

}  // namespace
