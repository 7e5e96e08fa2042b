// axon_test_as_user UID GID PROGRAM [ARGS...]: runs PROGRAM as another user, as that user's own
// login would: real, effective and saved ids UID and GID, no supplementary groups, and the
// user's default axon root (AXON_ROOT is removed from the environment; AXON_PREFIX is kept, so
// the users of a test share one prefix as all users share the default one). Run by root only.
// Exit status: PROGRAM's; 2 usage error; 3 the ids could not be taken or PROGRAM not started.
#include <grp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

bool parse_id(const char* text, unsigned* out) {
  char* end = nullptr;
  errno = 0;
  const unsigned long value = std::strtoul(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value > 0xfffffffeUL) return false;
  *out = static_cast<unsigned>(value);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  unsigned uid = 0;
  unsigned gid = 0;
  if (argc < 4 || !parse_id(argv[1], &uid) || !parse_id(argv[2], &gid)) {
    std::fprintf(stderr, "usage: axon_test_as_user UID GID PROGRAM [ARGS...]\n");
    return 2;
  }
  ::unsetenv("AXON_ROOT");
  // Groups first: once the user id is dropped, the groups can no longer be changed.
  if (::setgroups(0, nullptr) != 0 || ::setresgid(gid, gid, gid) != 0 ||
      ::setresuid(uid, uid, uid) != 0) {
    std::fprintf(stderr, "axon_test_as_user: cannot become %u:%u: %s\n", uid, gid,
                 std::strerror(errno));
    return 3;
  }
  ::execv(argv[3], argv + 3);
  std::fprintf(stderr, "axon_test_as_user: cannot run %s: %s\n", argv[3], std::strerror(errno));
  return 3;
}
