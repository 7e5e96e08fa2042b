// Shared by the two service-config targets: a static config as a creator writes it (settings
// from the input), and what every opener does with a mapped one before it trusts it: the same
// core::copy_static_config and core::check_static_config that services/src/service_core.cpp
// runs; only the size and Ready probe (probe_static there) is restated here.
#pragma once

#include <atomic>
#include <cstdint>
#include <new>

#include "axon/core/service_layout.hpp"
#include "fuzz_support.hpp"

namespace axon::fuzz {

/// A count for a setting: small (a service one could run) or, when `wide`, any 32-bit value.
inline std::uint32_t take_count(Input& in, bool wide, std::uint32_t small_max) {
  return static_cast<std::uint32_t>(wide ? in.take<std::uint32_t>() : in.take_in(0, small_max));
}

/// The settings of an event service, from the input.
inline void fill_settings(core::EventLayout, core::StaticConfig& sc, Input& in, bool wide) {
  auto& e = sc.event;
  e.max_listeners = take_count(in, wide, 8);
  e.max_notifiers = take_count(in, wide, 8);
  e.max_nodes = take_count(in, wide, 8);
  e.backend = in.take_bool() ? core::EventBackendKind::Fifo : core::EventBackendKind::EventFd;
  e.event_id_max = wide ? in.take<std::uint64_t>() : in.take_in(0, 600);
}

/// The settings of a publish-subscribe service, from the input.
inline void fill_settings(core::PubSubLayout, core::StaticConfig& sc, Input& in, bool wide) {
  auto& p = sc.pubsub;
  char type_name[16]{};
  const std::size_t type_length = in.take_bytes(type_name, in.take_in(0, sizeof(type_name)));
  p.type_name = *core::FixedString<core::kMaxTypeNameLength>::from({type_name, type_length});
  p.type_size = wide ? in.take<std::uint64_t>() : in.take_in(0, 256);
  p.type_alignment = std::uint64_t{1} << in.take_in(0, 12);
  p.is_slice = in.take_bool() ? 1 : 0;
  p.max_publishers = take_count(in, wide, 4);
  p.max_subscribers = take_count(in, wide, 4);
  p.max_nodes = take_count(in, wide, 8);
  p.history_size = take_count(in, wide, 4);
  p.subscriber_buffer_size = take_count(in, wide, 8);
  p.max_loans = take_count(in, wide, 4);
  p.max_borrowed_samples = take_count(in, wide, 4);
  p.overflow = static_cast<core::OverflowKind>(in.take_in(1, 3));
}

/// The settings of a request-response service, from the input.
inline void fill_settings(core::RequestResponseLayout, core::StaticConfig& sc, Input& in,
                          bool wide) {
  auto& r = sc.request_response;
  char type_name[16]{};
  std::size_t type_length = in.take_bytes(type_name, in.take_in(0, sizeof(type_name)));
  r.request_type_name = *core::FixedString<core::kMaxTypeNameLength>::from({type_name, type_length});
  type_length = in.take_bytes(type_name, in.take_in(0, sizeof(type_name)));
  r.response_type_name = *core::FixedString<core::kMaxTypeNameLength>::from({type_name, type_length});
  r.request_type_size = wide ? in.take<std::uint64_t>() : in.take_in(0, 256);
  r.request_type_alignment = std::uint64_t{1} << in.take_in(0, 12);
  r.response_type_size = wide ? in.take<std::uint64_t>() : in.take_in(0, 256);
  r.response_type_alignment = std::uint64_t{1} << in.take_in(0, 12);
  r.request_is_slice = in.take_bool() ? 1 : 0;
  r.response_is_slice = in.take_bool() ? 1 : 0;
  r.max_clients = take_count(in, wide, 4);
  r.max_servers = take_count(in, wide, 3);
  r.max_nodes = take_count(in, wide, 8);
  r.max_active_requests = take_count(in, wide, 4);
  r.response_buffer_size = take_count(in, wide, 4);
  r.max_loaned_requests = take_count(in, wide, 4);
  r.max_loaned_responses = take_count(in, wide, 4);
  r.max_borrowed_responses = take_count(in, wide, 4);
  r.fire_and_forget = in.take_bool() ? 1 : 0;
  r.overflow = static_cast<core::OverflowKind>(in.take_in(1, 3));
}

/// Writes a Ready static config into `memory` (at least sizeof(StaticConfig), aligned) the way
/// ServiceCore::create does, with settings from the input. Not validated: zeros and, when `wide`,
/// values far above the builders' limits are what a hostile creator could write too.
inline core::StaticConfig* make_static_config(void* memory, Input& in, bool wide) {
  // SAFETY: the caller hands a zero-filled, aligned block of at least sizeof(StaticConfig).
  auto* sc = new (memory) core::StaticConfig{};
  sc->magic = core::kStaticConfigMagic;
  sc->version = core::kLayoutVersion;
  sc->size_of_self = sizeof(core::StaticConfig);
  sc->creator_node_id = in.take<std::uint64_t>();
  sc->access = in.take_bool() ? core::AccessKind::Group : core::AccessKind::Owner;
  char name[32]{};
  const std::size_t name_length = in.take_bytes(name, in.take_in(0, sizeof(name)));
  sc->name = *core::FixedString<core::kMaxServiceNameLength>::from({name, name_length});
  // One byte picks the pattern among all of them; its layout fills its settings.
  sc->pattern = core::kMessagingPatterns[in.take<std::uint8_t>() % core::kMessagingPatterns.size()];
  (void)core::with_layout(sc->pattern, [&](auto layout) {
    fill_settings(layout, *sc, in, wide);
    return true;
  });
  sc->dynamic_config_size = core::compute_dynamic_layout(*sc).total_size;
  // ORDERING: release publishes the fields above, as the creator does.
  sc->state.store(core::CreationState::Ready, std::memory_order_release);
  return sc;
}

/// What an opener checks of a mapped static config before it uses any field of its copy: size,
/// Ready, magic, size_of_self, version, pattern, access.
inline bool static_config_usable(const void* memory, std::size_t size, core::StaticConfig& copy) {
  if (size < sizeof(core::StaticConfig)) return false;
  // SAFETY: aligned (the caller's block) and large enough, checked above.
  const auto& sc = *static_cast<const core::StaticConfig*>(memory);
  core::copy_static_config(copy, sc);
  // ORDERING: relaxed: the copy's own field, stored above.
  return copy.state.load(std::memory_order_relaxed) == core::CreationState::Ready &&
         !core::check_static_config(copy);
}

}  // namespace axon::fuzz
