// Request-response in one process: the protocol between a client and servers (streams, ends,
// cancellation, several requests in flight, overflow, slices, limits) with real shared memory.
// Across processes: tests/integration/request_response_multi_process_test.cpp.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "axon_test.hpp"

namespace {

using namespace axon;
using namespace std::chrono_literals;

struct Goal {
  static constexpr const char* AXON_TYPE_NAME = "test::Goal";
  std::uint64_t value;
};
struct Feedback {
  static constexpr const char* AXON_TYPE_NAME = "test::Feedback";
  std::uint64_t value;
  std::uint64_t step;
};

class RequestResponse : public ::testing::Test {
 protected:
  Node node = test::make_node("rr-unit");
  ServiceName name = test::service_name("rr");

  auto builder() { return node.service_builder(name).request_response<Goal, Feedback>(); }

  /// Every response of `pending` until it is done (bounded), in order of arrival.
  template <typename Pending>
  std::vector<Feedback> drain(Pending& pending) {
    std::vector<Feedback> out;
    for (int i = 0; i < 100000 && !pending.is_done(); ++i) {
      auto response = pending.receive();
      EXPECT_TRUE(response) << to_string(response.error());
      if (response && *response) out.push_back((*response)->payload());
    }
    EXPECT_TRUE(pending.is_done());
    return out;
  }
};

TEST_F(RequestResponse, OneRequestGetsAStreamInOrderThenTheEnd) {
  auto service = builder().create();
  ASSERT_TRUE(service);
  auto server = service->server_builder().create();
  ASSERT_TRUE(server);
  auto client = service->client_builder().create();
  ASSERT_TRUE(client);
  EXPECT_EQ(client->number_of_servers(), 1u);

  auto pending = client->send_copy(Goal{7});
  ASSERT_TRUE(pending) << to_string(pending.error());
  EXPECT_EQ(pending->request().value, 7u);
  EXPECT_EQ(pending->number_of_server_connections(), 1u);
  EXPECT_FALSE(pending->is_done());
  {
    auto request = server->receive();
    ASSERT_TRUE(request && *request);
    EXPECT_EQ((*request)->payload().value, 7u);
    EXPECT_EQ((*request)->client_id(), client->id());
    EXPECT_TRUE((*request)->is_connected());
    for (std::uint64_t step = 0; step < 3; ++step) {
      auto sent = (*request)->send_copy(Feedback{7, step});
      ASSERT_TRUE(sent) << to_string(sent.error());
      auto response = pending->receive();
      ASSERT_TRUE(response && *response);
      EXPECT_EQ((*response)->payload().step, step);
      EXPECT_EQ((*response)->sequence(), step);
      EXPECT_EQ((*response)->server_id(), server->id());
    }
    EXPECT_FALSE(pending->is_done());
    auto nothing = pending->receive();
    ASSERT_TRUE(nothing);
    EXPECT_FALSE(*nothing);
  }  // the ActiveRequest ends the stream
  auto after = pending->receive();
  ASSERT_TRUE(after);
  EXPECT_FALSE(*after);
  EXPECT_TRUE(pending->is_done());
  EXPECT_EQ(pending->number_of_server_connections(), 0u);
}

TEST_F(RequestResponse, AStreamEndedWithoutResponsesIsDoneWithoutAReceive) {
  auto service = builder().create();
  auto server = service->server_builder().create();
  auto client = service->client_builder().create();
  auto pending = client->send_copy(Goal{1});
  ASSERT_TRUE(pending);
  EXPECT_FALSE(pending->is_done());
  {
    auto request = server->receive();
    ASSERT_TRUE(request && *request);
    EXPECT_FALSE(pending->is_done());
  }
  EXPECT_TRUE(pending->is_done());
  EXPECT_EQ(pending->number_of_server_connections(), 0u);
}

TEST_F(RequestResponse, ResponsesSentBeforeTheEndAreAllReceived) {
  auto service = builder().max_response_buffer_size(8).create();
  auto server = service->server_builder().create();
  auto client = service->client_builder().create();
  auto pending = client->send_copy(Goal{1});
  ASSERT_TRUE(pending);
  {
    auto request = server->receive();
    ASSERT_TRUE(request && *request);
    for (std::uint64_t step = 0; step < 8; ++step) {
      auto response = (*request)->loan_uninit();
      ASSERT_TRUE(response);
      response->payload() = Feedback{1, step};
      ASSERT_TRUE((*request)->send(std::move(*response)));
    }
  }
  const auto got = drain(*pending);
  ASSERT_EQ(got.size(), 8u);
  for (std::uint64_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].step, i);
  EXPECT_EQ(server->chunks_in_use(), 0u);
}

TEST_F(RequestResponse, SeveralRequestsInFlightEachGetTheirOwnResponses) {
  auto service = builder().max_active_requests_per_client(4).create();
  auto server = service->server_builder().create();
  auto client = service->client_builder().create();
  std::vector<PendingResponse<Goal, Feedback>> pending;
  for (std::uint64_t i = 0; i < 4; ++i) {
    auto sent = client->send_copy(Goal{i});
    ASSERT_TRUE(sent) << to_string(sent.error());
    pending.push_back(std::move(*sent));
  }
  EXPECT_EQ(client->send_copy(Goal{99}).error(), RequestSendError::ExceedsMaxActiveRequests);
  std::vector<ActiveRequest<Goal, Feedback>> active;
  for (int i = 0; i < 4; ++i) {
    auto request = server->receive();
    ASSERT_TRUE(request && *request);
    active.push_back(std::move(**request));
  }
  // Answered in reverse order, twice each.
  for (auto it = active.rbegin(); it != active.rend(); ++it) {
    ASSERT_TRUE(it->send_copy(Feedback{it->payload().value, 0}));
    ASSERT_TRUE(it->send_copy(Feedback{it->payload().value, 1}));
  }
  active.clear();
  for (std::uint64_t i = 0; i < 4; ++i) {
    const auto got = drain(pending[i]);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].value, i);
    EXPECT_EQ(got[1].value, i);
    EXPECT_EQ(got[1].step, 1u);
  }
  pending.clear();
  // Every channel is free again.
  EXPECT_TRUE(client->send_copy(Goal{5}));
}

TEST_F(RequestResponse, DroppingThePendingResponseTellsTheServerAndDropsItsResponses) {
  auto service = builder().create();
  auto server = service->server_builder().create();
  auto client = service->client_builder().create();
  auto pending = client->send_copy(Goal{3});
  ASSERT_TRUE(pending);
  auto request = server->receive();
  ASSERT_TRUE(request && *request);
  ASSERT_TRUE((*request)->send_copy(Feedback{3, 0}));
  EXPECT_TRUE((*request)->is_connected());
  { auto gone = std::move(*pending); }
  EXPECT_FALSE((*request)->is_connected());
  EXPECT_EQ((*request)->send_copy(Feedback{3, 1}).error(), ResponseSendError::NotConnected);
  EXPECT_EQ(server->chunks_in_use(), 0u);
  request->reset();
  // The channel is free once the server ended the stream.
  for (int i = 0; i < 8; ++i) {
    auto again = client->send_copy(Goal{4});
    ASSERT_TRUE(again) << to_string(again.error());
    auto next = server->receive();
    ASSERT_TRUE(next && *next);
  }
}

TEST_F(RequestResponse, WithoutFireAndForgetACancelledRequestIsNeverHandedOut) {
  auto service = builder().fire_and_forget(false).create();
  auto server = service->server_builder().create();
  auto client = service->client_builder().create();
  { auto pending = client->send_copy(Goal{1}); ASSERT_TRUE(pending); }
  auto request = server->receive();
  ASSERT_TRUE(request);
  EXPECT_FALSE(*request);
  auto kept = client->send_copy(Goal{2});
  ASSERT_TRUE(kept);
  auto next = server->receive();
  ASSERT_TRUE(next && *next);
  EXPECT_EQ((*next)->payload().value, 2u);
}

TEST_F(RequestResponse, WithFireAndForgetACancelledRequestStillArrives) {
  auto service = builder().fire_and_forget(true).create();
  auto server = service->server_builder().create();
  auto client = service->client_builder().create();
  { auto pending = client->send_copy(Goal{1}); ASSERT_TRUE(pending); }
  auto request = server->receive();
  ASSERT_TRUE(request && *request);
  EXPECT_EQ((*request)->payload().value, 1u);
  EXPECT_FALSE((*request)->is_connected());
}

TEST_F(RequestResponse, RefuseReportsAFullBufferAndLosesNothingElse) {
  auto service = builder().max_response_buffer_size(2).overflow_policy(OverflowPolicy::Refuse)
                     .create();
  auto server = service->server_builder().create();
  auto client = service->client_builder().create();
  auto pending = client->send_copy(Goal{1});
  auto request = server->receive();
  ASSERT_TRUE(request && *request);
  ASSERT_TRUE((*request)->send_copy(Feedback{1, 0}));
  ASSERT_TRUE((*request)->send_copy(Feedback{1, 1}));
  EXPECT_EQ((*request)->send_copy(Feedback{1, 2}).error(), ResponseSendError::BufferFull);
  request->reset();
  const auto got = drain(*pending);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].step, 1u);
}

TEST_F(RequestResponse, BlockWaitsForTheTimeoutThenReportsAFullBuffer) {
  auto service =
      builder().max_response_buffer_size(1).overflow_policy(OverflowPolicy::Block).create();
  auto server = service->server_builder().block_timeout(20ms).create();
  auto client = service->client_builder().create();
  auto pending = client->send_copy(Goal{1});
  auto request = server->receive();
  ASSERT_TRUE(request && *request);
  ASSERT_TRUE((*request)->send_copy(Feedback{1, 0}));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ((*request)->send_copy(Feedback{1, 1}).error(), ResponseSendError::BufferFull);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
}

TEST_F(RequestResponse, OverwriteOldestKeepsTheNewestAndTheSequenceShowsTheGap) {
  auto service = builder().max_response_buffer_size(2).create();
  auto server = service->server_builder().create();
  auto client = service->client_builder().create();
  auto pending = client->send_copy(Goal{1});
  auto request = server->receive();
  ASSERT_TRUE(request && *request);
  for (std::uint64_t step = 0; step < 20; ++step) {
    ASSERT_TRUE((*request)->send_copy(Feedback{1, step}));
  }
  request->reset();
  const auto got = drain(*pending);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].step, 18u);
  EXPECT_EQ(got[1].step, 19u);
  // What the client skipped stays in the queue's slack until the server overwrites it: no more
  // than the queue's slots (the buffer and 8).
  EXPECT_LE(server->chunks_in_use(), 2u + 8u);
}

TEST_F(RequestResponse, TwoServersBothAnswerOneRequest) {
  auto service = builder().create();
  auto first = service->server_builder().create();
  auto second = service->server_builder().create();
  auto client = service->client_builder().create();
  auto pending = client->send_copy(Goal{5});
  ASSERT_TRUE(pending);
  EXPECT_EQ(pending->number_of_server_connections(), 2u);
  for (auto* server : {&*first, &*second}) {
    auto request = server->receive();
    ASSERT_TRUE(request && *request);
    ASSERT_TRUE((*request)->send_copy(Feedback{server->id(), 0}));
  }
  const auto got = drain(*pending);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_NE(got[0].value, got[1].value);
}

TEST_F(RequestResponse, AServerThatLeavesEndsItsStreams) {
  auto service = builder().create();
  auto server = service->server_builder().create();
  auto client = service->client_builder().create();
  auto pending = client->send_copy(Goal{1});
  {
    auto request = server->receive();
    ASSERT_TRUE(request && *request);
    ASSERT_TRUE((*request)->send_copy(Feedback{1, 0}));
  }
  server = tl::unexpected(ServerCreateError::ExceedsMaxServers);  // drops the server
  const auto got = drain(*pending);
  EXPECT_EQ(got.size(), 1u);
}

TEST_F(RequestResponse, SlicesBothWays) {
  auto service = node.service_builder(name)
                     .request_response<Slice<std::uint8_t>, Slice<std::uint32_t>>()
                     .create();
  ASSERT_TRUE(service);
  auto server = service->server_builder().max_slice_len(16).create();
  auto client = service->client_builder().max_slice_len(64).create();
  ASSERT_TRUE(server && client);
  auto request = client->loan_uninit(5);
  ASSERT_TRUE(request);
  for (std::size_t i = 0; i < 5; ++i) request->payload()[i] = static_cast<std::uint8_t>(i + 1);
  auto pending = client->send(std::move(*request));
  ASSERT_TRUE(pending);
  auto active = server->receive();
  ASSERT_TRUE(active && *active);
  ASSERT_EQ((*active)->payload().size(), 5u);
  auto response = (*active)->loan(16);
  ASSERT_TRUE(response);
  for (std::size_t i = 0; i < 16; ++i) response->payload()[i] = static_cast<std::uint32_t>(i * i);
  ASSERT_TRUE((*active)->send(std::move(*response)));
  EXPECT_EQ((*active)->loan(17).error(), LoanError::ExceedsMaxSliceLength);
  active->reset();
  auto got = pending->receive();
  ASSERT_TRUE(got && *got);
  ASSERT_EQ((*got)->payload().size(), 16u);
  EXPECT_EQ((*got)->payload()[15], 225u);
}

TEST_F(RequestResponse, OpenChecksTypesAndSettings) {
  auto service = builder().max_clients(2).fire_and_forget(false).create();
  ASSERT_TRUE(service);
  EXPECT_EQ((node.service_builder(name).request_response<Feedback, Feedback>().open().error()),
            RequestResponseOpenError::IncompatibleRequestType);
  EXPECT_EQ((node.service_builder(name).request_response<Goal, Goal>().open().error()),
            RequestResponseOpenError::IncompatibleResponseType);
  EXPECT_EQ(builder().max_clients(3).open().error(),
            RequestResponseOpenError::DoesNotSupportRequestedAmountOfClients);
  EXPECT_EQ(builder().fire_and_forget(true).open().error(),
            RequestResponseOpenError::IncompatibleFireAndForget);
  EXPECT_EQ(builder().overflow_policy(OverflowPolicy::Block).open().error(),
            RequestResponseOpenError::IncompatibleOverflowPolicy);
  EXPECT_EQ(node.service_builder(name).event().open().error(),
            EventOpenError::IncompatibleMessagingPattern);
  auto opened = builder().max_clients(2).open();
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->static_config().max_clients, 2u);
  EXPECT_FALSE(opened->static_config().fire_and_forget);
  EXPECT_EQ(builder().max_active_requests_per_client(0).create().error(),
            RequestResponseCreateError::InvalidSettings);
}

TEST_F(RequestResponse, UntypedPortsMoveBytes) {
  const PayloadType text{"text", 1, 1, true};
  auto service = node.service_builder(name).request_response(text, text).create();
  ASSERT_TRUE(service);
  auto server = service->server_builder().max_slice_len(64).create();
  auto client = service->client_builder().max_slice_len(64).create();
  const std::string hello = "hello";
  auto pending = client->send_copy(std::as_bytes(std::span(hello)));
  ASSERT_TRUE(pending);
  auto request = server->receive();
  ASSERT_TRUE(request && *request);
  const auto bytes = (*request)->payload();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()), "hello");
  const std::string world = "world";
  ASSERT_TRUE((*request)->send_copy(std::as_bytes(std::span(world))));
  request->reset();
  auto response = pending->receive();
  ASSERT_TRUE(response && *response);
  const auto got = (*response)->payload();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(got.data()), got.size()), "world");
}

}  // namespace
