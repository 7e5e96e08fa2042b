// Fuzzes a latched event's object (core/system_event_layout.hpp): check_system_event on a mapping
// the input controls, and the state word operations SystemEvent performs on one it accepted.
//
// Input: a mode byte, the name the opener expects (length byte, bytes), then
//   raw  (mode bit 0 clear): the mapping's size and bytes (size may end inside the header);
//   made (mode bit 0 set): construct_system_event of the expected name (mode bit 1: of a name from
//        the input) in a mapping of sizeof(SystemEventLayout) plus slack, then input bytes over
//        parts of it.
// Then check_system_event; a Valid verdict must mean the whole layout is mapped, the stored name
// is the expected one, the header fields are the current version's. On Valid: set, clear, is_set
// and the FIFO flag, as SystemEvent does, driven by the rest of the input. construct_system_event
// itself must refuse a mapping too small and a name too long, and yield Valid otherwise.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "axon/core/system_event_layout.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace axon::core;
using axon::fuzz::Block;
using axon::fuzz::Input;

void operate(SystemEventLayout& event, Input& in) {
  while (!in.empty()) {
    switch (in.take<std::uint8_t>() % 4) {
      case 0: {  // set: even -> odd
        // ORDERING: as SystemEvent::set: acq_rel on the transition.
        std::uint32_t state = event.state.load(std::memory_order_acquire);
        if (!is_set_state(state)) {
          (void)event.state.compare_exchange_strong(state, state + 1, std::memory_order_acq_rel);
        }
        break;
      }
      case 1: {  // clear: odd -> even
        std::uint32_t state = event.state.load(std::memory_order_acquire);
        if (is_set_state(state)) {
          (void)event.state.compare_exchange_strong(state, state + 1, std::memory_order_acq_rel);
        }
        break;
      }
      case 2:
        (void)is_set_state(event.state.load(std::memory_order_acquire));
        break;
      case 3:
        event.fifo_enabled.store(1, std::memory_order_release);
        break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in{data, size};
  const auto mode = in.take<std::uint8_t>();
  char name_bytes[kMaxSystemEventNameLength + 8]{};
  const std::size_t name_length = in.take_bytes(name_bytes, in.take_in(0, sizeof(name_bytes)));
  const std::string_view name{name_bytes, name_length};

  std::size_t bytes = 0;
  if ((mode & 1U) == 0) {
    bytes = static_cast<std::size_t>(in.take_in(0, 2 * sizeof(SystemEventLayout)));
  } else {
    bytes = static_cast<std::size_t>(in.take_in(0, sizeof(SystemEventLayout) + 64));
  }
  Block block{bytes};
  if ((mode & 1U) == 0) {
    block.fill(in);
  } else {
    char other_bytes[kMaxSystemEventNameLength + 8]{};
    const std::string_view created =
        (mode & 2U) != 0
            ? std::string_view{other_bytes,
                               in.take_bytes(other_bytes, in.take_in(0, sizeof(other_bytes)))}
            : name;
    SystemEventLayout* made = construct_system_event(block.data(), block.size(), created);
    const bool fits =
        bytes >= sizeof(SystemEventLayout) && created.size() <= kMaxSystemEventNameLength;
    AXON_FUZZ_CHECK((made != nullptr) == fits);
    if (made != nullptr) {
      AXON_FUZZ_CHECK(check_system_event(block.data(), block.size(), created) ==
                      SystemEventCheck::Valid);
    }
    (void)block.scribble(in);
  }

  const SystemEventCheck verdict = check_system_event(block.data(), block.size(), name);
  if (verdict != SystemEventCheck::Valid) return 0;
  AXON_FUZZ_CHECK(block.size() >= sizeof(SystemEventLayout));
  // SAFETY: Valid: a complete layout is mapped at this aligned address.
  auto& event = *reinterpret_cast<SystemEventLayout*>(block.data());
  AXON_FUZZ_CHECK(event.version == kSystemEventVersion &&
                  event.size_of_self == sizeof(SystemEventLayout));
  AXON_FUZZ_CHECK(event.name.view() == name && event.name.m_len == name.size());
  AXON_FUZZ_CHECK(event.fifo_enabled.load(std::memory_order_relaxed) <= 1);
  operate(event, in);
  return 0;
}
