// What a publish-subscribe service carries: the payload type's name, size and alignment, and
// whether samples are slices (arrays whose length each sample sets). Checked on open: two
// processes share a service only when they agree on all four (PubSubOpenError::IncompatibleTypes).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace axon {

/// Marker: `publish_subscribe<Slice<T>>()` sends arrays of T.
template <typename T>
struct Slice {
  using ElementType = T;
};

/// The payload of a publish-subscribe service, as the service records it.
struct PayloadType {
  std::string name;             ///< T::AXON_TYPE_NAME when T defines it, else the compiler's
  std::uint64_t size = 0;       ///< bytes of one element (sizeof)
  std::uint64_t alignment = 0;  ///< alignof of one element: a power of two, at most 4096
  bool is_slice = false;        ///< a sample is an array of elements, its length set per loan

  friend bool operator==(const PayloadType&, const PayloadType&) = default;
};

namespace detail {
template <typename T>
struct IsSlice : std::false_type {
  using Element = T;
};
template <typename T>
struct IsSlice<Slice<T>> : std::true_type {
  using Element = T;
};

template <typename T>
constexpr std::string_view compiler_type_name() {
  constexpr std::string_view f = __PRETTY_FUNCTION__;
  constexpr std::string_view key = "T = ";
  constexpr auto start = f.find(key) + key.size();
  constexpr auto end = f.find_first_of(";]", start);
  return f.substr(start, end - start);
}

template <typename T>
constexpr std::string_view type_name() {
  if constexpr (requires { T::AXON_TYPE_NAME; }) {
    return std::string_view(T::AXON_TYPE_NAME);
  } else {
    return compiler_type_name<T>();
  }
}
}  // namespace detail

/// The PayloadType of `publish_subscribe<T>()`: T's, or for Slice<E> that of E with is_slice.
/// Name it across compilers (and languages) with `static constexpr const char* AXON_TYPE_NAME`.
template <typename T>
PayloadType payload_type_of() {
  using Element = typename detail::IsSlice<T>::Element;
  return PayloadType{std::string(detail::type_name<Element>()), sizeof(Element), alignof(Element),
                     detail::IsSlice<T>::value};
}

}  // namespace axon
