// What the request-response clients share: the requests in flight and what they print of each
// stream. One line per response (the client says how), then one line when the stream ended or
// its server is gone:
//   Request <n>: stream ended after <k> responses
//   Request <n>: the server is gone after <k> responses
//   Request <n>: no server
#pragma once

#include <cstdint>
#include <cstdio>
#include <list>
#include <utility>

#include "axon/axon.hpp"

namespace axon::examples {

template <typename Req, typename Res>
class PendingRequests {
 public:
  /// Keeps `pending` (request number `number`) until its streams are over. A request that
  /// reached no server is over at once: it says so and is dropped.
  void add(std::uint64_t number, PendingResponse<Req, Res> pending) {
    if (pending.number_of_server_connections() == 0) {
      std::printf("Request %llu: no server\n", static_cast<unsigned long long>(number));
      return;
    }
    m_entries.push_back(Entry{number, std::move(pending), 0, false});
  }

  /// Prints what arrived for every request in flight (`print(number, response)` a response) and
  /// drops the requests whose streams are over. False after a receive error other than
  /// ServerGone, which it names on stderr.
  template <typename Print>
  bool poll(Print&& print) {
    for (auto it = m_entries.begin(); it != m_entries.end();) {
      auto& entry = *it;
      for (;;) {
        auto response = entry.pending.receive();
        if (!response) {
          if (response.error() != ResponseReceiveError::ServerGone) {
            std::fprintf(stderr, "receive failed: %s\n", to_string(response.error()));
            return false;
          }
          entry.gone = true;
          std::printf("Request %llu: the server is gone after %llu responses\n",
                      static_cast<unsigned long long>(entry.number),
                      static_cast<unsigned long long>(entry.responses));
          continue;  // another server's stream may go on
        }
        if (!*response) break;
        ++entry.responses;
        print(entry.number, **response);
      }  // each response is released as soon as it is printed
      if (!entry.pending.is_done()) {
        ++it;
        continue;
      }
      if (!entry.gone) {
        std::printf("Request %llu: stream ended after %llu responses\n",
                    static_cast<unsigned long long>(entry.number),
                    static_cast<unsigned long long>(entry.responses));
      }
      it = m_entries.erase(it);  // dropping the PendingResponse frees its channel
    }
    return true;
  }

  bool empty() const { return m_entries.empty(); }

 private:
  struct Entry {
    std::uint64_t number;
    PendingResponse<Req, Res> pending;
    std::uint64_t responses;
    bool gone;
  };
  // A list: PendingResponse moves but cannot be assigned, which erasing from a vector needs.
  std::list<Entry> m_entries;
};

}  // namespace axon::examples
