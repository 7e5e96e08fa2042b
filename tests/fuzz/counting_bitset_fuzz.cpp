// Fuzzes CountingBitset (core/counting_bitset.hpp): a bitset attached to a block the input
// controls.
//
// Input: a mode byte, then
//   raw  (mode bit 0 clear): the block's size and bytes, attached as a peer's mapping would be;
//        mode bits 1-2 both set: the block starts off its 64-byte alignment.
//   made (mode bit 0 set): max id (up to 9000: three level-0 words), slack bytes; `initialize`,
//        then let the input overwrite parts of the block, header included, before attaching.
// Then operations until the input ends: add (ids in and out of range, counts 0 to huge), drain
// (sometimes adding from inside the callback, which the contract allows), has_pending, and a peer
// scribbling anywhere in the block, its header included (the handle keeps what attach checked).
// Every drain must call back in strictly ascending id order, with ids <= max_id and counts > 0.
// While nothing was overwritten, per-id totals check every count: a drain delivers exactly what
// is outstanding (or, when the callback added, at most that and the rest by the next drain).
#include <cstddef>
#include <cstdint>
#include <map>

#include "axon/core/counting_bitset.hpp"
#include "fuzz_support.hpp"

namespace {

using axon::core::CoreError;
using axon::core::CountingBitset;
using axon::fuzz::Block;
using axon::fuzz::Input;

constexpr std::size_t kMaxRawBlock = 4096;
constexpr std::uint64_t kMaxMadeId = 9000;

class Operator {
 public:
  Operator(CountingBitset& sut, Block& block, Input& in, bool trusted)
      : m_sut{sut}, m_block{block}, m_in{in}, m_trusted{trusted}, m_max_id{sut.max_id()} {}

  void run() {
    AXON_FUZZ_CHECK(m_max_id <= CountingBitset::kMaxSupportedId);
    AXON_FUZZ_CHECK(CountingBitset::required_size(m_max_id) <= m_block.size());
    while (!m_in.empty()) {
      switch (m_in.take<std::uint8_t>() % 8) {
        case 0:
        case 1:
        case 2:
          add(pick_id(), pick_count());
          break;
        case 3:
          drain(false);
          break;
        case 4:
          drain(true);
          break;
        case 5:
          AXON_FUZZ_CHECK(m_sut.max_id() == m_max_id);
          // A hint: a stale summary bit may outlive its count (an add from inside a drain to an
          // id that drain then took), but an outstanding count always shows.
          if (m_trusted && anything_outstanding()) AXON_FUZZ_CHECK(m_sut.has_pending());
          (void)m_sut.has_pending();
          break;
        case 6:
          // The handle keeps what attach validated: the header is fair game too.
          if (m_block.scribble(m_in, 0, 2)) m_trusted = false;
          break;
        case 7:
          add(m_in.take<std::uint64_t>(), 1);
          break;
      }
    }
    // Whatever is outstanding must come out now, exactly.
    drain(false);
    if (m_trusted) AXON_FUZZ_CHECK(!anything_outstanding() && !m_sut.has_pending());
  }

 private:
  std::uint64_t pick_id() { return m_in.take_in(0, m_max_id + 2); }

  std::uint64_t pick_count() {
    const auto kind = m_in.take<std::uint8_t>();
    if (!m_trusted && (kind & 0x80U) != 0) return m_in.take<std::uint64_t>();
    return kind & 0x7fU;  // 0 records nothing; small enough that no counter wraps
  }

  void add(std::uint64_t id, std::uint64_t count) {
    const auto added = m_sut.add(id, count);
    if (id > m_max_id) {
      AXON_FUZZ_CHECK(!added && added.error() == CoreError::OutOfBounds);
      return;
    }
    if (m_trusted) {
      AXON_FUZZ_CHECK(added.has_value());
      if (count != 0) m_outstanding[id] += count;
    }
  }

  void drain(bool add_inside) {
    bool added_inside = false;
    bool first = true;
    std::uint64_t previous = 0;
    const std::uint64_t inside_id = add_inside ? pick_id() : 0;
    const std::uint64_t inside_count = add_inside ? pick_count() : 0;
    const auto drained = m_sut.drain([&](std::uint64_t id, std::uint64_t count) {
      AXON_FUZZ_CHECK(id <= m_max_id);
      AXON_FUZZ_CHECK(count != 0);
      AXON_FUZZ_CHECK(first || id > previous);
      first = false;
      previous = id;
      if (m_trusted) {
        const auto it = m_outstanding.find(id);
        AXON_FUZZ_CHECK(it != m_outstanding.end());
        AXON_FUZZ_CHECK(added_inside ? count <= it->second : count == it->second);
        it->second -= count;
        if (it->second == 0) m_outstanding.erase(it);
      }
      if (add_inside && !added_inside) {
        added_inside = true;
        add(inside_id, inside_count);
      }
    });
    AXON_FUZZ_CHECK(drained.has_value());
    if (m_trusted && !added_inside) AXON_FUZZ_CHECK(!anything_outstanding());
  }

  bool anything_outstanding() const { return !m_outstanding.empty(); }

  CountingBitset& m_sut;
  Block& m_block;
  Input& m_in;
  bool m_trusted;
  std::uint64_t m_max_id;
  std::map<std::uint64_t, std::uint64_t> m_outstanding;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in{data, size};
  const auto mode = in.take<std::uint8_t>();
  if ((mode & 1U) == 0) {
    const std::size_t skew = (mode & 6U) == 6U ? static_cast<std::size_t>(in.take_in(1, 63)) : 0;
    Block block{static_cast<std::size_t>(in.take_in(0, kMaxRawBlock)), 64, skew};
    block.fill(in);
    if (auto sut = CountingBitset::attach(block.data(), block.size())) {
      Operator{*sut, block, in, false}.run();
    }
    return 0;
  }

  const std::uint64_t max_id = (mode & 2U) != 0 ? in.take_in(0, kMaxMadeId) : in.take_in(0, 255);
  Block block{CountingBitset::required_size(max_id) + static_cast<std::size_t>(in.take_in(0, 127))};
  AXON_FUZZ_CHECK(CountingBitset::initialize(block.data(), block.size(), max_id).has_value());
  const bool overwritten = block.scribble(in);
  if (auto sut = CountingBitset::attach(block.data(), block.size())) {
    Operator{*sut, block, in, !overwritten}.run();
  } else {
    AXON_FUZZ_CHECK(overwritten);
  }
  return 0;
}
