// axon_test_system_event_half_creator NAME MODE: plays a SystemEvent creator that never
// finishes. It takes the creation lock as a real creator does, leaves the event's object
// half-made, then, by MODE:
//   empty   object of size 0 (died between shm_open and ftruncate), then SIGKILL itself
//   tiny    object of 8 bytes, then SIGKILL itself
//   zeroed  object of full size without its magic (died before publishing), then SIGKILL itself
//   stall   as zeroed, then prints "stalled" and sleeps for ever holding the lock
// Exit status: killed by SIGKILL on success; 2 usage error; 3 setup failed.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <string>
#include <string_view>

#include "axon/core/system_event_layout.hpp"
#include "axon/platform/file_lock.hpp"
#include "axon/platform/filesystem.hpp"
#include "axon/platform/shared_memory.hpp"
#include "axon/detail/system_event_paths.hpp"
#include "axon/system_event.hpp"

int main(int argc, char** argv) {
  using namespace axon;
  if (argc != 3) {
    std::fprintf(stderr,
                 "usage: axon_test_system_event_half_creator NAME empty|tiny|zeroed|stall\n");
    return 2;
  }
  const std::string name = argv[1];
  const std::string_view mode = argv[2];
  const Config config = Config::from_environment();
  const std::string hash = detail::SystemEventPaths::hash(name);
  const std::string object = detail::SystemEventPaths::shared_memory(config, hash);

  if (!platform::ensure_private_directory(detail::SystemEventPaths::directory(config))) return 3;
  auto lock =
      platform::FileLock::create_locked(detail::SystemEventPaths::creation_lock(config, hash));
  if (!lock) return 3;

  if (mode == "empty") {
    // SharedMemory::create always sizes; this is the state before its ftruncate.
    const int fd = ::shm_open(("/" + object).c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
    if (fd < 0) return 3;
  } else if (mode == "tiny") {
    if (!platform::SharedMemory::create(object, 8)) return 3;
  } else if (mode == "zeroed" || mode == "stall") {
    if (!platform::SharedMemory::create(object, sizeof(core::SystemEventLayout))) return 3;
  } else {
    std::fprintf(stderr, "unknown mode %s\n", argv[2]);
    return 2;
  }

  if (mode == "stall") {
    std::printf("stalled\n");
    std::fflush(stdout);
    for (;;) ::pause();
  }
  std::raise(SIGKILL);
  return 3;
}
