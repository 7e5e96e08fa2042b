#include "axon/node.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <optional>
#include <set>

#include "axon/core/hash.hpp"
#include "axon/core/node_layout.hpp"
#include "axon/core/node_name.hpp"
#include "axon/detail/node_core.hpp"
#include "axon/detail/root.hpp"
#include "axon/platform/filesystem.hpp"
#include "axon/platform/file_descriptor.hpp"
#include "axon/platform/process.hpp"
#include "axon/platform/signals.hpp"
#include "axon/service_builder.hpp"

namespace axon {

std::string NodeId::to_string() const { return core::hex16(value); }

const char* to_string(NodeWaitError error) {
  switch (error) {
    case NodeWaitError::InterruptSignal: return "InterruptSignal";
    case NodeWaitError::TerminationRequest: return "TerminationRequest";
    case NodeWaitError::InternalFailure: return "InternalFailure";
  }
  return "Unknown";
}

tl::expected<void, NodeWaitError> Node::wait(std::chrono::nanoseconds cycle) const {
  using platform::TerminationSignals;
  if (!TerminationSignals::installed() && !TerminationSignals::install()) {
    return tl::unexpected(NodeWaitError::InternalFailure);
  }
  const auto deadline = std::chrono::steady_clock::now() + cycle;
  for (;;) {
    // The last signal stays until someone resets it: every wait of this process reports it.
    switch (TerminationSignals::last_signal()) {
      case SIGINT: return tl::unexpected(NodeWaitError::InterruptSignal);
      case SIGTERM: return tl::unexpected(NodeWaitError::TerminationRequest);
      default: break;
    }
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::nanoseconds::zero()) return {};
    auto woken = platform::wait_readable(TerminationSignals::fd(), left);
    if (woken && *woken) TerminationSignals::drain_fd();
    if (!woken && woken.error().code != platform::ErrorCode::Interrupted) {
      return tl::unexpected(NodeWaitError::InternalFailure);
    }
  }
}

bool Node::clear_termination_signal(NodeWaitError signal) {
  using platform::TerminationSignals;
  int number = 0;
  switch (signal) {
    case NodeWaitError::InterruptSignal: number = SIGINT; break;
    case NodeWaitError::TerminationRequest: number = SIGTERM; break;
    case NodeWaitError::InternalFailure: return false;
  }
  return TerminationSignals::forget(number);
}

std::optional<NodeId> NodeId::from_string(std::string_view hex) {
  if (hex.size() != 16) return std::nullopt;
  std::uint64_t v = 0;
  for (const char c : hex) {
    v <<= 4;
    if (c >= '0' && c <= '9') {
      v |= static_cast<std::uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      v |= static_cast<std::uint64_t>(c - 'a' + 10);
    } else {
      return std::nullopt;
    }
  }
  if (v == 0) return std::nullopt;
  return NodeId{v};
}

const char* to_string(NodeState state) { return state == NodeState::Alive ? "alive" : "dead"; }

const char* to_string(NodeCreateError error) {
  switch (error) {
    case NodeCreateError::InvalidName: return "InvalidName";
    case NodeCreateError::InvalidConfig:
      return "InvalidConfig";
    case NodeCreateError::InvalidConfigFile:
      return "InvalidConfigFile";
    case NodeCreateError::PermissionDenied: return "PermissionDenied";
    case NodeCreateError::InsufficientResources: return "InsufficientResources";
    case NodeCreateError::InternalFailure: return "InternalFailure";
  }
  return "Unknown";
}

const char* to_string(NodeListError error) {
  switch (error) {
    case NodeListError::PermissionDenied: return "PermissionDenied";
    case NodeListError::InvalidConfig:
      return "InvalidConfig";
    case NodeListError::InternalFailure: return "InternalFailure";
  }
  return "Unknown";
}

namespace detail {

std::shared_ptr<NodeCore> core_of(const Node& node) { return node.m_core; }

std::string Paths::service_hash(std::string_view service_name) {
  return core::hex16(core::fnv1a_64(service_name));
}

bool Paths::is_hash(std::string_view text) {
  return text.size() == 16 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::optional<ParsedName> Paths::parse_object(const Config& c, std::string_view name) {
  if (!name.starts_with(c.prefix)) return std::nullopt;
  name.remove_prefix(c.prefix.size());
  constexpr std::string_view kService = "svc_";
  constexpr std::string_view kNode = "node_";
  if (name.starts_with(kNode)) {
    name.remove_prefix(kNode.size());
    if (!is_hash(name)) return std::nullopt;
    return ParsedName{ParsedName::Kind::NodeDetails, std::string(name)};
  }
  if (!name.starts_with(kService)) return std::nullopt;
  name.remove_prefix(kService.size());
  // <H>_s, <H>_d, <H>_p<id>
  if (name.size() < 18 || name[16] != '_' || !is_hash(name.substr(0, 16))) return std::nullopt;
  const auto hash = std::string(name.substr(0, 16));
  const auto rest = name.substr(17);
  if (rest == "s") return ParsedName{ParsedName::Kind::ServiceStatic, hash};
  if (rest == "d") return ParsedName{ParsedName::Kind::ServiceDynamic, hash};
  if (rest.size() == 17 && rest[0] == 'p' && is_hash(rest.substr(1))) {
    return ParsedName{ParsedName::Kind::PortSegment, hash};
  }
  return std::nullopt;
}

std::optional<ParsedName> Paths::parse_file(std::string_view name) {
  if (name.size() < 16 || !is_hash(name.substr(0, 16))) return std::nullopt;
  const auto hash = std::string(name.substr(0, 16));
  const auto rest = name.substr(16);
  if (rest.empty()) return ParsedName{ParsedName::Kind::ServiceDirectory, hash};
  if (rest == ".lock") return ParsedName{ParsedName::Kind::Lock, hash};
  if (rest == ".lock.new") return ParsedName{ParsedName::Kind::UnpublishedLock, hash};
  return std::nullopt;
}

std::string Paths::port_segment(const Config& c, const std::string& hash,
                                     std::uint64_t id) {
  return port_segment_stem(c, hash) + NodeId{id}.to_string();
}

std::string Paths::listener_fifo(const Config& c, const std::string& hash, std::uint64_t id) {
  return service_dir(c, hash) + "/" + NodeId{id}.to_string() + ".fifo";
}

NodeCore::~NodeCore() {
  m_fd_server.reset();
  // Order matters for cleaners: details first, lock file last, so a lock file without a holder
  // is always what a dead node left.
  (void)platform::SharedMemory::remove(m_details.name());
  (void)m_lock.unlink();
}

tl::expected<FdServer*, platform::Error> NodeCore::fd_server() {
  std::lock_guard lock(m_mutex);
  if (!m_fd_server) {
    auto server = FdServer::start(Paths::node_socket(m_config, m_id), node_socket_mode(m_root));
    if (!server) return tl::unexpected(server.error());
    m_fd_server = std::move(*server);
  }
  return m_fd_server.get();
}

}  // namespace detail

namespace {

constexpr const char* kUnpublishedSuffix = ".new";

NodeCreateError to_create_error(const platform::Error& e) {
  switch (e.code) {
    case platform::ErrorCode::PermissionDenied:
    case platform::ErrorCode::WrongType: return NodeCreateError::PermissionDenied;
    case platform::ErrorCode::InsufficientMemory:
    case platform::ErrorCode::LimitReached: return NodeCreateError::InsufficientResources;
    default: return NodeCreateError::InternalFailure;
  }
}

}  // namespace

NodeId Node::id() const { return m_core->id(); }
const std::string& Node::name() const { return m_core->name(); }
const Config& Node::config() const { return m_core->config(); }

ServiceBuilder Node::service_builder(const ServiceName& name) const {
  return ServiceBuilder(m_core, name);
}

NodeBuilder& NodeBuilder::name(std::string name) {
  m_name = std::move(name);
  return *this;
}

NodeBuilder& NodeBuilder::config(Config config) {
  m_config = std::move(config);
  return *this;
}

tl::expected<Node, NodeCreateError> NodeBuilder::create() {
  const auto name = core::NodeName::create(m_name);
  if (!name) return tl::unexpected(NodeCreateError::InvalidName);
  Config config = m_config ? *m_config : Config::from_environment();
  if (auto valid = config.validate(); !valid) {
    return tl::unexpected(valid.error() == ConfigError::InvalidFile
                              ? NodeCreateError::InvalidConfigFile
                              : NodeCreateError::InvalidConfig);
  }
  const auto nodes_dir = config.nodes_dir();
  const auto services_dir = config.services_dir();
  auto root = detail::prepare_directory(config, &nodes_dir);
  if (!root) return tl::unexpected(to_create_error(root.error()));
  if (auto r = detail::prepare_directory(config, &services_dir); !r) {
    return tl::unexpected(to_create_error(r.error()));
  }
  (void)Node::cleanup_dead_nodes(config);

  // Lock file first: from here on a crash leaves an unlocked lock file, which cleaners treat as
  // a dead node and remove together with anything else of it. It is locked under a name no
  // cleaner looks at as a node, then renamed into place: a cleaner must never see it unlocked
  // while we live. A cleaner sweeping unpublished files left by killed creators may hold ours for
  // an instant between its creation and our lock (WouldBlock): it then removes it, and we start
  // again under a fresh id.
  constexpr int kAttempts = 8;
  const auto file_mode = detail::node_file_mode(*root);
  NodeId id;
  std::string lock_path;
  std::optional<platform::FileLock> lock;
  for (int attempt = 0; attempt < kAttempts && !lock; ++attempt) {
    do {
      auto random = platform::random_u64();
      if (!random) return tl::unexpected(NodeCreateError::InternalFailure);
      id.value = *random;
    } while (id.value == 0);
    lock_path = detail::Paths::node_lock(config, id);
    auto locked = platform::FileLock::create_locked(lock_path + kUnpublishedSuffix, file_mode.mode,
                                                    file_mode.group);
    if (locked) {
      lock.emplace(std::move(*locked));
    } else if (locked.error().code != platform::ErrorCode::WouldBlock) {
      return tl::unexpected(to_create_error(locked.error()));
    }
  }
  if (!lock) return tl::unexpected(NodeCreateError::InternalFailure);
  if (auto r = lock->publish_as(lock_path); !r) {
    (void)lock->unlink();
    return tl::unexpected(to_create_error(r.error()));
  }
  auto details =
      platform::SharedMemory::create(detail::Paths::node_details(config, id),
                                     sizeof(core::NodeDetails), file_mode.mode, file_mode.group);
  if (!details) {
    (void)lock->unlink();
    return tl::unexpected(to_create_error(details.error()));
  }
  // SAFETY: the mapping is fresh, zero-filled, page-aligned and at least sizeof(NodeDetails);
  // NodeDetails is trivially copyable, so writing it in place starts its lifetime.
  auto* d = static_cast<core::NodeDetails*>(details->data());
  d->magic = core::kNodeDetailsMagic;
  d->version = core::kNodeDetailsVersion;
  d->pid = platform::current_pid();
  d->node_id = id.value;
  d->created_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  d->name = *core::FixedString<core::kMaxNodeNameLength>::from(m_name);
  return Node(std::make_shared<detail::NodeCore>(std::move(config), *root, id, m_name,
                                                 std::move(*lock), std::move(*details)));
}

tl::expected<std::vector<NodeInfo>, NodeListError> Node::list(const Config& config) {
  if (!config.validate()) return tl::unexpected(NodeListError::InvalidConfig);
  std::set<std::uint64_t> ids;
  const std::string shm_stem = config.prefix + "node_";
  auto objects = platform::SharedMemory::list(shm_stem);
  if (!objects) {
    return tl::unexpected(objects.error().code == platform::ErrorCode::PermissionDenied
                              ? NodeListError::PermissionDenied
                              : NodeListError::InternalFailure);
  }
  // The prefix is shared by every user of the machine (the default one always is), but each
  // user has a root of their own: a node object of another user is not ours to list, and its
  // lock file is not in our nodes directory, so it would read as dead and be cleaned. Only
  // nodes of ours (or of our shared root's group) are listed; root is no exception.
  const auto root = detail::check_directory(config).value_or(detail::RootAccess{});
  for (const auto& o : *objects) {
    auto status = platform::SharedMemory::status_of(o);
    if (!status || !detail::maybe_our_object(*status, root)) continue;
    const auto parsed = detail::Paths::parse_object(config, o);
    if (!parsed || parsed->kind != detail::ParsedName::Kind::NodeDetails) continue;
    if (auto id = NodeId::from_string(parsed->hash)) ids.insert(id->value);
  }
  // Liveness is read through the lock files: only in a nodes directory that is what it claims to
  // be (a planted symlink would have us lock files elsewhere). No root yet: no node ever lived.
  const auto nodes_dir = config.nodes_dir();
  if (auto checked = detail::check_directory(config, &nodes_dir); !checked) {
    if (checked.error().code != platform::ErrorCode::DoesNotExist) {
      return tl::unexpected(NodeListError::PermissionDenied);
    }
  } else if (auto files = platform::list_directory(nodes_dir)) {
    for (const auto& f : *files) {
      const auto parsed = detail::Paths::parse_file(f);
      if (!parsed || parsed->kind != detail::ParsedName::Kind::Lock) continue;
      if (auto id = NodeId::from_string(parsed->hash)) ids.insert(id->value);
    }
  }
  std::vector<NodeInfo> out;
  for (const auto raw : ids) {
    NodeInfo info;
    info.id = NodeId{raw};
    auto held = platform::FileLock::is_held(detail::Paths::node_lock(config, info.id));
    info.state = (held && *held) ? NodeState::Alive : NodeState::Dead;
    if (auto shm = platform::SharedMemory::open(detail::Paths::node_details(config, info.id),
                                                platform::AccessMode::ReadOnly);
        shm && shm->size() >= sizeof(core::NodeDetails)) {
      core::NodeDetails d;
      // SAFETY: size checked above; copied out so a concurrent writer cannot change what we check.
      std::memcpy(&d, shm->data(), sizeof(d));
      if (core::validate_node_details(d, raw)) {
        info.pid = d.pid;
        info.name = std::string(d.name.view());
      }
    }
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace axon
