#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>

namespace axon::core {

/// A string of at most `N` bytes stored inline, so it can live in shared memory.
///
/// Trivially copyable and standard layout. The stored length is not trusted: `view()` clamps it to
/// `N`, so a corrupted length never reads past the buffer. Not thread-safe; treat it as plain data.
template <std::size_t N>
struct FixedString {
  static_assert(N > 0 && N < UINT32_MAX, "FixedString capacity must fit the 32-bit length");

  static constexpr std::size_t kCapacity = N;

  /// Zero-terminated for convenience only; `m_len` is the authority.
  char m_data[N + 1]{};
  std::uint32_t m_len{0};

  /// Copies `text`, or nullopt when it is longer than `N`.
  [[nodiscard]] static constexpr std::optional<FixedString> from(std::string_view text) noexcept {
    if (text.size() > N) {
      return std::nullopt;
    }
    FixedString result{};
    for (std::size_t i = 0; i < text.size(); ++i) {
      result.m_data[i] = text[i];
    }
    result.m_len = static_cast<std::uint32_t>(text.size());
    return result;
  }

  /// The stored text; a length beyond `N` (corruption) is clamped to `N`.
  [[nodiscard]] constexpr std::string_view view() const noexcept {
    const std::size_t len = m_len <= N ? m_len : N;
    return std::string_view{m_data, len};
  }

  [[nodiscard]] constexpr std::size_t size() const noexcept { return view().size(); }
  [[nodiscard]] constexpr bool empty() const noexcept { return size() == 0; }

  friend constexpr bool operator==(const FixedString& lhs, const FixedString& rhs) noexcept {
    return lhs.view() == rhs.view();
  }
  friend constexpr bool operator==(const FixedString& lhs, std::string_view rhs) noexcept {
    return lhs.view() == rhs;
  }
};

static_assert(std::is_trivially_copyable_v<FixedString<8>>);
static_assert(std::is_standard_layout_v<FixedString<8>>);

}  // namespace axon::core
