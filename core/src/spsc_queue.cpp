#include "axon/core/spsc_queue.hpp"

#include <new>

namespace axon::core {

tl::expected<SpscIndexQueue*, CoreError> SpscIndexQueue::initialize(
    void* memory, std::size_t bytes, std::uint64_t capacity) noexcept {
  if (memory == nullptr) {
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
  // occupies its first kSlotsOffset bytes.
  auto* queue = new (memory) SpscIndexQueue{capacity};
  auto* slot_memory = static_cast<std::byte*>(memory) + kSlotsOffset;
  for (std::uint64_t i = 0; i < capacity; ++i) {
    // SAFETY: slot i lies in [kSlotsOffset, needed), inside the block, 8-byte aligned because
    // kSlotsOffset is a multiple of 64.
    new (slot_memory + i * sizeof(Slot)) Slot{0};
  }
  // ORDERING: release publishes the header and slots to an `attach` that acquires the magic.
  queue->m_magic.store(kMagic, std::memory_order_release);
  return queue;
}

tl::expected<SpscIndexQueue*, CoreError> SpscIndexQueue::attach(void* memory,
                                                                std::size_t bytes) noexcept {
  if (memory == nullptr) {
    return tl::unexpected(CoreError::InvalidArgument);
  }
  if (!is_aligned(memory, kCacheLine)) {
    return tl::unexpected(CoreError::Misaligned);
  }
  if (bytes < sizeof(SpscIndexQueue)) {
    return tl::unexpected(CoreError::Corrupted);
  }
  // SAFETY: the block is aligned and holds at least a header; `initialize` created the queue
  // there (maybe in another process). Whether it did is what the checks below establish.
  auto* queue = std::launder(static_cast<SpscIndexQueue*>(memory));
  // ORDERING: acquire pairs with the release in `initialize`, making the static config visible.
  if (queue->m_magic.load(std::memory_order_acquire) != kMagic) {
    return tl::unexpected(CoreError::Corrupted);
  }
  if (queue->m_version != kVersion) {
    return tl::unexpected(CoreError::VersionMismatch);
  }
  const std::size_t needed = required_size(queue->m_capacity);
  if (needed == 0 || needed > bytes) {
    return tl::unexpected(CoreError::Corrupted);
  }
  return queue;
}

SpscIndexQueue::Slot* SpscIndexQueue::slots() noexcept {
  // SAFETY: `initialize` created `m_capacity` slots right after the header, and `attach` checked
  // that they fit in the block.
  return std::launder(reinterpret_cast<Slot*>(reinterpret_cast<std::byte*>(this) + kSlotsOffset));
}

std::uint64_t SpscIndexQueue::checked_capacity() const noexcept {
  const std::uint64_t capacity = m_capacity;
  return (capacity == 0 || capacity > kMaxCapacity) ? 0 : capacity;
}

tl::expected<void, CoreError> SpscIndexQueue::push(std::uint64_t value) noexcept {
  const std::uint64_t capacity = checked_capacity();
  if (capacity == 0) {
    return tl::unexpected(CoreError::Corrupted);
  }
  // ORDERING: relaxed: only this producer stores m_write.
  const std::uint64_t write = m_write.load(std::memory_order_relaxed);
  // ORDERING: acquire pairs with the consumer's release CAS: its read of the slot we are about
  // to reuse happens before our store.
  const std::uint64_t read = m_read.load(std::memory_order_acquire);
  const std::uint64_t used = write - read;
  if (used > capacity) {
    return tl::unexpected(CoreError::Corrupted);
  }
  if (used == capacity) {
    return tl::unexpected(CoreError::Full);
  }
  // ORDERING: relaxed: published by the release store of m_write below.
  slots()[write % capacity].store(value, std::memory_order_relaxed);
  // ORDERING: release publishes the slot to the consumer's acquire load of m_write.
  m_write.store(write + 1, std::memory_order_release);
  return {};
}

tl::expected<std::optional<std::uint64_t>, CoreError> SpscIndexQueue::push_overwrite_checked(
    std::uint64_t value) noexcept {
  const std::uint64_t capacity = checked_capacity();
  if (capacity == 0) {
    return tl::unexpected(CoreError::Corrupted);
  }
  Slot* const slot_array = slots();
  // ORDERING: relaxed: only this producer stores m_write.
  const std::uint64_t write = m_write.load(std::memory_order_relaxed);
  // ORDERING: acquire, as in `push`: the consumer is done reading any slot it released.
  std::uint64_t read = m_read.load(std::memory_order_acquire);
  if (write - read > capacity) {
    return tl::unexpected(CoreError::Corrupted);
  }

  std::optional<std::uint64_t> evicted;
  if (write - read == capacity) {
    // ORDERING: relaxed: this producer wrote the slot itself.
    const std::uint64_t oldest = slot_array[read % capacity].load(std::memory_order_relaxed);
    // ORDERING: acquire on both paths, as the load above: whatever slot the consumer released
    // before this CAS is no longer being read when we overwrite it.
    if (m_read.compare_exchange_strong(read, read + 1, std::memory_order_acquire,
                                       std::memory_order_acquire)) {
      evicted = oldest;
    } else if (write - read >= capacity) {
      // The consumer only ever makes room; a failed CAS that leaves the queue full is corruption.
      return tl::unexpected(CoreError::Corrupted);
    }
  }
  // ORDERING: relaxed: published by the release store of m_write below.
  slot_array[write % capacity].store(value, std::memory_order_relaxed);
  // ORDERING: release publishes the slot to the consumer's acquire load of m_write.
  m_write.store(write + 1, std::memory_order_release);
  return evicted;
}

tl::expected<std::optional<std::uint64_t>, CoreError> SpscIndexQueue::pop() noexcept {
  const std::uint64_t capacity = checked_capacity();
  if (capacity == 0) {
    return tl::unexpected(CoreError::Corrupted);
  }
  Slot* const slot_array = slots();
  // ORDERING: relaxed: a stale value only makes the CAS below fail; slot visibility comes from
  // the acquire load of m_write.
  std::uint64_t read = m_read.load(std::memory_order_relaxed);
  while (true) {
    // ORDERING: acquire pairs with the producer's release store: slots below `write` are written.
    const std::uint64_t write = m_write.load(std::memory_order_acquire);
    if (write - read > capacity) {
      // Either our `read` is stale (the producer evicted meanwhile) or the counters are corrupt.
      // ORDERING: relaxed: only compared with the previous value.
      const std::uint64_t fresh = m_read.load(std::memory_order_relaxed);
      if (fresh != read) {
        read = fresh;
        continue;
      }
      return tl::unexpected(CoreError::Corrupted);
    }
    if (write == read) {
      return std::optional<std::uint64_t>{};
    }
    // ORDERING: relaxed: written before the m_write we acquired; if the producer has since
    // evicted and reused this slot, the CAS below fails and the value is discarded.
    const std::uint64_t value = slot_array[read % capacity].load(std::memory_order_relaxed);
    // ORDERING: release on success: our slot read happens before the producer reuses the slot
    // (it acquires m_read). Relaxed on failure: we only retry with the fresh index.
    if (m_read.compare_exchange_strong(read, read + 1, std::memory_order_release,
                                       std::memory_order_relaxed)) {
      return std::optional<std::uint64_t>{value};
    }
  }
}

std::uint64_t SpscIndexQueue::size() const noexcept {
  // ORDERING: relaxed: a snapshot for monitoring, which may be stale by the time it returns.
  const std::uint64_t read = m_read.load(std::memory_order_relaxed);
  // ORDERING: relaxed: as above; the two loads may be mutually inconsistent, hence the clamps.
  const std::uint64_t write = m_write.load(std::memory_order_relaxed);
  if (write <= read) {
    return 0;
  }
  const std::uint64_t capacity = checked_capacity();
  return write - read > capacity ? capacity : write - read;
}

}  // namespace axon::core
