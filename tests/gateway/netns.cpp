#include "netns.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "test_env.hpp"

namespace axon::test {
namespace {

using namespace std::chrono_literals;

// Every namespace this harness (and bench/gateway_bench.sh) makes is `axon-<pid>-<tag>-<a|b>`,
// <pid> the process that owns it: the sweep removes those whose owner is gone.
const std::regex kOwnedName("^axon-([0-9]+)-[A-Za-z0-9]+-[ab]$");
constexpr auto kIpTimeout = 10s;
constexpr const char* kNetnsDir = "/run/netns";  // where `ip netns add` pins a namespace

// Polls `condition` every 10 ms (each poll may run `ip`) until true or `timeout`.
template <typename F>
bool poll_until(F&& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

std::string find_program(std::initializer_list<const char*> candidates) {
  for (const char* path : candidates) {
    if (::access(path, X_OK) == 0) return path;
  }
  return {};
}

const std::string& env_path() {
  static const std::string path = find_program({"/usr/bin/env", "/bin/env"});
  return path;
}

struct IpResult {
  bool ok = false;
  std::string output;  ///< stdout and stderr
};

/// Runs `ip args...` to its end. Not a test assertion: callers decide what a failure means.
IpResult ip(const std::vector<std::string>& args) {
  auto child = ChildProcess::spawn(ip_program(), args, true);
  const auto status = child.wait_for(kIpTimeout);
  if (!status) return {false, "timed out"};  // the handle's destructor kills and reaps it
  auto output = child.read_all(2s);
  return {status->success(), std::move(output)};
}

std::string describe(const std::vector<std::string>& args, const IpResult& result) {
  std::string text = "`ip";
  for (const auto& a : args) text += " " + a;
  return text + "` failed: " + result.output;
}

tl::expected<void, std::string> ip_or_error(const std::vector<std::string>& args) {
  const auto result = ip(args);
  if (!result.ok) return tl::unexpected(describe(args, result));
  return {};
}

std::vector<pid_t> netns_pids(const std::string& netns) {
  std::vector<pid_t> out;
  std::istringstream in(ip({"netns", "pids", netns}).output);
  for (std::string line; std::getline(in, line);) {
    const int pid = std::atoi(line.c_str());
    if (pid > 0) out.push_back(static_cast<pid_t>(pid));
  }
  return out;
}

/// Kills whatever runs inside `netns`, waits (bounded) until nothing does, then deletes it. A
/// namespace that still holds a process would outlive `ip netns del` with its veth end.
void kill_and_delete(const std::string& netns) {
  poll_until(
      [&] {
        const auto pids = netns_pids(netns);
        for (const pid_t pid : pids) ::kill(pid, SIGKILL);
        return pids.empty();
      },
      5s);
  ip({"netns", "del", netns});
}

bool has_caps_for_netns() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("CapEff:", 0) != 0) continue;
    const auto caps = std::strtoull(line.c_str() + 7, nullptr, 16);
    constexpr unsigned kNetAdmin = 12;  // veth, addresses, links
    constexpr unsigned kSysAdmin = 21;  // `ip netns add` mounts the namespace on /run/netns
    return ((caps >> kNetAdmin) & 1U) != 0 && ((caps >> kSysAdmin) & 1U) != 0;
  }
  return false;
}

std::optional<std::string> probe() {
  if (ip_program().empty()) return "iproute2's `ip` is not installed";
  if (env_path().empty()) return "`env` (coreutils) is not installed";
  if (!has_caps_for_netns()) {
    return "creating network namespaces needs CAP_NET_ADMIN and CAP_SYS_ADMIN (run as root)";
  }
  NetnsPair::sweep_stale();
  const auto name = "axon-" + std::to_string(::getpid()) + "-probe-a";
  if (const auto made = ip({"netns", "add", name}); !made.ok) {
    return "cannot create a network namespace: " + made.output;
  }
  const auto veth =
      ip({"-n", name, "link", "add", "veth-a", "type", "veth", "peer", "name", "veth-b"});
  kill_and_delete(name);
  if (!veth.ok) return "cannot create a veth pair (veth module?): " + veth.output;
  return std::nullopt;
}

bool has_carrier(const NetnsSide& side) {
  const auto shown = ip({"-n", side.netns, "-o", "link", "show", "dev", side.interface});
  return shown.ok && shown.output.find("LOWER_UP") != std::string::npos;
}

}  // namespace

// A process is alive while /proc shows it and not as a zombie: a killed owner whose parent has not
// reaped it yet (or pid 1, slow to reap orphans) must count as gone.
bool process_alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const auto end_of_name = line.rfind(')');  // "PID (COMM) STATE ...", COMM may hold anything
  return end_of_name == std::string::npos || line.compare(end_of_name, 3, ") Z") != 0;
}

const std::string& ip_program() {
  static const std::string path =
      find_program({"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"});
  return path;
}

std::optional<std::string> NetnsPair::unavailable() {
  static const std::optional<std::string> reason = [] {
    auto why = probe();
    if (why) *why = "network namespaces unavailable: " + *why;
    return why;
  }();
  return reason;
}

std::vector<std::string> NetnsPair::sweep_stale() {
  std::vector<std::string> swept;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(kNetnsDir, ec)) {
    const auto name = entry.path().filename().string();
    std::smatch match;
    if (!std::regex_match(name, match, kOwnedName)) continue;
    const auto owner = static_cast<pid_t>(std::atol(match[1].str().c_str()));
    if (owner <= 0 || owner == ::getpid()) continue;
    if (process_alive(owner)) continue;
    kill_and_delete(name);
    swept.push_back(name);
  }
  return swept;
}

tl::expected<NetnsPair, std::string> NetnsPair::create() {
  static std::atomic<unsigned> counter{0};
  const unsigned n = counter++;
  const auto pid = static_cast<unsigned>(::getpid());
  const auto tag = "axon-" + std::to_string(pid) + "-" + std::to_string(n);
  // The addresses live only inside the two namespaces (the host holds no end of the veth), so
  // they cannot clash with the host's networks nor with another pair; the third octet still
  // varies per pair so that logs and captures of parallel runs can be told apart.
  const auto subnet = "10.199." + std::to_string(1 + (pid * 31 + n) % 254) + ".";
  const auto side_prefix = prefix() + "n" + std::to_string(n);
  const auto side_root = root() + "/netns-" + std::to_string(n);

  NetnsPair pair;
  pair.m_a = {tag + "-a", "veth-a", subnet + "1", side_prefix + "a_", side_root + "-a"};
  pair.m_b = {tag + "-b", "veth-b", subnet + "2", side_prefix + "b_", side_root + "-b"};
  pair.m_owned = true;  // from here on the destructor removes whatever part was made

  for (const auto* side : {&pair.m_a, &pair.m_b}) {
    if (auto made = ip_or_error({"netns", "add", side->netns}); !made) {
      return tl::unexpected(made.error());
    }
  }
  // Made inside a with its peer inside b: no end ever exists in the host's namespace.
  if (auto made =
          ip_or_error({"-n", pair.m_a.netns, "link", "add", pair.m_a.interface, "type", "veth",
                       "peer", "name", pair.m_b.interface, "netns", pair.m_b.netns});
      !made) {
    return tl::unexpected(made.error());
  }
  for (const auto* side : {&pair.m_a, &pair.m_b}) {
    const std::vector<std::vector<std::string>> steps = {
        {"-n", side->netns, "link", "set", "lo", "up"},
        {"-n", side->netns, "addr", "add", side->address + "/24", "dev", side->interface},
        // veth has MULTICAST by default; said explicitly because Cyclone DDS disables multicast
        // (and so finds no peer without a configured list) on an interface without it.
        {"-n", side->netns, "link", "set", side->interface, "multicast", "on", "up"},
    };
    for (const auto& step : steps) {
      if (auto done = ip_or_error(step); !done) return tl::unexpected(done.error());
    }
  }
  if (!poll_until([&] { return has_carrier(pair.m_a) && has_carrier(pair.m_b); }, 5s)) {
    return tl::unexpected("the veth pair " + tag + " did not report carrier within 5 s");
  }
  return pair;
}

NetnsPair::NetnsPair(NetnsPair&& other) noexcept
    : m_a(std::move(other.m_a)),
      m_b(std::move(other.m_b)),
      m_owned(std::exchange(other.m_owned, false)) {}

NetnsPair& NetnsPair::operator=(NetnsPair&& other) noexcept {
  if (this != &other) {
    destroy();
    m_a = std::move(other.m_a);
    m_b = std::move(other.m_b);
    m_owned = std::exchange(other.m_owned, false);
  }
  return *this;
}

NetnsPair::~NetnsPair() { destroy(); }

void NetnsPair::destroy() noexcept {
  if (!std::exchange(m_owned, false)) return;
  kill_and_delete(m_a.netns);
  kill_and_delete(m_b.netns);
}

Environment NetnsPair::environment(Side which, const Environment& extra) const {
  Environment env = {{"AXON_PREFIX", side(which).prefix}, {"AXON_ROOT", side(which).root}};
  env.insert(env.end(), extra.begin(), extra.end());  // env(1) applies them in order
  return env;
}

ChildProcess NetnsPair::run(Side which, const std::vector<std::string>& argv,
                            const Environment& extra, bool merge_stderr) const {
  std::vector<std::string> args = {"netns", "exec", side(which).netns, env_path()};
  for (const auto& [name, value] : environment(which, extra)) args.push_back(name + "=" + value);
  args.insert(args.end(), argv.begin(), argv.end());
  return ChildProcess::spawn(ip_program(), args, merge_stderr);
}

Finished NetnsPair::run_to_end(Side which, const std::vector<std::string>& argv,
                               const Environment& extra, std::chrono::milliseconds timeout) const {
  return finish(run(which, argv, extra), timeout);
}

tl::expected<void, std::string> NetnsPair::link_down() const {
  for (const auto* side : {&m_a, &m_b}) {
    if (auto done = ip_or_error({"-n", side->netns, "link", "set", side->interface, "down"});
        !done) {
      return done;
    }
  }
  return {};
}

tl::expected<void, std::string> NetnsPair::link_up() const {
  for (const auto* side : {&m_a, &m_b}) {
    if (auto done = ip_or_error({"-n", side->netns, "link", "set", side->interface, "up"}); !done) {
      return done;
    }
  }
  if (!poll_until([&] { return has_carrier(m_a) && has_carrier(m_b); }, 5s)) {
    return tl::unexpected(
        std::string("the veth pair did not report carrier within 5 s of link_up"));
  }
  return {};
}

std::vector<pid_t> NetnsPair::pids(Side which) const { return netns_pids(side(which).netns); }

std::vector<std::string> NetnsPair::shm_objects(Side which) const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/dev/shm", ec)) {
    auto name = entry.path().filename().string();
    if (name.rfind(side(which).prefix, 0) == 0) out.push_back(std::move(name));
  }
  return out;
}

std::vector<std::string> netns_list() {
  std::vector<std::string> out;
  if (ip_program().empty()) return out;
  std::istringstream in(ip({"netns", "list"}).output);
  for (std::string line; std::getline(in, line);) {
    const auto name = line.substr(0, line.find(' '));  // "NAME (id: N)"
    if (!name.empty()) out.push_back(name);
  }
  return out;
}

void NetnsTest::SetUp() {
  if (const auto why = NetnsPair::unavailable()) GTEST_SKIP() << *why;
  auto made = NetnsPair::create();
  ASSERT_TRUE(made) << made.error();
  pair.emplace(std::move(*made));
}

void NetnsTest::TearDown() { pair.reset(); }

}  // namespace axon::test
