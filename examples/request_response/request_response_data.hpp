// The payloads and names of the request-response examples: plain data, the same in every process.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "../common.hpp"
#include "axon/service_name.hpp"

/// What the client asks: the request's number (0, 1, ...).
struct RequestData {
  static constexpr const char* AXON_TYPE_NAME = "examples::RequestData";
  std::uint64_t number;
};

/// One response of the stream that answers a request.
struct ResponseData {
  static constexpr const char* AXON_TYPE_NAME = "examples::ResponseData";
  std::uint64_t request;  ///< the number of the request it answers
  std::uint64_t step;     ///< 0, 1, ... within the stream
  std::uint64_t value;    ///< request x (step + 1)
};

/// Who wakes whom: the client notifies SERVICE/new_request after each request (the server sleeps
/// in a WaitSet on it); the server notifies SERVICE/new_response after each response and each
/// ended stream (the client sleeps on it).
inline constexpr std::string_view kRequestSuffix = "/new_request";
inline constexpr std::string_view kResponseSuffix = "/new_response";

/// The longest SERVICE these examples take: both event services' names must be valid service
/// names too, so the longer suffix takes its room from ServiceName::kMaxLength.
inline constexpr std::size_t kMaxServiceNameLength =
    axon::ServiceName::kMaxLength - std::max(kRequestSuffix.size(), kResponseSuffix.size());

/// The names a request-response example uses for SERVICE.
struct ExampleNames {
  axon::ServiceName service;
  axon::ServiceName requests;   ///< SERVICE/new_request
  axon::ServiceName responses;  ///< SERVICE/new_response
};

/// The names for SERVICE; otherwise one line on stderr saying why (the name escaped), nullopt.
/// A valid service name longer than kMaxServiceNameLength is refused as too long for these
/// examples, with both limits, rather than as an invalid name.
inline std::optional<ExampleNames> example_names(std::string_view text) {
  auto service = axon::examples::service_name_or_complain(text);
  if (!service) return std::nullopt;
  auto requests = axon::ServiceName::create(std::string(text) + std::string(kRequestSuffix));
  auto responses = axon::ServiceName::create(std::string(text) + std::string(kResponseSuffix));
  if (!requests || !responses) {
    axon::examples::complain(
        "service name %s is %zu bytes, too long for this example: it also uses "
        "\"SERVICE%.*s\" for notifications, and that must fit in %zu bytes too, so "
        "SERVICE may have at most %zu bytes",
        axon::tools::quoted(text).c_str(), text.size(), static_cast<int>(kResponseSuffix.size()),
        kResponseSuffix.data(), axon::ServiceName::kMaxLength, kMaxServiceNameLength);
    return std::nullopt;
  }
  return ExampleNames{std::move(*service), std::move(*requests), std::move(*responses)};
}
