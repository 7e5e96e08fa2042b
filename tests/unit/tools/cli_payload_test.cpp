// How `axon request` reads a request's bytes and prints responses (tools/axon_cli/payload.hpp),
// and how `axon service list/show` print a request-response service (format.hpp): the formats
// docs/cli.md documents.
#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <vector>

#include "axon/axon.hpp"
#include "axon_cli/payload.hpp"

namespace {

using namespace axon;

std::vector<std::byte> bytes_of(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (const int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

std::vector<std::byte> bytes_of(std::string_view text) {
  std::vector<std::byte> out;
  for (const char c : text) out.push_back(static_cast<std::byte>(c));
  return out;
}

TEST(CliPayload, HexTakesPairsOfDigitsInEitherCaseWithBlanksBetweenBytes) {
  EXPECT_EQ(cli::parse_hex("--hex", "0aFF"), bytes_of({0x0a, 0xff}));
  EXPECT_EQ(cli::parse_hex("--hex", " 0a ff\t10 "), bytes_of({0x0a, 0xff, 0x10}));
  EXPECT_EQ(cli::parse_hex("--hex", ""), std::vector<std::byte>{});
}

TEST(CliPayload, HexRefusesOtherCharactersAndHalfBytesSayingWhere) {
  EXPECT_EQ(cli::parse_hex("--hex", "0x10").error(),
            R"(--hex "0x10": "x" at offset 1 is not a hex digit)");
  EXPECT_EQ(cli::parse_hex("--hex", "ab\n").error(),
            R"(--hex "ab\n": "\n" at offset 2 is not a hex digit)");
  EXPECT_EQ(cli::parse_hex("--hex", "abc").error(),
            R"(--hex "abc": a byte is two hex digits, one is missing)");
  EXPECT_FALSE(cli::parse_hex("--hex", "a bc"));
}

TEST(CliPayload, SizeRuleIsOneElementOrAWholeNumberOfSliceElements) {
  const PayloadType single{"u64", 8, 8, false};
  const PayloadType slice{"u16", 2, 2, true};

  EXPECT_EQ(cli::unmet_size_rule(single, 8), std::nullopt);
  EXPECT_EQ(cli::unmet_size_rule(single, 16), R"(one 8-byte "u64" element)");
  EXPECT_EQ(cli::unmet_size_rule(single, 0), R"(one 8-byte "u64" element)");
  EXPECT_EQ(cli::unmet_size_rule(slice, 0), std::nullopt);
  EXPECT_EQ(cli::unmet_size_rule(slice, 6), std::nullopt);
  EXPECT_EQ(cli::unmet_size_rule(slice, 3), R"(a whole number of 2-byte "u16" elements)");
}

TEST(CliPayload, TextIsPrintableAsciiWithLineEndsAndOnlyTrailingNulPadding) {
  EXPECT_EQ(cli::payload_text(bytes_of("hello")), "hello");
  EXPECT_EQ(cli::payload_text(bytes_of(std::string_view("a\tb\n\0\0", 6))), "a\tb\n");
  EXPECT_EQ(cli::payload_text(bytes_of(std::string_view("a\0b", 3))), std::nullopt);
  EXPECT_EQ(cli::payload_text(bytes_of({0, 0})), std::nullopt);
  EXPECT_EQ(cli::payload_text(bytes_of({0x41, 0x80})), std::nullopt);
  EXPECT_EQ(cli::payload_text({}), std::nullopt);
}

TEST(CliPayload, ResponseLineIsEchosFormatWithTheShownBytesAsEscapedText) {
  EXPECT_EQ(cli::response_line(2, 0xab, bytes_of("hi\"\n"), 64),
            R"(response 2 from 00000000000000ab: 4 bytes: 68 69 22 0a "hi\"\n")");
  EXPECT_EQ(cli::response_line(0, 1, bytes_of("hello"), 2),
            R"(response 0 from 0000000000000001: 5 bytes: 68 65 ... "he")");
  EXPECT_EQ(cli::response_line(0, 1, bytes_of({1, 0xff}), 64),
            "response 0 from 0000000000000001: 2 bytes: 01 ff");
}

TEST(CliPayload, ResponseJsonHasTheWholePayloadAndTextOrNull) {
  EXPECT_EQ(cli::response_json(3, 1, 0xc0ffee, bytes_of("ok")),
            R"({"request":3,"server":"0000000000c0ffee","sequence":1,"size":2,)"
            R"("payload":"6f6b","text":"ok"})");
  EXPECT_EQ(cli::response_json(1, 0, 1, bytes_of({0xff})),
            R"({"request":1,"server":"0000000000000001","sequence":0,"size":1,)"
            R"("payload":"ff","text":null})");
}

ServiceInfo request_response_service() {
  ServiceInfo info;
  info.name = "rr";
  info.pattern = MessagingPattern::RequestResponse;
  info.request_response.request_type = PayloadType{"Goal", 8, 8, false};
  info.request_response.response_type = PayloadType{"Step", 1, 1, true};
  info.request_response.max_clients = 8;
  info.request_response.max_servers = 2;
  info.request_response.max_nodes = 20;
  info.request_response.max_active_requests_per_client = 4;
  info.request_response.max_response_buffer_size = 4;
  info.request_response.max_loaned_requests = 2;
  info.request_response.max_loaned_responses = 4;
  info.request_response.max_borrowed_responses = 2;
  info.request_response.overflow = OverflowPolicy::Block;
  info.nodes = 2;
  info.clients = 1;
  info.servers = 1;
  info.pending_requests = 3;
  return info;
}

TEST(CliFormat, RequestResponseListLineCountsClientsServersAndPendingRequests) {
  EXPECT_EQ(cli::service_line(request_response_service()),
            "request_response rr nodes=2 clients=1 servers=1 pending_requests=3");
}

TEST(CliFormat, RequestResponseJsonHasItsSettingsInTheDocumentedOrder) {
  EXPECT_EQ(cli::json_line(cli::service_json(request_response_service())),
            R"({"name":"rr","pattern":"request_response","nodes":2,"clients":1,"servers":1,)"
            R"("pending_requests":3,"dead":{"clients":0,"servers":0},)"
            R"("settings":{"request_type_name":"Goal",)"
            R"("request_type_size":8,"request_type_alignment":8,"request_slice":false,)"
            R"("response_type_name":"Step","response_type_size":1,"response_type_alignment":1,)"
            R"("response_slice":true,"max_clients":8,"max_servers":2,"max_nodes":20,)"
            R"("max_active_requests_per_client":4,"max_response_buffer_size":4,)"
            R"("max_loaned_requests":2,"max_loaned_responses":4,"max_borrowed_responses":2,)"
            R"("fire_and_forget":true,"overflow":"block","access":"owner"}})");
}

TEST(CliFormat, EveryOverflowPolicyIsOneLowercaseWord) {
  EXPECT_STREQ(cli::overflow_text(OverflowPolicy::OverwriteOldest), "overwrite_oldest");
  EXPECT_STREQ(cli::overflow_text(OverflowPolicy::Refuse), "refuse");
  EXPECT_STREQ(cli::overflow_text(OverflowPolicy::Block), "block");
}

}  // namespace
