// A Node is this process's membership in axon. Every process that uses axon creates one.
// Liveness is a lock file held for the node's life: another process that can take the lock knows
// the node is dead (PIDs are reused; locks are not). A node must not be used across fork().
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "axon/config.hpp"
#include "axon/service_name.hpp"

namespace axon {

class Node;
namespace detail {
class NodeCore;
/// The shared state behind `node`; for axon's own components and tests.
std::shared_ptr<NodeCore> core_of(const Node& node);
}  // namespace detail
class ServiceBuilder;

/// Identifies a node for its whole life; random, never 0.
struct NodeId {
  std::uint64_t value = 0;
  /// 16 lowercase hex digits, as used in file names and by the CLI.
  std::string to_string() const;
  static std::optional<NodeId> from_string(std::string_view hex);
  friend auto operator<=>(const NodeId&, const NodeId&) = default;
};

enum class NodeState { Alive, Dead };
const char* to_string(NodeState state);

struct NodeInfo {
  NodeId id;
  int pid = 0;          ///< 0 when its details are gone (died while starting or stopping)
  std::string name;
  NodeState state = NodeState::Dead;
};

enum class NodeCreateError {
  InvalidName,            ///< the node name is longer than 127 bytes or not printable ASCII
  InvalidConfig,          ///< the prefix or root path is malformed (Config::validate)
  InvalidConfigFile,      ///< the configuration file cannot be used: Config::file_error (of
                          ///< Config::from_environment()) says where and why
  PermissionDenied,       ///< the root directory or /dev/shm refused us, or is not trustworthy
                          ///< (a symlink, world-writable, owned by someone else)
  InsufficientResources,  ///< out of fds, memory or space
  InternalFailure,        ///< any other system failure
};
const char* to_string(NodeCreateError error);

enum class NodeListError {
  PermissionDenied,  ///< /dev/shm or the root directory cannot be read, or is not trustworthy
  InvalidConfig,     ///< the prefix or root path is malformed (Config::validate)
  InternalFailure,   ///< a system call failed unexpectedly
};
const char* to_string(NodeListError error);

/// Why Node::wait() returned before its cycle was over.
enum class NodeWaitError {
  InterruptSignal,     ///< SIGINT (Ctrl-C) arrived, during this wait or before it
  TerminationRequest,  ///< SIGTERM arrived, during this wait or before it
  InternalFailure,     ///< the signal handlers could not be installed, or the sleep failed
};
const char* to_string(NodeWaitError error);

/// What one cleanup pass removed.
struct CleanupReport {
  std::vector<NodeId> dead_nodes;          ///< nodes found dead and removed
  std::vector<std::string> removed_services;  ///< services removed because no live node used them
  std::size_t removed_ports = 0;           ///< ports of dead nodes, of every pattern
  /// Lock files whose holders died (full paths): a node's unpublished `<id>.lock.new`, a
  /// service's `<H>.lock` with nothing else of the service left, an event's creation lock.
  std::vector<std::string> removed_files;
};

class Node {
 public:
  NodeId id() const;
  const std::string& name() const;
  const Config& config() const;

  /// Starts building a service named `name`; see ServiceBuilder.
  ServiceBuilder service_builder(const ServiceName& name) const;

  /// Sleeps for `cycle`, or less when SIGINT or SIGTERM arrives: the loop of a process that works
  /// in cycles, `while (node.wait(100ms)) { ... }`. The first call installs handlers for both
  /// signals (from then on they no longer end the process: its loop does, as a WaitSet's does;
  /// the handlers are the WaitSet's). A signal is remembered: every later wait returns it at
  /// once, so nested loops all end (until clear_termination_signal). No lock, no allocation.
  tl::expected<void, NodeWaitError> wait(std::chrono::nanoseconds cycle) const;

  /// For a process that handled a signal and goes on (a Ctrl-C that cancels one task, not the
  /// program): forgets the remembered signal if it is `signal` (InterruptSignal for SIGINT,
  /// TerminationRequest for SIGTERM), so the next wait of a Node or WaitSet sleeps again; returns
  /// whether it did. Pass the error that wait returned, so a different signal that came since
  /// stays remembered. A signal that arrives after the call is remembered as before.
  /// InternalFailure clears nothing. Process-wide; any thread.
  static bool clear_termination_signal(NodeWaitError signal);

  /// Every node under the configuration, alive or dead, sorted by id.
  static tl::expected<std::vector<NodeInfo>, NodeListError> list(
      const Config& config = Config::from_environment());

  /// Removes what dead nodes left: their ports in every service, services no live node uses,
  /// their files. Safe while other processes work and when several cleaners run at once
  /// (each dead node is cleaned by whoever holds its lock). Also removes lock files whose
  /// holders died (CleanupReport::removed_files). Only nodes and objects of ours (or, in a shared
  /// root, of its group) are judged; only our own objects are removed, whoever we are.
  static CleanupReport cleanup_dead_nodes(const Config& config = Config::from_environment());

 private:
  friend class NodeBuilder;
  friend std::shared_ptr<detail::NodeCore> detail::core_of(const Node& node);
  explicit Node(std::shared_ptr<detail::NodeCore> core) : m_core(std::move(core)) {}
  std::shared_ptr<detail::NodeCore> m_core;
};

/// `NodeBuilder().name("robot").create()`.
class NodeBuilder {
 public:
  /// A human-readable name shown by `axon node list`; need not be unique.
  NodeBuilder& name(std::string name);
  /// Use another prefix and root than the environment's.
  NodeBuilder& config(Config config);
  /// Registers the node: creates its lock file and details, and cleans dead nodes first.
  tl::expected<Node, NodeCreateError> create();

 private:
  std::string m_name;
  std::optional<Config> m_config;
};

}  // namespace axon
