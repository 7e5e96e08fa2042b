#include "test_env.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <random>

namespace axon::test {
namespace {

std::string g_prefix;
std::string g_root;
constexpr const char* kShmDir = "/dev/shm";
constexpr const char* kTestPrefixStem = "axon_t";

// Objects of test processes that died without cleaning (crash, SIGKILL by ctest's timeout) are
// named after their pid; remove those whose process is gone.
void remove_stale_test_objects() {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto is_stale = [](const std::string& name, std::size_t stem_len) {
    const auto pid_end = name.find('_', stem_len);
    if (pid_end == std::string::npos) return false;
    const pid_t pid = static_cast<pid_t>(std::atoi(name.substr(stem_len, pid_end - stem_len).c_str()));
    return pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH;
  };
  for (const auto& entry : fs::directory_iterator(kShmDir, ec)) {
    const auto name = entry.path().filename().string();
    if (name.rfind(kTestPrefixStem, 0) == 0 && is_stale(name, 6)) fs::remove(entry.path(), ec);
  }
  for (const auto& entry : fs::directory_iterator("/tmp", ec)) {
    const auto name = entry.path().filename().string();
    if (name.rfind("axon-test-", 0) == 0 && is_stale(name + "_", 10)) fs::remove_all(entry.path(), ec);
  }
}

}  // namespace

const std::string& prefix() { return g_prefix; }
const std::string& root() { return g_root; }

std::string unique_name(const std::string& stem) {
  static std::atomic<unsigned> counter{0};
  return stem + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
}

std::vector<std::string> shm_objects() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(kShmDir, ec)) {
    auto name = entry.path().filename().string();
    if (!g_prefix.empty() && name.rfind(g_prefix, 0) == 0) out.push_back(std::move(name));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> root_files() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(g_root, ec)) {
    if (!entry.is_directory(ec)) {
      out.push_back(std::filesystem::relative(entry.path(), g_root, ec).string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

void remove_everything() {
  std::error_code ec;
  for (const auto& name : shm_objects()) {
    std::filesystem::remove(std::filesystem::path(kShmDir) / name, ec);
  }
  if (!g_root.empty()) std::filesystem::remove_all(g_root, ec);
}

void setup_environment() {
  remove_stale_test_objects();
  std::random_device rd;
  const auto tag = std::to_string(::getpid()) + "_" + std::to_string(rd() % 100000);
  g_prefix = std::string(kTestPrefixStem) + tag + "_";
  g_root = "/tmp/axon-test-" + tag;
  ::setenv("AXON_PREFIX", g_prefix.c_str(), 1);
  ::setenv("AXON_ROOT", g_root.c_str(), 1);
  // A developer's own configuration file (~/.config/axon/axon.toml) must not change the
  // defaults the tests expect: the user's config directory is one that holds none. (A system
  // file, /etc/axon/axon.toml, still applies: tests that care set AXON_CONFIG.)
  ::setenv("XDG_CONFIG_HOME", (g_root + "/no-config").c_str(), 1);
  std::atexit(remove_everything);
}

}  // namespace axon::test
