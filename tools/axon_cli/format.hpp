// How the CLI prints services and nodes, as text and as JSON. The text formats are a contract
// (docs/cli.md): scripts split them on spaces and grep them, so change them only with the docs.
//
// Everything that depends on the messaging pattern is in pattern_fields(): a new pattern adds
// one case there and every command (list, show, text, JSON) prints it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "axon/axon.hpp"
#include "json.hpp"

namespace axon::cli {

/// A named value of a service: a count or a setting.
struct Field {
  std::string key;
  std::variant<std::uint64_t, bool, std::string> value;
};

/// The pattern-specific part of a service.
struct PatternFields {
  std::vector<Field> ports;     ///< live port counts, e.g. listeners=1 notifiers=0
  std::vector<Field> settings;  ///< the static config it was created with
};

/// The only place that knows which ports and settings each messaging pattern has (`access`,
/// common to all, is added by pattern_fields()).
inline PatternFields pattern_specific_fields(const ServiceInfo& info) {
  switch (info.pattern) {
    case MessagingPattern::Event:
      return PatternFields{
          .ports = {{"listeners", std::uint64_t{info.listeners}},
                    {"notifiers", std::uint64_t{info.notifiers}}},
          .settings = {{"max_listeners", std::uint64_t{info.event.max_listeners}},
                       {"max_notifiers", std::uint64_t{info.event.max_notifiers}},
                       {"max_nodes", std::uint64_t{info.event.max_nodes}},
                       {"max_event_id", std::uint64_t{info.event.event_id_max_value}},
                       {"backend", std::string(to_string(info.event.backend))}},
      };
    case MessagingPattern::PublishSubscribe:
      return PatternFields{
          .ports = {{"publishers", std::uint64_t{info.publishers}},
                    {"subscribers", std::uint64_t{info.subscribers}}},
          .settings = {{"type_name", info.pubsub.type_name},
                       {"type_size", info.pubsub.type_size},
                       {"type_alignment", info.pubsub.type_alignment},
                       {"slice", info.pubsub.is_slice},
                       {"max_publishers", std::uint64_t{info.pubsub.max_publishers}},
                       {"max_subscribers", std::uint64_t{info.pubsub.max_subscribers}},
                       {"max_nodes", std::uint64_t{info.pubsub.max_nodes}},
                       {"history_size", std::uint64_t{info.pubsub.history_size}},
                       {"subscriber_buffer_size",
                        std::uint64_t{info.pubsub.subscriber_buffer_size}},
                       {"max_loans", std::uint64_t{info.pubsub.max_loans}}},
      };
  }
  return PatternFields{};
}

/// The fields of a service: its pattern's, then `access`, the last setting of every pattern.
inline PatternFields pattern_fields(const ServiceInfo& info) {
  auto fields = pattern_specific_fields(info);
  fields.settings.push_back({"access", std::string(to_string(info.access))});
  return fields;
}

/// Printable ASCII as it is, anything else as '?': one value never spans two lines or hides
/// terminal escapes, even when shared memory holds garbage.
inline std::string printable(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c < 0x20 || c > 0x7E) c = '?';
  }
  return out;
}

inline std::string field_text(const Field& field) {
  if (const auto* number = std::get_if<std::uint64_t>(&field.value)) {
    return std::to_string(*number);
  }
  if (const auto* flag = std::get_if<bool>(&field.value)) return *flag ? "true" : "false";
  return printable(std::get<std::string>(field.value));
}

/// Numbers and booleans as JSON numbers and booleans, text as a JSON string.
inline std::string field_json(const Field& field) {
  if (const auto* text = std::get_if<std::string>(&field.value)) return json_string(*text);
  return field_text(field);
}

/// `<pattern> <name> nodes=<n> <port>=<n>...`, e.g. `event fuu nodes=2 listeners=1 notifiers=1`.
inline std::string service_line(const ServiceInfo& info) {
  std::string out = std::string(to_string(info.pattern)) + " " + printable(info.name) +
                    " nodes=" + std::to_string(info.nodes);
  for (const auto& port : pattern_fields(info).ports) {
    out += " " + port.key + "=" + field_text(port);
  }
  return out;
}

/// The JSON object of a service as listed: name, pattern, nodes, the port counts, settings.
inline JsonObject service_json(const ServiceInfo& info) {
  const auto fields = pattern_fields(info);
  JsonObject object;
  object.add("name", info.name).add("pattern", to_string(info.pattern)).add("nodes", info.nodes);
  for (const auto& port : fields.ports) object.add_raw(port.key, field_json(port));
  JsonObject settings;
  for (const auto& setting : fields.settings) settings.add_raw(setting.key, field_json(setting));
  object.add_raw("settings", settings.str());
  return object;
}

/// `unreadable <name> error=<reason>`: a service whose objects exist but fail validation. The
/// name is its 16-digit hash when even the name is unreadable.
inline std::string unreadable_line(const UnreadableService& service) {
  return "unreadable " + printable(service.name) + " error=" + to_string(service.error);
}

inline std::string unreadable_json(const UnreadableService& service) {
  return JsonObject().add("name", service.name).add("error", to_string(service.error)).str();
}

/// `<id> <pid> <alive|dead> <name>`; no trailing space when the node has no name.
inline std::string node_line(const NodeInfo& node) {
  std::string out =
      node.id.to_string() + " " + std::to_string(node.pid) + " " + to_string(node.state);
  if (!node.name.empty()) out += " " + printable(node.name);
  return out;
}

inline std::string node_json(const NodeInfo& node) {
  return JsonObject()
      .add("id", node.id.to_string())
      .add("pid", static_cast<std::uint64_t>(node.pid < 0 ? 0 : node.pid))
      .add("state", to_string(node.state))
      .add("name", node.name)
      .str();
}

/// `axon service show`: one `key: value` line each, then one `node:` line per node holding the
/// service, with what `axon node list` knows of it (`nodes` may lack a node that is gone).
inline std::string service_details_text(const ServiceInfo& info,
                                        const std::vector<NodeInfo>& nodes) {
  const auto fields = pattern_fields(info);
  std::string out;
  auto line = [&out](std::string_view key, const std::string& value) {
    out += std::string(key) + ": " + value + "\n";
  };
  line("name", printable(info.name));
  line("pattern", to_string(info.pattern));
  line("creator", info.creator.to_string());
  for (const auto& setting : fields.settings) line(setting.key, field_text(setting));
  line("nodes", std::to_string(info.nodes));
  for (const auto& port : fields.ports) line(port.key, field_text(port));
  for (const auto& id : info.node_ids) {
    NodeInfo known{.id = id, .pid = 0, .name = {}, .state = NodeState::Dead};
    for (const auto& node : nodes) {
      if (node.id == id) known = node;
    }
    line("node", node_line(known));
  }
  return out;
}

/// `axon service show --json`: the listed object plus `creator` and `node_ids`.
inline std::string service_details_json(const ServiceInfo& info) {
  std::vector<std::string> ids;
  for (const auto& id : info.node_ids) ids.push_back(json_string(id.to_string()));
  return service_json(info)
      .add("creator", info.creator.to_string())
      .add_raw("node_ids", json_array_inline(ids))
      .str();
}

}  // namespace axon::cli
