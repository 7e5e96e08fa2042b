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
