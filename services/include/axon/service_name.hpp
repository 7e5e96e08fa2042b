// Service names: 1..255 bytes of printable ASCII, '/'-separated segments, none empty, '.' or '..'.
#pragma once

#include "axon/core/service_name.hpp"

namespace axon {
using ServiceName = core::ServiceName;
using ServiceNameError = core::ServiceNameError;
using core::to_string;
}  // namespace axon
