// Fuzzes ChunkPool (core/chunk_pool.hpp): a pool attached to a block the input controls.
//
// Input: a mode byte, then
//   raw  (mode bit 0 clear): the block's size and bytes (the block is 4096-aligned, so that any
//        stored alignment can pass), attached as a subscriber attaches a publisher's segment;
//        mode bits 1-2 both set: the block starts off its alignment.
//   made (mode bit 0 set): chunk count, chunk size, alignment, slack bytes, a prefill;
//        `initialize`, allocate the prefill, then let the input overwrite parts of the block,
//        header included, before attaching.
// Then operations until the input ends: allocate (and write the whole chunk, as a publisher
// writes its payload), release of a held, free or arbitrary index, index_of_offset of an offset
// from the input or near a chunk's start followed by reading the whole chunk and releasing it
// (as a subscriber reads a popped offset and the publisher takes back a returned one),
// offset_of/chunk, free_count, and a peer scribbling over the free list, the state words and the
// chunks, static config included (a handle keeps its own copy of what attach validated).
// While nothing was overwritten, a model of which chunks are held checks every answer.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "axon/core/chunk_pool.hpp"
#include "fuzz_support.hpp"

namespace {

using axon::core::ChunkPool;
using axon::core::CoreError;
using axon::fuzz::Block;
using axon::fuzz::Input;

constexpr std::size_t kMaxRawBlock = 4096;

class Operator {
 public:
  Operator(ChunkPool& sut, Block& block, Input& in, bool trusted,
           const std::vector<std::uint32_t>& held)
      : m_sut{sut},
        m_block{block},
        m_in{in},
        m_trusted{trusted},
        m_count{sut.chunk_count()},
        m_size{sut.chunk_size()},
        m_held(m_count, false) {
    for (const auto index : held) m_held[index] = true;
  }

  void run() {
    AXON_FUZZ_CHECK(m_sut.attached());
    AXON_FUZZ_CHECK(m_count >= 1 && m_count <= ChunkPool::kMaxChunkCount);
    AXON_FUZZ_CHECK(m_sut.stride() >= m_size);
    AXON_FUZZ_CHECK(ChunkPool::required_size(m_count, m_size, m_sut.chunk_alignment()) != 0);
    AXON_FUZZ_CHECK(ChunkPool::required_size(m_count, m_size, m_sut.chunk_alignment()) <=
                    m_block.size());
    if (m_trusted) {
      for (std::uint32_t i = 0; i < m_count; ++i) {
        const auto index = m_sut.index_of_offset(m_sut.offset_of(i));
        AXON_FUZZ_CHECK(index.has_value() && *index == i);
      }
    }
    while (!m_in.empty()) {
      switch (m_in.take<std::uint8_t>() % 9) {
        case 0:
        case 1:
          allocate();
          break;
        case 2:
          release(pick_index());
          break;
        case 3:
          release(m_in.take<std::uint32_t>());
          break;
        case 4:
          release_offset(offset_near_chunk());
          break;
        case 5:
          release_offset(m_in.take<std::uint64_t>());
          break;
        case 6: {
          const std::uint32_t index =
              m_in.take<std::uint8_t>() % 2 == 0 ? pick_index() : m_in.take<std::uint32_t>();
          const std::uint64_t offset = m_sut.offset_of(index);
          AXON_FUZZ_CHECK((offset == ChunkPool::kInvalidOffset) == (index >= m_count));
          AXON_FUZZ_CHECK((m_sut.chunk(index) == nullptr) == (index >= m_count));
          break;
        }
        case 7: {
          const std::uint32_t free = m_sut.free_count();
          AXON_FUZZ_CHECK(free <= m_count);
          if (m_trusted) AXON_FUZZ_CHECK(free == m_count - held_count());
          break;
        }
        case 8:
          if (m_block.scribble(m_in, 0, 2)) m_trusted = false;
          break;
      }
    }
  }

 private:
  std::uint32_t pick_index() {
    return static_cast<std::uint32_t>(m_in.take_in(0, std::uint64_t{m_count}));
  }

  std::uint64_t offset_near_chunk() {
    const std::uint64_t start = m_sut.offset_of(pick_index() % m_count);
    const auto delta = static_cast<std::int8_t>(m_in.take<std::uint8_t>());
    return start + static_cast<std::uint64_t>(std::int64_t{delta});
  }

  std::size_t held_count() const {
    std::size_t n = 0;
    for (const bool h : m_held) n += h ? 1 : 0;
    return n;
  }

  void allocate() {
    const bool checked = m_in.take_bool();
    std::optional<std::uint32_t> index;
    if (checked) {
      const auto allocated = m_sut.allocate_checked();
      if (allocated) index = *allocated;
      if (m_trusted && !allocated) AXON_FUZZ_CHECK(allocated.error() == CoreError::Empty);
    } else {
      index = m_sut.allocate();
    }
    if (m_trusted) AXON_FUZZ_CHECK(index.has_value() == (held_count() < m_count));
    if (!index) return;
    AXON_FUZZ_CHECK(*index < m_count);
    if (m_trusted) {
      AXON_FUZZ_CHECK(!m_held[*index]);
      m_held[*index] = true;
    }
    void* chunk = m_sut.chunk(*index);
    AXON_FUZZ_CHECK(chunk != nullptr);
    AXON_FUZZ_CHECK(axon::core::is_aligned(chunk, m_sut.chunk_alignment()));
    std::memset(chunk, 0xA5, m_size);
  }

  void release(std::uint32_t index) {
    const auto released = m_sut.release(index);
    if (index >= m_count) {
      AXON_FUZZ_CHECK(!released && released.error() == CoreError::OutOfBounds);
      return;
    }
    if (!m_trusted) return;
    if (m_held[index]) {
      AXON_FUZZ_CHECK(released.has_value());
      m_held[index] = false;
    } else {
      AXON_FUZZ_CHECK(!released && released.error() == CoreError::DoubleRelease);
    }
  }

  void release_offset(std::uint64_t offset) {
    const auto index = m_sut.index_of_offset(offset);
    if (!index) return;
    AXON_FUZZ_CHECK(*index < m_count);
    AXON_FUZZ_CHECK(m_sut.offset_of(*index) == offset);
    const void* chunk = m_sut.chunk(*index);
    AXON_FUZZ_CHECK(chunk != nullptr);
    (void)axon::fuzz::touch(chunk, m_size);
    if (m_in.take_bool()) release(*index);
  }

  ChunkPool& m_sut;
  Block& m_block;
  Input& m_in;
  bool m_trusted;
  std::uint32_t m_count;
  std::uint64_t m_size;
  std::vector<bool> m_held;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in{data, size};
  const auto mode = in.take<std::uint8_t>();
  if ((mode & 1U) == 0) {
    const std::size_t skew = (mode & 6U) == 6U ? static_cast<std::size_t>(in.take_in(1, 63)) : 0;
    Block block{static_cast<std::size_t>(in.take_in(0, kMaxRawBlock)), ChunkPool::kMaxAlignment,
                skew};
    block.fill(in);
    if (auto sut = ChunkPool::attach(block.data(), block.size())) {
      Operator{*sut, block, in, false, {}}.run();
    }
    return 0;
  }

  const std::uint64_t count = in.take_in(1, 64);
  const std::uint64_t chunk_size = in.take_in(1, 300);
  const std::uint64_t alignment = std::uint64_t{1} << in.take_in(0, 12);
  const std::size_t bytes = ChunkPool::required_size(count, chunk_size, alignment) +
                            static_cast<std::size_t>(in.take_in(0, 127));
  Block block{bytes, alignment > 64 ? alignment : 64};
  auto made = ChunkPool::initialize(block.data(), block.size(), count, chunk_size, alignment);
  AXON_FUZZ_CHECK(made.has_value());
  std::vector<std::uint32_t> held;
  for (std::uint64_t n = in.take_in(0, count); n > 0; --n) {
    const auto index = made->allocate();
    AXON_FUZZ_CHECK(index.has_value());
    held.push_back(*index);
  }
  const bool overwritten = block.scribble(in);
  if (auto sut = ChunkPool::attach(block.data(), block.size())) {
    Operator{*sut, block, in, !overwritten, overwritten ? std::vector<std::uint32_t>{} : held}
        .run();
  } else {
    AXON_FUZZ_CHECK(overwritten);
  }
  return 0;
}
