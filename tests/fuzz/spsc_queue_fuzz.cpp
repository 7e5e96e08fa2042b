// Fuzzes SpscIndexQueue (core/spsc_queue.hpp): a producer and a consumer handle attached to a
// block the input controls.
//
// Input: a mode byte, then
//   raw  (mode bit 0 clear): the block's size and bytes, attached as a peer's mapping would be;
//        mode bits 1-2 both set: the block starts off its 64-byte alignment.
//   made (mode bit 0 set): capacity, queue mode (Bounded/Overwriting), slack bytes, a prefill;
//        `initialize`, push and pop the prefill (which moves the positions around the ring), then
//        let the input overwrite parts of the block, header included, before attaching.
// Then operations until the input ends: push, try_push, push_overwrite on the producer; pop,
// pop_newest with any window, try_pop and a bounded drain (as the publisher's reclaim) on the
// consumer; size queries;
// and a peer scribbling anywhere in the block, static config included: a handle keeps its own
// copy of what attach validated, so nothing a peer writes later may take it out of bounds.
// While nothing was overwritten, a model checks every answer: a std::deque for a bounded queue,
// OverwritingModel (what is queued, taken or gone per position) for an overwriting one.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "axon/core/spsc_queue.hpp"
#include "fuzz_support.hpp"

namespace {

using axon::core::CoreError;
using axon::core::SpscIndexQueue;
using axon::fuzz::Block;
using axon::fuzz::Input;
using Mode = SpscIndexQueue::Mode;

constexpr std::size_t kMaxRawBlock = 4096;
constexpr std::uint64_t kMaxMadeCapacity = 300;

/// What a single-threaded run of an overwriting queue must answer: each position is queued
/// (pushed, not yet taken), taken by the consumer, or gone (evicted or never there); the consumer
/// takes the oldest of the newest `window`, skipping (not taking) older positions, which the
/// producer then evicts when it laps them. Positions count from the first push after the model
/// starts, when no slot holds a queued element.
class OverwritingModel {
 public:
  explicit OverwritingModel(std::uint64_t capacity)
      : m_capacity{capacity}, m_values(capacity, 0), m_queued(capacity, false) {}
  /// Whether pushing `value` evicts.
  bool push(std::uint64_t value) {
    const std::size_t slot = static_cast<std::size_t>(m_write % m_capacity);
    const bool evicted = m_queued[slot];
    m_values[slot] = value;
    m_queued[slot] = true;
    ++m_write;
    return evicted;
  }
  std::optional<std::uint64_t> pop_newest(std::uint64_t window) {
    window = window < 1 ? 1 : (window > m_capacity ? m_capacity : window);
    if (m_write > window && m_read < m_write - window) m_read = m_write - window;
    if (m_read >= m_write) return std::nullopt;
    const std::size_t slot = static_cast<std::size_t>(m_read % m_capacity);
    AXON_FUZZ_CHECK(m_queued[slot]);
    m_queued[slot] = false;
    ++m_read;
    return m_values[slot];
  }

 private:
  std::uint64_t m_capacity;
  std::uint64_t m_write = 0;
  std::uint64_t m_read = 0;
  std::vector<std::uint64_t> m_values;
  std::vector<bool> m_queued;
};

void operate(SpscIndexQueue& producer, SpscIndexQueue& consumer, Block& block, Input& in,
             bool trusted) {
  const std::uint64_t capacity = producer.capacity();
  AXON_FUZZ_CHECK(capacity >= 1 && capacity <= SpscIndexQueue::kMaxCapacity);
  AXON_FUZZ_CHECK(SpscIndexQueue::required_size(capacity) <= block.size());
  AXON_FUZZ_CHECK(consumer.capacity() == capacity && consumer.mode() == producer.mode());
  const bool overwriting = producer.mode() == Mode::Overwriting;
  std::deque<std::uint64_t> model;  // bounded
  OverwritingModel overwrite_model{capacity};
  if (trusted) {
    // What the prefill left is not known here: take it out so that the models start equal
    // (an overwriting queue then holds nothing queued: every slot's element is taken or gone).
    for (std::uint64_t n = capacity + 1; n > 0; --n) {
      const auto popped = consumer.pop();
      AXON_FUZZ_CHECK(popped.has_value());
      if (!popped->has_value()) break;
    }
    AXON_FUZZ_CHECK(consumer.try_pop() == std::nullopt);
  }
  // The consumer's answer against the model, for any window.
  const auto check_pop = [&](const tl::expected<std::optional<std::uint64_t>, CoreError>& popped,
                             std::uint64_t window) {
    if (!trusted) return;
    AXON_FUZZ_CHECK(popped.has_value());
    if (overwriting) {
      AXON_FUZZ_CHECK(*popped == overwrite_model.pop_newest(window));
    } else if (model.empty()) {
      AXON_FUZZ_CHECK(!popped->has_value());
    } else {
      AXON_FUZZ_CHECK(*popped == std::optional<std::uint64_t>{model.front()});
      model.pop_front();
    }
  };
  while (!in.empty()) {
    switch (in.take<std::uint8_t>() % 11) {
      case 0: {
        const std::uint64_t value = in.take<std::uint32_t>();
        const auto pushed = producer.push(value);
        if (!trusted) break;
        if (overwriting) {
          AXON_FUZZ_CHECK(!pushed && pushed.error() == CoreError::InvalidArgument);
          break;
        }
        AXON_FUZZ_CHECK(pushed.has_value() == (model.size() < capacity));
        if (pushed) {
          model.push_back(value);
        } else {
          AXON_FUZZ_CHECK(pushed.error() == CoreError::Full);
        }
        break;
      }
      case 1: {
        const std::uint64_t value = in.take<std::uint32_t>();
        const bool pushed = producer.try_push(value);
        if (!trusted) break;
        AXON_FUZZ_CHECK(pushed == (!overwriting && model.size() < capacity));
        if (pushed) model.push_back(value);
        break;
      }
      case 2:
      case 3: {
        const std::uint64_t value = in.take<std::uint32_t>();
        const auto evicted = producer.push_overwrite(value);
        if (!trusted) break;
        if (!overwriting) {
          AXON_FUZZ_CHECK(!evicted && evicted.error() == CoreError::InvalidArgument);
          break;
        }
        AXON_FUZZ_CHECK(evicted.has_value() && *evicted == overwrite_model.push(value));
        break;
      }
      case 4:
      case 5:
        check_pop(consumer.pop(), capacity);
        break;
      case 6: {
        const std::uint64_t window = in.take<std::uint8_t>();
        check_pop(consumer.pop_newest(window), window);
        break;
      }
      case 7:
        // As the publisher's reclaim: at most `capacity` pops, whatever the peer keeps pushing.
        for (std::uint64_t n = capacity; n > 0; --n) {
          const auto popped = consumer.pop();
          check_pop(popped, capacity);
          if (!popped || !*popped) break;
        }
        if (trusted && !overwriting) AXON_FUZZ_CHECK(model.empty());
        break;
      case 8: {
        const auto popped = consumer.try_pop();
        if (trusted) check_pop(popped, capacity);
        break;
      }
      case 9: {
        for (const SpscIndexQueue* handle : {&producer, &consumer}) {
          const std::uint64_t size = handle->size();
          AXON_FUZZ_CHECK(size <= capacity);
          AXON_FUZZ_CHECK(handle->empty() == (size == 0));
          AXON_FUZZ_CHECK(handle->capacity() == capacity);
          // An overwriting queue counts what the consumer skipped as queued: a monitor's figure.
          if (trusted && !overwriting) AXON_FUZZ_CHECK(size == model.size());
        }
        break;
      }
      case 10:
        if (block.scribble(in, 0, 2)) trusted = false;
        break;
    }
  }
}

/// A producer and a consumer handle on the block, or nothing when attach refuses it.
bool attach_both(Block& block, Input& in, bool trusted) {
  auto producer = SpscIndexQueue::attach(block.data(), block.size());
  auto consumer = SpscIndexQueue::attach(block.data(), block.size());
  AXON_FUZZ_CHECK(producer.has_value() == consumer.has_value());
  if (!producer) return false;
  AXON_FUZZ_CHECK(producer->attached() && consumer->attached());
  operate(*producer, *consumer, block, in, trusted);
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in{data, size};
  const auto mode = in.take<std::uint8_t>();
  if ((mode & 1U) == 0) {
    const std::size_t skew = (mode & 6U) == 6U ? static_cast<std::size_t>(in.take_in(1, 63)) : 0;
    Block block{static_cast<std::size_t>(in.take_in(0, kMaxRawBlock)), 64, skew};
    block.fill(in);
    (void)attach_both(block, in, false);
    return 0;
  }

  const std::uint64_t capacity = in.take_in(1, kMaxMadeCapacity);
  const Mode queue_mode = (mode & 2U) != 0 ? Mode::Overwriting : Mode::Bounded;
  const std::size_t bytes =
      SpscIndexQueue::required_size(capacity) + static_cast<std::size_t>(in.take_in(0, 127));
  Block block{bytes};
  auto made = SpscIndexQueue::initialize(block.data(), block.size(), capacity, queue_mode);
  AXON_FUZZ_CHECK(made.has_value() && made->mode() == queue_mode);
  // Around the ring: fill, then leave between 0 and `capacity` elements queued.
  for (std::uint64_t n = in.take_in(0, 2 * capacity); n > 0; --n) {
    if (queue_mode == Mode::Overwriting) {
      (void)made->push_overwrite(n);
      if (n % 3 == 0) (void)made->try_pop();
    } else if (!made->try_push(n)) {
      (void)made->try_pop();
    }
  }
  const bool overwritten = block.scribble(in);
  if (!attach_both(block, in, !overwritten)) AXON_FUZZ_CHECK(overwritten);
  return 0;
}
