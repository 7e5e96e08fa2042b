// The messaging patterns a service can have. Every choice on a pattern is an exhaustive switch
// (no comparison with one value), so a pattern added here and not handled somewhere is a compile
// error, not a silent default.
#pragma once

namespace axon {

enum class MessagingPattern { Event, PublishSubscribe, RequestResponse };

/// "event", "publish_subscribe", "request_response": as the CLI prints it.
const char* to_string(MessagingPattern pattern);

}  // namespace axon
