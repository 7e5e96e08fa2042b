// The settings of a publish-subscribe service: what create() makes, what open() may require,
// what discovery reports.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "axon/access.hpp"

namespace axon {

/// What a publisher does when a subscriber's buffer is full.
enum class OverflowPolicy {
  OverwriteOldest,  ///< drop the subscriber's oldest unread sample (the default)
  Refuse,           ///< that subscriber does not get the new sample; send() counts it out
  Block,            ///< wait (sleeping, bounded by the publisher's block timeout) for room
};
/// "OverwriteOldest", "Refuse", "Block".
const char* to_string(OverflowPolicy policy);

struct PubSubDefaults {
  static constexpr std::uint32_t kMaxPublishers = 2;
  static constexpr std::uint32_t kMaxSubscribers = 8;
  static constexpr std::uint32_t kMaxNodes = 20;
  static constexpr std::uint32_t kHistorySize = 0;
  static constexpr std::uint32_t kSubscriberBufferSize = 2;
  static constexpr std::uint32_t kMaxLoans = 2;
  static constexpr std::uint32_t kMaxBorrowedSamples = 2;
  static constexpr std::uint32_t kMaxPorts = 256;
  static constexpr std::uint32_t kMaxQueue = 1u << 16;
  static constexpr auto kBlockTimeout = std::chrono::seconds(1);
};

/// The settings a publish-subscribe service was created with.
struct PubSubStaticConfig {
  std::string type_name;
  std::uint64_t type_size = 0;
  std::uint64_t type_alignment = 0;
  bool is_slice = false;
  /// The user header every sample carries (`user_header<H>()`); empty name and 0: none.
  std::string user_header_name;
  std::uint64_t user_header_size = 0;
  std::uint64_t user_header_alignment = 0;
  std::uint32_t max_publishers = 0;
  std::uint32_t max_subscribers = 0;
  std::uint32_t max_nodes = 0;
  std::uint32_t history_size = 0;
  std::uint32_t subscriber_buffer_size = 0;
  std::uint32_t max_loans = 0;
  std::uint32_t max_borrowed_samples = 0;
  OverflowPolicy overflow = OverflowPolicy::OverwriteOldest;
  Access access = kDefaultAccess;
};

}  // namespace axon
