// Sample metadata and connection telemetry across real processes (docs/design.md §6, "Sample
// metadata", "Connection telemetry"): a user header and a send time cross with every sample,
// the connection's counters and latency histogram agree with what the two ports did, and
// `axon service stats` reads them from a third process.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstring>
#include <thread>

#include "axon_test.hpp"
#include "process.hpp"

namespace {

using namespace axon;
using namespace std::chrono_literals;
using test::eventually;

struct Payload {
  static constexpr const char* AXON_TYPE_NAME = "test::metadata::Payload";
  std::uint64_t sequence;
  std::uint64_t words[6];
};

struct Meta {
  static constexpr const char* AXON_TYPE_NAME = "test::metadata::Meta";
  std::uint64_t frame;
  std::uint64_t checksum;  ///< of the payload, so a header is checked against its own sample
  std::uint32_t source;
  std::uint32_t reserved;
};

std::uint64_t checksum(const Payload& p) {
  std::uint64_t h = 1469598103934665603ULL ^ p.sequence;
  for (const auto w : p.words) h = (h ^ w) * 1099511628211ULL;
  return h;
}

std::uint64_t monotonic_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

TEST(PubSubMetadata, UserHeaderAndSendTimeCrossWithEverySampleAtFullSpeed) {
  constexpr std::uint64_t kSamples = 200'000;
  const auto name = test::service_name("meta");
  auto node = test::make_node("subscriber");
  auto service = node.service_builder(name)
                     .publish_subscribe<Payload>()
                     .user_header<Meta>()
                     .subscriber_max_buffer_size(64)
                     .overflow_policy(OverflowPolicy::Block)
                     .create();
  ASSERT_TRUE(service);
  auto subscriber = service->subscriber_builder().create();
  ASSERT_TRUE(subscriber);

  const auto before = monotonic_ns();
  auto publisher = test::ChildProcess::fork([&] {
    auto n = NodeBuilder().name("metadata-publisher").create();
    if (!n) return 10;
    auto svc = n->service_builder(name).publish_subscribe<Payload>().user_header<Meta>().open();
    if (!svc) return 11;
    auto pub = svc->publisher_builder().block_timeout(30s).create();
    if (!pub) return 12;
    for (std::uint64_t i = 0; i < kSamples; ++i) {
      auto sample = pub->loan_uninit();
      if (!sample) return 13;
      if (sample->user_header().frame != 0 || sample->user_header().checksum != 0) return 14;
      auto& p = sample->payload();
      p.sequence = i;
      for (std::uint64_t k = 0; k < 6; ++k) p.words[k] = i * 7919 + k;
      sample->user_header() = Meta{i, checksum(p), 42, 0};
      auto sent = pub->send(std::move(*sample));
      if (!sent || *sent != 1) return 15;
    }
    return 0;
  });

  std::uint64_t next = 0;
  std::uint64_t last_send_time = 0;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (next < kSamples && std::chrono::steady_clock::now() < deadline) {
    auto received = subscriber->receive();
    ASSERT_TRUE(received) << to_string(received.error());
    if (!*received) continue;
    const auto& sample = **received;
    const Payload payload = sample.payload();  // copy, then check
    const Meta meta = sample.user_header();
    ASSERT_EQ(payload.sequence, next);
    ASSERT_EQ(meta.frame, next);
    ASSERT_EQ(meta.source, 42u);
    ASSERT_EQ(meta.checksum, checksum(payload)) << "sample " << next;
    const auto sent_at = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(sample.send_time().time_since_epoch())
            .count());
    ASSERT_GE(sent_at, before);
    ASSERT_GE(sent_at, last_send_time);  // in order, on one clock
    ASSERT_LE(sent_at, monotonic_ns());  // sent before we got it
    last_send_time = sent_at;
    ++next;
  }
  EXPECT_EQ(next, kSamples);
  auto status = publisher.wait_for(60s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << "publisher exit " << status->code;

  // The publisher has gone, so its connection is no longer listed; what it recorded was checked
  // while it lived in the next tests. Here: every sample counted once on the subscriber's side.
}

TEST(PubSubMetadata, TelemetryCountsWhatTheTwoProcessesDid) {
  constexpr std::uint64_t kSamples = 50'000;
  const auto name = test::service_name("telemetry");
  auto node = test::make_node("subscriber");
  auto service = node.service_builder(name)
                     .publish_subscribe<Payload>()
                     .subscriber_max_buffer_size(16)
                     .overflow_policy(OverflowPolicy::Block)
                     .create();
  ASSERT_TRUE(service);
  auto subscriber = service->subscriber_builder().create();
  ASSERT_TRUE(subscriber);
  // The publisher sends, then stays until told, so its connection can be read.
  auto publisher = test::ChildProcess::fork([&] {
    auto n = NodeBuilder().name("telemetry-publisher").create();
    if (!n) return 10;
    (void)n->wait(0ns);  // installs the signal handlers: SIGTERM ends it through its own exit
    auto svc = n->service_builder(name).publish_subscribe<Payload>().open();
    if (!svc) return 11;
    auto pub = svc->publisher_builder().block_timeout(30s).create();
    if (!pub) return 12;
    for (std::uint64_t i = 0; i < kSamples; ++i) {
      auto sent = pub->send_copy(Payload{i, {}});
      if (!sent || *sent != 1) return 13;
    }
    while (n->wait(10ms)) {
    }
    return 0;
  });
  std::uint64_t got = 0;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (got < kSamples && std::chrono::steady_clock::now() < deadline) {
    auto received = subscriber->receive();
    ASSERT_TRUE(received);
    if (*received) ++got;
  }
  ASSERT_EQ(got, kSamples);

  std::vector<PubSubConnectionStats> stats;
  ASSERT_TRUE(eventually([&] {
    stats = service->connection_stats();
    return stats.size() == 1 && stats[0].delivered == kSamples;
  }));
  const auto& c = stats[0];
  EXPECT_EQ(c.subscriber_id, subscriber->id());
  EXPECT_EQ(c.received, kSamples);
  EXPECT_EQ(c.latency_count(), kSamples);
  EXPECT_EQ(c.overwritten, 0u);
  EXPECT_EQ(c.refused, 0u);
  EXPECT_EQ(c.queued, 0u);
  EXPECT_GE(c.high_water, 1u);
  EXPECT_LE(c.high_water, 16u);  // never more than the buffer holds
  // Percentiles are ordered, the mean lies within the histogram, and a sample across processes
  // takes more than nothing and less than the test's whole run.
  EXPECT_LE(c.latency_quantile(0.5), c.latency_quantile(0.99));
  EXPECT_LE(c.latency_quantile(0.99), c.latency_quantile(1.0));
  EXPECT_GT(c.latency_quantile(0.5).count(), 0);
  EXPECT_LT(c.latency_quantile(1.0), 60s);
  EXPECT_GT(c.age.count(), 0);

  publisher.kill(SIGTERM);
  auto status = publisher.wait_for(20s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << "publisher exit " << status->code;
}

TEST(PubSubMetadata, AxonServiceStatsReadsALiveConnectionFromAThirdProcess) {
  const auto name = test::service_name("stats-cli");
  auto node = test::make_node("subscriber");
  auto service = node.service_builder(name).publish_subscribe<Payload>().create();
  ASSERT_TRUE(service);
  auto subscriber = service->subscriber_builder().create();
  ASSERT_TRUE(subscriber);
  // About 1 kHz until stopped.
  auto publisher = test::ChildProcess::fork([&] {
    auto n = NodeBuilder().name("stats-publisher").create();
    if (!n) return 10;
    (void)n->wait(0ns);  // installs the signal handlers: SIGTERM ends it through its own exit
    auto svc = n->service_builder(name).publish_subscribe<Payload>().open();
    if (!svc) return 11;
    auto pub = svc->publisher_builder().create();
    if (!pub) return 12;
    for (std::uint64_t i = 0;; ++i) {
      if (!pub->send_copy(Payload{i, {}})) return 13;
      if (!n->wait(1ms)) return 0;
    }
  });
  // The subscriber takes everything while the tool measures.
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop.load()) {
      auto received = subscriber->receive();
      if (received && !*received) std::this_thread::sleep_for(100us);
    }
  });
  ASSERT_TRUE(eventually([&] {
    const auto s = service->connection_stats();
    return s.size() == 1 && s[0].received > 10;
  }));
  auto run = test::run_to_end(test::bin("axon"),
                              {"service", "stats", std::string(name.as_string()), "--json", "--interval", "0.5"},
                              /*merge_stderr=*/false);
  stop = true;
  reader.join();
  publisher.kill(SIGTERM);
  (void)publisher.wait_for(20s);
  ASSERT_TRUE(run.status.success()) << run.output;
  const auto doc = nlohmann::json::parse(run.output);
  ASSERT_TRUE(doc.is_array());
  ASSERT_EQ(doc.size(), 1u) << run.output;
  const auto& c = doc[0];
  EXPECT_EQ(c["subscriber"].get<std::uint64_t>(), subscriber->id());
  // ~1 kHz asked; a loaded machine sleeps longer than asked, never shorter.
  ASSERT_TRUE(c["rate_hz"].is_number()) << run.output;
  EXPECT_GT(c["rate_hz"].get<double>(), 50.0) << run.output;
  EXPECT_LT(c["rate_hz"].get<double>(), 1100.0) << run.output;
  EXPECT_GT(c["received"].get<std::uint64_t>(), 10u);
  EXPECT_GT(c["latency_ns"]["p50"].get<std::uint64_t>(), 0u);
  EXPECT_LE(c["latency_ns"]["p50"].get<std::uint64_t>(),
            c["latency_ns"]["p99"].get<std::uint64_t>());

  // Once the publisher has left, its connection is gone: the text form says so.
  auto text = test::run_to_end(test::bin("axon"),
                               {"service", "stats", std::string(name.as_string()), "--interval", "0.1"}, false);
  ASSERT_TRUE(text.status.success()) << text.output;
  EXPECT_NE(text.output.find("no connections"), std::string::npos) << text.output;
}

TEST(PubSubMetadata, AxonServiceStatsRefusesAnotherPattern) {
  const auto name = test::service_name("stats-event");
  auto node = test::make_node("owner");
  auto events = node.service_builder(name).event().create();
  ASSERT_TRUE(events);
  auto run = test::run_to_end(test::bin("axon"), {"service", "stats", std::string(name.as_string())}, true);
  EXPECT_EQ(run.status.code, 1) << run.output;
  EXPECT_NE(run.output.find("not a publish-subscribe service"), std::string::npos) << run.output;
}

TEST(PubSubMetadata, AxonEchoJsonShowsTheSendTimeLatencyAndUserHeaderOfEachSample) {
  const auto name = test::service_name("echo-json");
  auto node = test::make_node("publisher");
  auto service = node.service_builder(name)
                     .publish_subscribe<std::uint32_t>()
                     .user_header<Meta>()
                     .subscriber_max_buffer_size(8)  // the tool may read all three at once
                     .create();
  ASSERT_TRUE(service);
  auto publisher = service->publisher_builder().create();
  ASSERT_TRUE(publisher);
  auto echo = test::ChildProcess::spawn(
      test::bin("axon"), {"echo", std::string(name.as_string()), "--json", "--as", "u32"});
  ASSERT_TRUE(eventually([&] { return service->number_of_subscribers() == 1; }));
  const auto before = monotonic_ns();
  for (std::uint32_t i = 0; i < 3; ++i) {
    auto sample = publisher->loan_uninit();
    ASSERT_TRUE(sample);
    sample->payload() = 40 + i;
    sample->user_header() = Meta{i, 0xab, 1, 0};
    ASSERT_TRUE(publisher->send(std::move(*sample)));
  }
  auto output = echo.read_until("\"sequence\":2", 20s);
  echo.kill(SIGINT);
  auto status = echo.wait_for(20s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << output;
  std::uint64_t n = 0;
  for (const auto& line : test::lines_of(output)) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["sequence"].get<std::uint64_t>(), n) << line;
    EXPECT_EQ(j["publisher"].get<std::uint64_t>(), publisher->id());
    EXPECT_EQ(j["size"].get<std::uint64_t>(), 4u);
    EXPECT_EQ(j["payload"].get<std::string>(), std::to_string(40 + n));
    EXPECT_GE(j["send_time_ns"].get<std::uint64_t>(), before);
    EXPECT_GE(j["latency_ns"].get<std::int64_t>(), 0);
    // frame n, checksum 0xab, source 1, reserved 0: 24 bytes, little-endian.
    char expected[128];
    std::snprintf(expected, sizeof expected,
                  "%02llx 00 00 00 00 00 00 00 ab 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00",
                  static_cast<unsigned long long>(n));
    EXPECT_EQ(j["user_header"].get<std::string>(), expected);
    ++n;
  }
  EXPECT_EQ(n, 3u) << output;
}

TEST(PubSubMetadata, AxonListenJsonPrintsOneObjectPerIdAndWakeUp) {
  const auto name = test::service_name("listen-json");
  auto node = test::make_node("notifier");
  auto events = node.service_builder(name).event().create();
  ASSERT_TRUE(events);
  auto notifier = events->notifier_builder().create();
  ASSERT_TRUE(notifier);
  auto listen = test::ChildProcess::spawn(
      test::bin("axon"), {"listen", std::string(name.as_string()), "--json", "--once"});
  ASSERT_TRUE(eventually([&] { return events->number_of_listeners() == 1; }));
  ASSERT_TRUE(notifier->notify(EventId{7}));
  auto done = test::finish(std::move(listen));
  ASSERT_TRUE(done.status.success()) << done.output;
  EXPECT_EQ(done.output, "{\"id\":7,\"count\":1}\n");
}

}  // namespace
