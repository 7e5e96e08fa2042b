#pragma once

#include <cstdint>
#include <string_view>

namespace axon::core {

/// 64-bit FNV-1a of `text`. Stable across processes, builds and platforms, so it can derive
/// fixed-length object names from service names. Not a cryptographic hash.
constexpr std::uint64_t fnv1a_64(std::string_view text) noexcept {
  constexpr std::uint64_t kOffsetBasis = 0xcbf29ce484222325ULL;
  constexpr std::uint64_t kPrime = 0x100000001b3ULL;
  std::uint64_t hash = kOffsetBasis;
  for (const char c : text) {
    hash ^= static_cast<std::uint8_t>(c);
    hash *= kPrime;
  }
  return hash;
}

}  // namespace axon::core
