#pragma once

#include <cstdint>
#include <string>
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

/// `value` as exactly 16 lowercase hex digits: how object and file names spell ids and hashes.
inline std::string hex16(std::uint64_t value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, value >>= 4) out[static_cast<std::size_t>(i)] = kDigits[value & 15];
  return out;
}

}  // namespace axon::core
