// The payload of the publish-subscribe examples: plain data, the same in every process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "../common.hpp"
#include "axon/service_name.hpp"

struct TransmissionData {
  static constexpr const char* AXON_TYPE_NAME = "examples::TransmissionData";
  std::uint64_t counter;
  std::int32_t x;
  std::int32_t y;
  double funky;
};

/// The event service that tells subscribers new samples are there (for WaitSet reception) is
/// named SERVICE + kNotificationSuffix.
inline constexpr std::string_view kNotificationSuffix = "/new_sample";

/// The longest SERVICE these examples take: the notification service's name must be a valid
/// service name too, so the suffix takes its room from ServiceName::kMaxLength.
inline constexpr std::size_t kMaxServiceNameLength =
    axon::ServiceName::kMaxLength - kNotificationSuffix.size();

/// The names a publish-subscribe example uses for SERVICE.
struct ExampleNames {
  axon::ServiceName service;
  axon::ServiceName notifications;  ///< SERVICE/new_sample
};

/// The names for SERVICE; otherwise one line on stderr saying why (the name escaped), nullopt.
/// A valid service name longer than kMaxServiceNameLength is refused as too long for these
/// examples, with both limits, rather than as an invalid name.
inline std::optional<ExampleNames> example_names(std::string_view text) {
  auto service = axon::examples::service_name_or_complain(text);
  if (!service) return std::nullopt;
  auto notifications =
      axon::ServiceName::create(std::string(text) + std::string(kNotificationSuffix));
  if (!notifications) {
    std::fprintf(stderr,
                 "service name %s is %zu bytes, too long for this example: it also uses "
                 "\"SERVICE%.*s\" for notifications, and that must fit in %zu bytes too, so "
                 "SERVICE may have at most %zu bytes\n",
                 axon::tools::quoted(text).c_str(), text.size(),
                 static_cast<int>(kNotificationSuffix.size()), kNotificationSuffix.data(),
                 axon::ServiceName::kMaxLength, kMaxServiceNameLength);
    return std::nullopt;
  }
  return ExampleNames{std::move(*service), std::move(*notifications)};
}
