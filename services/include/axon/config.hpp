// Where axon keeps its objects: a name prefix for shared memory and a root directory for FIFOs,
// sockets and lock files. Read once from the environment (AXON_PREFIX, AXON_ROOT).
#pragma once

#include <string>

namespace axon {

struct Config {
  /// Prefix of every shared-memory object in /dev/shm (default "axon_").
  std::string prefix;
  /// Directory of FIFOs, sockets and lock files (default "/tmp/axon-<uid>"), mode 0700.
  std::string root;

  /// The configuration of this process: the environment when set, else the defaults.
  /// Read anew on each call, so tests can point a process at their own prefix.
  static Config from_environment();

  std::string nodes_dir() const { return root + "/nodes"; }
  std::string services_dir() const { return root + "/services"; }
};

}  // namespace axon
