// What every fuzz target shares: reading the fuzzer's bytes as values, the "shared block" a
// structure is attached to, and the check that turns a broken promise into a crash the fuzzer
// reports.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <type_traits>

namespace axon::fuzz {

[[noreturn]] inline void check_failed(const char* condition, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, condition);
  std::abort();
}

}  // namespace axon::fuzz

/// A promise of the library that this input broke: abort, so that the fuzzer keeps the input.
#define AXON_FUZZ_CHECK(condition) \
  ((condition) ? void(0) : ::axon::fuzz::check_failed(#condition, __FILE__, __LINE__))

namespace axon::fuzz {

/// The fuzzer's input read front to back. Past its end every value reads as 0, so a short input
/// is still a complete (if dull) program.
class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) noexcept : m_data{data}, m_size{size} {}

  [[nodiscard]] std::size_t remaining() const noexcept { return m_size - m_at; }
  [[nodiscard]] bool empty() const noexcept { return m_at == m_size; }

  /// The next sizeof(T) bytes as a T (little-endian on the platforms axon targets).
  template <typename T>
  [[nodiscard]] T take() noexcept {
    static_assert(std::is_trivially_copyable_v<T>);
    unsigned char bytes[sizeof(T)]{};
    take_bytes(bytes, sizeof(T));
    T value;
    std::memcpy(&value, bytes, sizeof(T));
    return value;
  }

  /// A value in `lo..hi`, taking only as many bytes as the range needs.
  [[nodiscard]] std::uint64_t take_in(std::uint64_t lo, std::uint64_t hi) noexcept {
    const std::uint64_t span = hi - lo;
    std::uint64_t raw = 0;
    if (span <= 0xff) {
      raw = take<std::uint8_t>();
    } else if (span <= 0xffff) {
      raw = take<std::uint16_t>();
    } else if (span <= 0xffff'ffff) {
      raw = take<std::uint32_t>();
    } else {
      raw = take<std::uint64_t>();
    }
    return span == std::numeric_limits<std::uint64_t>::max() ? raw : lo + raw % (span + 1);
  }

  [[nodiscard]] bool take_bool() noexcept { return (take<std::uint8_t>() & 1U) != 0; }

  /// Copies up to `count` bytes into `out`; returns how many there were.
  std::size_t take_bytes(void* out, std::size_t count) noexcept {
    const std::size_t n = std::min(count, remaining());
    if (n != 0) {
      std::memcpy(out, m_data + m_at, n);
    }
    m_at += n;
    return n;
  }

 private:
  const std::uint8_t* m_data;
  std::size_t m_size;
  std::size_t m_at = 0;
};

/// The "shared block": exactly `size` zero-filled heap bytes (as a fresh mapping is) at
/// `alignment`, so that AddressSanitizer reports any access past its end. `skew` shifts the start
/// by that many bytes off the alignment, to reach the `Misaligned` checks.
class Block {
 public:
  explicit Block(std::size_t size, std::size_t alignment = 64, std::size_t skew = 0)
      : m_size{size},
        m_skew{skew},
        m_alignment{alignment},
        m_memory{
            static_cast<std::byte*>(::operator new (size + skew, std::align_val_t{alignment}))} {
    std::memset(m_memory, 0, size + skew);
  }
  ~Block() { ::operator delete (m_memory, std::align_val_t{m_alignment}); }
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;

  [[nodiscard]] std::byte* data() const noexcept { return m_memory + m_skew; }
  [[nodiscard]] std::size_t size() const noexcept { return m_size; }

  /// Fills the block from the input (what is missing stays 0).
  void fill(Input& in) noexcept { in.take_bytes(data(), m_size); }

  /// What a broken or hostile peer leaves behind: up to `max_patches` regions in `[from, to)`
  /// (`to` clamped to the block), each overwritten with up to 16 input bytes. Returns whether
  /// anything was written.
  bool scribble(Input& in, std::size_t from = 0, unsigned max_patches = 4,
                std::size_t to = std::numeric_limits<std::size_t>::max()) noexcept {
    to = std::min(to, m_size);
    bool wrote = false;
    const unsigned patches = static_cast<unsigned>(in.take_in(0, max_patches));
    for (unsigned i = 0; i < patches && from < to; ++i) {
      const std::size_t at = static_cast<std::size_t>(in.take_in(from, to - 1));
      const std::size_t length = std::min<std::size_t>(in.take_in(1, 16), to - at);
      wrote = in.take_bytes(data() + at, length) != 0 || wrote;
    }
    return wrote;
  }

 private:
  std::size_t m_size;
  std::size_t m_skew;
  std::size_t m_alignment;
  std::byte* m_memory;
};

/// Reads every byte of `[memory, memory + size)`, so that AddressSanitizer checks the whole range
/// the library handed out, not just the bytes a caller happens to touch.
inline std::uint8_t touch(const void* memory, std::size_t size) noexcept {
  std::uint8_t sum = 0;
  const auto* bytes = static_cast<const volatile std::uint8_t*>(memory);
  for (std::size_t i = 0; i < size; ++i) {
    sum = static_cast<std::uint8_t>(sum + bytes[i]);
  }
  return sum;
}

}  // namespace axon::fuzz
