// Everything a user of axon needs.
#pragma once

#include "axon/access.hpp"
#include "axon/cleanup.hpp"
#include "axon/config.hpp"
#include "axon/discovery.hpp"
#include "axon/event_id.hpp"
#include "axon/event_service.hpp"
#include "axon/listener.hpp"
#include "axon/node.hpp"
#include "axon/notifier.hpp"
#include "axon/publish_subscribe.hpp"
#include "axon/service_builder.hpp"
#include "axon/service_name.hpp"
#include "axon/system_event.hpp"
#include "axon/waitset.hpp"
