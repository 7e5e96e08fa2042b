// Removing a service by force: every object of one service name, whatever state it is in
// (corrupted, half-created, or still in use). For operators (`axon clean --force NAME`); the
// normal ways out are the last node leaving and Node::cleanup_dead_nodes().
#pragma once

#include <string>
#include <tl/expected.hpp>
#include <vector>

#include "axon/config.hpp"
#include "axon/node.hpp"
#include "axon/service_name.hpp"

namespace axon {

/// What remove_service_forcibly() found and did.
struct ForcedRemoval {
  /// Every object removed, in the order removed: "/dev/shm/<object>" for shared memory, the full
  /// path for files and directories below the root.
  std::vector<std::string> removed;
  /// Objects of the service that could not be removed (e.g. another user's), with the reason.
  std::vector<std::string> failed;
  /// Live nodes the service's dynamic config named as holders before removal (empty when that
  /// config could not be read). Their processes keep their mappings; they must not count on the
  /// service any more.
  std::vector<NodeInfo> live_holders;
};

enum class ForcedRemovalError {
  InvalidConfig,    ///< the prefix or root path is malformed (Config::validate)
  InternalFailure,  ///< /dev/shm cannot be listed
};
const char* to_string(ForcedRemovalError error);

/// Removes every object of the service `name`: static and dynamic config, every publisher data
/// segment, its lock file, its FIFO directory and the FIFOs in it. Takes the service's lock when
/// it can within a second (so no creator is half-way), and goes on without it otherwise. Never
/// follows a symlink below the root; a services directory that is not a real directory is left
/// alone (its files are not removed). `removed` is empty when nothing of that name existed.
tl::expected<ForcedRemoval, ForcedRemovalError> remove_service_forcibly(
    const ServiceName& name, const Config& config = Config::from_environment());

}  // namespace axon
