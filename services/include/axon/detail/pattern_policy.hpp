// The messaging-pattern policy: what the service core, discovery and cleanup need of a pattern,
// and nothing else. Its shared-memory part (P::Layout: settings, slots, region, sizes) is in
// core (core/<pattern>/layout.hpp, core::PatternLayout); this adds what needs the OS or the
// public types. Each pattern (services/<pattern>/, core/<pattern>/) provides one policy type
// and checks it with static_assert(MessagingPatternPolicy<...>); patterns.hpp lists them all and
// dispatches on the pattern of a static config with one exhaustive switch. docs/extending.md
// walks through adding one.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

#include "axon/access.hpp"
#include "axon/config.hpp"
#include "axon/core/error.hpp"
#include "axon/core/service_layout.hpp"
#include "axon/detail/root.hpp"
#include "axon/messaging_pattern.hpp"
#include "axon/platform/error.hpp"

namespace axon {
struct ServiceInfo;
}  // namespace axon

namespace axon::detail {

/// Where a service being created lives, for what a pattern makes besides its two configs.
struct ServicePlace {
  const Config& config;
  const std::string& hash;
  Access access;
  const RootAccess& root;
};

/// Port counts of a service by table, as discovery read them, and the dynamic config they were
/// read from (mapped read-only; its layout derived from the validated static config, every value
/// in it untrusted), for what else a pattern reports of it.
struct PortCounts {
  std::size_t tables[core::kPortTables]{};
  core::DynamicLayout layout{};
  const std::byte* base = nullptr;
};

template <typename P>
concept MessagingPatternPolicy =
    core::PatternLayout<typename P::Layout> &&
    requires(const core::StaticConfig& sc, const core::DynamicLayout& layout, std::byte* memory,
             std::size_t table, std::uint64_t id, const ServicePlace& place, const Config& config,
             const std::string& hash, const PortCounts& ports, ServiceInfo& info) {
      /// The value in the static config, and the public one (discovery, the CLI).
      { P::kPattern } -> std::convertible_to<core::MessagingPattern>;
      { P::kPublicPattern } -> std::convertible_to<MessagingPattern>;
      /// Its name in tools' output and messages ("event", "publish_subscribe").
      { P::kName } -> std::convertible_to<std::string_view>;
      /// What a process keeps of the region after validating it at open (process-local).
      typename P::Region;
      /// At create, before the dynamic config is initialised: what else the pattern needs (a
      /// directory for FIFOs). The creator removes it with the service if anything fails.
      { P::prepare(place, sc) } -> std::same_as<tl::expected<void, platform::Error>>;
      /// Validates the region of a mapping (base `memory`) and keeps handles on it; Corrupted
      /// (the open fails) when anything in it fails validation.
      { P::attach_region(sc, layout, memory) }
          -> std::same_as<tl::expected<typename P::Region, core::CoreError>>;
      /// Removes what port `id` of `table` made besides its slot (a FIFO, a data segment), by
      /// name; idempotent, called for ports that left or died.
      { P::remove_port_resources(config, hash, table, id) } -> std::same_as<void>;
      /// Fills the pattern's part of a discovery record: its settings and port counts.
      { P::describe(sc, ports, info) } -> std::same_as<void>;
    };

}  // namespace axon::detail
