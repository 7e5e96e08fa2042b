#include "axon/messaging_pattern.hpp"

namespace axon {

const char* to_string(MessagingPattern pattern) {
  switch (pattern) {
    case MessagingPattern::Event: return "event";
    case MessagingPattern::PublishSubscribe: return "publish_subscribe";
    case MessagingPattern::RequestResponse: return "request_response";
  }
  return "unknown";
}

}  // namespace axon
