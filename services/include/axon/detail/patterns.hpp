// Every messaging pattern axon has, and the one place that chooses among them by the pattern a
// static config names. A new pattern is added here (and to core::with_layout); any switch on
// MessagingPattern that forgets it fails to compile.
#pragma once

#include <optional>
#include <type_traits>
#include <variant>

#include "axon/detail/pattern_policy.hpp"
#include "axon/event/pattern.hpp"
#include "axon/publish_subscribe/pattern.hpp"
#include "axon/request_response/pattern.hpp"

namespace axon::detail {

/// The process-local state of whichever pattern's region a service core holds.
using AnyRegion =
    std::variant<EventPattern::Region, PubSubPattern::Region, RequestResponsePattern::Region>;

/// Calls `f` with the policy of `pattern` (EventPattern{}, PubSubPattern{}) and returns its
/// result (for an `f` returning void: true); nullopt (false) for a value no creator writes:
/// core::check_static_config refuses those before anything here is asked.
template <typename F>
auto with_pattern(core::MessagingPattern pattern, F&& f) {
  using Result = decltype(f(EventPattern{}));
  auto call = [&](auto policy) {
    if constexpr (std::is_void_v<Result>) {
      f(policy);
      return true;
    } else {
      return std::optional<Result>(f(policy));
    }
  };
  using Returned = decltype(call(EventPattern{}));
  switch (pattern) {
    case core::MessagingPattern::Event: return call(EventPattern{});
    case core::MessagingPattern::PublishSubscribe: return call(PubSubPattern{});
    case core::MessagingPattern::RequestResponse: return call(RequestResponsePattern{});
  }
  return Returned{};
}

}  // namespace axon::detail
