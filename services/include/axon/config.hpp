// Where axon keeps its objects: a name prefix for shared memory and a root directory for FIFOs,
// sockets and lock files. Read from the environment (AXON_PREFIX, AXON_ROOT) unless given.
#pragma once

#include <cstddef>
#include <string>
#include <tl/expected.hpp>

namespace axon {

enum class ConfigError {
  InvalidPrefix,  ///< not 1..64 bytes of [A-Za-z0-9_.-], or contains "..", or starts with '.'
  InvalidRoot,    ///< not an absolute path, or has an empty, "." or ".." component, or a NUL
};
const char* to_string(ConfigError error);

struct Config {
  /// Prefix of every shared-memory object in /dev/shm (default "axon_").
  std::string prefix;
  /// Directory of FIFOs, sockets and lock files (default "/tmp/axon-<uid>", created 0700).
  std::string root;
  /// True when `root` was chosen (AXON_ROOT, or set by the program), false for the default.
  /// Only a chosen root may be a shared directory that another user owns (docs/security.md);
  /// the default root must be ours.
  bool root_chosen = true;

  /// The configuration of this process: the environment when set, else the defaults.
  /// Read anew on each call, so tests can point a process at their own prefix.
  static Config from_environment();

  /// Checks the prefix and the shape of the root path (not the directory itself: that is checked
  /// when it is used). Every entry point of axon calls it first; nothing is created when it fails.
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

}  // namespace axon
