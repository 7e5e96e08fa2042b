// The payload of the publish-subscribe examples: plain data, the same in every process.
#pragma once

#include <cstdint>

struct TransmissionData {
  static constexpr const char* AXON_TYPE_NAME = "examples::TransmissionData";
  std::uint64_t counter;
  std::int32_t x;
  std::int32_t y;
  double funky;
};

/// The event service that tells subscribers new samples are there (for WaitSet reception).
inline std::string notification_service_of(const std::string& service) {
  return service + "/new_sample";
}
