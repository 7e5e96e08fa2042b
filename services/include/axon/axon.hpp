// Everything a user of axon needs.
#pragma once

#include "axon/access.hpp"
#include "axon/cleanup.hpp"
#include "axon/config.hpp"
#include "axon/discovery.hpp"
#include "axon/event/event_id.hpp"
#include "axon/event/service.hpp"
#include "axon/event/listener.hpp"
#include "axon/node.hpp"
#include "axon/event/notifier.hpp"
#include "axon/publish_subscribe/service.hpp"
#include "axon/request_response/service.hpp"
#include "axon/service_builder.hpp"
#include "axon/service_name.hpp"
#include "axon/system_event.hpp"
#include "axon/waitset.hpp"
