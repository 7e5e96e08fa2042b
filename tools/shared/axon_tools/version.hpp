// The version every program prints for --version: the CMake project version, which
// tools/CMakeLists.txt passes as AXON_VERSION to everything that links axon_tools.
#pragma once

#include <string>
#include <string_view>

#ifndef AXON_VERSION
#error "AXON_VERSION (the CMake project version) is defined by the axon_tools target"
#endif

namespace axon::tools {

inline constexpr const char* kVersion = AXON_VERSION;

/// What --version prints: `<program> <version>`, e.g. `evt_set 0.1.0`.
inline std::string version_line(std::string_view program) {
  return std::string(program) + " " + kVersion;
}

}  // namespace axon::tools
