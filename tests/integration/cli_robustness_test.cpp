// The CLI facing broken services: a corrupted static config, a corrupted dynamic config, objects
// truncated to nothing or to half, a service half-created by a creator that died, and one still
// in use. `axon service show` answers with one `error:` line and exit 1; `axon service list`
// lists every other service and marks the broken one; `axon clean --force NAME` removes every
// object of the service (naming live holders in a warning) so that the name can be created again.
// The services are made by real processes (the event_listener example) that are then killed, as a
// crash leaves them; no process of this test maps an object while it is truncated.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "axon/axon.hpp"
#include "axon/core/service_layout.hpp"
#include "axon/detail/node_core.hpp"
#include "axon/platform/filesystem.hpp"
#include "axon_test.hpp"
#include "process.hpp"
#include "test_env.hpp"

namespace {

using namespace axon;
using namespace std::chrono_literals;
using test::ChildProcess;

constexpr auto kWatchdog = 20s;

using Result = test::Finished;

Result run_axon(const std::vector<std::string>& args, bool merge_stderr = true) {
  return test::run_to_end(test::bin("axon"), args, merge_stderr, kWatchdog);
}

using axon::test::lines_of;

bool has_line(const std::string& text, const std::string& line) {
  const auto all = lines_of(text);
  return std::find(all.begin(), all.end(), line) != all.end();
}

/// A service made by an event_listener process that then died by SIGKILL: all its objects
/// remain, held by a dead node, mapped by no one.
class CrashedService {
 public:
  explicit CrashedService(const std::string& stem, bool kill = true)
      : m_name(test::unique_name(stem)),
        m_hash(detail::Paths::service_hash(m_name)),
        m_config(Config::from_environment()),
        m_listener(ChildProcess::spawn(test::bin("event_listener"), {m_name})) {
    EXPECT_TRUE(test::wait_for_ports(m_name, &ServiceInfo::listeners, 1));
    if (kill) {
      m_listener.kill(SIGKILL);
      EXPECT_TRUE(m_listener.wait_for(kWatchdog));
    }
  }
  const std::string& name() const { return m_name; }
  const std::string& hash() const { return m_hash; }
  pid_t pid() const { return m_listener.pid(); }
  std::string static_object() const { return detail::Paths::service_static(m_config, m_hash); }
  std::string dynamic_object() const { return detail::Paths::service_dynamic(m_config, m_hash); }
  std::string lock_file() const { return detail::Paths::service_lock(m_config, m_hash); }

  /// Every object of the service that exists: shared memory and files below the root.
  std::vector<std::string> objects() const {
    std::vector<std::string> out;
    if (auto shm = platform::SharedMemory::list(m_config.prefix + "svc_" + m_hash + "_"))
      out = *shm;
    if (platform::path_exists(lock_file())) out.push_back(lock_file());
    if (platform::path_exists(detail::Paths::service_dir(m_config, m_hash))) {
      out.push_back(detail::Paths::service_dir(m_config, m_hash));
    }
    return out;
  }

  template <typename T>
  void overwrite(const std::string& object, std::size_t offset, T value) const {
    auto shm = platform::SharedMemory::open(object, platform::AccessMode::ReadWrite);
    ASSERT_TRUE(shm) << object;
    ASSERT_LE(offset + sizeof value, shm->size());
    std::memcpy(static_cast<std::byte*>(shm->data()) + offset, &value, sizeof value);
  }

  void truncate(const std::string& object, off_t size) const {
    ASSERT_EQ(::truncate(("/dev/shm/" + object).c_str(), size), 0) << object;
  }

 private:
  std::string m_name;
  std::string m_hash;
  Config m_config;
  ChildProcess m_listener;
};

/// `show` of a broken service: exactly one line, `error: ...`, exit 1.
void expect_show_fails_with_one_line(const std::string& name, const std::string& reason) {
  const auto shown = run_axon({"service", "show", name});
  EXPECT_TRUE(shown.status.exited);
  EXPECT_EQ(shown.status.code, 1) << shown.output;
  EXPECT_EQ(lines_of(shown.output).size(), 1u) << shown.output;
  EXPECT_EQ(shown.output.rfind("axon: error: ", 0), 0u) << shown.output;
  EXPECT_NE(shown.output.find(reason), std::string::npos) << shown.output;
  const auto json = run_axon({"service", "show", name, "--json"});
  EXPECT_EQ(json.status.code, 1) << json.output;
  EXPECT_EQ(lines_of(json.output).size(), 1u) << json.output;
}

/// `list` still lists the healthy service and marks the broken one as `marked`.
void expect_list_marks(const std::string& healthy, const std::string& marked) {
  const auto listed = run_axon({"service", "list"}, false);
  EXPECT_TRUE(listed.status.success()) << listed.output;
  EXPECT_TRUE(has_line(listed.output, "event " + healthy + " nodes=1 listeners=1 notifiers=0"))
      << listed.output;
  EXPECT_TRUE(has_line(listed.output, marked)) << listed.output;
  const auto json = run_axon({"service", "list", "--json"}, false);
  EXPECT_TRUE(json.status.success());
  EXPECT_NE(json.output.find(R"("name":")" + healthy + R"(","pattern":"event")"), std::string::npos)
      << json.output;
  EXPECT_NE(json.output.find(R"("error":")"), std::string::npos) << json.output;
}

/// `clean --force` removes every object, one line each, exit 0; the name works again.
void expect_forced_clean_frees_the_name(const CrashedService& service) {
  const auto before = service.objects();
  ASSERT_FALSE(before.empty());
  const auto forced = run_axon({"clean", "--force", service.name()}, false);
  EXPECT_EQ(forced.status.code, 0) << forced.output;
  for (const auto& object : before) {
    const auto shown = object.front() == '/' ? object : "/dev/shm/" + object;
    EXPECT_TRUE(has_line(forced.output, "removed " + shown)) << shown << "\n" << forced.output;
  }
  EXPECT_TRUE(service.objects().empty());
  const auto again = run_axon({"clean", "--force", service.name()});
  EXPECT_EQ(again.status.code, 1) << again.output;
  EXPECT_EQ(again.output, "axon: error: nothing of service \"" + service.name() + "\" to remove\n");

  auto node = test::make_node("cli-robustness");
  auto recreated = node.service_builder(*ServiceName::create(service.name())).event().create();
  EXPECT_TRUE(recreated) << to_string(recreated.error());
}

class CliRobustness : public ::testing::Test {
 protected:
  void SetUp() override {
    healthy = test::unique_name("cli_rb_ok");
    healthy_listener.emplace(ChildProcess::spawn(test::bin("event_listener"), {healthy}));
    ASSERT_TRUE(test::wait_for_ports(healthy, &ServiceInfo::listeners, 1));
  }
  std::string healthy;
  std::optional<ChildProcess> healthy_listener;
};

TEST_F(CliRobustness, CorruptedStaticConfigMagic) {
  CrashedService sut("cli_rb_magic");
  sut.overwrite(sut.static_object(), offsetof(core::StaticConfig, magic),
                std::uint64_t{0xdeadbeef});

  expect_show_fails_with_one_line(sut.name(), "Corrupted");
  expect_list_marks(healthy, "unreadable " + sut.name() + " error=Corrupted");
  expect_forced_clean_frees_the_name(sut);
}

TEST_F(CliRobustness, CorruptedStaticConfigVersion) {
  CrashedService sut("cli_rb_version");
  sut.overwrite(sut.static_object(), offsetof(core::StaticConfig, version), std::uint32_t{0x7777});

  expect_show_fails_with_one_line(sut.name(), "VersionMismatch");
  expect_list_marks(healthy, "unreadable " + sut.name() + " error=VersionMismatch");
  expect_forced_clean_frees_the_name(sut);
}

TEST_F(CliRobustness, CorruptedDynamicConfigHeader) {
  CrashedService sut("cli_rb_dynamic");
  sut.overwrite(sut.dynamic_object(), offsetof(core::DynamicHeader, magic), std::uint64_t{0});
  sut.overwrite(sut.dynamic_object(), offsetof(core::DynamicHeader, nodes_offset),
                ~std::uint64_t{0});

  expect_show_fails_with_one_line(sut.name(), "Corrupted");
  expect_list_marks(healthy, "unreadable " + sut.name() + " error=Corrupted");
  expect_forced_clean_frees_the_name(sut);
}

TEST_F(CliRobustness, StaticConfigTruncatedToNothing) {
  CrashedService sut("cli_rb_trunc0");
  sut.truncate(sut.static_object(), 0);

  expect_show_fails_with_one_line(sut.name(), "Corrupted");
  // Nothing of the name is left to read: the hash of its objects stands for it.
  expect_list_marks(healthy, "unreadable " + sut.hash() + " error=Corrupted");
  expect_forced_clean_frees_the_name(sut);
}

TEST_F(CliRobustness, StaticConfigTruncatedToHalf) {
  CrashedService sut("cli_rb_trunc_half");
  sut.truncate(sut.static_object(), sizeof(core::StaticConfig) / 2);

  expect_show_fails_with_one_line(sut.name(), "Corrupted");
  expect_list_marks(healthy, "unreadable " + sut.hash() + " error=Corrupted");
  expect_forced_clean_frees_the_name(sut);
}

TEST_F(CliRobustness, DynamicConfigTruncatedToOneByte) {
  CrashedService sut("cli_rb_trunc_dyn");
  sut.truncate(sut.dynamic_object(), 1);

  expect_show_fails_with_one_line(sut.name(), "Corrupted");
  expect_list_marks(healthy, "unreadable " + sut.name() + " error=Corrupted");
  expect_forced_clean_frees_the_name(sut);
}

TEST_F(CliRobustness, HalfCreatedServiceIsNotListedAndIsRemovedByForce) {
  CrashedService sut("cli_rb_half");
  // As a creator that died before its last store: state still Creating.
  sut.overwrite(sut.static_object(), offsetof(core::StaticConfig, state), std::uint32_t{0});

  const auto shown = run_axon({"service", "show", sut.name()});
  EXPECT_EQ(shown.status.code, 1);
  EXPECT_EQ(shown.output, "axon: error: no service named \"" + sut.name() + "\"\n");
  const auto listed = run_axon({"service", "list"}, false);
  EXPECT_TRUE(listed.status.success());
  EXPECT_EQ(listed.output.find(sut.name()), std::string::npos) << listed.output;
  expect_forced_clean_frees_the_name(sut);
}

TEST_F(CliRobustness, ServiceInUseIsRemovedWithAWarningNamingTheLiveNode) {
  CrashedService sut("cli_rb_live", /*kill=*/false);
  const auto objects = sut.objects();
  const auto forced = run_axon({"clean", "--force", sut.name()}, false);
  EXPECT_EQ(forced.status.code, 0) << forced.output;
  // stdout: the removed objects only; the warning went to stderr.
  EXPECT_EQ(lines_of(forced.output).size(), objects.size()) << forced.output;
  EXPECT_TRUE(sut.objects().empty());

  CrashedService again("cli_rb_live2", /*kill=*/false);
  const auto merged = run_axon({"clean", "--force", again.name()});
  EXPECT_EQ(merged.status.code, 0) << merged.output;
  const auto lines = lines_of(merged.output);
  const auto warning = std::find_if(lines.begin(), lines.end(), [](const std::string& line) {
    return line.rfind("warning: live node ", 0) == 0;
  });
  ASSERT_NE(warning, lines.end()) << merged.output;
  EXPECT_NE(warning->find("(pid " + std::to_string(again.pid())), std::string::npos) << *warning;
  EXPECT_NE(warning->find("holds service \"" + again.name() + "\"; removed anyway"),
            std::string::npos)
      << *warning;
  EXPECT_TRUE(again.objects().empty());
  auto node = test::make_node("cli-robustness");
  EXPECT_TRUE(node.service_builder(*ServiceName::create(again.name())).event().create());
}

/// A live service whose static config was damaged (issue 14, defect 5): `notify` (documented
/// as never creating) used to remove its static and dynamic config, so the next notifier made a
/// fresh service the live listener never heard. Its dynamic config still names a live node: it
/// is kept, opening it is `Corrupted`, `list` shows it `unreadable`, `clean` leaves it.
void expect_damaged_live_service_is_kept(const CrashedService& sut, const std::string& healthy) {
  const auto before = sut.objects();
  const auto notified = run_axon({"notify", sut.name()});
  EXPECT_EQ(notified.status.code, 1) << notified.output;
  EXPECT_EQ(lines_of(notified.output).size(), 1u) << notified.output;
  EXPECT_NE(notified.output.find("Corrupted"), std::string::npos) << notified.output;
  EXPECT_EQ(sut.objects(), before);

  expect_show_fails_with_one_line(sut.name(), "Corrupted");
  expect_list_marks(healthy, "unreadable " + sut.hash() + " error=Corrupted");
  (void)run_axon({"clean"});
  EXPECT_EQ(sut.objects(), before);

  // Nor does a second notifier (open_or_create) replace it with a fresh service.
  auto node = test::make_node("cli-robustness");
  auto opened = node.service_builder(*ServiceName::create(sut.name())).event().open_or_create();
  EXPECT_FALSE(opened);
  EXPECT_EQ(sut.objects(), before);
}

TEST_F(CliRobustness, StaticConfigTruncatedUnderALiveListenerIsKeptAndReported) {
  CrashedService sut("cli_rb_live_trunc", /*kill=*/false);
  // The listener keeps a private copy of the static config, never a mapping: no SIGBUS.
  sut.truncate(sut.static_object(), 0);
  expect_damaged_live_service_is_kept(sut, healthy);
  expect_forced_clean_frees_the_name(sut);
}

TEST_F(CliRobustness, StaticConfigOfRandomBytesUnderALiveListenerIsKeptAndReported) {
  CrashedService sut("cli_rb_live_random", /*kill=*/false);
  {
    auto shm = platform::SharedMemory::open(sut.static_object(), platform::AccessMode::ReadWrite);
    ASSERT_TRUE(shm);
    std::mt19937_64 random(14);
    auto* bytes = static_cast<unsigned char*>(shm->data());
    for (std::size_t i = 0; i < shm->size(); ++i) bytes[i] = static_cast<unsigned char>(random());
    // A state of neither Creating nor Ready: what random bytes give but for 2 values in 2^32.
    std::uint32_t state = 0;
    std::memcpy(&state, bytes + offsetof(core::StaticConfig, state), sizeof state);
    ASSERT_GT(state, 1u);
  }
  expect_damaged_live_service_is_kept(sut, healthy);
  expect_forced_clean_frees_the_name(sut);
}

TEST(CliRobustnessUsage, ForceNeedsAValidName) {
  const auto missing = run_axon({"clean", "--force"});
  EXPECT_EQ(missing.status.code, 2) << missing.output;
  EXPECT_EQ(lines_of(missing.output).size(), 1u) << missing.output;
  const auto invalid = run_axon({"clean", "--force", "../x"});
  EXPECT_EQ(invalid.status.code, 2) << invalid.output;
  EXPECT_NE(invalid.output.find("DotSegment"), std::string::npos) << invalid.output;
  const auto absent = run_axon({"clean", "--force", test::unique_name("cli_rb_absent")});
  EXPECT_EQ(absent.status.code, 1) << absent.output;
  EXPECT_EQ(lines_of(absent.output).size(), 1u) << absent.output;
}

}  // namespace
