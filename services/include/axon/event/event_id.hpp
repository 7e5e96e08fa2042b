#pragma once

#include <compare>
#include <cstdint>
#include <string>

namespace axon {

/// The id carried by a notification; valid ids are 0..event_id_max_value of the service.
struct EventId {
  std::uint64_t value = 0;
  constexpr EventId() = default;
  constexpr explicit EventId(std::uint64_t v) : value(v) {}
  friend constexpr auto operator<=>(const EventId&, const EventId&) = default;
};

}  // namespace axon
