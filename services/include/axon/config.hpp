// Where axon keeps its objects (a name prefix for shared memory and a root directory for FIFOs,
// sockets and lock files) and the settings a service builder starts from. Read from a TOML
// configuration file and the environment (AXON_PREFIX, AXON_ROOT) unless given: docs/design.md,
// "Configuration".
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <tl/expected.hpp>

#include "axon/access.hpp"
#include "axon/event/static_config.hpp"
#include "axon/publish_subscribe/static_config.hpp"
#include "axon/request_response/static_config.hpp"

namespace axon {

enum class ConfigError {
  InvalidPrefix,  ///< not 1..64 bytes of [A-Za-z0-9_.-], or contains "..", or starts with '.'
  InvalidRoot,    ///< not an absolute path, or has an empty, "." or ".." component, or a NUL
  InvalidFile,    ///< the configuration file could not be used (Config::file_error says why)
};
const char* to_string(ConfigError error);

/// What create() of an event service uses for every setting its builder was not given.
struct EventServiceDefaults {
  std::uint32_t max_listeners = EventDefaults::kMaxListeners;
  std::uint32_t max_notifiers = EventDefaults::kMaxNotifiers;
  std::uint32_t max_nodes = EventDefaults::kMaxNodes;
  std::uint64_t event_id_max_value = EventDefaults::kEventIdMaxValue;
  EventBackend backend = kDefaultEventBackend;
  Access access = kDefaultAccess;
};

/// What create() of a publish-subscribe service uses for every setting not given.
struct PubSubServiceDefaults {
  std::uint32_t max_publishers = PubSubDefaults::kMaxPublishers;
  std::uint32_t max_subscribers = PubSubDefaults::kMaxSubscribers;
  std::uint32_t max_nodes = PubSubDefaults::kMaxNodes;
  std::uint32_t history_size = PubSubDefaults::kHistorySize;
  std::uint32_t subscriber_max_buffer_size = PubSubDefaults::kSubscriberBufferSize;
  std::uint32_t publisher_max_loans = PubSubDefaults::kMaxLoans;
  std::uint32_t subscriber_max_borrowed_samples = PubSubDefaults::kMaxBorrowedSamples;
  OverflowPolicy overflow_policy = OverflowPolicy::OverwriteOldest;
  Access access = kDefaultAccess;
};

/// What create() of a request-response service uses for every setting not given.
struct RequestResponseServiceDefaults {
  std::uint32_t max_clients = RequestResponseDefaults::kMaxClients;
  std::uint32_t max_servers = RequestResponseDefaults::kMaxServers;
  std::uint32_t max_nodes = RequestResponseDefaults::kMaxNodes;
  std::uint32_t max_active_requests_per_client =
      RequestResponseDefaults::kMaxActiveRequestsPerClient;
  std::uint32_t max_response_buffer_size = RequestResponseDefaults::kMaxResponseBufferSize;
  std::uint32_t max_loaned_requests = RequestResponseDefaults::kMaxLoanedRequests;
  std::uint32_t max_loaned_responses = RequestResponseDefaults::kMaxLoanedResponses;
  std::uint32_t max_borrowed_responses = RequestResponseDefaults::kMaxBorrowedResponses;
  bool fire_and_forget = RequestResponseDefaults::kFireAndForget;
  OverflowPolicy overflow_policy = OverflowPolicy::OverwriteOldest;
  Access access = kDefaultAccess;
};

/// The settings every service builder of a node starts from: a setting given to the builder
/// wins; one not given is taken from here by create(). open() requires only what the builder
/// was given, so processes with different defaults still open each other's services.
struct ServiceDefaults {
  EventServiceDefaults event;
  PubSubServiceDefaults publish_subscribe;
  RequestResponseServiceDefaults request_response;
};

/// Why a configuration file was refused.
enum class ConfigFileErrorKind {
  Unreadable,    ///< missing (when named by AXON_CONFIG), not a regular file, too large, or
                 ///< refused by the system (permission, I/O)
  Malformed,     ///< not TOML (a syntax error, a key given twice, ...)
  UnknownKey,    ///< a key or table axon does not know (misspelt, or of a newer axon)
  WrongType,     ///< a value of the wrong TOML type (a string for a number, ...)
  OutOfRange,    ///< a number outside the setting's range
  InvalidValue,  ///< a string that is not one of the setting's words, or a prefix or root
                 ///< that Config::validate would refuse
};
const char* to_string(ConfigFileErrorKind kind);

/// A configuration file that cannot be used, with the place of the problem in it.
struct ConfigFileError {
  ConfigFileErrorKind kind = ConfigFileErrorKind::Unreadable;
  std::string file;          ///< the file's path
  std::uint32_t line = 0;    ///< 1-based; 0 when the problem is the whole file (Unreadable)
  std::uint32_t column = 0;  ///< 1-based; 0 with line
  std::string what;          ///< in words, e.g. `unknown key "max_subscriber" in [publish_subscribe]`
  /// `FILE:LINE:COLUMN: what`, or `FILE: what` when there is no line.
  std::string to_string() const;
};

/// Where one effective value came from.
struct ConfigSource {
  enum class Kind { Default, File, Environment };
  Kind kind = Kind::Default;
  std::string file;        ///< File: the file's path
  std::uint32_t line = 0;  ///< File: the 1-based line of the key
  std::string variable;    ///< Environment: the variable, e.g. "AXON_ROOT"
  /// "default", "FILE:LINE" or "env AXON_ROOT".
  std::string to_string() const;
};

/// One setting of the configuration, its effective value and its source.
struct ConfigValue {
  /// The key as a configuration file spells it: "prefix", "root", "event.max_listeners",
  /// "publish_subscribe.overflow_policy", ...
  std::string key;
  /// A number, a boolean, or text (paths, prefixes and words such as "group" or "refuse").
  std::variant<std::uint64_t, bool, std::string> value;
  ConfigSource source;
};

struct LoadedConfig;

struct Config {
  /// Prefix of every shared-memory object in /dev/shm (default "axon_").
  std::string prefix;
  /// Directory of FIFOs, sockets and lock files (default "/tmp/axon-<uid>", created 0700).
  std::string root;
  /// True when `root` was chosen (AXON_ROOT, the configuration file, or set by the program),
  /// false for the default. Only a chosen root may be a shared directory that another user owns
  /// (docs/security.md); the default root must be ours.
  bool root_chosen = true;
  /// What service builders of a node made with this configuration start from.
  ServiceDefaults defaults;
  /// Set by from_environment() when the configuration file could not be used; validate() then
  /// fails with ConfigError::InvalidFile, so no node is created with settings nobody chose.
  std::optional<ConfigFileError> file_error;

  Config() = default;
  Config(std::string prefix_, std::string root_, bool root_chosen_ = true)
      : prefix(std::move(prefix_)), root(std::move(root_)), root_chosen(root_chosen_) {}

  /// The configuration of this process: the defaults, then the configuration file (see load()),
  /// then the environment (AXON_PREFIX, AXON_ROOT). A file that cannot be used is kept in
  /// `file_error` (the rest then comes from the environment and the defaults). Read anew on each
  /// call, so tests can point a process at their own prefix.
  static Config from_environment();

  /// As from_environment(), with the source of every value, or the file's error. The file is the
  /// first of: $AXON_CONFIG (when set, it must be readable: that it is not is an error, never a
  /// fallback), $XDG_CONFIG_HOME/axon/axon.toml (else $HOME/.config/axon/axon.toml),
  /// /etc/axon/axon.toml that exists; none is fine (the defaults).
  static tl::expected<LoadedConfig, ConfigFileError> load();

  /// The file at `path` alone over the defaults, without the environment: what `axon config
  /// check` reports.
  static tl::expected<LoadedConfig, ConfigFileError> load_file(const std::string& path);

  /// Checks the prefix and the shape of the root path (not the directory itself: that is checked
  /// when it is used), after `file_error`. Every entry point of axon calls it first; nothing is
  /// created when it fails.
  tl::expected<void, ConfigError> validate() const;

  /// The longest `root`, in bytes, with which every node's unix socket,
  /// `<root>/nodes/<16 hex digits>.sock`, fits in a socket address (sockaddr_un::sun_path: 107
  /// bytes and a NUL on Linux), so 79. A longer root works for everything but the listeners of the
  /// eventfd backend: their node cannot start the socket that hands out their eventfds, and
  /// creating one fails with ListenerCreateError::ResourceCreationFailed. For a program that
  /// wants to say so.
  static std::size_t max_root_length_for_sockets();

  std::string nodes_dir() const { return root + "/nodes"; }
  std::string services_dir() const { return root + "/services"; }
};

/// A configuration with the source of each of its values (Config::load).
struct LoadedConfig {
  Config config;
  /// The file read, empty when there was none.
  std::string file;
  /// Why that file: "AXON_CONFIG", "XDG_CONFIG_HOME", "HOME", "system" (/etc/axon), or "named"
  /// (load_file); empty without a file.
  std::string file_reason;
  /// The files looked for, in order, up to the one read (all of them when none was there).
  std::vector<std::string> searched;
  /// Every setting, in the order of docs/axon.example.toml.
  std::vector<ConfigValue> values;
};

}  // namespace axon
