// Fuzzes SpscIndexQueue (core/spsc_queue.hpp): a producer and a consumer handle attached to a
// block the input controls.
//
// Input: a mode byte, then
//   raw  (mode bit 0 clear): the block's size and bytes, attached as a peer's mapping would be;
//        mode bits 1-2 both set: the block starts off its 64-byte alignment.
//   made (mode bit 0 set): capacity, queue mode (Bounded/Overwriting), slack bytes, a prefill;
//        `initialize`, push and pop the prefill (which moves the positions around the ring), then
//        let the input overwrite parts of the block, header included, before attaching.
// Then operations until the input ends: push, try_push, push_overwrite(_checked) on the producer;
// pop, try_pop and a bounded drain (as the publisher's reclaim) on the consumer; size queries;
// and a peer scribbling anywhere in the block, static config included: a handle keeps its own
// copy of what attach validated, so nothing a peer writes later may take it out of bounds.
// While nothing was overwritten, a std::deque checks every answer.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

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

void operate(SpscIndexQueue& producer, SpscIndexQueue& consumer, Block& block, Input& in,
             bool trusted) {
  const std::uint64_t capacity = producer.capacity();
  AXON_FUZZ_CHECK(capacity >= 1 && capacity <= SpscIndexQueue::kMaxCapacity);
  AXON_FUZZ_CHECK(SpscIndexQueue::required_size(capacity) <= block.size());
  AXON_FUZZ_CHECK(consumer.capacity() == capacity && consumer.mode() == producer.mode());
  const bool overwriting = producer.mode() == Mode::Overwriting;
  std::deque<std::uint64_t> model;
  if (trusted) {
    // What the prefill left is not known here: take it out so that the model starts equal.
    for (std::uint64_t n = consumer.size(); n > 0; --n) {
      const auto popped = consumer.pop();
      AXON_FUZZ_CHECK(popped.has_value() && popped->has_value());
    }
    AXON_FUZZ_CHECK(consumer.empty());
  }
  while (!in.empty()) {
    switch (in.take<std::uint8_t>() % 10) {
      case 0: {
        const std::uint64_t value = in.take<std::uint32_t>();
        const auto pushed = producer.push(value);
        if (trusted) {
          AXON_FUZZ_CHECK(pushed.has_value() == (model.size() < capacity));
          if (pushed) {
            model.push_back(value);
          } else {
            AXON_FUZZ_CHECK(pushed.error() == CoreError::Full);
          }
        }
        break;
      }
      case 1: {
        const std::uint64_t value = in.take<std::uint32_t>();
        const bool pushed = producer.try_push(value);
        if (trusted) {
          AXON_FUZZ_CHECK(pushed == (model.size() < capacity));
          if (pushed) model.push_back(value);
        }
        break;
      }
      case 2:
      case 3: {
        const std::uint64_t value = in.take<std::uint32_t>();
        const auto evicted = producer.push_overwrite_checked(value);
        if (!trusted) break;
        if (!overwriting) {
          AXON_FUZZ_CHECK(!evicted && evicted.error() == CoreError::InvalidArgument);
          break;
        }
        AXON_FUZZ_CHECK(evicted.has_value());
        if (model.size() == capacity) {
          AXON_FUZZ_CHECK(*evicted == std::optional<std::uint64_t>{model.front()});
          model.pop_front();
        } else {
          AXON_FUZZ_CHECK(!evicted->has_value());
        }
        model.push_back(value);
        break;
      }
      case 4:
      case 5: {
        const auto popped = consumer.pop();
        if (trusted) {
          AXON_FUZZ_CHECK(popped.has_value());
          if (model.empty()) {
            AXON_FUZZ_CHECK(!popped->has_value());
          } else {
            AXON_FUZZ_CHECK(*popped == std::optional<std::uint64_t>{model.front()});
            model.pop_front();
          }
        }
        break;
      }
      case 6: {
        const auto popped = consumer.try_pop();
        if (trusted) {
          AXON_FUZZ_CHECK(popped.has_value() == !model.empty());
          if (popped) {
            AXON_FUZZ_CHECK(*popped == model.front());
            model.pop_front();
          }
        }
        break;
      }
      case 7:
        // As the publisher's reclaim: at most `capacity` pops, whatever the peer keeps pushing.
        for (std::uint64_t n = capacity; n > 0; --n) {
          const auto popped = consumer.pop();
          if (!popped || !*popped) break;
          if (trusted) {
            AXON_FUZZ_CHECK(**popped == model.front());
            model.pop_front();
          }
        }
        if (trusted) AXON_FUZZ_CHECK(model.empty());
        break;
      case 8: {
        for (const SpscIndexQueue* handle : {&producer, &consumer}) {
          const std::uint64_t size = handle->size();
          AXON_FUZZ_CHECK(size <= capacity);
          AXON_FUZZ_CHECK(handle->empty() == (size == 0));
          AXON_FUZZ_CHECK(handle->capacity() == capacity);
          if (trusted) AXON_FUZZ_CHECK(size == model.size());
        }
        break;
      }
      case 9:
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
    if (!made->try_push(n)) (void)made->try_pop();
  }
  const bool overwritten = block.scribble(in);
  if (!attach_both(block, in, !overwritten)) AXON_FUZZ_CHECK(overwritten);
  return 0;
}
