// The gateway's DDS transport (gateway/src/dds.hpp) against a real Cyclone DDS: two participants
// in one process, and one run across two processes. Every participant uses the loopback
// interface ("lo"): this machine's other interfaces lead off the machine, where a test must send
// nothing. The domain id is derived from the pid, so parallel test processes rarely share one;
// names (services, gateway ids) are unique per run, so a shared domain does not mix them up.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "axon_test.hpp"
#include "dds.hpp"
#include "process.hpp"

namespace axon::gateway {
namespace {

using namespace std::chrono_literals;

DdsSettings loopback_settings() {
  return DdsSettings{static_cast<std::uint32_t>(::getpid()) % 233, "lo"};
}

Participant make_participant() {
  auto participant = Participant::create(loopback_settings());
  if (!participant) {
    ADD_FAILURE() << to_string(participant.error());
    std::abort();
  }
  return std::move(*participant);
}

template <typename T>
T must(tl::expected<T, DdsError> value) {
  if (!value) {
    ADD_FAILURE() << to_string(value.error());
    std::abort();
  }
  return std::move(*value);
}

std::uint64_t random_id() {
  static std::mt19937_64 engine{std::random_device{}()};
  return engine();
}

bool readable(int fd, std::chrono::milliseconds timeout) {
  pollfd entry{fd, POLLIN, 0};
  return ::poll(&entry, 1, static_cast<int>(timeout.count())) == 1 && (entry.revents & POLLIN);
}

std::uint64_t fnv1a(std::span<const std::byte> bytes) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const std::byte b : bytes) {
    hash ^= static_cast<std::uint64_t>(b);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// A payload of `size` bytes (at least 8) whose content depends on `sequence` and whose first 8
// bytes are the FNV-1a checksum of the rest.
std::vector<std::byte> make_payload(std::uint64_t sequence, std::size_t size) {
  std::vector<std::byte> payload(size);
  std::uint64_t state = sequence * 0x9e3779b97f4a7c15ULL + size;
  for (std::size_t i = 8; i < size; ++i) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    payload[i] = static_cast<std::byte>(state);
  }
  const std::uint64_t sum = fnv1a(std::span(payload).subspan(8));
  std::memcpy(payload.data(), &sum, sizeof sum);
  return payload;
}

bool intact(std::span<const std::byte> payload) {
  if (payload.size() < 8) return false;
  std::uint64_t sum = 0;
  std::memcpy(&sum, payload.data(), sizeof sum);
  return sum == fnv1a(payload.subspan(8));
}

OutgoingSample outgoing(std::uint64_t gateway, std::uint64_t publisher, std::uint64_t sequence,
                        const std::vector<std::byte>& payload) {
  return OutgoingSample{gateway, publisher, sequence, "Bytes", 1, 1, true, payload, {}, 0, 0, {}};
}

TEST(GatewayDdsTransport, TopicNameEncodingRoundTripsOddNames) {
  std::string every_printable;
  for (char c = 0x20; c <= 0x7e; ++c) every_printable += c;
  const std::vector<std::string> names = {"a",
                                          "camera/front/left",
                                          "with space",
                                          "under_score",
                                          "__",
                                          "_41",
                                          "%$#!~",
                                          "9lives",
                                          "/leading/slash",
                                          "trailing/",
                                          "a//b",
                                          every_printable,
                                          std::string(255, '_'),
                                          std::string(255, 'z')};
  auto participant = make_participant();
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    const auto topic = sample_topic_name(name);
    ASSERT_TRUE(topic) << to_string(topic.error());
    ASSERT_TRUE(topic->starts_with("axon_ps_"));
    for (const char c : *topic) {
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '/') << c;
    }
    const auto back = service_of_sample_topic(*topic);
    ASSERT_TRUE(back) << to_string(back.error());
    EXPECT_EQ(*back, name);
    // Cyclone itself accepts the encoded name as a topic.
    EXPECT_TRUE(SampleWriter::create(participant, name, 1));
  }
  // Distinct names stay distinct ("_" and "_5F" must not meet).
  EXPECT_NE(*sample_topic_name("a_5F"), *sample_topic_name("a__"));
  EXPECT_NE(*sample_topic_name("a_"), *sample_topic_name("a%5F"));

  for (const std::string& bad : {std::string(), std::string(256, 'a'), std::string("tab\there"),
                                 std::string("\xc3\xa9t\xc3\xa9")}) {
    const auto topic = sample_topic_name(bad);
    ASSERT_FALSE(topic);
    EXPECT_EQ(topic.error().kind, DdsErrorKind::InvalidServiceName);
  }
  // Only what the encoder makes decodes: a truncated or lower-case escape, an escape of a byte
  // that needs none, a raw byte Cyclone refuses, another prefix.
  for (const std::string_view bad : {"axon_ps_a_4", "axon_ps_a_", "axon_ps_a_2a", "axon_ps__61",
                                     "axon_ps_a-b", "axon_ev_a", "axon_ps_"}) {
    EXPECT_FALSE(service_of_sample_topic(bad)) << bad;
  }
}

TEST(GatewayDdsTransport, BadSettingsGiveClearErrors) {
  const auto missing = Participant::create(DdsSettings{1, "axonnosuch0"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, DdsErrorKind::NoSuchInterface);
  EXPECT_NE(to_string(missing.error()).find("axonnosuch0"), std::string::npos)
      << to_string(missing.error());

  const auto odd = Participant::create(DdsSettings{1, "lo\"/><x"});
  ASSERT_FALSE(odd);
  EXPECT_EQ(odd.error().kind, DdsErrorKind::InvalidSettings);

  const auto domain = Participant::create(DdsSettings{233, "lo"});
  ASSERT_FALSE(domain);
  EXPECT_EQ(domain.error().kind, DdsErrorKind::InvalidSettings);

  // One process, one configuration per domain: a second interface on an open domain is refused.
  auto first = make_participant();
  auto settings = loopback_settings();
  settings.network_interface = "";
  const auto conflict = Participant::create(settings);
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().kind, DdsErrorKind::DomainConfigurationConflict);
}

TEST(GatewayDdsTransport, SamplesOf8B64KiBAnd4MiBArriveInOrderIntact) {
  auto writer_side = make_participant();
  auto reader_side = make_participant();
  const std::string service = test::unique_name("gw/dds/sizes");
  constexpr std::uint32_t kDepth = 16;
  auto writer = must(SampleWriter::create(writer_side, service, kDepth));
  auto reader = must(SampleReader::create(reader_side, service, kDepth));
  ASSERT_TRUE(test::eventually([&] { return writer.matched_readers().value_or(0) == 1; }));

  const std::uint64_t gateway = random_id();
  const std::vector<std::size_t> sizes = {8, 64 * 1024, 4 * 1024 * 1024};
  constexpr std::uint64_t kPerSize = 4;
  std::vector<std::size_t> expected_sizes;
  std::uint64_t sequence = 0;
  for (const auto size : sizes) {
    for (std::uint64_t i = 0; i < kPerSize; ++i, ++sequence) {
      const auto payload = make_payload(sequence, size);
      const auto written = writer.write(outgoing(gateway, 7, sequence, payload));
      ASSERT_TRUE(written) << to_string(written.error());
      expected_sizes.push_back(size);
    }
  }

  std::uint64_t next = 0;
  const bool all = test::eventually([&] {
    if (!readable(reader.fd(), 100ms)) return false;
    auto batch = must(reader.take());
    for (const auto& sample : batch) {
      EXPECT_EQ(sample.origin_gateway, gateway);
      EXPECT_EQ(sample.origin_publisher, 7U);
      EXPECT_EQ(sample.sequence, next);
      EXPECT_EQ(sample.type_name, "Bytes");
      EXPECT_TRUE(sample.is_slice);
      if (next < expected_sizes.size()) {
        EXPECT_EQ(sample.payload.size(), expected_sizes[next]);
      }
      EXPECT_TRUE(intact(sample.payload)) << "sequence " << sample.sequence;
      ++next;
    }
    return next >= expected_sizes.size();
  });
  EXPECT_TRUE(all) << "received " << next << " of " << expected_sizes.size();
  EXPECT_EQ(next, expected_sizes.size());
}

// A user header crosses next to the payload with its type: none (empty name, no bytes), a small
// one and one of 64 KiB (axon's largest) before a 4 MiB payload, each intact and in order.
TEST(GatewayDdsTransport, UserHeadersCrossWithTheirTypeNextToThePayload) {
  auto writer_side = make_participant();
  auto reader_side = make_participant();
  const std::string service = test::unique_name("gw/dds/header");
  auto writer = must(SampleWriter::create(writer_side, service, 8));
  auto reader = must(SampleReader::create(reader_side, service, 8));
  ASSERT_TRUE(test::eventually([&] { return writer.matched_readers().value_or(0) == 1; }));

  struct Case {
    std::string header_name;
    std::size_t header_size;
    std::size_t payload_size;
  };
  const std::vector<Case> cases = {
      {"", 0, 8}, {"Header24", 24, 64 * 1024}, {"Header64K", 64 * 1024, 4 * 1024 * 1024}};
  const std::uint64_t gateway = random_id();
  for (std::uint64_t sequence = 0; sequence < cases.size(); ++sequence) {
    const auto& c = cases[sequence];
    const auto payload = make_payload(sequence, c.payload_size);
    const auto header = c.header_size == 0 ? std::vector<std::byte>()
                                           : make_payload(sequence + 100, c.header_size);
    auto out = outgoing(gateway, 3, sequence, payload);
    out.user_header_name = c.header_name;
    out.user_header_size = c.header_size;
    out.user_header_alignment = c.header_size == 0 ? 0 : 8;
    out.user_header = header;
    const auto written = writer.write(out);
    ASSERT_TRUE(written) << to_string(written.error());
  }

  std::uint64_t next = 0;
  EXPECT_TRUE(test::eventually([&] {
    if (!readable(reader.fd(), 100ms)) return false;
    for (const auto& sample : must(reader.take())) {
      if (next >= cases.size()) {
        ADD_FAILURE() << "more samples than written";
        return true;
      }
      const auto& c = cases[next];
      EXPECT_EQ(sample.sequence, next);
      EXPECT_EQ(sample.user_header_name, c.header_name);
      EXPECT_EQ(sample.user_header_size, c.header_size);
      EXPECT_EQ(sample.user_header_alignment, c.header_size == 0 ? 0U : 8U);
      EXPECT_EQ(sample.user_header.size(), c.header_size);
      if (c.header_size > 0) {
        EXPECT_TRUE(intact(sample.user_header)) << "header " << next;
      }
      EXPECT_EQ(sample.payload.size(), c.payload_size);
      EXPECT_TRUE(intact(sample.payload)) << "payload " << next;
      ++next;
    }
    return next >= cases.size();
  }));
  EXPECT_EQ(next, cases.size());
}

// Request-response messages of two requests, interleaved: each request's come in the order
// written, payloads intact, and finishing a request's instance reports it once as not alive.
// (Depth 16: nothing is taken while they are written, and a full reader refuses more.)
TEST(GatewayDdsTransport, RrMessagesArriveInOrderPerRequestAndFinishIsSeen) {
  auto writer_side = make_participant();
  auto reader_side = make_participant();
  const std::string service = test::unique_name("gw/dds/rr");
  auto writer = must(RrWriter::create(writer_side, RrTopic::Responses, service, 16));
  auto reader = must(RrReader::create(reader_side, RrTopic::Responses, service, 16));
  ASSERT_TRUE(test::eventually([&] { return writer.matched_readers().value_or(0) == 1; }));
  EXPECT_EQ(must(reader.matched_writers()), 1U);
  const std::uint64_t gateway = random_id();
  constexpr std::uint64_t kPerRequest = 6;
  std::vector<std::vector<std::byte>> payloads;
  for (std::uint64_t k = 0; k < kPerRequest; ++k) {
    payloads.push_back(make_payload(k, k % 2 == 0 ? 8 : 1024 * 1024));
  }
  for (std::uint64_t k = 0; k < kPerRequest; ++k) {
    for (const std::uint64_t token : {1, 2}) {
      const RrMessageView out{gateway, token, true, 42, 0, k, payloads[k]};
      ASSERT_TRUE(writer.write(out));
    }
  }
  ASSERT_TRUE(writer.finish(gateway, 1));
  std::map<std::uint64_t, std::uint64_t> next;
  std::map<std::uint64_t, int> finished;
  EXPECT_TRUE(test::eventually([&] {
    if (!readable(reader.fd(), 100ms)) return false;
    for (const auto& m : must(reader.take(64))) {  // never full: the end is reported
      EXPECT_EQ(m.client_gateway, gateway);
      if (!m.alive) {
        ++finished[m.token];
        EXPECT_EQ(next[m.token], kPerRequest);  // after every message of its request
        continue;
      }
      EXPECT_EQ(m.server_gateway, 42U);
      EXPECT_EQ(m.sequence, next[m.token]);
      EXPECT_TRUE(intact(m.payload));
      EXPECT_EQ(m.payload.size(), payloads[m.sequence % kPerRequest].size());
      ++next[m.token];
    }
    return next[1] == kPerRequest && next[2] == kPerRequest && finished[1] == 1;
  }));
  EXPECT_EQ(finished[2], 0);  // not finished: still alive
  EXPECT_EQ(must(rr_topic_name(RrTopic::Requests, "a_b")), "axon_rq_a__b");
  EXPECT_EQ(must(rr_topic_name(RrTopic::Responses, "a/b")), "axon_rs_a/b");
}

// The end of a request whose last message is taken in a full batch is still reported: an
// exporting gateway learns that way that an importing gateway died with requests in flight (it
// has no other sign), and 16 requests ended together fill a batch of the default size. (Each
// instance's one message and its end are in the reader before the first take: local delivery in
// one process happens inside dds_write and dds_unregister_instance.)
TEST(GatewayDdsTransport, RrEndsTakenInAFullBatchAreReported) {
  auto writer_side = make_participant();
  auto reader_side = make_participant();
  const std::string service = test::unique_name("gw/dds/rrfull");
  auto writer = must(RrWriter::create(writer_side, RrTopic::Requests, service, 4));
  auto reader = must(RrReader::create(reader_side, RrTopic::Requests, service, 4));
  ASSERT_TRUE(test::eventually([&] { return writer.matched_readers().value_or(0) == 1; }));
  const std::uint64_t gateway = random_id();
  constexpr std::uint64_t kRequests = RrReader::kDefaultMaxTake;  // one full batch exactly
  const std::vector<std::byte> payload = make_payload(0, 8);
  for (std::uint64_t token = 1; token <= kRequests; ++token) {
    ASSERT_TRUE(writer.write(RrMessageView{gateway, token, true, 42, 0, 0, payload}));
  }
  for (std::uint64_t token = 1; token <= kRequests; ++token) {
    ASSERT_TRUE(writer.finish(gateway, token));
  }
  std::map<std::uint64_t, int> messages;
  std::map<std::uint64_t, int> ended;
  for (int round = 0; round < 3; ++round) {  // the full batch, then nothing more
    for (const auto& m : must(reader.take())) {
      if (!m.alive) {
        EXPECT_EQ(messages[m.token], 1) << "token " << m.token << " ended before its message";
        ++ended[m.token];
        continue;
      }
      ++messages[m.token];
    }
  }
  for (std::uint64_t token = 1; token <= kRequests; ++token) {
    EXPECT_EQ(messages[token], 1) << "token " << token;
    EXPECT_EQ(ended[token], 1) << "token " << token;
  }
}

// As above with more requests than a batch holds, each with several messages: every request's
// end comes once, after its last message, whichever take holds it.
TEST(GatewayDdsTransport, RrEndsSpreadOverSeveralFullBatchesComeOnceAfterTheLastMessage) {
  auto writer_side = make_participant();
  auto reader_side = make_participant();
  const std::string service = test::unique_name("gw/dds/rrspread");
  auto writer = must(RrWriter::create(writer_side, RrTopic::Responses, service, 16));
  auto reader = must(RrReader::create(reader_side, RrTopic::Responses, service, 16));
  ASSERT_TRUE(test::eventually([&] { return writer.matched_readers().value_or(0) == 1; }));
  const std::uint64_t gateway = random_id();
  constexpr std::uint64_t kRequests = 40;
  constexpr std::uint64_t kPerRequest = 5;  // 200 messages: batches of 16 cut requests apart
  const std::vector<std::byte> payload = make_payload(0, 8);
  for (std::uint64_t token = 1; token <= kRequests; ++token) {
    for (std::uint64_t k = 0; k < kPerRequest; ++k) {
      ASSERT_TRUE(writer.write(RrMessageView{gateway, token, true, 42, 0, k, payload}));
    }
    ASSERT_TRUE(writer.finish(gateway, token));
  }
  std::map<std::uint64_t, std::uint64_t> next;
  std::map<std::uint64_t, int> ended;
  for (int round = 0; round < 20; ++round) {
    for (const auto& m : must(reader.take())) {
      if (!m.alive) {
        EXPECT_EQ(next[m.token], kPerRequest) << "token " << m.token << " ended early";
        ++ended[m.token];
        continue;
      }
      EXPECT_EQ(m.sequence, next[m.token]);
      next[m.token] = m.sequence + 1;
    }
  }
  for (std::uint64_t token = 1; token <= kRequests; ++token) {
    EXPECT_EQ(next[token], kPerRequest) << "token " << token;
    EXPECT_EQ(ended[token], 1) << "token " << token;
  }
}

TEST(GatewayDdsTransport, ReaderFdBecomesReadableWhenDataArrivesAndNotBefore) {
  auto writer_side = make_participant();
  auto reader_side = make_participant();
  const std::string service = test::unique_name("gw/dds/wake");
  auto writer = must(SampleWriter::create(writer_side, service, 8));
  auto reader = must(SampleReader::create(reader_side, service, 8));
  ASSERT_TRUE(test::eventually([&] { return writer.matched_readers().value_or(0) == 1; }));

  // The reader starts readable once (it cannot know whether data came during its creation);
  // an empty take settles it.
  EXPECT_TRUE(must(reader.take()).empty());
  EXPECT_FALSE(readable(reader.fd(), 300ms)) << "readable with nothing written";

  const auto payload = make_payload(0, 64);
  ASSERT_TRUE(writer.write(outgoing(1, 1, 0, payload)));
  ASSERT_TRUE(readable(reader.fd(), 5s));
  EXPECT_TRUE(readable(reader.fd(), 0ms)) << "polling must not consume the wake-up";
  auto one = must(reader.take());
  ASSERT_EQ(one.size(), 1U);
  EXPECT_TRUE(intact(one[0].payload));
  EXPECT_FALSE(readable(reader.fd(), 0ms)) << "take() drains the fd";

  // A take that stops at its maximum leaves the fd readable for the rest. Writers and readers
  // of one process share Cyclone's domain, which delivers before dds_write returns: all three
  // are in the reader's history when the fd fires.
  for (std::uint64_t s = 1; s <= 3; ++s) ASSERT_TRUE(writer.write(outgoing(1, 1, s, payload)));
  ASSERT_TRUE(readable(reader.fd(), 5s));
  EXPECT_EQ(must(reader.take(2)).size(), 2U);
  EXPECT_TRUE(readable(reader.fd(), 0ms)) << "samples are left: the fd must stay readable";
  auto rest = must(reader.take(2));
  ASSERT_EQ(rest.size(), 1U);
  EXPECT_EQ(rest[0].sequence, 3U);
}

TEST(GatewayDdsTransport, LoanedSamplesOutliveFurtherTakesAndMove) {
  auto writer_side = make_participant();
  auto reader_side = make_participant();
  const std::string service = test::unique_name("gw/dds/loan");
  auto writer = must(SampleWriter::create(writer_side, service, 8));
  auto reader = must(SampleReader::create(reader_side, service, 8));
  ASSERT_TRUE(test::eventually([&] { return writer.matched_readers().value_or(0) == 1; }));

  const auto first = make_payload(1, 4096);
  const auto second = make_payload(2, 4096);
  ASSERT_TRUE(writer.write(outgoing(1, 1, 1, first)));
  ASSERT_TRUE(readable(reader.fd(), 5s));
  auto held = must(reader.take());
  ASSERT_EQ(held.size(), 1U);
  // A second take while the first loan is out gets its own buffers (Cyclone allocates them).
  ASSERT_TRUE(writer.write(outgoing(1, 1, 2, second)));
  ASSERT_TRUE(readable(reader.fd(), 5s));
  auto next = must(reader.take());
  ASSERT_EQ(next.size(), 1U);
  ReceivedSamples moved = std::move(held);
  ASSERT_EQ(moved.size(), 1U);
  EXPECT_TRUE(
      std::equal(moved[0].payload.begin(), moved[0].payload.end(), first.begin(), first.end()));
  EXPECT_TRUE(
      std::equal(next[0].payload.begin(), next[0].payload.end(), second.begin(), second.end()));
}

// An announcement with every field set (those of both patterns), so each one's round trip is
// checked.
Announcement announcement_of(std::uint64_t gateway, const std::string& service) {
  Announcement a;
  a.gateway = gateway;
  a.service = service;
  a.pattern = AnnouncedPattern::RequestResponse;
  a.type_name = "TestType";
  a.type_size = 24;
  a.type_alignment = 8;
  a.history_size = 5;
  a.buffer_size = 10;
  a.user_header_name = "TestHeader";
  a.user_header_size = 48;
  a.user_header_alignment = 16;
  a.response_type_name = "TestResponse";
  a.response_type_size = 2;
  a.response_type_alignment = 2;
  a.response_is_slice = true;
  a.max_clients = 3;
  a.max_active_requests = 7;
  a.response_buffer_size = 9;
  a.fire_and_forget = true;
  a.overflow = 2;
  return a;
}

// Takes announcement changes of `gateway` until `done` says enough or 10 s pass.
template <typename Done>
std::vector<AnnouncementChange> collect(AnnouncementReader& reader, std::uint64_t gateway,
                                        Done done) {
  std::vector<AnnouncementChange> seen;
  test::eventually([&] {
    if (readable(reader.fd(), 100ms)) {
      for (auto& change : must(reader.take())) {
        if (change.announcement.gateway == gateway) seen.push_back(std::move(change));
      }
    }
    return done(seen);
  });
  return seen;
}

TEST(GatewayDdsTransport, AnnouncementAppearsThenDisappearsWhenWriterParticipantIsDeleted) {
  auto writer_side = std::make_optional(make_participant());
  auto reader_side = make_participant();
  const std::uint64_t gateway = random_id();
  const std::string kept = test::unique_name("gw/dds/kept");
  const std::string withdrawn = test::unique_name("gw/dds/withdrawn");

  auto writer = std::make_optional(must(AnnouncementWriter::create(*writer_side)));
  ASSERT_TRUE(writer->write(announcement_of(gateway, kept)));
  ASSERT_TRUE(writer->write(announcement_of(gateway, withdrawn)));
  // Created after the writes: TRANSIENT_LOCAL brings them to a late reader.
  auto reader = must(AnnouncementReader::create(reader_side));
  auto seen = collect(reader, gateway, [](const auto& s) { return s.size() >= 2; });
  ASSERT_EQ(seen.size(), 2U);
  for (const auto& change : seen) {
    EXPECT_EQ(change.kind, AnnouncementChange::Kind::Announced);
    const auto expected = announcement_of(gateway, change.announcement.service);
    EXPECT_TRUE(change.announcement.service == kept || change.announcement.service == withdrawn);
    EXPECT_EQ(change.announcement.pattern, expected.pattern);
    EXPECT_EQ(change.announcement.type_name, expected.type_name);
    EXPECT_EQ(change.announcement.type_size, expected.type_size);
    EXPECT_EQ(change.announcement.type_alignment, expected.type_alignment);
    EXPECT_EQ(change.announcement.history_size, expected.history_size);
    EXPECT_EQ(change.announcement.buffer_size, expected.buffer_size);
    EXPECT_EQ(change.announcement.user_header_name, expected.user_header_name);
    EXPECT_EQ(change.announcement.user_header_size, expected.user_header_size);
    EXPECT_EQ(change.announcement.user_header_alignment, expected.user_header_alignment);
    EXPECT_EQ(change.announcement.response_type_name, expected.response_type_name);
    EXPECT_EQ(change.announcement.response_type_size, expected.response_type_size);
    EXPECT_EQ(change.announcement.response_type_alignment, expected.response_type_alignment);
    EXPECT_EQ(change.announcement.response_is_slice, expected.response_is_slice);
    EXPECT_EQ(change.announcement.max_clients, expected.max_clients);
    EXPECT_EQ(change.announcement.max_active_requests, expected.max_active_requests);
    EXPECT_EQ(change.announcement.response_buffer_size, expected.response_buffer_size);
    EXPECT_EQ(change.announcement.fire_and_forget, expected.fire_and_forget);
    EXPECT_EQ(change.announcement.overflow, expected.overflow);
  }

  ASSERT_TRUE(writer->withdraw(gateway, withdrawn));
  seen = collect(reader, gateway, [](const auto& s) { return !s.empty(); });
  ASSERT_EQ(seen.size(), 1U);
  EXPECT_EQ(seen[0].kind, AnnouncementChange::Kind::Withdrawn);
  EXPECT_EQ(seen[0].announcement.service, withdrawn);

  // The gateway goes away without withdrawing: its writer is deleted with its participant.
  writer_side.reset();
  seen = collect(reader, gateway, [](const auto& s) { return !s.empty(); });
  ASSERT_EQ(seen.size(), 1U);
  EXPECT_EQ(seen[0].kind, AnnouncementChange::Kind::Lost) << to_string(seen[0].kind);
  EXPECT_EQ(seen[0].announcement.service, kept);
}

TEST(GatewayDdsTransport, EventsArriveInOrderWithTheirCounts) {
  auto writer_side = make_participant();
  auto reader_side = make_participant();
  auto writer = must(EventWriter::create(writer_side));
  auto reader = must(EventReader::create(reader_side));
  ASSERT_TRUE(test::eventually([&] { return writer.matched_readers().value_or(0) >= 1; }));
  const std::uint64_t gateway = random_id();
  const std::string service = test::unique_name("gw/dds/events");
  constexpr std::uint64_t kEvents = 500;
  for (std::uint64_t i = 0; i < kEvents; ++i) ASSERT_TRUE(writer.write(gateway, service, i, i + 1));

  std::uint64_t next = 0;
  test::eventually([&] {
    if (!readable(reader.fd(), 100ms)) return false;
    for (const auto& event : must(reader.take())) {
      if (event.origin_gateway != gateway) continue;
      EXPECT_EQ(event.service, service);
      EXPECT_EQ(event.event_id, next);
      EXPECT_EQ(event.count, next + 1);
      ++next;
    }
    return next == kEvents;
  });
  EXPECT_EQ(next, kEvents);
}

// The one run across two real processes: a forked child (forked before this process touches
// DDS: Cyclone's threads do not survive a fork) writes 1000 samples, 8 B to 64 KiB and every
// 100th one 4 MiB, and announces itself; the parent reads every sample in order and intact,
// then SIGKILLs the child and waits for its announcement to be reported Lost.
TEST(GatewayDdsTransport, ForkedWriterProcessDelivers1000SamplesInOrderAndItsDeathIsSeen) {
  const std::string service = test::unique_name("gw/dds/fork");
  const std::uint64_t gateway = random_id();
  constexpr std::uint64_t kSamples = 1000;
  constexpr std::uint32_t kDepth = kSamples;  // nothing may be overwritten: every sample counts
  const auto size_of = [](std::uint64_t sequence) -> std::size_t {
    if (sequence % 100 == 99) return 4 * 1024 * 1024;
    return std::size_t{8} << (sequence % 14);  // 8 B .. 64 KiB
  };

  const DdsSettings settings = loopback_settings();  // the parent's pid decides, not the child's
  auto child = test::ChildProcess::fork([&]() -> int {
    auto participant = Participant::create(settings);
    if (!participant) return 2;
    auto writer = SampleWriter::create(*participant, service, kDepth);
    auto announcer = AnnouncementWriter::create(*participant);
    if (!writer || !announcer) return 3;
    if (!test::eventually([&] { return writer->matched_readers().value_or(0) == 1; }, 20s)) {
      return 4;
    }
    std::uint64_t timeouts = 0;
    for (std::uint64_t s = 0; s < kSamples; ++s) {
      const auto payload = make_payload(s, size_of(s));
      // Timeout is back-pressure, not loss: the sample was not sent, so send it again.
      tl::expected<void, DdsError> written;
      while (!(written = writer->write(outgoing(gateway, 42, s, payload))) &&
             written.error().kind == DdsErrorKind::Timeout) {
        ++timeouts;
      }
      if (!written) return 5;
    }
    std::printf("[ figures  ] writer process: %llu writes timed out (retried)\n",
                static_cast<unsigned long long>(timeouts));
    std::fflush(stdout);
    if (!announcer->write(announcement_of(gateway, service))) return 6;
    ::sleep(60);  // until the parent kills it
    return 7;
  });

  auto participant = must(Participant::create(settings));
  auto reader = must(SampleReader::create(participant, service, kDepth));
  auto announcements = must(AnnouncementReader::create(participant));
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t next = 0;
  std::size_t damaged = 0;
  test::eventually(
      [&] {
        if (!readable(reader.fd(), 100ms)) return false;
        for (const auto& sample : must(reader.take())) {
          EXPECT_EQ(sample.sequence, next);
          EXPECT_EQ(sample.origin_gateway, gateway);
          EXPECT_EQ(sample.payload.size(), size_of(sample.sequence));
          if (!intact(sample.payload)) ++damaged;
          next = sample.sequence + 1;
        }
        return next == kSamples;
      },
      30s);
  const auto received = std::chrono::steady_clock::now();
  if (next != kSamples) {
    const auto status = child.wait_for(0ms);
    FAIL() << "received " << next << " of " << kSamples << "; the child "
           << (status ? "ended with " + std::to_string(status->code) : std::string("runs"));
  }
  EXPECT_EQ(damaged, 0U);

  auto seen = collect(announcements, gateway, [](const auto& s) { return !s.empty(); });
  ASSERT_EQ(seen.size(), 1U);
  EXPECT_EQ(seen[0].kind, AnnouncementChange::Kind::Announced);

  child.kill(SIGKILL);
  const auto killed = std::chrono::steady_clock::now();
  seen = collect(announcements, gateway, [](const auto& s) { return !s.empty(); });
  const auto lost = std::chrono::steady_clock::now();
  ASSERT_EQ(seen.size(), 1U);
  EXPECT_EQ(seen[0].kind, AnnouncementChange::Kind::Lost) << to_string(seen[0].kind);
  std::printf("[ figures  ] %llu samples in %lld ms; announcement lost %lld ms after SIGKILL\n",
              static_cast<unsigned long long>(kSamples),
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(received - start).count()),
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(lost - killed).count()));
}

}  // namespace
}  // namespace axon::gateway
