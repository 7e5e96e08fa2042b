// `axon config show [--json]` and `axon config check FILE`: the configuration this process would
// use, value by value with where each came from, and a file checked before it is installed
// (docs/cli.md, "axon config"; docs/design.md, "Configuration").
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <variant>

#include "axon/axon.hpp"
#include "axon_tools/messages.hpp"
#include "errors.hpp"
#include "format.hpp"

namespace axon::cli {

/// `axon: error: <message>`, one line on stderr; returns `code`. The configuration's errors
/// start with the file's place (`FILE:LINE:COLUMN: ...`), as compilers print theirs.
inline int config_fail(int code, const std::string& message) {
  std::fprintf(stderr, "axon: error: %s\n", tools::escaped(message).c_str());
  return code;
}

/// A value as a TOML file spells it: `8`, `true`, `"group"` (a basic string, escaped).
inline std::string config_value_text(const ConfigValue& value) {
  if (const auto* n = std::get_if<std::uint64_t>(&value.value)) return std::to_string(*n);
  if (const auto* b = std::get_if<bool>(&value.value)) return *b ? "true" : "false";
  const auto& text = std::get<std::string>(value.value);
  std::string out = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte >= 0x7f) {
      // Non-ASCII bytes too: the line stays plain ASCII whatever the environment held.
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

/// `key = value  # source`: the whole output is a TOML file with the effective values.
inline std::string config_value_line(const ConfigValue& value) {
  return value.key + " = " + config_value_text(value) + "  # " +
         tools::escaped(value.source.to_string());
}

inline Json config_value_json(const ConfigValue& value) {
  Json object = Json::object();
  object["key"] = value.key;
  if (const auto* n = std::get_if<std::uint64_t>(&value.value)) {
    object["value"] = *n;
  } else if (const auto* b = std::get_if<bool>(&value.value)) {
    object["value"] = *b;
  } else {
    object["value"] = json_text(std::get<std::string>(value.value));
  }
  switch (value.source.kind) {
    case ConfigSource::Kind::Default:
      object["source"] = "default";
      break;
    case ConfigSource::Kind::File:
      object["source"] = "file";
      object["file"] = json_text(value.source.file);
      object["line"] = value.source.line;
      break;
    case ConfigSource::Kind::Environment:
      object["source"] = "env";
      object["variable"] = value.source.variable;
      break;
  }
  return object;
}

/// The whole configuration as `axon config show --json` prints it (one line).
inline std::string config_json(const LoadedConfig& loaded) {
  Json object = Json::object();
  object["file"] = loaded.file.empty() ? Json(nullptr) : json_text(loaded.file);
  object["file_reason"] = loaded.file.empty() ? Json(nullptr) : Json(loaded.file_reason);
  Json searched = Json::array();
  for (const auto& path : loaded.searched) searched.push_back(json_text(path));
  object["searched"] = std::move(searched);
  Json values = Json::array();
  for (const auto& value : loaded.values) values.push_back(config_value_json(value));
  object["values"] = std::move(values);
  return json_line(object);
}

/// The subcommand `config` of `axon`, its options bound to this object: construct it on the
/// `axon` app before parsing, then run() it when parsed().
class ConfigCommand {
 public:
  explicit ConfigCommand(CLI::App& app) {
    m_command = app.add_subcommand("config", "Show the configuration in effect, check a file");
    m_command->footer(
        "The configuration file is the first of $AXON_CONFIG, "
        "$XDG_CONFIG_HOME/axon/axon.toml (else ~/.config/axon/axon.toml), /etc/axon/axon.toml;\n"
        "AXON_PREFIX and AXON_ROOT override it. Keys: docs/axon.example.toml.\n"
        "Exit status: 0 success, 1 a bad configuration file (or value), 2 usage error.");
    m_show = m_command->add_subcommand(
        "show", "Print every effective value and where it came from (default, FILE:LINE, env)");
    m_show->add_flag("--json", m_json, "Print one JSON object instead");
    m_show->footer(
        "Output: '# file: <path> (<why>)' or '# file: none (looked for <paths>)', then one line\n"
        "per setting, 'KEY = VALUE  # SOURCE' (a TOML file of the effective values).\n"
        "--json: {\"file\",\"file_reason\",\"searched\",\"values\":[{\"key\",\"value\",\"source\","
        "...}]}");
    m_check = m_command->add_subcommand("check", "Check a configuration file");
    m_check->add_option("FILE", m_file, "The TOML file")->required();
    m_check->footer(
        "Output: 'FILE: ok' (exit 0), or 'axon: error: FILE:LINE:COLUMN: <what>' on stderr "
        "(exit 1).");
  }
  ConfigCommand(const ConfigCommand&) = delete;
  ConfigCommand& operator=(const ConfigCommand&) = delete;

  bool parsed() const { return m_command->parsed(); }

  int run() const {
    if (m_check->parsed()) return check();
    if (m_show->parsed()) return show();
    return config_fail(kExitUsage, "missing command: show or check (run 'axon config --help')");
  }

 private:
  int check() const {
    auto loaded = Config::load_file(m_file);
    if (!loaded) return config_fail(kExitFailure, loaded.error().to_string());
    std::printf("%s: ok\n", tools::escaped(m_file).c_str());
    return kExitOk;
  }

  int show() const {
    auto loaded = Config::load();
    if (!loaded) return config_fail(kExitFailure, loaded.error().to_string());
    if (m_json) {
      std::printf("%s\n", config_json(*loaded).c_str());
    } else {
      if (loaded->file.empty()) {
        std::string paths;
        for (const auto& path : loaded->searched) {
          paths += (paths.empty() ? "" : ", ") + tools::escaped(path);
        }
        std::printf("# file: none (looked for %s)\n", paths.c_str());
      } else {
        std::printf("# file: %s (%s)\n", tools::escaped(loaded->file).c_str(),
                    loaded->file_reason.c_str());
      }
      for (const auto& value : loaded->values) {
        std::printf("%s\n", config_value_line(value).c_str());
      }
    }
    // Shown first, so the user sees the value; still an error, as for every other command.
    if (const auto problem = tools::config_problem(loaded->config)) {
      return config_fail(kExitFailure, *problem);
    }
    return kExitOk;
  }

  CLI::App* m_command = nullptr;
  CLI::App* m_show = nullptr;
  CLI::App* m_check = nullptr;
  bool m_json = false;
  std::string m_file;
};

}  // namespace axon::cli
