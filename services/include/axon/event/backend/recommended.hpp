// The listener backends axon knows, and the one a service uses unless told otherwise
// (EventBackend::EventFd, see kDefaultEventBackend in event/service.hpp).
#pragma once

#include <variant>

#include "axon/event/backend/eventfd_backend.hpp"
#include "axon/event/backend/fifo_backend.hpp"

namespace axon::detail {

using AnyListenerEnd = std::variant<EventFdBackend::ListenerEnd, FifoBackend::ListenerEnd>;
using AnyNotifierEnd = std::variant<EventFdBackend::NotifierEnd, FifoBackend::NotifierEnd>;

}  // namespace axon::detail
