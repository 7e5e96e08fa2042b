// Gives each test process a private namespace for shared memory and files, and removes what is
// left in it at exit, so tests never collide with each other or with a user's services.
#pragma once

#include <string>
#include <vector>

namespace axon::test {

/// The AXON_PREFIX of this test process (e.g. "axon_t1234_5678_").
const std::string& prefix();
/// The AXON_ROOT of this test process (a fresh directory under /tmp).
const std::string& root();
/// A name unique to this process and call, for services and events.
std::string unique_name(const std::string& stem);
/// Shared-memory objects under this process's prefix (names without "/dev/shm/").
std::vector<std::string> shm_objects();
/// Every file below root(), as paths relative to it, sorted.
std::vector<std::string> root_files();
/// Removes every object under the prefix and the root directory.
void remove_everything();
/// Called once by the test main before any test runs.
void setup_environment();

}  // namespace axon::test
