// The JSON of `axon ... --json` (tools/axon_cli/format.hpp): the key order, the layout and the
// escaping that docs/cli.md documents, pinned here for any writer behind them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "axon/axon.hpp"
#include "axon_cli/format.hpp"

namespace {

using namespace axon;

TEST(CliJson, NodeObjectHasTheDocumentedKeysInOrderOnOneLine) {
  const NodeInfo node{.id = NodeId{0x3f2a9c0d11e4b7a5},
                      .pid = 4242,
                      .name = "robot arm",
                      .state = NodeState::Alive};

  EXPECT_EQ(cli::node_json(node),
            R"({"id":"3f2a9c0d11e4b7a5","pid":4242,"state":"alive","name":"robot arm"})");
}

TEST(CliJson, ANameFromSharedMemoryIsEscapedToPureAscii) {
  // Anything but printable ASCII is \u00XX, the byte's value: the document stays valid (and pure
  // ASCII) whatever bytes a corrupted segment holds, and '"' and '\' are escaped as JSON wants.
  const UnreadableService broken{.name = std::string("a\x01\x1f\x7f\x80\xff\"\\z", 9),
                                 .hash = "3f2a9c0d11e4b7a5",
                                 .error = DiscoveryError::Corrupted};

  EXPECT_EQ(cli::unreadable_json(broken),
            R"({"name":"a\u0001\u001f\u007f\u0080\u00ff\"\\z","error":"Corrupted"})");
}

TEST(CliJson, NewlineTabAndCarriageReturnUseTheirShortEscapes) {
  const UnreadableService broken{
      .name = "a\nb\tc\rd", .hash = "3f2a9c0d11e4b7a5", .error = DiscoveryError::VersionMismatch};

  EXPECT_EQ(cli::unreadable_json(broken), R"({"name":"a\nb\tc\rd","error":"VersionMismatch"})");
}

TEST(CliJson, ShownServiceAddsCreatorAndNodeIdsAfterTheListedObject) {
  ServiceInfo info;
  info.name = "fuu";
  info.pattern = MessagingPattern::Event;
  info.creator = NodeId{1};
  info.node_ids = {NodeId{1}, NodeId{0xc0ffee}};
  info.nodes = 2;
  info.listeners = 1;

  const std::string sut = cli::service_details_json(info);

  EXPECT_EQ(sut.rfind(R"({"name":"fuu","pattern":"event","nodes":2,"listeners":1,"notifiers":0,)"
                      R"("dead":{"listeners":0,"notifiers":0},"settings":{"max_listeners":)",
                      0),
            0u)
      << sut;
  EXPECT_NE(sut.find(R"("access":"owner"},"creator":"0000000000000001",)"
                     R"("node_ids":["0000000000000001","0000000000c0ffee"]})"),
            std::string::npos)
      << sut;
}

TEST(CliJson, AListIsAnArrayWithOneElementALineOrEmptyBrackets) {
  EXPECT_EQ(cli::json_array_lines({}), "[]");
  EXPECT_EQ(cli::json_array_lines({R"({"a":1})", R"({"b":2})"}), "[\n  {\"a\":1},\n  {\"b\":2}\n]");
}

}  // namespace
