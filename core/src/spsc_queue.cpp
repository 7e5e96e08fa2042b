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
  if (read > write || write - read > capacity) {
    return tl::unexpected(CoreError::Corrupted);
  }
  // SAFETY: `initialize` created `capacity` slots right after the header; they fit in the block.
  auto* slots = std::launder(
      reinterpret_cast<Slot*>(static_cast<std::byte*>(memory) + kSlotsOffset));
  return SpscIndexQueue{shared, slots, capacity, static_cast<Mode>(mode), write, read};
}

tl::expected<void, CoreError> SpscIndexQueue::make_room() noexcept {
  if (m_shared == nullptr) {
    return tl::unexpected(CoreError::Corrupted);
  }
  if (m_write - m_cached_read < m_capacity) {
    return {};
  }
  // ORDERING: acquire pairs with the consumer's release store (or CAS) of the read counter: its
  // read of the slot we are about to reuse happens before our store to it.
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
  // ORDERING: release: `size` and a consumer that resynchronises see the slot written. Nobody
  // reads this line on the data path, so the store stays in our cache.
  m_shared->write.store(m_write, std::memory_order_release);
}

tl::expected<void, CoreError> SpscIndexQueue::push(std::uint64_t value) noexcept {
  if (auto room = make_room(); !room) {
    return room;
  }
  publish(value);
  return {};
}

tl::expected<std::optional<std::uint64_t>, CoreError> SpscIndexQueue::push_overwrite_checked(
    std::uint64_t value) noexcept {
  if (m_shared == nullptr) {
    return tl::unexpected(CoreError::Corrupted);
  }
  if (m_mode != Mode::Overwriting) {
    return tl::unexpected(CoreError::InvalidArgument);
  }
  std::optional<std::uint64_t> evicted;
  if (auto room = make_room(); !room) {
    if (room.error() != CoreError::Full) {
      return tl::unexpected(room.error());
    }
    std::uint64_t read = m_cached_read;  // == m_write - m_capacity
    // ORDERING: relaxed: this producer wrote the slot itself and nobody else writes values.
    const std::uint64_t oldest =
        m_slots[m_write_index].value.load(std::memory_order_relaxed);
    // ORDERING: acquire on both paths, as in `make_room`: whatever slot the consumer claimed
    // before this CAS is no longer being read when we overwrite it.
    if (m_shared->read.compare_exchange_strong(read, read + 1, std::memory_order_acquire,
                                               std::memory_order_acquire)) {
      evicted = oldest;
      m_cached_read = read + 1;
    } else if (read <= m_cached_read || read > m_write) {
      // The consumer only ever moves forward, and never past what was written.
      return tl::unexpected(CoreError::Corrupted);
    } else {
      m_cached_read = read;  // the consumer took it first: there is room now
    }
  }
  publish(value);
  return evicted;
}

bool SpscIndexQueue::resync(std::uint64_t read) noexcept {
  // ORDERING: acquire: every slot below `write` is published.
  const std::uint64_t write = m_shared->write.load(std::memory_order_acquire);
  if (read <= m_read || read > write || write - read > m_capacity) {
    return false;
  }
  m_read = read;
  m_read_index = read % m_capacity;
  return true;
}

tl::expected<std::optional<std::uint64_t>, CoreError> SpscIndexQueue::pop() noexcept {
  auto popped = pop_newest(m_capacity);
  if (!popped) {
    return tl::unexpected(popped.error());
  }
  if (!*popped) {
    return std::optional<std::uint64_t>{};
  }
  return std::optional<std::uint64_t>{(*popped)->value};
}

tl::expected<std::optional<SpscIndexQueue::Entry>, CoreError> SpscIndexQueue::pop_newest(
    std::uint64_t window) noexcept {
  if (m_shared == nullptr) {
    return tl::unexpected(CoreError::Corrupted);
  }
  // Each round either returns or moves m_read forward (resync), and positions in the queue are
  // at most `capacity` apart: bounded, even against a producer that keeps evicting.
  for (std::uint64_t round = 0; round <= m_capacity + 1; ++round) {
    Slot& slot = m_slots[m_read_index];
    // ORDERING: acquire pairs with the producer's release store: the value (and the chunk it
    // names) is visible.
    const std::uint64_t sequence = slot.sequence.load(std::memory_order_acquire);
    if (sequence == m_read + 1) {
      // ORDERING: relaxed: published by the sequence acquired above; if the producer evicted and
      // rewrote this slot meanwhile, the CAS below fails and the value is discarded.
      const std::uint64_t value = slot.value.load(std::memory_order_relaxed);
      bool overflowed = false;
      if (window < m_capacity) {
        // Is position m_read + window written already? Then ours is older than the newest
        // `window`. (A push racing this check is ordered after our pop.)
        std::uint64_t ahead = m_read_index + window;
        ahead = ahead >= m_capacity ? ahead - m_capacity : ahead;
        // ORDERING: relaxed: only the slot's state is read, not its value.
        overflowed = m_slots[ahead].sequence.load(std::memory_order_relaxed) == m_read + window + 1;
      }
      if (m_mode == Mode::Bounded) {
        // ORDERING: release: our read of the slot happens before the producer reuses it.
        m_shared->read.store(m_read + 1, std::memory_order_release);
      } else {
        std::uint64_t read = m_read;
        // ORDERING: release on success, as above; acquire on failure, for `resync`.
        if (!m_shared->read.compare_exchange_strong(read, read + 1, std::memory_order_release,
                                                    std::memory_order_acquire)) {
          if (!resync(read)) {
            return tl::unexpected(CoreError::Corrupted);
          }
          continue;
        }
      }
      ++m_read;
      m_read_index = m_read_index + 1 == m_capacity ? 0 : m_read_index + 1;
      return std::optional<Entry>{Entry{value, overflowed}};
    }
    if (sequence > m_read + 1) {
      // The slot holds a later lap: the producer evicted our position (Overwriting only).
      if (m_mode != Mode::Overwriting) {
        return tl::unexpected(CoreError::Corrupted);
      }
      // ORDERING: acquire, for `resync`.
      if (!resync(m_shared->read.load(std::memory_order_acquire))) {
        return tl::unexpected(CoreError::Corrupted);
      }
      continue;
    }
    return std::optional<Entry>{};  // an earlier lap, or never written: empty
  }
  return tl::unexpected(CoreError::Corrupted);
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
