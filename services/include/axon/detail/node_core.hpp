// The shared state behind a Node: its lock file (liveness), its details in shared memory, and
// the eventfd server. Ports and services keep it alive through shared_ptr.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "axon/config.hpp"
#include "axon/detail/fd_server.hpp"
#include "axon/detail/root.hpp"
#include "axon/node.hpp"
#include "axon/platform/file_lock.hpp"
#include "axon/platform/shared_memory.hpp"

namespace axon::detail {

/// What a name found in /dev/shm or in a directory of the root is: the one parser of axon's
/// object and file names (Paths makes them), so that discovery, cleanup and node listing agree.
struct ParsedName {
  enum class Kind {
    ServiceStatic,     ///< <prefix>svc_<H>_s
    ServiceDynamic,    ///< <prefix>svc_<H>_d
    PortSegment,  ///< <prefix>svc_<H>_p<id>
    NodeDetails,       ///< <prefix>node_<id>
    Lock,              ///< <H or id>.lock (services/, nodes/, events/)
    UnpublishedLock,   ///< <id>.lock.new (nodes/)
    ServiceDirectory,  ///< <H> (services/: a service's FIFO directory)
  };
  Kind kind;
  std::string hash;  ///< 16 lowercase hex digits: a service's hash, or a node's id
};

/// File and object names of axon; one place so that creation, cleanup and the CLI agree.
struct Paths {
  /// Parses a shared-memory object name under `c.prefix`; nullopt for anything else.
  static std::optional<ParsedName> parse_object(const Config& c, std::string_view name);
  /// Parses a file name inside nodes/, services/ or events/; nullopt for anything else.
  static std::optional<ParsedName> parse_file(std::string_view name);
  /// True for 16 lowercase hex digits.
  static bool is_hash(std::string_view text);

  static std::string node_details(const Config& c, NodeId id) {
    return c.prefix + "node_" + id.to_string();
  }
  static std::string node_lock(const Config& c, NodeId id) {
    return c.nodes_dir() + "/" + id.to_string() + ".lock";
  }
  static std::string node_socket(const Config& c, NodeId id) {
    return c.nodes_dir() + "/" + id.to_string() + ".sock";
  }
  static std::string service_hash(std::string_view service_name);
  static std::string service_static(const Config& c, const std::string& hash) {
    return c.prefix + "svc_" + hash + "_s";
  }
  static std::string service_dynamic(const Config& c, const std::string& hash) {
    return c.prefix + "svc_" + hash + "_d";
  }
  static std::string service_lock(const Config& c, const std::string& hash) {
    return c.services_dir() + "/" + hash + ".lock";
  }
  static std::string service_dir(const Config& c, const std::string& hash) {
    return c.services_dir() + "/" + hash;
  }
  static std::string listener_fifo(const Config& c, const std::string& hash, std::uint64_t id);
  /// Prefix of the data segments of a service's ports (publishers, clients, servers).
  static std::string port_segment_stem(const Config& c, const std::string& hash) {
    return c.prefix + "svc_" + hash + "_p";
  }
  static std::string port_segment(const Config& c, const std::string& hash, std::uint64_t id);
};

class NodeCore {
 public:
  NodeCore(Config config, RootAccess root, NodeId id, std::string name, platform::FileLock lock,
           platform::SharedMemory details)
      : m_config(std::move(config)),
        m_root(root),
        m_id(id),
        m_name(std::move(name)),
        m_lock(std::move(lock)),
        m_details(std::move(details)) {}
  NodeCore(const NodeCore&) = delete;
  NodeCore& operator=(const NodeCore&) = delete;
  ~NodeCore();

  const Config& config() const { return m_config; }
  /// What the root directory allowed when this node was created.
  const RootAccess& root_access() const { return m_root; }
  NodeId id() const { return m_id; }
  const std::string& name() const { return m_name; }

  /// The node's eventfd server, started on first use.
  tl::expected<FdServer*, platform::Error> fd_server();

 private:
  Config m_config;
  RootAccess m_root;
  NodeId m_id;
  std::string m_name;
  platform::FileLock m_lock;
  platform::SharedMemory m_details;
  std::mutex m_mutex;
  std::unique_ptr<FdServer> m_fd_server;
};

}  // namespace axon::detail
