#include "axon/core/spsc_queue.hpp"

#include <new>
#include <utility>

namespace axon::core {
namespace {

constexpr bool valid_mode(std::uint32_t mode) noexcept {
  return mode == static_cast<std::uint32_t>(SpscIndexQueue::Mode::Bounded) ||
         mode == static_cast<std::uint32_t>(SpscIndexQueue::Mode::Overwriting);
}

}  // namespace

SpscIndexQueue::SpscIndexQueue(Shared* shared, Slot* slots, std::uint64_t capacity, Mode mode,
                               std::uint64_t write, std::uint64_t read) noexcept
    : m_shared{shared},
      m_slots{slots},
      m_capacity{capacity},
      m_mode{mode},
      m_write{write},
      m_write_index{write % capacity},
      m_cached_read{read},
      m_read{read},
      m_read_index{read % capacity} {}

SpscIndexQueue& SpscIndexQueue::operator=(SpscIndexQueue&& other) noexcept {
  if (this != &other) {
    m_shared = std::exchange(other.m_shared, nullptr);
    m_slots = std::exchange(other.m_slots, nullptr);
    m_capacity = std::exchange(other.m_capacity, 0);
    m_mode = other.m_mode;
    m_write = other.m_write;
    m_write_index = other.m_write_index;
    m_cached_read = other.m_cached_read;
    m_read = other.m_read;
    m_read_index = other.m_read_index;
  }
  return *this;
}

tl::expected<SpscIndexQueue, CoreError> SpscIndexQueue::initialize(void* memory,
                                                                   std::size_t bytes,
                                                                   std::uint64_t capacity,
                                                                   Mode mode) noexcept {
  if (memory == nullptr || !valid_mode(static_cast<std::uint32_t>(mode))) {
    return tl::unexpected(CoreError::InvalidArgument);
  }
  if (!is_aligned(memory, kCacheLine)) {
    return tl::unexpected(CoreError::Misaligned);
  }
  const std::size_t needed = required_size(capacity);
  if (needed == 0) {
    return tl::unexpected(CoreError::InvalidArgument);
  }
  if (bytes < needed) {
    return tl::unexpected(CoreError::InsufficientMemory);
  }

  // SAFETY: the block is non-null, 64-byte aligned and at least `needed` bytes long; the header
  // occupies its first kSlotsOffset bytes. A block that held a queue before (a connection being
  // rebuilt) is re-created in place: the old objects are trivially destructible.
  auto* shared = new (memory) Shared{};
  // ORDERING: relaxed: the magic is published last, with release, below.
  shared->magic.store(0, std::memory_order_relaxed);
  shared->version = kVersion;
  shared->mode = static_cast<std::uint32_t>(mode);
  shared->capacity = capacity;
  // ORDERING: relaxed: published by the release store of the magic.
  shared->write.store(0, std::memory_order_relaxed);
  // ORDERING: relaxed: as above.
  shared->read.store(0, std::memory_order_relaxed);
  auto* slot_memory = static_cast<std::byte*>(memory) + kSlotsOffset;
  for (std::uint64_t i = 0; i < capacity; ++i) {
    // SAFETY: slot i lies in [kSlotsOffset, needed), inside the block, 16-byte aligned because
    // kSlotsOffset is a multiple of 64. Sequence 0 reads as "empty" for every position.
    new (slot_memory + i * kSlotSize) Slot{0, 0};
  }
  // ORDERING: release publishes the header and slots to an `attach` that acquires the magic.
  shared->magic.store(kMagic, std::memory_order_release);
  // SAFETY: the slots were constructed just above.
  auto* slots = std::launder(reinterpret_cast<Slot*>(slot_memory));
  return SpscIndexQueue{shared, slots, capacity, mode, 0, 0};
}

tl::expected<SpscIndexQueue, CoreError> SpscIndexQueue::attach(void* memory,
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
  // SAFETY: the block is aligned and holds at least a header; `initialize` created the queue
  // there (maybe in another process). Whether it did is what the checks below establish.
  auto* shared = std::launder(static_cast<Shared*>(memory));
  // ORDERING: acquire pairs with the release in `initialize`, making the static config visible.
  if (shared->magic.load(std::memory_order_acquire) != kMagic) {
    return tl::unexpected(CoreError::Corrupted);
  }
  if (shared->version != kVersion) {
    return tl::unexpected(CoreError::VersionMismatch);
  }
  // Read once: the handle keeps these copies and never looks at the static config again.
  const std::uint64_t capacity = shared->capacity;
  const std::uint32_t mode = shared->mode;
  const std::size_t needed = required_size(capacity);
  if (needed == 0 || needed > bytes || !valid_mode(mode)) {
    return tl::unexpected(CoreError::Corrupted);
  }
  // ORDERING: acquire pairs with the peers' release stores of the counters.
  const std::uint64_t read = shared->read.load(std::memory_order_acquire);
  // ORDERING: acquire, as above.
  const std::uint64_t write = shared->write.load(std::memory_order_acquire);
  // An overwriting consumer may lag any distance behind: the producer does not wait for it.
  const bool lag_allowed = mode == static_cast<std::uint32_t>(Mode::Overwriting);
  if (read > write || write > kPositionMask || (!lag_allowed && write - read > capacity)) {
    return tl::unexpected(CoreError::Corrupted);
  }
  // SAFETY: `initialize` created `capacity` slots right after the header; they fit in the block.
  auto* slots = std::launder(
      reinterpret_cast<Slot*>(static_cast<std::byte*>(memory) + kSlotsOffset));
  return SpscIndexQueue{shared, slots, capacity, static_cast<Mode>(mode), write, read};
}

tl::expected<void, CoreError> SpscIndexQueue::make_room() noexcept {
  if (m_write - m_cached_read < m_capacity) {
    return {};
  }
  // ORDERING: acquire pairs with the consumer's release store of the read counter: its read of
  // the slot we are about to reuse happens before our store to it.
  const std::uint64_t read = m_shared->read.load(std::memory_order_acquire);
  if (read < m_cached_read || read > m_write || m_write - read > m_capacity) {
    return tl::unexpected(CoreError::Corrupted);
  }
  m_cached_read = read;
  if (m_write - read == m_capacity) {
    return tl::unexpected(CoreError::Full);
  }
  return {};
}

void SpscIndexQueue::publish(std::uint64_t value) noexcept {
  Slot& slot = m_slots[m_write_index];
  // ORDERING: relaxed: published by the release store of the sequence below.
  slot.value.store(value, std::memory_order_relaxed);
  // ORDERING: release pairs with the consumer's acquire load of the sequence.
  slot.sequence.store(m_write + 1, std::memory_order_release);
  ++m_write;
  m_write_index = m_write_index + 1 == m_capacity ? 0 : m_write_index + 1;
  // ORDERING: release: `size` and a consumer that skips ahead see the slot written. Nobody reads
  // this line on the data path, so the store stays in our cache.
  m_shared->write.store(m_write, std::memory_order_release);
}

tl::expected<void, CoreError> SpscIndexQueue::push(std::uint64_t value) noexcept {
  if (m_shared == nullptr) {
    return tl::unexpected(CoreError::Corrupted);
  }
  if (m_mode != Mode::Bounded) {
    return tl::unexpected(CoreError::InvalidArgument);
  }
  if (auto room = make_room(); !room) {
    return room;
  }
  publish(value);
  return {};
}

tl::expected<bool, CoreError> SpscIndexQueue::push_overwrite(std::uint64_t value) noexcept {
  if (m_shared == nullptr) {
    return tl::unexpected(CoreError::Corrupted);
  }
  if (m_mode != Mode::Overwriting) {
    return tl::unexpected(CoreError::InvalidArgument);
  }
  if (m_write >= kPositionMask) {
    return tl::unexpected(CoreError::Corrupted);
  }
  Slot& slot = m_slots[m_write_index];
  // The one decision on the element `capacity` positions back, in the same slot: this exchange
  // and the consumer's compare-exchange that would take it are ordered on this word, so exactly
  // one of us owns it. The writing flag keeps the consumer from taking the slot while the new
  // value is stored.
  // ORDERING: acquire pairs with the consumer's release compare-exchange: its read of the old
  // value happens before our store of the new one, and that store cannot move above this line.
  const std::uint64_t old =
      slot.sequence.exchange((m_write + 1) | kWriting, std::memory_order_acquire);
  bool evicted = false;
  if (m_write < m_capacity) {
    if (old != 0) {
      return tl::unexpected(CoreError::Corrupted);
    }
  } else {
    const std::uint64_t previous = m_write - m_capacity + 1;
    if (old == previous) {
      evicted = true;
    } else if (old != (previous | kTaken)) {
      // Left in the writing state: the consumer sees nothing more in this queue.
      return tl::unexpected(CoreError::Corrupted);
    }
  }
  publish(value);
  return evicted;
}

void SpscIndexQueue::move_to(std::uint64_t position) noexcept {
  m_read = position;
  m_read_index = position % m_capacity;
}

bool SpscIndexQueue::skip_to_newest(std::uint64_t window, std::uint64_t at_least) noexcept {
  // ORDERING: acquire pairs with the producer's release store: positions below `write` are
  // published (each slot's own sequence is still checked before it is read).
  const std::uint64_t write = m_shared->write.load(std::memory_order_acquire);
  if (write > kPositionMask) {
    return false;
  }
  std::uint64_t target = write > window ? write - window : 0;
  target = target > at_least ? target : at_least;
  if (target > m_read) {
    move_to(target);
  }
  return true;
}

tl::expected<std::optional<std::uint64_t>, CoreError> SpscIndexQueue::pop_bounded() noexcept {
  Slot& slot = m_slots[m_read_index];
  // ORDERING: acquire pairs with the producer's release store: the value (and the chunk it
  // names) is visible.
  const std::uint64_t sequence = slot.sequence.load(std::memory_order_acquire);
  if (sequence != m_read + 1) {
    // An earlier lap or never written: empty. A later lap: a bounded producer never laps us.
    if (sequence > m_read + 1) {
      return tl::unexpected(CoreError::Corrupted);
    }
    return std::optional<std::uint64_t>{};
  }
  // ORDERING: relaxed: published by the sequence acquired above.
  const std::uint64_t value = slot.value.load(std::memory_order_relaxed);
  // ORDERING: release: our read of the slot happens before the producer reuses it.
  m_shared->read.store(m_read + 1, std::memory_order_release);
  ++m_read;
  m_read_index = m_read_index + 1 == m_capacity ? 0 : m_read_index + 1;
  return std::optional<std::uint64_t>{value};
}

tl::expected<std::optional<std::uint64_t>, CoreError> SpscIndexQueue::pop_newest(
    std::uint64_t window) noexcept {
  if (m_shared == nullptr) {
    return tl::unexpected(CoreError::Corrupted);
  }
  if (m_mode == Mode::Bounded) {
    return pop_bounded();
  }
  window = window < 1 ? 1 : (window > m_capacity ? m_capacity : window);
  // Each round returns, or moves forward, or follows a compare-exchange the producer won (then
  // the next round moves forward). Losing that often means the producer pushed `capacity -
  // window` times while we looked at one slot, every time: we report "nothing this time" rather
  // than chase it, and the producer, which keeps pushing, lets the next call take the newest.
  constexpr int kRounds = 64;
  for (int round = 0; round < kRounds; ++round) {
    if (window < m_capacity) {
      std::uint64_t ahead = m_read_index + window;
      ahead = ahead >= m_capacity ? ahead - m_capacity : ahead;
      // ORDERING: relaxed: a hint only. Whether position m_read + window is there (or being
      // written) decides whether we skip ahead; each slot is still checked by its own sequence.
      const std::uint64_t ahead_position =
          m_slots[ahead].sequence.load(std::memory_order_relaxed) & kPositionMask;
      if (ahead_position >= m_read + window + 1 && !skip_to_newest(window, m_read)) {
        return tl::unexpected(CoreError::Corrupted);
      }
    }
    Slot& slot = m_slots[m_read_index];
    // ORDERING: acquire pairs with the producer's release store: the value (and the chunk it
    // names) is visible.
    const std::uint64_t sequence = slot.sequence.load(std::memory_order_acquire);
    if (sequence == m_read + 1) {
      // ORDERING: relaxed: published by the sequence acquired above. Should the producer evict
      // this position and store a new value meanwhile, its exchange comes first on the sequence
      // and the compare-exchange below fails: the value is then discarded.
      const std::uint64_t value = slot.value.load(std::memory_order_relaxed);
      std::uint64_t expected = sequence;
      // ORDERING: release on success pairs with the producer's acquire exchange: our read of
      // the value happens before it stores the next lap's. Relaxed on failure: nothing is read.
      if (slot.sequence.compare_exchange_strong(expected, sequence | kTaken,
                                                std::memory_order_release,
                                                std::memory_order_relaxed)) {
        move_to(m_read + 1);
        // ORDERING: relaxed: only `size` reads it, as a snapshot.
        m_shared->read.store(m_read, std::memory_order_relaxed);
        return std::optional<std::uint64_t>{value};
      }
      continue;
    }
    const std::uint64_t position = sequence & kPositionMask;  // + 1
    if (position <= m_read + 1) {
      // Taken is our own mark, and we move past a position as soon as we take it.
      if (position == m_read + 1 && (sequence & kTaken) != 0) {
        return tl::unexpected(CoreError::Corrupted);
      }
      // An earlier lap, never written, or our position being written: empty.
      return std::optional<std::uint64_t>{};
    }
    // A later lap: the producer evicted our position. Its positions keep their slots.
    if ((position - 1) % m_capacity != m_read_index) {
      return tl::unexpected(CoreError::Corrupted);
    }
    if (!skip_to_newest(window, m_read + 1)) {
      return tl::unexpected(CoreError::Corrupted);
    }
  }
  return std::optional<std::uint64_t>{};
}

std::uint64_t SpscIndexQueue::size() const noexcept {
  if (m_shared == nullptr) {
    return 0;
  }
  // ORDERING: relaxed: a snapshot for monitoring, which may be stale by the time it returns.
  const std::uint64_t read = m_shared->read.load(std::memory_order_relaxed);
  // ORDERING: relaxed: as above; the two loads may be mutually inconsistent, hence the clamps.
  const std::uint64_t write = m_shared->write.load(std::memory_order_relaxed);
  if (write <= read) {
    return 0;
  }
  return write - read > m_capacity ? m_capacity : write - read;
}

}  // namespace axon::core
