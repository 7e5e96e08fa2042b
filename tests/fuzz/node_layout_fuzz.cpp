// Fuzzes a node's details object (core/node_layout.hpp): what `Node::list` and `axon node list`
// make of a mapped NodeDetails the input controls.
//
// Input: a mode byte, then the id the lister expects (from its lock file's name), then
//   raw  (mode bit 0 clear): the block's size and bytes;
//   made (mode bit 0 set): details written as Node::create writes them (id, pid, name from the
//        input; mode bit 1: the id the lister expects), then input bytes over parts of it.
// Then, as the lister: a block of at least sizeof(NodeDetails) is copied out and validated; the
// pid and the name of valid details are read. A valid record must carry the expected id, magic
// and version, and a name no longer than kMaxNodeNameLength.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "axon/core/node_layout.hpp"
#include "axon/core/node_name.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace axon::core;
using axon::fuzz::Block;
using axon::fuzz::Input;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in{data, size};
  const auto mode = in.take<std::uint8_t>();
  const auto expected_id = in.take<std::uint64_t>();
  std::size_t bytes = sizeof(NodeDetails);
  if ((mode & 1U) == 0) bytes = static_cast<std::size_t>(in.take_in(0, 2 * sizeof(NodeDetails)));
  Block block{bytes};
  if ((mode & 1U) == 0) {
    block.fill(in);
  } else {
    // SAFETY: a zero-filled, aligned block of sizeof(NodeDetails); trivially copyable, so writing
    // it in place starts its lifetime (as Node::create does on its mapping).
    auto* d = reinterpret_cast<NodeDetails*>(block.data());
    d->magic = kNodeDetailsMagic;
    d->version = kNodeDetailsVersion;
    d->pid = in.take<std::int32_t>();
    d->node_id = (mode & 2U) != 0 ? expected_id : in.take<std::uint64_t>();
    d->created_ns = in.take<std::int64_t>();
    char name[kMaxNodeNameLength + 1]{};
    const std::size_t length = in.take_bytes(name, in.take_in(0, sizeof(name)));
    if (const auto stored = FixedString<kMaxNodeNameLength>::from({name, length})) {
      d->name = *stored;
    }
    (void)block.scribble(in);
  }

  if (block.size() < sizeof(NodeDetails)) return 0;
  NodeDetails d;
  std::memcpy(&d, block.data(), sizeof(d));
  if (!validate_node_details(d, expected_id)) return 0;
  AXON_FUZZ_CHECK(d.magic == kNodeDetailsMagic && d.version == kNodeDetailsVersion &&
                  d.node_id == expected_id);
  const std::string name{d.name.view()};
  AXON_FUZZ_CHECK(name.size() <= kMaxNodeNameLength && name.size() == d.name.size());
  if (const auto parsed = NodeName::create(name)) AXON_FUZZ_CHECK(parsed->as_string() == name);
  (void)d.pid;
  return 0;
}
