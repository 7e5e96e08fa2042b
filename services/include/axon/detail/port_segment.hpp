// A port's data segment: the chunk pool a publisher, client or server writes its payloads into,
// named after the port's reserved id (Paths::port_segment), and mapped read-only by its peers.
// One way to make it and one way to map a peer's, for every pattern that moves payloads.
#pragma once

#include <cstdint>
#include <memory>
#include <tl/expected.hpp>

#include "axon/core/chunk_pool.hpp"
#include "axon/platform/shared_memory.hpp"

namespace axon::detail {

class ServiceCore;

/// Largest data segment a port makes.
inline constexpr std::uint64_t kMaxSegmentBytes = std::uint64_t{1} << 40;

struct OwnSegment {
  platform::SharedMemory shm;
  core::ChunkPool pool;
};
enum class SegmentFailure {
  TooLarge,               ///< the pool's size is 0 (a parameter out of range) or too large
  InsufficientResources,  ///< the object could not be made (shared memory or fds)
};
/// Makes the segment of port `id` of `service`: readable by the service's group when it asked
/// for group access, writable by us alone. The caller's release_port removes it.
tl::expected<OwnSegment, SegmentFailure> create_port_segment(const ServiceCore& service,
                                                             std::uint64_t id,
                                                             std::uint64_t chunk_count,
                                                             std::uint64_t chunk_size,
                                                             std::uint64_t alignment);

struct PeerSegment {
  std::shared_ptr<const platform::SharedMemory> shm;
  core::ChunkPool pool;
};
enum class MapFailure {
  Passing,  ///< out of fds or memory: worth trying again soon
  Lasting,  ///< gone already, or not a segment a port of this service makes: never read
};
/// Maps the segment of peer port `id` read-only and validates its pool: chunks of at least
/// `min_chunk_size` bytes, aligned to at least `alignment`.
tl::expected<PeerSegment, MapFailure> map_port_segment(const ServiceCore& service,
                                                       std::uint64_t id,
                                                       std::uint64_t min_chunk_size,
                                                       std::uint64_t alignment);

}  // namespace axon::detail
