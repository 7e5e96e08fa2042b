// The gateway's configuration: what crosses between machines (service name globs per direction),
// on which DDS domain and network interface, under which name. It is read from the command line
// and, with --config FILE, from a TOML file; gateway/CONFIG.md is the user's description.
//
// Precedence: a setting given on the command line replaces the file's. For the lists that
// includes the whole list: one `--export GLOB` replaces every glob of the file's [export] table
// (the two are not merged, so the command line alone says what is exported when it says anything),
// and `--all=false` switches off a file's `all = true`. The default lets nothing cross: no globs
// and `all = false`.
//
// Validation: every value is checked as it is read (its type, its range, a glob's syntax), so a
// mistake is reported where it was made: `gw.toml:3:10: ...` for the file, `--domain "300" ...`
// for a flag. What depends on the machine (does the interface exist) is checked for the value
// that wins only, so a file shared by several machines may name an interface that a flag
// overrides on this one. Every problem is one line; the program exits with kUsageStatus.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

namespace axon::gateway {

/// DDS domain ids go from 0 to 232: the RTPS port mapping (7400 + 250 * domain) leaves no room
/// for a larger one below 65535 (Cyclone DDS refuses it).
inline constexpr std::uint32_t kMaxDomainId = 232;

/// A gateway name is 1..64 bytes of printable ASCII without space (0x21..0x7E): a Linux host name
/// fits (HOST_NAME_MAX is 64), and it stays one field in a log line.
inline constexpr std::size_t kMaxGatewayNameLength = 64;

/// A glob is at most as long as the longest service name (core::ServiceName::kMaxLength).
inline constexpr std::size_t kMaxGlobLength = 255;

/// A TOML file larger than this is refused before it is parsed (a gateway configuration is a few
/// hundred bytes; `--config /dev/zero` must not read for ever).
inline constexpr std::size_t kMaxConfigFileBytes = std::size_t{1024} * 1024;

/// The longest busy-poll budget, in microseconds (WaitSet::kMaxBusyPoll).
inline constexpr std::uint32_t kMaxBusyPollMicroseconds = 1'000'000;

/// The exit status of every configuration error, as of every usage error (docs/cli.md).
inline constexpr int kUsageStatus = 2;

/// Everything the gateway is told. Built by parse_gateway_arguments(), which validates it; a
/// value made by hand is only as valid as its maker (a test, for instance) made it.
struct GatewayConfig {
  /// The DDS domain, 0..kMaxDomainId: gateways talk only to gateways of the same domain.
  std::uint32_t domain_id = 0;
  /// The network interface DDS uses (a name that exists on this machine, e.g. "eth0"); empty:
  /// Cyclone DDS chooses (its default, or what CYCLONEDDS_URI says).
  std::string network_interface;
  /// Globs of the local services published to other machines (glob dialect: glob_problem()).
  std::vector<std::string> export_globs;
  /// Globs of the remote services recreated on this machine.
  std::vector<std::string> import_globs;
  /// Every service in both directions; the globs are then ignored.
  bool all = false;
  /// This gateway's name among the others, e.g. in logs and announcements; default: the host
  /// name (gethostname).
  std::string gateway_name;
  /// The TOML file the settings came from, when there was one (--config).
  std::optional<std::string> config_file;
  /// Log each service as it starts and stops crossing (-v/--verbose, `verbose = true`).
  bool verbose = false;
  /// The gateway's WaitSet busy-polls its local subscribers and listeners for this long before
  /// it sleeps (--busy-poll US, `busy_poll_us = N`; 0..kMaxBusyPollMicroseconds, default 0):
  /// a local sample is picked up without a wake-up, at the CPU cost of the budget per sleep.
  std::uint32_t busy_poll_us = 0;
  /// Only check the configuration: print it (describe()) and exit 0 without starting (--check).
  bool check_only = false;

  /// True when the local service `service` is published to other machines: `all`, or one of
  /// export_globs matches. False for a text that is not a valid service name.
  [[nodiscard]] bool exports(std::string_view service) const;
  /// True when the remote service `service` is recreated here: `all`, or one of import_globs
  /// matches. False for a text that is not a valid service name (a remote gateway is not trusted
  /// to send valid ones).
  [[nodiscard]] bool imports(std::string_view service) const;
};

/// Why parse_gateway_arguments() returned no configuration: the program ends with `status`.
struct ConfigStop {
  /// 0 after --help or --version (printed on stdout); kUsageStatus for every problem.
  int status = 0;
  /// For a problem: one line without the program's name, its untrusted parts escaped, e.g.
  /// `--domain "300" is too large (at most 232)` or `gw.toml:2:1: unknown key "domian" ...`.
  /// main() prints it as `axon-gateway: <problem>`.
  std::string problem;
};

/// Reads the command line of axon-gateway (argv[0] is the program), then the --config file if
/// one is named, and returns the validated configuration. --help lists the flags; every program
/// of axon also takes --version. The environment (AXON_PREFIX, AXON_ROOT) is checked too, as by
/// every program. Never throws for bad input.
[[nodiscard]] tl::expected<GatewayConfig, ConfigStop> parse_gateway_arguments(int argc,
                                                                              char** argv);

/// The configuration as a TOML document (keys in alphabetical order) that, given back with
/// --config, yields the same settings: what --check prints and what a log can start with.
[[nodiscard]] std::string describe(const GatewayConfig& config);

/// Why `glob` is not a valid service glob, in words; nullopt when it is valid. The dialect:
///   - a glob is 1..kMaxGlobLength bytes of printable ASCII without space, '/'-separated
///     segments like a service name, none of them empty, "." or "..";
///   - `?` matches one character of a segment, never '/';
///   - `*` matches any characters of one segment (none included), never '/';
///   - `**` as a whole segment matches any number of whole segments, none included: `a/**`
///     matches `a`, `a/b` and `a/b/c`; `**/b` matches `b` and `a/b`; `a/**/b` matches `a/b` and
///     `a/x/y/b`; `**` alone matches every name. `**` inside a segment (`a**`) is refused;
///   - `\` makes the next of `* ? \ [ ] { }` literal (`a\*` matches only the name `a*`);
///     before any other character it is refused, and so is a trailing `\`;
///   - `[ ] { }` unescaped are refused: there are no character classes or alternatives, and a
///     user who writes `cam[12]` expecting one must not get a silent literal match.
///   - everything else matches itself; matching is case-sensitive, on the whole name.
[[nodiscard]] std::optional<std::string> glob_problem(std::string_view glob);

/// True when `name` matches `glob` (glob_problem(glob) must be nullopt; an invalid glob matches
/// nothing). Work proportional to the glob's length times the name's at worst: no backtracking
/// blow-up on `*a*a*a*b` or `**/**/**/b`.
[[nodiscard]] bool glob_matches(std::string_view glob, std::string_view name);

}  // namespace axon::gateway
