// The configuration file (TOML, docs/design.md "Configuration"): where it is looked up, what it
// may hold, and the source of every effective value. The only user of toml++: no public header
// shows it, and the library compiles it in (header-only), so a consumer needs none of it.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "axon/config.hpp"
#include "axon/core/request_response/layout.hpp"
#include "axon/detail/config_rules.hpp"
#include "axon/platform/file_descriptor.hpp"
#include "axon/platform/posix_call.hpp"
#include "axon/platform/process.hpp"

namespace axon {
namespace {

using Value = decltype(ConfigValue::value);

/// A file larger than this is refused before it is read: no configuration is that long, and a
/// mistyped AXON_CONFIG (a log, a device) must not be slurped.
constexpr off_t kMaxFileSize = 1 << 20;
constexpr std::string_view kSystemFile = "/etc/axon/axon.toml";

enum class Type { Integer, Boolean, String };

/// One key of the file: where it lives, what it may hold, and how it reads and writes a Config.
struct Setting {
  std::string_view table;  ///< "" at the top level, else "event", "publish_subscribe", ...
  std::string_view name;
  Type type = Type::Integer;
  std::uint64_t min = 0;  ///< Integer only
  std::uint64_t max = 0;  ///< Integer only
  std::function<Value(const Config&)> get;
  /// Stores a value of `type` (within [min, max]); otherwise says in words why it is refused.
  std::function<std::optional<std::string>(Config&, const Value&)> set;

  std::string key() const {
    return table.empty() ? std::string(name) : std::string(table) + "." + std::string(name);
  }
};

template <typename E>
struct Word {
  std::string_view text;
  E value;
};
constexpr Word<Access> kAccessWords[] = {{"owner", Access::Owner}, {"group", Access::Group}};
constexpr Word<EventBackend> kBackendWords[] = {{"eventfd", EventBackend::EventFd},
                                                {"fifo", EventBackend::Fifo}};
// The words `axon service show` prints for a service's overflow policy.
constexpr Word<OverflowPolicy> kOverflowWords[] = {
    {"overwrite_oldest", OverflowPolicy::OverwriteOldest},
    {"refuse", OverflowPolicy::Refuse},
    {"block", OverflowPolicy::Block}};

template <typename Group, typename Field>
Setting number(std::string_view table, std::string_view name, Group ServiceDefaults::*group,
               Field Group::*field, std::uint64_t min, std::uint64_t max) {
  return Setting{
      table, name, Type::Integer, min, max,
      [=](const Config& c) -> Value { return std::uint64_t{(c.defaults.*group).*field}; },
      [=](Config& c, const Value& v) -> std::optional<std::string> {
        // In range (checked by the caller against min and max, which fit Field).
        (c.defaults.*group).*field = static_cast<Field>(std::get<std::uint64_t>(v));
        return std::nullopt;
      }};
}

template <typename Group, typename E, std::size_t N>
Setting choice(std::string_view table, std::string_view name, Group ServiceDefaults::*group,
               E Group::*field, const Word<E> (&words)[N]) {
  const std::span<const Word<E>> all(words);
  return Setting{
      table, name, Type::String, 0, 0,
      [=](const Config& c) -> Value {
        const E current = (c.defaults.*group).*field;
        for (const auto& w : all) {
          if (w.value == current) return std::string(w.text);
        }
        return std::string("unknown");
      },
      [=](Config& c, const Value& v) -> std::optional<std::string> {
        const auto& text = std::get<std::string>(v);
        std::string expected;
        for (const auto& w : all) {
          if (w.text == text) {
            (c.defaults.*group).*field = w.value;
            return std::nullopt;
          }
          expected += (expected.empty() ? "\"" : ", \"") + std::string(w.text) + "\"";
        }
        return "one of " + expected;
      }};
}

template <typename Group>
Setting flag(std::string_view table, std::string_view name, Group ServiceDefaults::*group,
             bool Group::*field) {
  return Setting{table, name, Type::Boolean, 0, 0,
                 [=](const Config& c) -> Value { return (c.defaults.*group).*field; },
                 [=](Config& c, const Value& v) -> std::optional<std::string> {
                   (c.defaults.*group).*field = std::get<bool>(v);
                   return std::nullopt;
                 }};
}

/// Every key, in the order of docs/axon.example.toml and of `axon config show`.
const std::vector<Setting>& settings() {
  static const std::vector<Setting> all = [] {
    constexpr std::string_view ev = "event";
    constexpr std::string_view ps = "publish_subscribe";
    constexpr std::string_view rr = "request_response";
    using E = EventServiceDefaults;
    using P = PubSubServiceDefaults;
    using R = RequestResponseServiceDefaults;
    constexpr auto kEvent = &ServiceDefaults::event;
    constexpr auto kPubSub = &ServiceDefaults::publish_subscribe;
    constexpr auto kRr = &ServiceDefaults::request_response;
    constexpr std::uint64_t kPubSubPorts = PubSubDefaults::kMaxPorts;
    constexpr std::uint64_t kQueue = PubSubDefaults::kMaxQueue;
    constexpr std::uint64_t kRrPorts = core::kMaxRequestResponsePorts;
    constexpr std::uint64_t kRrBuffer = core::kMaxResponseBuffer;
    constexpr std::uint64_t kRrLoans = core::kMaxRequestResponseLoans;
    std::vector<Setting> s;
    s.push_back(Setting{
        "", "prefix", Type::String, 0, 0,
        [](const Config& c) -> Value { return c.prefix; },
        [](Config& c, const Value& v) -> std::optional<std::string> {
          const auto& text = std::get<std::string>(v);
          if (!detail::valid_prefix(text)) return std::string(detail::kPrefixRule);
          c.prefix = text;
          return std::nullopt;
        }});
    s.push_back(Setting{
        "", "root", Type::String, 0, 0,
        [](const Config& c) -> Value { return c.root; },
        [](Config& c, const Value& v) -> std::optional<std::string> {
          const auto& text = std::get<std::string>(v);
          if (!detail::valid_root(text)) return std::string(detail::kRootRule);
          c.root = text;
          c.root_chosen = true;  // as AXON_ROOT: a chosen root may be a shared one
          return std::nullopt;
        }});
    s.push_back(number(ev, "max_listeners", kEvent, &E::max_listeners, 1, EventDefaults::kMaxPorts));
    s.push_back(number(ev, "max_notifiers", kEvent, &E::max_notifiers, 1, EventDefaults::kMaxPorts));
    s.push_back(number(ev, "max_nodes", kEvent, &E::max_nodes, 1, EventDefaults::kMaxPorts));
    s.push_back(number(ev, "event_id_max_value", kEvent, &E::event_id_max_value, 0,
                       EventDefaults::kEventIdMaxLimit));
    s.push_back(choice(ev, "backend", kEvent, &E::backend, kBackendWords));
    s.push_back(choice(ev, "access", kEvent, &E::access, kAccessWords));
    s.push_back(number(ps, "max_publishers", kPubSub, &P::max_publishers, 1, kPubSubPorts));
    s.push_back(number(ps, "max_subscribers", kPubSub, &P::max_subscribers, 1, kPubSubPorts));
    s.push_back(number(ps, "max_nodes", kPubSub, &P::max_nodes, 1, kPubSubPorts));
    s.push_back(number(ps, "history_size", kPubSub, &P::history_size, 0, kQueue));
    s.push_back(number(ps, "subscriber_max_buffer_size", kPubSub, &P::subscriber_max_buffer_size,
                       1, kQueue));
    s.push_back(number(ps, "publisher_max_loans", kPubSub, &P::publisher_max_loans, 1, kQueue));
    s.push_back(number(ps, "subscriber_max_borrowed_samples", kPubSub,
                       &P::subscriber_max_borrowed_samples, 1, kQueue));
    s.push_back(choice(ps, "overflow_policy", kPubSub, &P::overflow_policy, kOverflowWords));
    s.push_back(choice(ps, "access", kPubSub, &P::access, kAccessWords));
    s.push_back(number(rr, "max_clients", kRr, &R::max_clients, 1, kRrPorts));
    s.push_back(number(rr, "max_servers", kRr, &R::max_servers, 1, kRrPorts));
    s.push_back(number(rr, "max_nodes", kRr, &R::max_nodes, 1, kRrPorts));
    s.push_back(number(rr, "max_active_requests_per_client", kRr,
                       &R::max_active_requests_per_client, 1, core::kMaxActiveRequests));
    s.push_back(number(rr, "max_response_buffer_size", kRr, &R::max_response_buffer_size, 1,
                       kRrBuffer));
    s.push_back(number(rr, "max_loaned_requests", kRr, &R::max_loaned_requests, 1, kRrLoans));
    s.push_back(number(rr, "max_loaned_responses", kRr, &R::max_loaned_responses, 1, kRrLoans));
    s.push_back(number(rr, "max_borrowed_responses", kRr, &R::max_borrowed_responses, 1,
                       kRrBuffer));
    s.push_back(flag(rr, "fire_and_forget", kRr, &R::fire_and_forget));
    s.push_back(choice(rr, "overflow_policy", kRr, &R::overflow_policy, kOverflowWords));
    s.push_back(choice(rr, "access", kRr, &R::access, kAccessWords));
    return s;
  }();
  return all;
}

const Setting* find_setting(std::string_view table, std::string_view name) {
  for (const auto& s : settings()) {
    if (s.table == table && s.name == name) return &s;
  }
  return nullptr;
}

bool is_table_name(std::string_view name) {
  return name == "event" || name == "publish_subscribe" || name == "request_response";
}

const char* type_text(toml::node_type type) {
  switch (type) {
    case toml::node_type::none: return "nothing";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a floating-point number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
  }
  return "a value";
}

const char* type_text(Type type) {
  switch (type) {
    case Type::Integer: return "an integer";
    case Type::Boolean: return "a boolean (true or false)";
    case Type::String: return "a string";
  }
  return "a value";
}

/// A TOML basic string: quoted, with `"`, `\` and control characters escaped.
std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

/// Collects the problems of one file; the first in the file (line, then column) is reported,
/// whatever order toml++ keeps its tables in.
class Problems {
 public:
  explicit Problems(std::string file) : m_file(std::move(file)) {}
  void add(ConfigFileErrorKind kind, const toml::source_position& at, std::string what) {
    ConfigFileError e{kind, m_file, at.line, at.column, std::move(what)};
    if (!m_first || std::pair(e.line, e.column) < std::pair(m_first->line, m_first->column)) {
      m_first = std::move(e);
    }
  }
  const std::optional<ConfigFileError>& first() const { return m_first; }

 private:
  std::string m_file;
  std::optional<ConfigFileError> m_first;
};

/// Where a key starts; toml++ gives implicit tables no source, so their value's is used.
toml::source_position position_of(const toml::key& key, const toml::node& node) {
  const auto& at = key.source().begin;
  return at.line != 0 ? at : node.source().begin;
}

/// Checks `node` against `setting` and stores it; a problem goes to `problems`.
void apply(const Setting& setting, const toml::key& key, const toml::node& node, Config& config,
           std::vector<ConfigValue>& values, const std::string& file, Problems& problems) {
  const auto at = node.source().begin;
  const auto key_text = setting.key();
  const bool typed = (setting.type == Type::Integer && node.is_integer()) ||
                     (setting.type == Type::Boolean && node.is_boolean()) ||
                     (setting.type == Type::String && node.is_string());
  if (!typed) {
    problems.add(ConfigFileErrorKind::WrongType, at,
                 key_text + " must be " + type_text(setting.type) + ", not " +
                     type_text(node.type()));
    return;
  }
  Value value;
  if (const auto* integer = node.as_integer()) {
    const std::int64_t n = integer->get();
    if (n < 0 || static_cast<std::uint64_t>(n) < setting.min ||
        static_cast<std::uint64_t>(n) > setting.max) {
      problems.add(ConfigFileErrorKind::OutOfRange, at,
                   key_text + " = " + std::to_string(n) + " is out of range (" +
                       std::to_string(setting.min) + ".." + std::to_string(setting.max) + ")");
      return;
    }
    value = static_cast<std::uint64_t>(n);
  } else if (const auto* b = node.as_boolean()) {
    value = b->get();
  } else if (const auto* s = node.as_string()) {
    value = s->get();
  }
  if (auto refused = setting.set(config, value)) {
    problems.add(ConfigFileErrorKind::InvalidValue, at,
                 key_text + " = " + quoted(std::get<std::string>(value)) + " is refused: " +
                     *refused);
    return;
  }
  const auto key_at = position_of(key, node);
  for (auto& v : values) {
    if (v.key == key_text) {
      v.value = setting.get(config);
      v.source = ConfigSource{ConfigSource::Kind::File, file, key_at.line, {}};
    }
  }
}

/// Reads `text` (the contents of `file`) over `config`, recording sources in `values`.
tl::expected<void, ConfigFileError> apply_file(const std::string& file, std::string_view text,
                                               Config& config, std::vector<ConfigValue>& values) {
  auto parsed = toml::parse(text, std::string_view(file));
  if (!parsed) {
    const auto& error = parsed.error();
    return tl::unexpected(ConfigFileError{ConfigFileErrorKind::Malformed, file,
                                          error.source().begin.line, error.source().begin.column,
                                          std::string(error.description())});
  }
  Problems problems(file);
  for (const auto& [key, node] : parsed.table()) {
    const std::string_view name = key.str();
    if (const auto* setting = find_setting("", name)) {
      apply(*setting, key, node, config, values, file, problems);
      continue;
    }
    if (!is_table_name(name)) {
      problems.add(ConfigFileErrorKind::UnknownKey, position_of(key, node),
                   std::string(node.is_table() ? "unknown table [" : "unknown key \"") +
                       std::string(name) + (node.is_table() ? "]" : "\""));
      continue;
    }
    const auto* table = node.as_table();
    if (table == nullptr) {
      problems.add(ConfigFileErrorKind::WrongType, node.source().begin,
                   std::string(name) + " must be a table, not " + type_text(node.type()));
      continue;
    }
    for (const auto& [inner_key, inner] : *table) {
      const auto* setting = find_setting(name, inner_key.str());
      if (setting == nullptr) {
        problems.add(ConfigFileErrorKind::UnknownKey, position_of(inner_key, inner),
                     "unknown key \"" + std::string(inner_key.str()) + "\" in [" +
                         std::string(name) + "]");
        continue;
      }
      apply(*setting, inner_key, inner, config, values, file, problems);
    }
  }
  if (problems.first()) return tl::unexpected(*problems.first());
  return {};
}

ConfigFileError unreadable(const std::string& file, std::string what) {
  return ConfigFileError{ConfigFileErrorKind::Unreadable, file, 0, 0, std::move(what)};
}

std::string errno_text(int err) { return std::strerror(err); }

/// The contents of `file`; nullopt when it does not exist and may be missing.
tl::expected<std::optional<std::string>, ConfigFileError> read_file(const std::string& file,
                                                                    bool required) {
  if (!required) {
    // A file looked for exists when stat sees it. A directory on the way that we may not search
    // hides it as well as its absence does (another user's HOME, kept by su or a test's setuid
    // helper): that is not a file of ours, so it is skipped. A file we see but cannot read is an
    // error. No descriptor is spent on a file that is not there, so a process out of them still
    // makes its node.
    struct stat seen {};
    if (!platform::posix_call("stat", [&] { return ::stat(file.c_str(), &seen); })) {
      return std::nullopt;
    }
  }
  // Non-blocking, so that a FIFO named by mistake is refused below instead of waited on.
  auto opened = platform::posix_call("open", [&] {
    return ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  });
  if (!opened) {
    const int err = opened.error().sys_errno;
    if (!required && (err == ENOENT || err == ENOTDIR)) return std::nullopt;  // gone since stat
    return tl::unexpected(unreadable(file, "cannot open: " + errno_text(err)));
  }
  const platform::FileDescriptor fd(*opened);
  struct stat st {};
  if (auto r = platform::posix_call("fstat", [&] { return ::fstat(fd.native(), &st); }); !r) {
    return tl::unexpected(unreadable(file, "cannot stat: " + errno_text(r.error().sys_errno)));
  }
  if (!S_ISREG(st.st_mode)) return tl::unexpected(unreadable(file, "not a regular file"));
  if (st.st_size > kMaxFileSize) {
    return tl::unexpected(unreadable(file, "larger than " + std::to_string(kMaxFileSize) +
                                               " bytes"));
  }
  std::string text;
  char buffer[4096];
  for (;;) {
    auto n = platform::posix_call("read",
                                  [&] { return ::read(fd.native(), buffer, sizeof(buffer)); });
    if (!n) {
      return tl::unexpected(unreadable(file, "cannot read: " + errno_text(n.error().sys_errno)));
    }
    if (*n == 0) break;
    text.append(buffer, static_cast<std::size_t>(*n));
    if (text.size() > static_cast<std::size_t>(kMaxFileSize)) {  // grew while we read
      return tl::unexpected(unreadable(file, "larger than " + std::to_string(kMaxFileSize) +
                                                 " bytes"));
    }
  }
  return text;
}

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::string(value) : std::string();
}

/// The defaults, with "default" as the source of every value.
LoadedConfig built_in_defaults() {
  LoadedConfig loaded;
  loaded.config.prefix = "axon_";
  loaded.config.root = "/tmp/axon-" + std::to_string(platform::current_uid());
  loaded.config.root_chosen = false;
  for (const auto& s : settings()) {
    loaded.values.push_back(ConfigValue{s.key(), s.get(loaded.config), ConfigSource{}});
  }
  return loaded;
}

/// Reads `file` over `loaded`: true when it did, false when it does not exist and need not.
tl::expected<bool, ConfigFileError> read_into(LoadedConfig& loaded, const std::string& file,
                                              bool required) {
  auto text = read_file(file, required);
  if (!text) return tl::unexpected(text.error());
  if (!*text) return false;
  if (auto r = apply_file(file, **text, loaded.config, loaded.values); !r) {
    return tl::unexpected(r.error());
  }
  loaded.file = file;
  return true;
}

void override_from_environment(LoadedConfig& loaded) {
  auto set = [&](const char* variable, std::string_view key, auto&& store) {
    const auto value = environment(variable);
    if (value.empty()) return;
    store(value);
    for (auto& v : loaded.values) {
      if (v.key == key) {
        v.value = value;
        v.source = ConfigSource{ConfigSource::Kind::Environment, {}, 0, variable};
      }
    }
  };
  // Not checked here: validate() names the variable whose value it refuses.
  set("AXON_PREFIX", "prefix", [&](const std::string& v) { loaded.config.prefix = v; });
  set("AXON_ROOT", "root", [&](const std::string& v) {
    loaded.config.root = v;
    loaded.config.root_chosen = true;
  });
}

}  // namespace

const char* to_string(ConfigFileErrorKind kind) {
  switch (kind) {
    case ConfigFileErrorKind::Unreadable: return "Unreadable";
    case ConfigFileErrorKind::Malformed: return "Malformed";
    case ConfigFileErrorKind::UnknownKey: return "UnknownKey";
    case ConfigFileErrorKind::WrongType: return "WrongType";
    case ConfigFileErrorKind::OutOfRange: return "OutOfRange";
    case ConfigFileErrorKind::InvalidValue: return "InvalidValue";
  }
  return "Unknown";
}

std::string ConfigFileError::to_string() const {
  if (line == 0) return file + ": " + what;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + what;
}

std::string ConfigSource::to_string() const {
  switch (kind) {
    case Kind::Default: return "default";
    case Kind::File: return file + ":" + std::to_string(line);
    case Kind::Environment: return "env " + variable;
  }
  return "unknown";
}

tl::expected<LoadedConfig, ConfigFileError> Config::load() {
  LoadedConfig loaded = built_in_defaults();
  // $AXON_CONFIG names the file: when it cannot be read, that is the error, not a reason to
  // read another file the user did not mean.
  if (const auto named = environment("AXON_CONFIG"); !named.empty()) {
    loaded.searched.push_back(named);
    auto read = read_into(loaded, named, true);
    if (!read) return tl::unexpected(read.error());
    loaded.file_reason = "AXON_CONFIG";
  } else {
    // The XDG base directory rules: a relative XDG_CONFIG_HOME is ignored.
    std::vector<std::pair<std::string, std::string>> candidates;
    if (const auto xdg = environment("XDG_CONFIG_HOME"); !xdg.empty() && xdg.front() == '/') {
      candidates.emplace_back(xdg + "/axon/axon.toml", "XDG_CONFIG_HOME");
    } else if (const auto home = environment("HOME"); !home.empty()) {
      candidates.emplace_back(home + "/.config/axon/axon.toml", "HOME");
    }
    candidates.emplace_back(std::string(kSystemFile), "system");
    for (const auto& [file, reason] : candidates) {
      loaded.searched.push_back(file);
      auto read = read_into(loaded, file, false);
      if (!read) return tl::unexpected(read.error());
      if (*read) {
        loaded.file_reason = reason;
        break;
      }
    }
  }
  override_from_environment(loaded);
  return loaded;
}

tl::expected<LoadedConfig, ConfigFileError> Config::load_file(const std::string& path) {
  LoadedConfig loaded = built_in_defaults();
  loaded.searched.push_back(path);
  auto read = read_into(loaded, path, true);
  if (!read) return tl::unexpected(read.error());
  loaded.file_reason = "named";
  return loaded;
}

Config Config::from_environment() {
  auto loaded = load();
  if (loaded) return std::move(loaded->config);
  // The environment and the defaults still say where objects are, for tools that report the
  // problem; validate() refuses this configuration, so nothing is created with it.
  LoadedConfig fallback = built_in_defaults();
  override_from_environment(fallback);
  fallback.config.file_error = std::move(loaded.error());
  return std::move(fallback.config);
}

}  // namespace axon
