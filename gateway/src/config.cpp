#include "config.hpp"

#include <net/if.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <memory>
#include <sstream>
#include <system_error>
#include <utility>

#include "axon/config.hpp"
#include "axon/service_name.hpp"
#include "axon_tools/command_line.hpp"
#include "axon_tools/messages.hpp"

namespace axon::gateway {
namespace {

/// One element of a compiled segment: a character, `?` or `*`.
struct GlobToken {
  enum class Kind : std::uint8_t { Literal, AnyOne, AnyRun };
  Kind kind = Kind::Literal;
  char literal = 0;
};

/// One '/'-separated segment of a glob: `**`, or the tokens of a pattern for one name segment.
struct GlobSegment {
  bool any_segments = false;
  std::vector<GlobToken> tokens;
};

bool is_printable_without_space(char c) { return c >= 0x21 && c <= 0x7E; }

bool is_escapable(char c) {
  return c == '*' || c == '?' || c == '\\' || c == '[' || c == ']' || c == '{' || c == '}';
}

std::vector<std::string_view> split_segments(std::string_view text) {
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (true) {
    const auto slash = text.find('/', start);
    if (slash == std::string_view::npos) {
      segments.push_back(text.substr(start));
      return segments;
    }
    segments.push_back(text.substr(start, slash - start));
    start = slash + 1;
  }
}

tl::expected<std::vector<GlobSegment>, std::string> compile_glob(std::string_view glob) {
  using Kind = GlobToken::Kind;
  if (glob.empty()) return tl::unexpected(std::string("an empty glob"));
  if (glob.size() > kMaxGlobLength) {
    return tl::unexpected("longer than " + std::to_string(kMaxGlobLength) + " bytes");
  }
  for (const char c : glob) {
    if (!is_printable_without_space(c)) {
      return tl::unexpected(std::string("only printable ASCII without space is allowed"));
    }
  }
  std::vector<GlobSegment> compiled;
  for (const auto segment : split_segments(glob)) {
    if (segment.empty()) {
      return tl::unexpected(std::string("an empty segment ('//', or a leading or trailing '/')"));
    }
    if (segment == "." || segment == "..") {
      return tl::unexpected(std::string("a '.' or '..' segment, which no service name has"));
    }
    if (segment == "**") {
      compiled.push_back(GlobSegment{.any_segments = true, .tokens = {}});
      continue;
    }
    GlobSegment out;
    for (std::size_t i = 0; i < segment.size(); ++i) {
      const char c = segment[i];
      const bool has_next = i + 1 < segment.size();
      if (c == '\\') {
        if (!has_next) return tl::unexpected(std::string("a '\\' with nothing after it"));
        const char next = segment[i + 1];
        if (!is_escapable(next)) {
          return tl::unexpected(std::string("'\\") + next +
                                "': only * ? \\ [ ] { } may follow a '\\'");
        }
        out.tokens.push_back(GlobToken{.kind = Kind::Literal, .literal = next});
        ++i;
      } else if (c == '*') {
        if (has_next && segment[i + 1] == '*') {
          return tl::unexpected(
              std::string("'**' inside a segment: '**' must be a whole segment (a/**/b)"));
        }
        out.tokens.push_back(GlobToken{.kind = Kind::AnyRun, .literal = 0});
      } else if (c == '?') {
        out.tokens.push_back(GlobToken{.kind = Kind::AnyOne, .literal = 0});
      } else if (c == '[' || c == ']' || c == '{' || c == '}') {
        return tl::unexpected(std::string("'") + c +
                              "': there are no character classes or alternatives (write '\\" + c +
                              "' for the character itself)");
      } else {
        out.tokens.push_back(GlobToken{.kind = Kind::Literal, .literal = c});
      }
    }
    compiled.push_back(std::move(out));
  }
  return compiled;
}

/// The classic greedy wildcard match, over any sequence: pattern items are either a star (any run
/// of subject items, none included) or match exactly one subject item (`matches_one`). On a
/// mismatch it retries from the last star, one subject item further; keeping only the last star
/// is enough because a star-free block that matches at the earliest place leaves the most room
/// to what follows. O(pattern * subject) calls of `matches_one` at worst, whatever the stars.
template <typename IsStar, typename MatchesOne>
bool greedy_match(std::size_t pattern_size, std::size_t subject_size, IsStar is_star,
                  MatchesOne matches_one) {
  std::size_t p = 0;
  std::size_t s = 0;
  std::optional<std::size_t> star;
  std::size_t resume = 0;
  while (s < subject_size) {
    if (p < pattern_size && is_star(p)) {
      star = p;
      resume = s;
      ++p;
    } else if (p < pattern_size && matches_one(p, s)) {
      ++p;
      ++s;
    } else if (star) {
      p = *star + 1;
      s = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern_size && is_star(p)) ++p;
  return p == pattern_size;
}

bool segment_matches(const GlobSegment& glob, std::string_view segment) {
  using Kind = GlobToken::Kind;
  const auto& tokens = glob.tokens;
  return greedy_match(
      tokens.size(), segment.size(), [&](std::size_t p) { return tokens[p].kind == Kind::AnyRun; },
      [&](std::size_t p, std::size_t s) {
        return tokens[p].kind == Kind::AnyOne || tokens[p].literal == segment[s];
      });
}

bool compiled_matches(const std::vector<GlobSegment>& glob, std::string_view name) {
  const auto segments = split_segments(name);
  return greedy_match(
      glob.size(), segments.size(), [&](std::size_t p) { return glob[p].any_segments; },
      [&](std::size_t p, std::size_t s) { return segment_matches(glob[p], segments[s]); });
}

bool any_glob_matches(const std::vector<std::string>& globs, std::string_view service) {
  for (const auto& glob : globs) {
    if (glob_matches(glob, service)) return true;
  }
  return false;
}

std::optional<std::string> gateway_name_problem(std::string_view name) {
  if (name.empty()) return "is empty";
  if (name.size() > kMaxGatewayNameLength) {
    return "is too long (at most " + std::to_string(kMaxGatewayNameLength) + " bytes)";
  }
  for (const char c : name) {
    if (!is_printable_without_space(c)) return "may hold only printable ASCII without space";
  }
  return std::nullopt;
}

/// What can be said of an interface name without asking the machine.
std::optional<std::string> interface_name_problem(std::string_view name) {
  if (name.empty()) return "is empty (leave the setting out to let DDS choose)";
  if (name.size() >= IF_NAMESIZE) {
    return "is too long for a network interface name (at most " + std::to_string(IF_NAMESIZE - 1) +
           " bytes)";
  }
  return std::nullopt;
}

std::string host_name() {
  char buffer[HOST_NAME_MAX + 1] = {};
  if (::gethostname(buffer, sizeof(buffer) - 1) != 0) return {};
  return std::string(buffer);
}

/// The part of a message before the value: `--interface` for a flag, `gw.toml:2:13: interface`
/// for the file.
struct Origin {
  std::string text;
};

std::string file_position(const std::string& path, const toml::source_region& region) {
  return tools::escaped(path) + ":" + std::to_string(region.begin.line) + ":" +
         std::to_string(region.begin.column);
}

/// Settings as read from one source: a value is present when the source set it.
struct Layer {
  std::optional<std::uint32_t> domain_id;
  std::optional<std::pair<std::string, Origin>> network_interface;
  std::optional<std::vector<std::string>> export_globs;
  std::optional<std::vector<std::string>> import_globs;
  std::optional<bool> all;
  std::optional<std::string> gateway_name;
  std::optional<bool> verbose;
  std::optional<std::uint32_t> busy_poll_us;
};

using Problem = std::string;

const char* toml_type_name(toml::node_type type) {
  switch (type) {
    case toml::node_type::none:
      return "nothing";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a floating-point number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
  }
  return "a value of unknown type";
}

tl::expected<std::string, Problem> read_config_file(const std::string& path) {
  const auto refused = [&](const std::string& why) {
    return tl::unexpected("--config " + tools::quoted(path) + ": " + why);
  };
  // "e": O_CLOEXEC, so that a program the gateway may start does not inherit the file.
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rbe"),
                                                       &std::fclose);
  if (!file) return refused("cannot open: " + std::generic_category().message(errno));
  std::string content;
  char buffer[16384];
  while (true) {
    const std::size_t got = std::fread(buffer, 1, sizeof(buffer), file.get());
    content.append(buffer, got);
    if (content.size() > kMaxConfigFileBytes) {
      return refused("larger than " + std::to_string(kMaxConfigFileBytes) +
                     " bytes, not a gateway configuration");
    }
    if (got < sizeof(buffer)) break;
  }
  if (std::ferror(file.get()) != 0) {
    return refused("cannot read: " + std::generic_category().message(errno));
  }
  return content;
}

class FileReader {
 public:
  explicit FileReader(std::string path) : m_path(std::move(path)) {}

  tl::expected<Layer, Problem> read(std::string_view content) {
    toml::table root;
    try {
      root = toml::parse(content, m_path);
    } catch (const toml::parse_error& error) {
      std::string what(error.description());
      return tl::unexpected(file_position(m_path, error.source()) + ": " + tools::escaped(what));
    }
    Layer layer;
    for (auto&& [key, node] : root) {
      const auto name = key.str();
      std::optional<Problem> problem;
      if (name == "domain") {
        problem = read_domain(node, layer);
      } else if (name == "interface") {
        problem = read_interface(node, layer);
      } else if (name == "name") {
        problem = read_name(node, layer);
      } else if (name == "all") {
        problem = read_bool(key, node, layer.all);
      } else if (name == "verbose") {
        problem = read_bool(key, node, layer.verbose);
      } else if (name == "busy_poll_us") {
        problem = read_busy_poll(node, layer);
      } else if (name == "export") {
        problem = read_direction(key, node, layer.export_globs);
      } else if (name == "import") {
        problem = read_direction(key, node, layer.import_globs);
      } else {
        problem = at(key, node) + "unknown key " + tools::quoted(name) +
                  " (known keys: all, busy_poll_us, domain, export, import, interface, name, "
                  "verbose)";
      }
      if (problem) return tl::unexpected(*problem);
    }
    return layer;
  }

 private:
  /// `gw.toml:LINE:COLUMN: ` of a key, or of its value when the key has no position.
  std::string at(const toml::key& key, const toml::node& node) const {
    const auto& region = key.source().begin.line != 0 ? key.source() : node.source();
    return file_position(m_path, region) + ": ";
  }

  std::string wrong_type(const std::string& what, const toml::node& node,
                         const std::string& expected) const {
    return file_position(m_path, node.source()) + ": " + what + " must be " + expected + ", not " +
           toml_type_name(node.type());
  }

  std::optional<Problem> read_busy_poll(const toml::node& node, Layer& layer) {
    const auto* value = node.as_integer();
    if (value == nullptr) return wrong_type("busy_poll_us", node, "an integer");
    const std::int64_t us = value->get();
    const std::string where = file_position(m_path, node.source()) + ": busy_poll_us ";
    if (us < 0) return where + std::to_string(us) + " is negative";
    if (us > static_cast<std::int64_t>(kMaxBusyPollMicroseconds)) {
      return where + std::to_string(us) + " is too large (at most " +
             std::to_string(kMaxBusyPollMicroseconds) + ")";
    }
    layer.busy_poll_us = static_cast<std::uint32_t>(us);
    return std::nullopt;
  }

  std::optional<Problem> read_domain(const toml::node& node, Layer& layer) {
    const auto* value = node.as_integer();
    if (value == nullptr) return wrong_type("domain", node, "an integer");
    const std::int64_t domain = value->get();
    const std::string where = file_position(m_path, node.source()) + ": domain ";
    if (domain < 0) return where + std::to_string(domain) + " is negative";
    if (domain > static_cast<std::int64_t>(kMaxDomainId)) {
      return where + std::to_string(domain) + " is too large (at most " +
             std::to_string(kMaxDomainId) + ")";
    }
    layer.domain_id = static_cast<std::uint32_t>(domain);
    return std::nullopt;
  }

  std::optional<Problem> read_interface(const toml::node& node, Layer& layer) {
    const auto* value = node.as_string();
    if (value == nullptr) return wrong_type("interface", node, "a string");
    const std::string where = file_position(m_path, node.source()) + ": interface";
    if (auto problem = interface_name_problem(value->get())) {
      return where + " " + tools::quoted(value->get()) + " " + *problem;
    }
    layer.network_interface = std::pair{value->get(), Origin{where}};
    return std::nullopt;
  }

  std::optional<Problem> read_name(const toml::node& node, Layer& layer) {
    const auto* value = node.as_string();
    if (value == nullptr) return wrong_type("name", node, "a string");
    if (auto problem = gateway_name_problem(value->get())) {
      return file_position(m_path, node.source()) + ": name " + tools::quoted(value->get()) + " " +
             *problem;
    }
    layer.gateway_name = value->get();
    return std::nullopt;
  }

  std::optional<Problem> read_bool(const toml::key& key, const toml::node& node,
                                   std::optional<bool>& out) {
    const auto* value = node.as_boolean();
    if (value == nullptr) return wrong_type(std::string(key.str()), node, "true or false");
    out = value->get();
    return std::nullopt;
  }

  /// [export] or [import]: a table whose only key is `services`, an array of globs.
  std::optional<Problem> read_direction(const toml::key& key, const toml::node& node,
                                        std::optional<std::vector<std::string>>& out) {
    const std::string direction(key.str());
    const auto* table = node.as_table();
    if (table == nullptr) {
      return wrong_type(direction, node, "a table ([" + direction + "] services = [...])");
    }
    std::vector<std::string> globs;
    for (auto&& [inner_key, inner] : *table) {
      if (inner_key.str() != "services") {
        return at(inner_key, inner) + "unknown key " +
               tools::quoted(direction + "." + std::string(inner_key.str())) +
               " (the only key of [" + direction + "] is services)";
      }
      const std::string what = direction + ".services";
      const auto* array = inner.as_array();
      if (array == nullptr) return wrong_type(what, inner, "an array of globs");
      for (std::size_t i = 0; i < array->size(); ++i) {
        const auto& element = (*array)[i];
        const std::string element_what = what + "[" + std::to_string(i) + "]";
        const auto* glob = element.as_string();
        if (glob == nullptr) return wrong_type(element_what, element, "a string (a glob)");
        if (auto problem = glob_problem(glob->get())) {
          return file_position(m_path, element.source()) + ": " + element_what + " " +
                 tools::quoted(glob->get()) + " is not a valid glob: " + *problem;
        }
        globs.push_back(glob->get());
      }
    }
    out = std::move(globs);
    return std::nullopt;
  }

  std::string m_path;
};

constexpr const char* kUsage =
    "usage: axon-gateway [--config FILE] [--domain N] [--interface NAME] [--name NAME]\n"
    "                    [--export GLOB]... [--import GLOB]... [--all] [-v] [--check]";

constexpr const char* kDescription =
    "Carries axon services between machines over Cyclone DDS: publishes the local services that\n"
    "an --export glob names and recreates the remote services that an --import glob names. By\n"
    "default nothing crosses. A flag replaces the --config file's setting; --export and --import\n"
    "replace the file's whole list. Globs: '*' and '?' within one segment of a service name,\n"
    "'**' as a whole segment for any number of segments (see gateway/CONFIG.md).";

ConfigStop usage_error(Problem problem) {
  return ConfigStop{.status = kUsageStatus, .problem = std::move(problem)};
}

/// Reads the flags into a Layer, checking each value that was given.
struct CommandLine {
  std::string config_path;
  std::string domain;
  std::string network_interface;
  std::string gateway_name;
  std::string busy_poll;
  std::vector<std::string> export_globs;
  std::vector<std::string> import_globs;
  bool all = false;
  bool verbose = false;
  bool check_only = false;

  CLI::Option* config_option = nullptr;
  CLI::Option* domain_option = nullptr;
  CLI::Option* interface_option = nullptr;
  CLI::Option* name_option = nullptr;
  CLI::Option* export_option = nullptr;
  CLI::Option* import_option = nullptr;
  CLI::Option* all_option = nullptr;
  CLI::Option* verbose_option = nullptr;
  CLI::Option* busy_poll_option = nullptr;

  void declare(CLI::App& app) {
    // Numbers are taken as text and parsed by tools::parse_unsigned, as by every axon program:
    // CLI11 would wrap "-1" around.
    config_option = app.add_option("--config", config_path,
                                   "TOML file with the same settings as the flags below; a flag "
                                   "given too replaces the file's setting")
                        ->type_name("FILE");
    domain_option =
        app.add_option("--domain", domain,
                       "DDS domain id, 0.." + std::to_string(kMaxDomainId) +
                           ": only gateways of the same domain see each other (default 0)")
            ->type_name("N");
    interface_option = app.add_option("--interface", network_interface,
                                      "network interface DDS uses, e.g. eth0 (default: Cyclone "
                                      "DDS chooses, or what CYCLONEDDS_URI says)")
                           ->type_name("NAME");
    name_option = app.add_option("--name", gateway_name,
                                 "this gateway's name among the others, 1.." +
                                     std::to_string(kMaxGatewayNameLength) +
                                     " printable ASCII bytes without space (default: the host "
                                     "name)")
                      ->type_name("NAME");
    export_option = app.add_option("--export", export_globs,
                                   "publish the local services this glob matches to other "
                                   "machines; repeat for several globs")
                        ->type_name("GLOB")
                        ->allow_extra_args(false);
    import_option = app.add_option("--import", import_globs,
                                   "recreate here the remote services this glob matches; repeat "
                                   "for several globs")
                        ->type_name("GLOB")
                        ->allow_extra_args(false);
    all_option =
        app.add_flag("--all", all, "export and import every service (the globs are ignored)");
    verbose_option =
        app.add_flag("-v,--verbose", verbose, "log each service as it starts and stops crossing");
    busy_poll_option =
        app.add_option("--busy-poll", busy_poll,
                       "poll local subscribers and listeners for up to US microseconds before "
                       "each sleep, 0.." + std::to_string(kMaxBusyPollMicroseconds) +
                           ": a local sample is taken without a wake-up, at up to US of CPU "
                           "per sleep (default 0: off)")
            ->type_name("US");
    app.add_flag("--check", check_only,
                 "check the configuration, print it as a TOML file and exit without starting");
  }

  tl::expected<Layer, Problem> layer() const {
    Layer layer;
    if (domain_option->count() > 0) {
      const auto value = tools::parse_unsigned(domain, kMaxDomainId);
      if (!value)
        return tl::unexpected(tools::refusal("--domain", domain, value.error(), kMaxDomainId));
      layer.domain_id = static_cast<std::uint32_t>(*value);
    }
    if (interface_option->count() > 0) {
      if (auto problem = interface_name_problem(network_interface)) {
        return tl::unexpected("--interface " + tools::quoted(network_interface) + " " + *problem);
      }
      layer.network_interface = std::pair{network_interface, Origin{"--interface"}};
    }
    if (name_option->count() > 0) {
      if (auto problem = gateway_name_problem(gateway_name)) {
        return tl::unexpected("--name " + tools::quoted(gateway_name) + " " + *problem);
      }
      layer.gateway_name = gateway_name;
    }
    for (const auto& [option, globs, out] :
         {std::tuple{export_option, &export_globs, &layer.export_globs},
          std::tuple{import_option, &import_globs, &layer.import_globs}}) {
      if (option->count() == 0) continue;
      for (const auto& glob : *globs) {
        if (auto problem = glob_problem(glob)) {
          return tl::unexpected(option->get_name() + " " + tools::quoted(glob) +
                                " is not a valid glob: " + *problem);
        }
      }
      *out = *globs;
    }
    if (all_option->count() > 0) layer.all = all;
    if (verbose_option->count() > 0) layer.verbose = verbose;
    if (busy_poll_option->count() > 0) {
      const auto value = tools::parse_unsigned(busy_poll, kMaxBusyPollMicroseconds);
      if (!value) {
        return tl::unexpected(
            tools::refusal("--busy-poll", busy_poll, value.error(), kMaxBusyPollMicroseconds));
      }
      layer.busy_poll_us = static_cast<std::uint32_t>(*value);
    }
    return layer;
  }
};

template <typename T>
void override_with(std::optional<T>& base, const std::optional<T>& top) {
  if (top) base = top;
}

}  // namespace

bool GatewayConfig::exports(std::string_view service) const {
  if (!ServiceName::create(service)) return false;
  return all || any_glob_matches(export_globs, service);
}

bool GatewayConfig::imports(std::string_view service) const {
  if (!ServiceName::create(service)) return false;
  return all || any_glob_matches(import_globs, service);
}

std::optional<std::string> glob_problem(std::string_view glob) {
  auto compiled = compile_glob(glob);
  if (!compiled) return std::move(compiled.error());
  return std::nullopt;
}

bool glob_matches(std::string_view glob, std::string_view name) {
  const auto compiled = compile_glob(glob);
  return compiled && compiled_matches(*compiled, name);
}

tl::expected<GatewayConfig, ConfigStop> parse_gateway_arguments(int argc, char** argv) {
  CLI::App app(kDescription, "axon-gateway");
  CommandLine command_line;
  command_line.declare(app);
  if (auto stop = tools::parse_command_line(app, kUsage, argc, argv)) {
    if (stop->status == 0) return tl::unexpected(ConfigStop{.status = 0, .problem = {}});
    return tl::unexpected(usage_error(stop->problem + " (run 'axon-gateway --help')"));
  }
  auto flags = command_line.layer();
  if (!flags) return tl::unexpected(usage_error(std::move(flags.error())));

  Layer settings;
  GatewayConfig config;
  if (command_line.config_option->count() > 0) {
    auto content = read_config_file(command_line.config_path);
    if (!content) return tl::unexpected(usage_error(std::move(content.error())));
    auto file = FileReader(command_line.config_path).read(*content);
    if (!file) return tl::unexpected(usage_error(std::move(file.error())));
    settings = std::move(*file);
    config.config_file = command_line.config_path;
  }
  override_with(settings.domain_id, flags->domain_id);
  override_with(settings.network_interface, flags->network_interface);
  override_with(settings.export_globs, flags->export_globs);
  override_with(settings.import_globs, flags->import_globs);
  override_with(settings.all, flags->all);
  override_with(settings.gateway_name, flags->gateway_name);
  override_with(settings.verbose, flags->verbose);
  override_with(settings.busy_poll_us, flags->busy_poll_us);

  config.domain_id = settings.domain_id.value_or(0);
  if (settings.network_interface) {
    const auto& [name, origin] = *settings.network_interface;
    if (::if_nametoindex(name.c_str()) == 0) {
      const int error = errno;
      return tl::unexpected(usage_error(
          origin.text + " " + tools::quoted(name) + ": " +
          (error == ENODEV ? std::string("no such network interface on this machine")
                           : "cannot look it up: " + std::generic_category().message(error))));
    }
    config.network_interface = name;
  }
  config.export_globs = settings.export_globs.value_or(std::vector<std::string>{});
  config.import_globs = settings.import_globs.value_or(std::vector<std::string>{});
  config.all = settings.all.value_or(false);
  config.verbose = settings.verbose.value_or(false);
  config.busy_poll_us = settings.busy_poll_us.value_or(0);
  config.check_only = command_line.check_only;
  if (settings.gateway_name) {
    config.gateway_name = *settings.gateway_name;
  } else {
    config.gateway_name = host_name();
    if (auto problem = gateway_name_problem(config.gateway_name)) {
      return tl::unexpected(usage_error("the host name " + tools::quoted(config.gateway_name) +
                                        " " + *problem +
                                        ": give the gateway a name with --name or name = \"...\""));
    }
  }
  if (auto problem = tools::config_problem(Config::from_environment())) {
    return tl::unexpected(usage_error(std::move(*problem)));
  }
  return config;
}

std::string describe(const GatewayConfig& config) {
  const auto globs = [](const std::vector<std::string>& list) {
    toml::array array;
    for (const auto& glob : list) array.push_back(glob);
    return toml::table{{"services", std::move(array)}};
  };
  toml::table table{
      {"domain", static_cast<std::int64_t>(config.domain_id)},
      {"name", config.gateway_name},
      {"all", config.all},
      {"verbose", config.verbose},
      {"busy_poll_us", static_cast<std::int64_t>(config.busy_poll_us)},
      {"export", globs(config.export_globs)},
      {"import", globs(config.import_globs)},
  };
  // An empty interface is the absence of the setting (DDS chooses); the file refuses "".
  if (!config.network_interface.empty()) table.insert("interface", config.network_interface);
  std::ostringstream out;
  out << table << '\n';
  return out.str();
}

}  // namespace axon::gateway
