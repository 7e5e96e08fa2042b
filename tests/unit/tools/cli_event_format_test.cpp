// How `axon event list|show` prints a latched event and how `axon service list` marks the ports
// of dead nodes (tools/axon_cli/event_cmd.hpp, format.hpp): the formats docs/cli.md documents.
#include <gtest/gtest.h>

#include <string>

#include "axon/axon.hpp"
#include "axon_cli/event_cmd.hpp"
#include "axon_cli/format.hpp"

namespace {

using namespace axon;

TEST(CliEventFormat, ALineIsStateNameAndHolderCount) {
  SystemEventInfo event;
  event.name = "robot/ready";
  event.hash = "0123456789abcdef";
  event.is_set = true;
  event.holders = {7, 9};

  EXPECT_EQ(cli::event_line(event), "set robot/ready holders=2");
  event.is_set = false;
  event.holders.clear();
  EXPECT_EQ(cli::event_line(event), "clear robot/ready holders=0");
  EXPECT_EQ(cli::json_line(cli::event_json(event)),
            R"({"name":"robot/ready","state":"clear","holders":[]})");
}

TEST(CliEventFormat, AnUnreadableEventShowsItsErrorInsteadOfAState) {
  SystemEventInfo event;
  event.name = "0123456789abcdef";
  event.hash = event.name;
  event.error = SystemEventError::Corrupted;

  EXPECT_EQ(cli::event_line(event), "unreadable 0123456789abcdef error=Corrupted");
  EXPECT_EQ(cli::json_line(cli::event_json(event)),
            R"({"name":"0123456789abcdef","error":"Corrupted"})");
}

TEST(CliEventFormat, ANameWithControlBytesStaysOneLine) {
  SystemEventInfo event;
  event.name = "a\nb\x1b";
  EXPECT_EQ(cli::event_line(event), "clear a?b? holders=0");
}

TEST(CliDeadPorts, ACountWithDeadPortsIsMarkedAndJsonAlwaysHasTheDeadObject) {
  ServiceInfo info;
  info.name = "topic";
  info.pattern = MessagingPattern::PublishSubscribe;
  info.nodes = 2;
  info.publishers = 2;
  info.subscribers = 1;

  EXPECT_EQ(cli::service_line(info), "publish_subscribe topic nodes=2 publishers=2 subscribers=1");
  info.dead.publishers = 1;
  EXPECT_EQ(cli::service_line(info),
            "publish_subscribe topic nodes=2 publishers=2 (1 dead) subscribers=1");
  const auto json = cli::json_line(cli::service_json(info));
  EXPECT_EQ(json.rfind(R"({"name":"topic","pattern":"publish_subscribe","nodes":2,"publishers":2,)"
                       R"("subscribers":1,"dead":{"publishers":1,"subscribers":0},"settings":{)",
                       0),
            0u)
      << json;
}

}  // namespace
