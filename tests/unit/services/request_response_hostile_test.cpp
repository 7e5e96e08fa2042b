// Request-response against a peer that rewrites what it may write, in one process: the test
// reaches a port's half of a link and its chunk headers through the shared memory, as a hostile
// process with the same mappings would, at the moments that matter (after a check, before a use).
// Rewriting at full speed from another process: tests/hostile/ (rr-server, rr-client).
#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <string>

#include "axon/core/request_response/layout.hpp"
#include "axon/core/service_layout.hpp"
#include "axon/core/spsc_queue.hpp"
#include "axon/detail/node_core.hpp"
#include "axon_test.hpp"

namespace {

using namespace axon;

struct Goal {
  static constexpr const char* AXON_TYPE_NAME = "test::HostileGoal";
  std::uint64_t value;
};

class RequestResponseHostile : public ::testing::Test {
 protected:
  Node node = test::make_node("rr-hostile");
  ServiceName name = test::service_name("rr_hostile");

  template <typename Req = Goal, typename Res = Slice<std::uint32_t>>
  auto builder() {
    return node.service_builder(name).request_response<Req, Res>();
  }

  /// The service's dynamic config, mapped writable as any process of our user can.
  struct Dynamic {
    mutable platform::SharedMemory shm;
    std::byte* base() const { return static_cast<std::byte*>(shm.data()); }
    const core::DynamicHeader& header() const {
      return *reinterpret_cast<const core::DynamicHeader*>(shm.data());
    }
    /// The slot of port `id` in `table`, or nullopt.
    std::optional<std::uint32_t> slot_of(std::size_t table, std::uint64_t id) const {
      const auto& t = header().ports[table];
      for (std::uint32_t i = 0; i < t.count; ++i) {
        const auto* p = reinterpret_cast<const core::PortSlot*>(base() + t.offset +
                                                                std::uint64_t{t.stride} * i);
        if (p->port_id.load() == id) return i;
      }
      return std::nullopt;
    }
    std::byte* link(std::uint32_t client_slot, std::uint32_t server_slot,
                    std::uint32_t max_servers) const {
      return base() + header().region_offset +
             (std::uint64_t{client_slot} * max_servers + server_slot) * header().region_stride;
    }
  };
  Dynamic dynamic() {
    auto shm = platform::SharedMemory::open(
        node.config().prefix + "svc_" + detail::Paths::service_hash(name.as_string()) + "_d",
        platform::AccessMode::ReadWrite);
    EXPECT_TRUE(shm);
    return Dynamic{std::move(*shm)};
  }
};

/// Where a request or response chunk's header lies, from its payload (chunk alignment 8).
template <typename Header>
Header* header_before(const void* payload) {
  return reinterpret_cast<Header*>(const_cast<std::byte*>(static_cast<const std::byte*>(payload)) -
                                   core::rr_payload_offset(8));
}

TEST_F(RequestResponseHostile, AResponseLengthRewrittenAfterReceiveIsNotReadAgain) {
  // A hostile server rewrites a response's header after the client checked it: the response
  // keeps the length and sequence it was handed, so nothing reads past the chunk.
  auto service = builder().create();
  ASSERT_TRUE(service);
  auto server = service->server_builder().max_slice_len(4).create();
  auto client = service->client_builder().create();
  ASSERT_TRUE(server && client);
  auto pending = client->send_copy(Goal{1});
  ASSERT_TRUE(pending);
  auto request = server->receive();
  ASSERT_TRUE(request && *request);
  auto loan = (*request)->loan_uninit(4);
  ASSERT_TRUE(loan);
  for (std::uint32_t i = 0; i < 4; ++i) loan->payload()[i] = i + 1;
  auto* header = header_before<core::ResponseHeader>(loan->payload().data());
  ASSERT_TRUE((*request)->send(std::move(*loan)));
  auto got = pending->receive();
  ASSERT_TRUE(got && *got);
  ASSERT_EQ(header->payload_size, 16u);
  header->payload_size = std::uint64_t{1} << 40;
  header->sequence = 77;
  header->request_id = 12345;
  EXPECT_EQ((*got)->payload().size(), 4u);
  EXPECT_EQ((*got)->payload()[3], 4u);
  EXPECT_EQ((*got)->sequence(), 0u);
}

TEST_F(RequestResponseHostile, ARequestHeaderRewrittenAfterReceiveIsNotReadAgain) {
  // A hostile client rewrites a request's header after the server checked it: the active
  // request keeps its length, channel and id, so the server neither reads past the chunk nor
  // answers on another channel.
  auto service = builder<Slice<std::uint32_t>, Slice<std::uint32_t>>().create();
  ASSERT_TRUE(service);
  auto server = service->server_builder().create();
  auto client = service->client_builder().max_slice_len(4).create();
  ASSERT_TRUE(server && client);
  auto loan = client->loan_uninit(4);
  ASSERT_TRUE(loan);
  for (std::uint32_t i = 0; i < 4; ++i) loan->payload()[i] = i + 1;
  auto* header = header_before<core::RequestHeader>(loan->payload().data());
  auto pending = client->send(std::move(*loan));
  ASSERT_TRUE(pending);
  auto request = server->receive();
  ASSERT_TRUE(request && *request);
  ASSERT_EQ(header->payload_size, 16u);
  const auto request_id = header->request_id;
  header->payload_size = std::uint64_t{1} << 40;
  header->channel = 3;
  header->request_id = 999;
  EXPECT_EQ((*request)->payload().size(), 4u);
  EXPECT_EQ((*request)->payload()[3], 4u);
  EXPECT_EQ((*request)->request_id(), request_id);
  auto response = (*request)->loan(1);
  ASSERT_TRUE(response);
  response->payload()[0] = 5;
  ASSERT_TRUE((*request)->send(std::move(*response)));
  auto got = pending->receive();
  ASSERT_TRUE(got && *got) << "the response went to the channel the request was received on";
  EXPECT_EQ((*got)->payload()[0], 5u);
}

/// A client (slot 0) whose request half a hostile process broke, and an honest one (slot 1):
/// the server must still serve the honest one.
class BrokenRequestQueue : public RequestResponseHostile {
 protected:
  void run(bool attach_first, void (*breaks)(std::byte* queue)) {
    auto service = builder().max_clients(2).max_servers(1).create();
    ASSERT_TRUE(service);
    auto server = service->server_builder().create();
    ASSERT_TRUE(server);
    auto hostile = service->client_builder().create();
    auto honest = service->client_builder().create();
    ASSERT_TRUE(hostile && honest);
    const auto d = dynamic();
    const auto hostile_slot = d.slot_of(core::RequestResponseLayout::kClientTable, hostile->id());
    const auto server_slot = d.slot_of(core::RequestResponseLayout::kServerTable, server->id());
    // The server starts its round robin at slot 0: the broken link is the first it looks at.
    ASSERT_EQ(hostile_slot, 0u);
    ASSERT_TRUE(server_slot);
    if (attach_first) {
      auto nothing = server->receive();  // attaches both request queues
      ASSERT_TRUE(nothing && !*nothing);
    }
    // The request queue lies at the same place in every link (right after its header).
    core::RequestResponseSettings settings{};
    settings.max_active_requests = RequestResponseDefaults::kMaxActiveRequestsPerClient;
    settings.response_buffer_size = RequestResponseDefaults::kMaxResponseBufferSize;
    settings.max_borrowed_responses = RequestResponseDefaults::kMaxBorrowedResponses;
    const auto shape = core::RequestResponseLayout::link(settings);
    breaks(d.link(*hostile_slot, *server_slot, 1) + shape.request_queue_offset);

    auto pending = honest->send_copy(Goal{42});
    ASSERT_TRUE(pending);
    int corrupted = 0;
    std::optional<ActiveRequest<Goal, Slice<std::uint32_t>>> served;
    for (int i = 0; i < 8 && !served; ++i) {
      auto request = server->receive();
      if (!request) {
        EXPECT_EQ(request.error(), ServerReceiveError::Corrupted);
        ++corrupted;
      } else if (*request) {
        served.emplace(std::move(**request));
      }
    }
    ASSERT_TRUE(served) << "a client with a broken request queue starved the honest one ("
                        << corrupted << " Corrupted)";
    EXPECT_EQ(served->payload().value, 42u);
    EXPECT_EQ(served->client_id(), honest->id());
    EXPECT_GE(corrupted, 1) << "the broken queue was never reported";
  }
};

TEST_F(BrokenRequestQueue, AQueueThatNeverAttachesDoesNotStarveOtherClients) {
  run(false, [](std::byte* queue) {
    reinterpret_cast<std::atomic<std::uint64_t>*>(queue)->store(0xbad);  // its magic
  });
}

TEST_F(BrokenRequestQueue, AQueueWithImpossibleCountersDoesNotStarveOtherClients) {
  run(true, [](std::byte* queue) {
    // SpscIndexQueue version 3: the write counter on the second line, far past any read.
    reinterpret_cast<std::atomic<std::uint64_t>*>(queue + 64)->store(std::uint64_t{1} << 40);
    auto* slot0 = reinterpret_cast<std::atomic<std::uint64_t>*>(queue + 192);
    slot0->store(std::uint64_t{1} << 40);
  });
}

}  // namespace
