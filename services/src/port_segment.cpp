#include "axon/detail/port_segment.hpp"

#include "axon/detail/service_core.hpp"

namespace axon::detail {

tl::expected<OwnSegment, SegmentFailure> create_port_segment(const ServiceCore& service,
                                                             std::uint64_t id,
                                                             std::uint64_t chunk_count,
                                                             std::uint64_t chunk_size,
                                                             std::uint64_t alignment) {
  const auto bytes = core::ChunkPool::required_size(chunk_count, chunk_size, alignment);
  if (bytes == 0 || bytes > kMaxSegmentBytes) return tl::unexpected(SegmentFailure::TooLarge);
  const auto mode = read_only_file_mode(service.access(), service.node().root_access());
  auto shm = platform::SharedMemory::create(Paths::port_segment(service.config(), service.hash(), id),
                                            bytes, mode.mode, mode.group);
  if (!shm) return tl::unexpected(SegmentFailure::InsufficientResources);
  auto pool = core::ChunkPool::initialize(shm->data(), shm->size(), chunk_count, chunk_size,
                                          alignment);
  if (!pool) return tl::unexpected(SegmentFailure::InsufficientResources);
  return OwnSegment{std::move(*shm), *pool};
}

tl::expected<PeerSegment, MapFailure> map_port_segment(const ServiceCore& service,
                                                       std::uint64_t id,
                                                       std::uint64_t min_chunk_size,
                                                       std::uint64_t alignment) {
  auto shm = platform::SharedMemory::open(Paths::port_segment(service.config(), service.hash(), id),
                                          platform::AccessMode::ReadOnly);
  if (!shm) {
    const auto code = shm.error().code;
    return tl::unexpected(code == platform::ErrorCode::LimitReached ||
                                  code == platform::ErrorCode::InsufficientMemory
                              ? MapFailure::Passing
                              : MapFailure::Lasting);
  }
  std::shared_ptr<const platform::SharedMemory> segment;
  try {
    segment = std::make_shared<const platform::SharedMemory>(std::move(*shm));
  } catch (const std::bad_alloc&) {
    return tl::unexpected(MapFailure::Passing);
  }
  // SAFETY: attach only reads the block; the mapping is read-only and validated by attach.
  auto pool = core::ChunkPool::attach(const_cast<void*>(segment->data()), segment->size());
  if (!pool || pool->chunk_size() < min_chunk_size || pool->chunk_alignment() < alignment) {
    return tl::unexpected(MapFailure::Lasting);  // a corrupted segment is never read
  }
  return PeerSegment{std::move(segment), *pool};
}

}  // namespace axon::detail
