// How the CLI prints services and nodes, as text and as JSON. The text formats are a contract
// (docs/cli.md): scripts split them on spaces and grep them, so change them only with the docs.
//
// Everything that depends on the messaging pattern is in pattern_fields(): a new pattern adds
// one case there and every command (list, show, text, JSON) prints it.
//
// JSON is built and written by nlohmann-json, compact (no spaces), keys in the documented order.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "axon/axon.hpp"

namespace axon::cli {

/// A JSON value whose objects keep their keys in insertion order (the documented order).
using Json = nlohmann::ordered_json;

/// `text` as a JSON string that is pure ASCII whatever its bytes: each byte above 0x7F is taken
/// for the character of that value (U+0080..U+00FF), so that the writer, which escapes every
/// character that is not printable ASCII, writes it as `\u00XX`. Text read from shared memory is
/// trusted only as far as it was validated and need not be UTF-8; it never breaks the document.
inline Json json_text(std::string_view text) {
  std::string utf8;
  utf8.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x80) {
      utf8 += c;
    } else {
      utf8 += static_cast<char>(0xC0 | (byte >> 6));
      utf8 += static_cast<char>(0x80 | (byte & 0x3F));
    }
  }
  return Json(std::move(utf8));
}

/// One compact line: `{"a":1,"b":"x"}`, escaped to pure ASCII (see json_text()).
inline std::string json_line(const Json& value) {
  return value.dump(/*indent=*/-1, ' ', /*ensure_ascii=*/true);
}

/// Elements (already JSON text) as an array with one element a line, so that line tools still
/// work: "[\n  {...},\n  {...}\n]", or "[]" when empty.
inline std::string json_array_lines(const std::vector<std::string>& elements) {
  if (elements.empty()) return "[]";
  std::string out = "[\n";
  for (std::size_t i = 0; i < elements.size(); ++i) {
    out += "  ";
    out += elements[i];
    out += i + 1 < elements.size() ? ",\n" : "\n";
  }
  return out + "]";
}

/// A named value of a service: a count or a setting.
struct Field {
  std::string key;
  std::variant<std::uint64_t, bool, std::string> value;
};

/// The pattern-specific part of a service.
struct PatternFields {
  std::vector<Field> ports;     ///< live port counts, e.g. listeners=1 notifiers=0
  std::vector<Field> settings;  ///< the static config it was created with
  /// Of `ports`, those whose node is dead and not yet cleaned, under the same keys (a port kind
  /// only: no pending_requests).
  std::vector<Field> dead;
};

/// An overflow policy as the CLI prints it, lowercase like the other settings' words.
inline const char* overflow_text(OverflowPolicy policy) {
  switch (policy) {
    case OverflowPolicy::OverwriteOldest: return "overwrite_oldest";
    case OverflowPolicy::Refuse: return "refuse";
    case OverflowPolicy::Block: return "block";
  }
  return "unknown";
}

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
          .dead = {{"listeners", std::uint64_t{info.dead.listeners}},
                   {"notifiers", std::uint64_t{info.dead.notifiers}}},
      };
    case MessagingPattern::PublishSubscribe: {
      const auto& p = info.pubsub;
      PatternFields fields{
          .ports = {{"publishers", std::uint64_t{info.publishers}},
                    {"subscribers", std::uint64_t{info.subscribers}}},
          .settings = {{"type_name", p.type_name},
                       {"type_size", p.type_size},
                       {"type_alignment", p.type_alignment},
                       {"slice", p.is_slice}},
          .dead = {{"publishers", std::uint64_t{info.dead.publishers}},
                   {"subscribers", std::uint64_t{info.dead.subscribers}}},
      };
      // Only a service that declares a user header shows one: part of its type, like the above.
      if (p.user_header_size != 0) {
        fields.settings.push_back({"user_header_name", p.user_header_name});
        fields.settings.push_back({"user_header_size", p.user_header_size});
        fields.settings.push_back({"user_header_alignment", p.user_header_alignment});
      }
      fields.settings.insert(
          fields.settings.end(),
          {{"max_publishers", std::uint64_t{p.max_publishers}},
           {"max_subscribers", std::uint64_t{p.max_subscribers}},
           {"max_nodes", std::uint64_t{p.max_nodes}},
           {"history_size", std::uint64_t{p.history_size}},
           {"subscriber_buffer_size", std::uint64_t{p.subscriber_buffer_size}},
           {"max_loans", std::uint64_t{p.max_loans}},
           {"max_borrowed_samples", std::uint64_t{p.max_borrowed_samples}},
           {"overflow", std::string(overflow_text(p.overflow))}});
      return fields;
    }
    case MessagingPattern::RequestResponse: {
      const auto& rr = info.request_response;
      return PatternFields{
          .ports = {{"clients", std::uint64_t{info.clients}},
                    {"servers", std::uint64_t{info.servers}},
                    {"pending_requests", std::uint64_t{info.pending_requests}}},
          .settings = {{"request_type_name", rr.request_type.name},
                       {"request_type_size", rr.request_type.size},
                       {"request_type_alignment", rr.request_type.alignment},
                       {"request_slice", rr.request_type.is_slice},
                       {"response_type_name", rr.response_type.name},
                       {"response_type_size", rr.response_type.size},
                       {"response_type_alignment", rr.response_type.alignment},
                       {"response_slice", rr.response_type.is_slice},
                       {"max_clients", std::uint64_t{rr.max_clients}},
                       {"max_servers", std::uint64_t{rr.max_servers}},
                       {"max_nodes", std::uint64_t{rr.max_nodes}},
                       {"max_active_requests_per_client",
                        std::uint64_t{rr.max_active_requests_per_client}},
                       {"max_response_buffer_size", std::uint64_t{rr.max_response_buffer_size}},
                       {"max_loaned_requests", std::uint64_t{rr.max_loaned_requests}},
                       {"max_loaned_responses", std::uint64_t{rr.max_loaned_responses}},
                       {"max_borrowed_responses", std::uint64_t{rr.max_borrowed_responses}},
                       {"fire_and_forget", rr.fire_and_forget},
                       {"overflow", std::string(overflow_text(rr.overflow))}},
          .dead = {{"clients", std::uint64_t{info.dead.clients}},
                   {"servers", std::uint64_t{info.dead.servers}}},
      };
    }
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
inline Json field_json(const Field& field) {
  if (const auto* number = std::get_if<std::uint64_t>(&field.value)) return *number;
  if (const auto* flag = std::get_if<bool>(&field.value)) return *flag;
  return json_text(std::get<std::string>(field.value));
}

/// ` (<n> dead)` when some of the ports counted under `key` belong to dead nodes, else nothing.
inline std::string dead_suffix(const PatternFields& fields, const std::string& key) {
  for (const auto& dead : fields.dead) {
    const auto* count = std::get_if<std::uint64_t>(&dead.value);
    if (dead.key == key && count != nullptr && *count > 0) {
      return " (" + std::to_string(*count) + " dead)";
    }
  }
  return "";
}

/// `<pattern> <name> nodes=<n> <port>=<n>[ (<d> dead)]...`, e.g.
/// `event fuu nodes=2 listeners=2 (1 dead) notifiers=1`.
inline std::string service_line(const ServiceInfo& info) {
  std::string out = std::string(to_string(info.pattern)) + " " + printable(info.name) +
                    " nodes=" + std::to_string(info.nodes);
  const auto fields = pattern_fields(info);
  for (const auto& port : fields.ports) {
    out += " " + port.key + "=" + field_text(port) + dead_suffix(fields, port.key);
  }
  return out;
}

/// The JSON object of a service as listed: name, pattern, nodes, the port counts, settings.
inline Json service_json(const ServiceInfo& info) {
  const auto fields = pattern_fields(info);
  Json object = Json::object();
  object["name"] = json_text(info.name);
  object["pattern"] = to_string(info.pattern);
  object["nodes"] = std::uint64_t{info.nodes};
  for (const auto& port : fields.ports) object[port.key] = field_json(port);
  Json dead = Json::object();
  for (const auto& port : fields.dead) dead[port.key] = field_json(port);
  object["dead"] = std::move(dead);
  Json settings = Json::object();
  for (const auto& setting : fields.settings) settings[setting.key] = field_json(setting);
  object["settings"] = std::move(settings);
  return object;
}

/// `unreadable <name> error=<reason>`: a service whose objects exist but fail validation. The
/// name is its 16-digit hash when even the name is unreadable.
inline std::string unreadable_line(const UnreadableService& service) {
  return "unreadable " + printable(service.name) + " error=" + to_string(service.error);
}

inline std::string unreadable_json(const UnreadableService& service) {
  Json object = Json::object();
  object["name"] = json_text(service.name);
  object["error"] = to_string(service.error);
  return json_line(object);
}

/// `<id> <pid> <alive|dead> <name>`; no trailing space when the node has no name.
inline std::string node_line(const NodeInfo& node) {
  std::string out =
      node.id.to_string() + " " + std::to_string(node.pid) + " " + to_string(node.state);
  if (!node.name.empty()) out += " " + printable(node.name);
  return out;
}

inline std::string node_json(const NodeInfo& node) {
  Json object = Json::object();
  object["id"] = node.id.to_string();
  object["pid"] = static_cast<std::uint64_t>(node.pid < 0 ? 0 : node.pid);
  object["state"] = to_string(node.state);
  object["name"] = json_text(node.name);
  return json_line(object);
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
  for (const auto& port : fields.ports) {
    line(port.key, field_text(port) + dead_suffix(fields, port.key));
  }
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
  Json object = service_json(info);
  object["creator"] = info.creator.to_string();
  Json ids = Json::array();
  for (const auto& id : info.node_ids) ids.push_back(id.to_string());
  object["node_ids"] = std::move(ids);
  return json_line(object);
}

}  // namespace axon::cli
