// A hostile DDS peer against a real axon-gateway's request-response bridging (and its import of
// publish-subscribe samples with a user header, at the end). The test process plays the other
// machine's gateway with the gateway's own DDS layer (gateway/src/dds.hpp): it announces
// services and writes requests, responses or samples the way a buggy or malicious gateway (or
// any process on the LAN) could, and it is the local application too (an axon client, server or
// subscriber).
//
// Isolation: the process moves into a network namespace of its own (unshare) before it touches
// DDS, with only `lo` up; the gateway it starts inherits it. So no other test's DDS traffic meets
// this one's. Needs root (CAP_SYS_ADMIN): skipped with the reason otherwise.
#include <gtest/gtest.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "axon/axon.hpp"
#include "axon_test.hpp"
#include "bridge.hpp"
#include "dds.hpp"
#include "netns.hpp"
#include "process.hpp"

namespace axon::gateway {
namespace {

using namespace std::chrono_literals;
using test::bin;
using test::ChildProcess;

const PayloadType kRequestType{"axon_test::HostileRequest", 8, 8, false};
const PayloadType kBytes{"axon_test::HostileBytes", 1, 1, true};

/// Why this process cannot have a network namespace of its own, or nullopt once it has one (lo
/// up). The first call moves the calling thread, which must be the main one before any DDS
/// thread exists; later calls return the same answer.
std::optional<std::string> private_network() {
  static const std::optional<std::string> why = []() -> std::optional<std::string> {
    if (test::ip_program().empty()) return "iproute2's `ip` is not installed";
    if (::unshare(CLONE_NEWNET) != 0) {
      return std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
    }
    const auto up = test::run_to_end(test::ip_program(), {"link", "set", "lo", "up"});
    if (!up.status.success()) return "ip link set lo up: " + up.output;
    return std::nullopt;
  }();
  return why;
}

bool readable(int fd, std::chrono::milliseconds timeout) {
  pollfd entry{fd, POLLIN, 0};
  return ::poll(&entry, 1, static_cast<int>(timeout.count())) == 1 && (entry.revents & POLLIN);
}

template <typename T, typename E>
T must(tl::expected<T, E> value, const char* what) {
  if (!value) {
    ADD_FAILURE() << what << ": " << to_string(value.error());
    std::abort();
  }
  return std::move(*value);
}

/// A counter from the gateway's exit line ("... NAME=VALUE ..."), or -1.
long long stat(const std::string& output, const std::string& name) {
  const auto at = output.find(" " + name + "=");
  if (at == std::string::npos) return -1;
  return std::stoll(output.substr(at + name.size() + 2));
}

/// Writes `message`, again while DDS says the reader is behind (back-pressure, not loss).
void write_all(RrWriter& writer, const RrMessageView& message) {
  tl::expected<void, DdsError> written;
  for (int tries = 0; tries < 30; ++tries) {
    written = writer.write(message);
    if (written || written.error().kind != DdsErrorKind::Timeout) break;
  }
  ASSERT_TRUE(written) << to_string(written.error());
}

RrMessageView response(const RrMessageView& request, std::uint64_t server, RrResponseKind kind,
                       std::uint64_t sequence = 0, std::span<const std::byte> payload = {}) {
  return RrMessageView{request.client_gateway, request.token, true, server,
                       static_cast<std::uint8_t>(kind), sequence, payload};
}

class GatewayRrHostile : public ::testing::Test {
 protected:
  static constexpr std::uint64_t kHostile = 0x1000;  // the fake remote gateway's id

  void SetUp() override {
    if (const auto why = private_network()) GTEST_SKIP() << why->c_str();
    participant.emplace(must(Participant::create(DdsSettings{0, "lo"}), "participant"));
    stem = test::unique_name("gw/hostile");
    service = stem + "/rr";
    auto created = NodeBuilder().name("hostile-test").create();
    ASSERT_TRUE(created);
    node.emplace(std::move(*created));
  }

  /// axon-gateway on lo, verbose, with `flags`; waits for its "ready" line.
  ChildProcess gateway(const std::vector<std::string>& flags) {
    std::vector<std::string> args{"--interface", "lo", "--domain", "0", "-v"};
    args.insert(args.end(), flags.begin(), flags.end());
    auto process = ChildProcess::spawn(bin("axon-gateway"), args, true);
    const auto out = process.read_until(": ready", 20s);
    EXPECT_NE(out.find(": ready"), std::string::npos) << out;
    return process;
  }

  /// Ends the gateway with SIGTERM: its exit line (the counters), or a failure.
  static std::string finish(ChildProcess& process) {
    process.kill(SIGTERM);
    const auto status = process.wait_for(20s);
    EXPECT_TRUE(status && status->success()) << process.read_all(1s);
    return process.read_all(1s);
  }

  /// A request-response announcement of `service` by gateway `id`: requests kRequestType,
  /// responses `response_type`, Block, a response buffer of `buffer`.
  Announcement announcement(std::uint64_t id, const PayloadType& response_type,
                            std::uint32_t buffer = 64) const {
    Announcement a;
    a.gateway = id;
    a.service = service;
    a.pattern = AnnouncedPattern::RequestResponse;
    a.type_name = kRequestType.name;
    a.type_size = kRequestType.size;
    a.type_alignment = kRequestType.alignment;
    a.is_slice = kRequestType.is_slice;
    a.response_type_name = response_type.name;
    a.response_type_size = response_type.size;
    a.response_type_alignment = response_type.alignment;
    a.response_is_slice = response_type.is_slice;
    a.max_clients = 2;
    a.max_active_requests = 2;
    a.response_buffer_size = buffer;
    a.overflow = static_cast<std::uint8_t>(OverflowPolicy::Block);
    return a;
  }

  /// A client of the imported service once the gateway serves it here.
  UntypedClient importing_client(const PayloadType& response_type = kBytes) {
    std::optional<UntypedRequestResponseService> handle;
    const auto name = must(ServiceName::create(service), "service name");
    EXPECT_TRUE(test::eventually(
        [&] {
          auto opened =
              node->service_builder(name).request_response(kRequestType, response_type).open();
          if (opened) handle.emplace(std::move(*opened));
          return opened.has_value();
        },
        20s));
    if (!handle) std::abort();
    auto client = must(handle->client_builder().create(), "client");
    EXPECT_TRUE(test::eventually([&] { return client.number_of_servers() > 0; }, 20s));
    m_handles.push_back(std::move(*handle));
    return client;
  }

  /// The next Request message on `requests` (skipping cancels and ends), within 10 s.
  std::optional<RrMessageView> next_request(RrReader& requests) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!readable(requests.fd(), 100ms)) continue;
      for (const auto& m : must(requests.take(), "take requests")) {
        if (m.alive && m.kind == static_cast<std::uint8_t>(RrRequestKind::Request)) {
          RrMessageView copy = m;
          copy.payload = {};  // the loan goes back: only the fields are kept
          return copy;
        }
      }
    }
    return std::nullopt;
  }

  std::optional<Participant> participant;
  std::optional<Node> node;
  std::string stem;
  std::string service;

 private:
  std::vector<UntypedRequestResponseService> m_handles;
};

// A remote gateway that streams empty responses to a client that does not read (Block): the
// importing gateway holds them for the client, but no more than kMaxRrBacklogResponses of them.
// Counting only their bytes (0 each) let the backlog grow with every message DDS brought.
TEST_F(GatewayRrHostile, EmptyResponsesForAStalledClientAreHeldBoundedly) {
  auto announcer = must(AnnouncementWriter::create(*participant), "announcer");
  auto requests = must(RrReader::create(*participant, RrTopic::Requests, service, 4), "reader");
  auto responses =
      must(RrWriter::create(*participant, RrTopic::Responses, service, 64), "writer");
  ASSERT_TRUE(announcer.write(announcement(kHostile, kBytes)));
  auto importer = gateway({"--import", stem + "/*"});
  auto client = importing_client();
  const std::uint64_t number = 7;
  auto pending = must(client.send_copy(std::as_bytes(std::span(&number, 1))), "send");
  const auto request = next_request(requests);
  ASSERT_TRUE(request) << importer.output();
  EXPECT_EQ(request->server_gateway, kHostile);

  constexpr std::uint64_t kBuffer = 64;  // the client's response buffer, as announced
  constexpr std::uint64_t kDepth = 64;   // and so the gateway's DDS history per request
  constexpr std::uint64_t kExtra = 1000;
  const std::uint64_t sent = kBuffer + kMaxRrBacklogResponses + kExtra;
  write_all(responses, response(*request, kHostile, RrResponseKind::Accepted));
  for (std::uint64_t k = 0; k < sent; ++k) {
    write_all(responses, response(*request, kHostile, RrResponseKind::Response, k));
    if (HasFatalFailure()) return;
  }
  write_all(responses, response(*request, kHostile, RrResponseKind::End));
  // Everything is in the gateway's DDS reader, at most kDepth of it not yet taken.
  ASSERT_TRUE(responses.wait_for_acknowledgements(20s));
  ASSERT_TRUE(responses.finish(request->client_gateway, request->token));

  // Now the client reads: what the gateway held comes, then the end.
  std::uint64_t received = 0;
  EXPECT_TRUE(test::eventually(
      [&] {
        for (;;) {
          auto next = pending.receive();
          if (!next || !*next) break;
          EXPECT_EQ((**next).payload().size(), 0U);
          ++received;
        }
        return pending.is_done();
      },
      30s))
      << received << " received\n" << importer.output();
  const auto out = finish(importer);
  // The client's buffer and the gateway's backlog were full when the last ones arrived; those
  // the gateway's reader still held when the client began to read may have found room.
  const auto dropped = stat(out, "rr_dropped");
  EXPECT_EQ(received + static_cast<std::uint64_t>(dropped), sent) << out;
  EXPECT_GE(dropped, static_cast<long long>(kExtra - kDepth)) << out;
  EXPECT_LE(received, kBuffer + kMaxRrBacklogResponses + kDepth) << out;
  EXPECT_EQ(stat(out, "responses_in"), static_cast<long long>(received)) << out;
}

// A remote gateway that sends 4 MiB requests faster than the local servers take them: the
// exporting gateway holds them while its client has no free channel, up to kMaxRrWaitingBytes,
// and refuses the rest. A bound of 1024 requests alone let it hold 4 GiB.
TEST_F(GatewayRrHostile, WaitingRequestsAreBoundedInBytes) {
  const auto name = must(ServiceName::create(service), "service name");
  auto handle = must(node->service_builder(name)
                         .request_response(kBytes, kBytes)
                         .max_active_requests_per_client(1)
                         .create(),
                     "service");
  auto server = must(handle.server_builder().create(), "server");
  auto exporter = gateway({"--export", stem + "/*"});

  // The exporter's id, from its announcement.
  auto announcements = must(AnnouncementReader::create(*participant), "announcements");
  std::uint64_t exporter_id = 0;
  ASSERT_TRUE(test::eventually(
      [&] {
        if (!readable(announcements.fd(), 100ms)) return false;
        for (const auto& change : must(announcements.take(), "take announcements")) {
          if (change.kind == AnnouncementChange::Kind::Announced &&
              change.announcement.service == service) {
            exporter_id = change.announcement.gateway;
          }
        }
        return exporter_id != 0;
      },
      20s))
      << exporter.output();
  auto requests = must(RrWriter::create(*participant, RrTopic::Requests, service, 4), "writer");
  auto responses =
      must(RrReader::create(*participant, RrTopic::Responses, service, 64), "reader");
  ASSERT_TRUE(test::eventually(
      [&] {
        return requests.matched_readers().value_or(0) > 0 &&
               responses.matched_writers().value_or(0) > 0;
      },
      20s));

  // One is sent (the client's one channel), kWaiting wait, the rest are refused.
  const std::vector<std::byte> payload(kMaxRrPayloadBytes, std::byte{0x5a});
  constexpr std::uint64_t kWaiting = kMaxRrWaitingBytes / kMaxRrPayloadBytes;
  constexpr std::uint64_t kRefused = 5;
  constexpr std::uint64_t kRequests = 1 + kWaiting + kRefused;
  for (std::uint64_t token = 1; token <= kRequests; ++token) {
    write_all(requests, RrMessageView{kHostile, token, true, exporter_id,
                                      static_cast<std::uint8_t>(RrRequestKind::Request), 0,
                                      payload});
    if (HasFatalFailure()) return;
  }
  std::map<std::uint8_t, std::uint64_t> markers;
  std::vector<UntypedActiveRequest> held;  // taken and never answered: the channel stays busy
  EXPECT_TRUE(test::eventually(
      [&] {
        if (auto taken = server.receive(); taken && *taken) held.push_back(std::move(**taken));
        if (!readable(responses.fd(), 50ms)) return false;
        for (const auto& m : must(responses.take(), "take responses")) {
          if (m.alive && m.client_gateway == kHostile) ++markers[m.kind];
        }
        return markers[static_cast<std::uint8_t>(RrResponseKind::Refused)] >= kRefused;
      },
      20s))
      << exporter.output();
  EXPECT_EQ(markers[static_cast<std::uint8_t>(RrResponseKind::Accepted)], 1U);
  EXPECT_EQ(markers[static_cast<std::uint8_t>(RrResponseKind::Refused)], kRefused);
  const auto out = finish(exporter);
  EXPECT_EQ(stat(out, "requests_in"), 1) << out;
  EXPECT_EQ(stat(out, "rr_dropped"), static_cast<long long>(kRefused)) << out;
}

// A second remote gateway announces the imported service with another response type, and a
// lower id (the importer addresses each request to the lowest): it must not be given requests,
// whose responses the local client would take for its own type.
TEST_F(GatewayRrHostile, AGatewayAnnouncingOtherTypesIsNotAddressed) {
  constexpr std::uint64_t kLower = kHostile / 2;
  auto announcer = must(AnnouncementWriter::create(*participant), "announcer");
  auto requests = must(RrReader::create(*participant, RrTopic::Requests, service, 4), "reader");
  auto responses =
      must(RrWriter::create(*participant, RrTopic::Responses, service, 64), "writer");
  ASSERT_TRUE(announcer.write(announcement(kHostile, kBytes)));
  auto importer = gateway({"--import", stem + "/*"});
  auto client = importing_client();
  ASSERT_TRUE(announcer.write(
      announcement(kLower, PayloadType{"axon_test::SomethingElse", 1, 1, true})));
  // Announcements of one writer arrive in order: once the gateway imports this one, it has seen
  // the one before.
  Announcement marker;
  marker.gateway = kLower;
  marker.service = stem + "/ps";
  marker.type_name = "axon_test::Marker";
  marker.type_size = 8;
  marker.type_alignment = 8;
  marker.history_size = 1;
  marker.buffer_size = 1;
  ASSERT_TRUE(announcer.write(marker));
  EXPECT_NE(importer.read_until("importing " + marker.service, 20s).find(marker.service),
            std::string::npos);

  const std::uint64_t number = 1;
  auto pending = must(client.send_copy(std::as_bytes(std::span(&number, 1))), "send");
  const auto request = next_request(requests);
  ASSERT_TRUE(request) << importer.output();
  EXPECT_EQ(request->server_gateway, kHostile) << importer.output();
  write_all(responses, response(*request, request->server_gateway, RrResponseKind::End));
  EXPECT_TRUE(test::eventually([&] { return pending.is_done(); }, 10s));
  (void)finish(importer);
}

// Garbage on the responses topic: messages for unknown tokens and other gateways' clients, a
// kind that does not exist, payloads not a whole number of elements or far above 4 MiB, a
// duplicate and a reordered sequence number, a response after the end. The gateway stays up,
// the client gets exactly the valid responses and its stream ends once.
TEST_F(GatewayRrHostile, GarbageResponsesAreDroppedAndTheValidOnesArrive) {
  const PayloadType pairs{"axon_test::Pair", 2, 1, true};
  auto announcer = must(AnnouncementWriter::create(*participant), "announcer");
  auto requests = must(RrReader::create(*participant, RrTopic::Requests, service, 4), "reader");
  auto responses =
      must(RrWriter::create(*participant, RrTopic::Responses, service, 64), "writer");
  ASSERT_TRUE(announcer.write(announcement(kHostile, pairs)));
  auto importer = gateway({"--import", stem + "/*"});
  auto client = importing_client(pairs);
  const std::uint64_t number = 3;
  auto pending = must(client.send_copy(std::as_bytes(std::span(&number, 1))), "send");
  const auto request = next_request(requests);
  ASSERT_TRUE(request) << importer.output();

  const std::vector<std::byte> good(4, std::byte{1});
  const std::vector<std::byte> odd(3, std::byte{2});
  const std::vector<std::byte> huge(16 * 1024 * 1024, std::byte{3});
  auto m = [&](RrResponseKind kind, std::uint64_t sequence, std::span<const std::byte> bytes) {
    write_all(responses, response(*request, kHostile, kind, sequence, bytes));
  };
  auto other = *request;
  other.token += 1000;  // never given out
  write_all(responses, response(other, kHostile, RrResponseKind::Response, 0, good));
  other = *request;
  other.client_gateway ^= 1;  // another importer's
  write_all(responses, response(other, kHostile, RrResponseKind::End));
  write_all(responses, response(*request, kHostile + 1, RrResponseKind::End));  // not its server
  m(RrResponseKind::Accepted, 0, {});
  m(static_cast<RrResponseKind>(200), 0, good);
  m(RrResponseKind::Response, 0, good);  // valid: 1
  m(RrResponseKind::Response, 1, odd);   // not whole elements
  m(RrResponseKind::Response, 2, huge);  // above 4 MiB
  m(RrResponseKind::Response, 3, good);  // valid: 2
  m(RrResponseKind::Response, 3, good);  // a duplicate sequence number
  m(RrResponseKind::Response, 9, good);  // a gap: valid, 3
  m(RrResponseKind::End, 0, {});
  m(RrResponseKind::Response, 10, good);  // after the end
  ASSERT_FALSE(HasFatalFailure());

  std::uint64_t received = 0;
  EXPECT_TRUE(test::eventually(
      [&] {
        for (;;) {
          auto next = pending.receive();
          if (!next || !*next) break;
          EXPECT_EQ((**next).payload().size(), good.size());
          ++received;
        }
        return pending.is_done();
      },
      10s))
      << importer.output();
  const auto out = finish(importer);
  // Sequences 0, 3 and 9: the gap is delivered (something was lost before it; logged), the
  // duplicate is not (a response reaches the client once).
  EXPECT_EQ(received, 3U) << out;
  EXPECT_EQ(stat(out, "responses_in"), 3) << out;
  // Unknown token, another gateway's server, the unknown kind, odd, huge, the duplicate, after
  // the end (the other client gateway's message is not ours to count).
  EXPECT_EQ(stat(out, "rr_dropped"), 7) << out;
}

// A remote gateway that announces a service and never answers: the local client's stream ends
// kRrAcceptTimeout after its request, it does not wait for ever.
TEST_F(GatewayRrHostile, ARequestNeverAcceptedEndsAfterTheAcceptTimeout) {
  auto announcer = must(AnnouncementWriter::create(*participant), "announcer");
  auto requests = must(RrReader::create(*participant, RrTopic::Requests, service, 4), "reader");
  ASSERT_TRUE(announcer.write(announcement(kHostile, kBytes)));
  // A responses writer matches the gateway's reader (its server appears only then).
  auto responses =
      must(RrWriter::create(*participant, RrTopic::Responses, service, 64), "writer");
  auto importer = gateway({"--import", stem + "/*"});
  auto client = importing_client();
  const std::uint64_t number = 1;
  const auto sent = std::chrono::steady_clock::now();
  auto pending = must(client.send_copy(std::as_bytes(std::span(&number, 1))), "send");
  ASSERT_TRUE(next_request(requests));
  EXPECT_TRUE(test::eventually([&] { return pending.is_done(); }, kRrAcceptTimeout + 5s));
  const auto waited = std::chrono::steady_clock::now() - sent;
  EXPECT_GE(waited, kRrAcceptTimeout);
  const auto out = finish(importer);
  EXPECT_EQ(stat(out, "rr_dropped"), 1) << out;
}

// ---- publish-subscribe with a user header

// The same hostile peer, on a publish-subscribe service that has a user header.
class GatewayPubSubHostile : public GatewayRrHostile {};

// A remote gateway's samples of a service with a user header: header bytes shorter than the
// type, another header type, no header at all, another alignment. Each is dropped (logged once),
// the valid ones arrive with their header and payload intact, and each carries the send time of
// this machine's gateway: CLOCK_MONOTONIC is per machine and does not cross.
TEST_F(GatewayPubSubHostile, SamplesWithAWrongUserHeaderAreDroppedAndTheValidOnesArrive) {
  const PayloadType header_type{"axon_test::HostileHeader", 16, 8, false};
  const std::string ps = stem + "/ps";
  auto announcer = must(AnnouncementWriter::create(*participant), "announcer");
  auto writer = must(SampleWriter::create(*participant, ps, 16), "writer");
  Announcement a;
  a.gateway = kHostile;
  a.service = ps;
  a.pattern = AnnouncedPattern::PublishSubscribe;
  a.type_name = kBytes.name;
  a.type_size = kBytes.size;
  a.type_alignment = kBytes.alignment;
  a.is_slice = kBytes.is_slice;
  a.buffer_size = 16;
  a.user_header_name = header_type.name;
  a.user_header_size = header_type.size;
  a.user_header_alignment = header_type.alignment;
  ASSERT_TRUE(announcer.write(a));
  auto importer = gateway({"--import", stem + "/*"});

  // The gateway created the service with the announced header: it opens with that one only.
  const auto name = must(ServiceName::create(ps), "service name");
  std::optional<UntypedPubSubService> handle;
  ASSERT_TRUE(test::eventually(
      [&] {
        auto opened =
            node->service_builder(name).publish_subscribe(kBytes).user_header(header_type).open();
        if (opened) handle.emplace(std::move(*opened));
        return opened.has_value();
      },
      20s))
      << importer.output();
  EXPECT_EQ(handle->user_header_type(), header_type);
  auto subscriber = must(handle->subscriber_builder().create(), "subscriber");
  ASSERT_TRUE(test::eventually([&] { return writer.matched_readers().value_or(0) == 1; }, 20s));

  const auto bytes_of = [](std::uint64_t seed, std::size_t size) {
    std::vector<std::byte> out(size);
    for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::byte>(seed * 31 + i);
    return out;
  };
  const auto good_header = bytes_of(7, 16);
  const auto short_header = bytes_of(7, 8);
  const auto payload = bytes_of(3, 40);
  auto sample = [&](std::uint64_t sequence) {
    return OutgoingSample{kHostile,         1,     sequence,    kBytes.name,
                          kBytes.size,      kBytes.alignment,   kBytes.is_slice,
                          payload,          header_type.name,   header_type.size,
                          header_type.alignment, good_header};
  };
  const auto before = std::chrono::steady_clock::now();
  std::vector<OutgoingSample> samples{sample(0), sample(1), sample(2), sample(3), sample(4),
                                      sample(5)};
  samples[1].user_header = short_header;              // fewer bytes than the type says
  samples[2].user_header_name = "axon_test::Other";  // another header type
  samples[3].user_header_name = {};                   // none at all
  samples[3].user_header_size = 0;
  samples[3].user_header_alignment = 0;
  samples[3].user_header = {};
  samples[4].user_header_alignment = 4;               // another alignment
  for (const auto& s : samples) ASSERT_TRUE(writer.write(s));

  std::vector<std::uint64_t> received;
  EXPECT_TRUE(test::eventually(
      [&] {
        for (;;) {
          auto next = subscriber.receive();
          if (!next || !*next) break;
          const auto& got = **next;
          const auto now = std::chrono::steady_clock::now();
          EXPECT_TRUE(std::ranges::equal(got.user_header(), good_header));
          EXPECT_TRUE(std::ranges::equal(got.payload(), payload));
          // Stamped by the gateway's send() here, between our write and our receive.
          EXPECT_GE(got.send_time(), before);
          EXPECT_LE(got.send_time(), now);
          received.push_back(got.sequence());
        }
        return received.size() >= 2;
      },
      10s))
      << importer.output();
  // The gateway's publisher numbers its own samples: the two valid ones are its 0 and 1.
  EXPECT_EQ(received, (std::vector<std::uint64_t>{0, 1})) << importer.output();
  const auto out = finish(importer);
  EXPECT_EQ(stat(out, "imported"), 2) << out;
  EXPECT_EQ(stat(out, "publish_failures"), 4) << out;
  const std::string dropped = "does not match its payload or user header type: dropped";
  const auto first = out.find(dropped);
  EXPECT_NE(first, std::string::npos) << out;
  EXPECT_EQ(out.find(dropped, first + 1), std::string::npos) << out;
}

}  // namespace
}  // namespace axon::gateway
