// `axon service stats`: how a connection's telemetry is printed (docs/cli.md), from values the
// test chooses, so every unit and edge is seen.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "axon/axon.hpp"
#include "axon/core/publish_subscribe/layout.hpp"
#include "axon_cli/stats_cmd.hpp"

namespace {

using namespace std::chrono_literals;
using axon::PubSubConnectionStats;
using axon::cli::latency_text;

TEST(CliStatsFormat, LatenciesKeepTheirNumberBelowAThousandAndNeverUseAnExponent) {
  EXPECT_EQ(latency_text(0ns), "0ns");
  EXPECT_EQ(latency_text(999ns), "999ns");
  EXPECT_EQ(latency_text(1000ns), "1us");
  EXPECT_EQ(latency_text(40960ns), "40.96us");
  EXPECT_EQ(latency_text(999'999ns), "1000us");  // four digits: still no exponent
  EXPECT_EQ(latency_text(3'145'728ns), "3.146ms");
  EXPECT_EQ(latency_text(2s), "2s");
  EXPECT_EQ(latency_text(68'719'476'736ns), "68.72s");
}

TEST(CliStatsFormat, ALineNamesBothPortsTheRateThePercentilesAndEveryCount) {
  PubSubConnectionStats before;
  before.received = 100;
  PubSubConnectionStats now;
  now.publisher_id = 0x6c1e0f2a9b3d4e5f;
  now.subscriber_id = 0x0a1b2c3d4e5f6071;
  now.received = 300;
  now.delivered = 301;
  now.overwritten = 1;
  now.refused = 2;
  now.queued = 1;
  now.high_water = 3;
  // 300 samples: 150 in the bucket of 1024 ns, 147 in 2048's, 3 in 65536's.
  now.latency[axon::core::latency_bucket(1024)] = 150;
  now.latency[axon::core::latency_bucket(2048)] = 147;
  now.latency[axon::core::latency_bucket(65536)] = 3;
  EXPECT_EQ(axon::cli::stats_line(now, &before, 2.0),
            "6c1e0f2a9b3d4e5f -> 0a1b2c3d4e5f6071 rate=100.0/s p50=1.28us p99=2.56us "
            "p99.9=81.92us max=81.92us received=300 delivered=301 overwritten=1 refused=2 "
            "queued=1 high_water=3");
  // A connection that appeared during the interval has no rate yet.
  EXPECT_NE(axon::cli::stats_line(now, nullptr, 2.0).find("rate=-/s"), std::string::npos);
  const auto json = axon::cli::stats_json(now, &before, 2.0);
  EXPECT_EQ(json["rate_hz"].get<double>(), 100.0);
  EXPECT_EQ(json["latency_ns"]["p50"].get<std::int64_t>(), 1280);
  EXPECT_TRUE(axon::cli::stats_json(now, nullptr, 2.0)["rate_hz"].is_null());
}

}  // namespace
