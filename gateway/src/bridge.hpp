// The gateway's bridge between this machine's axon services and DDS (docs/gateway.md): it
// exports the local publish-subscribe services the configuration selects (a wakeable subscriber
// in, a DDS writer out) and imports the remote ones other gateways announce (a DDS reader in, a
// local publisher out); event services likewise (a listener in and the events topic out; the
// events topic in and a notifier out). One thread, one WaitSet: subscribers, listeners, DDS
// readers' fds, the announcement reader's fd and a discovery interval. A publish-subscribe
// service's user header crosses with its payload (type in the announcement and every sample,
// bytes in every sample); its send time does not (CLOCK_MONOTONIC is per machine: the import
// publisher's send() stamps its own).
//
// Loops and duplicates: a gateway skips, on export, every sample of its own import publishers
// and, on import, every DDS sample it wrote itself; it exports a service only while someone else
// than itself publishes (notifies) on it. Events carry no origin, so the notifications its own
// notifier made are subtracted from what its listener counts. So a sample crosses once, from the machine where it was published
// to every other machine that imports its service, however many gateways run (one per machine).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <unordered_map>

#include <tl/expected.hpp>

#include "axon/axon.hpp"
#include "config.hpp"
#include "dds.hpp"

namespace axon::gateway {

/// How often local services are looked for (new ones exported, gone ones withdrawn).
inline constexpr std::chrono::milliseconds kDiscoveryPeriod{250};
/// Exported services are announced again every kRefreshEvery discovery periods (1 s).
inline constexpr std::uint64_t kRefreshEvery = 4;
/// Under the Block policy, a DDS write that timed out (kMaxBlockingTime, 1 s) is tried this many
/// times in all before the sample is dropped and counted: the gateway blocks as a Block publisher
/// would, up to 10 s.
inline constexpr int kBlockWrites = 10;
/// An imported slice service starts with publishers for samples up to this many bytes and grows
/// (a new publisher of the next power of two) when a larger one arrives.
inline constexpr std::uint64_t kInitialImportBytes = std::uint64_t{64} * 1024;
/// The largest count one event notification from DDS is made into (a remote gateway is not
/// trusted with our time); larger ones are cut to it.
inline constexpr std::uint64_t kMaxEventCount = 1'000'000;
/// The largest sample an import publisher is made for.
inline constexpr std::uint64_t kMaxImportBytes = 64ULL * 1024 * 1024;
/// Request-response ports have no wake fd: while there is something to poll (an imported
/// service with a local client, a request in flight) the gateway looks at them this often.
inline constexpr std::chrono::milliseconds kRrPollPeriod{1};
/// The largest request or response that crosses: the export client's requests and the import
/// server's responses are sized for it (slices); larger ones are refused and counted.
inline constexpr std::uint64_t kMaxRrPayloadBytes = 4ULL * 1024 * 1024;
/// A forwarded request that the exporting gateway has not accepted within this is ended (it
/// was lost: the far side's reader had not matched yet, or it restarted).
inline constexpr std::chrono::milliseconds kRrAcceptTimeout{5000};
/// Responses held for one request while the local client's buffer is full (Block policy), in
/// bytes and in number (an empty response holds no bytes but still costs memory); beyond either
/// they are dropped and counted.
inline constexpr std::uint64_t kMaxRrBacklogBytes = 64ULL * 1024 * 1024;
inline constexpr std::size_t kMaxRrBacklogResponses = 16384;
/// Requests an export holds while its client has no free channel, in number and in bytes;
/// beyond either, they are refused.
inline constexpr std::size_t kMaxRrWaitingRequests = 1024;
inline constexpr std::uint64_t kMaxRrWaitingBytes = 64ULL * 1024 * 1024;

/// What the gateway did, for its log line at exit and for tests (`--stats` on exit).
struct GatewayStats {
  std::uint64_t exported = 0;        ///< samples written to DDS
  std::uint64_t imported = 0;        ///< samples published locally
  std::uint64_t write_failures = 0;  ///< DDS writes that failed (Timeout included): lost
  std::uint64_t publish_failures = 0;  ///< local loans or sends that failed: lost
  std::uint64_t events_exported = 0;  ///< notifications written to DDS (counted)
  std::uint64_t events_imported = 0;  ///< notifications made locally
  std::uint64_t requests_out = 0;   ///< local requests forwarded to DDS (import side)
  std::uint64_t requests_in = 0;    ///< requests from DDS sent locally (export side)
  std::uint64_t responses_out = 0;  ///< local responses written to DDS (export side)
  std::uint64_t responses_in = 0;   ///< responses from DDS sent locally (import side)
  /// Request-response messages dropped: invalid, for an unknown request, refused locally.
  std::uint64_t rr_dropped = 0;
};

class Gateway {
 public:
  /// Creates the node, the DDS participant and the announcement reader and writer.
  static tl::expected<std::unique_ptr<Gateway>, std::string> create(GatewayConfig config);
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;
  /// Withdraws what it announced.
  ~Gateway();

  /// Bridges until SIGINT or SIGTERM; returns the exit status (0, or 1 after a failure that
  /// stops it, said on stderr).
  int run();
  std::uint64_t id() const { return m_id; }
  const GatewayStats& stats() const { return m_stats; }

 private:
  /// What an attachment belongs to: the kind of bridge (and the service, in m_attachments).
  enum class Bridge : std::uint8_t { Export, Import, EventExport, RrExport, RrImport };
  struct Export;
  struct Import;
  struct EventExport;
  struct EventImport;
  struct RrExport;
  struct RrImport;
  Gateway(GatewayConfig config, std::uint64_t id, Node node, Participant participant,
          AnnouncementWriter announcements_out, AnnouncementReader announcements_in,
          EventWriter events_out, EventReader events_in, WaitSet waitset);

  /// Looks at the local services: exports what now qualifies, withdraws what no longer does.
  void discover();
  void start_export(const ServiceInfo& info);
  /// The common end of starting an export of either kind: attached, announced, logged, kept.
  template <typename Exported>
  void begin_export(std::map<std::string, std::unique_ptr<Exported>>& exports,
                    std::unique_ptr<Exported> e,
                    tl::expected<WaitSetGuard, WaitSetAttachmentError> guard, Bridge bridge,
                    const std::string& what);
  /// Detaches, withdraws and drops the export of `service` from `exports`.
  template <typename Exported>
  void end_export(std::map<std::string, std::unique_ptr<Exported>>& exports,
                  std::string service);
  /// Takes every sample of one export's subscriber and writes it to DDS.
  void forward(Export& e);
  void on_announcements();
  void start_import(const Announcement& a);
  void stop_import(const std::string& service);
  /// Takes what DDS brought for one import and publishes it locally.
  void deliver(Import& i);
  /// A publisher of the import's service whose samples hold `bytes`; replaces a smaller one.
  bool ensure_publisher(Import& i, std::uint64_t bytes);
  void start_event_export(const ServiceInfo& info);
  /// Drains one exported event service's listener and writes its counts to DDS.
  void forward_events(EventExport& e);
  void start_event_import(const Announcement& a);
  /// Takes what the events topic brought and notifies the imported event services.
  void on_events();
  // Request-response (docs/gateway.md): the export side's local client, the import side's
  // local server, and the requests in flight between them.
  void start_rr_export(const ServiceInfo& info);
  /// Takes what the requests topic brought for one export and sends it locally.
  void on_rr_requests(RrExport& e);
  /// Sends one request locally; false when the client has no free channel (try again later).
  bool send_rr_request(RrExport& e, std::uint64_t client_gateway, std::uint64_t token,
                       std::span<const std::byte> payload);
  /// Moves the responses of one export's requests to DDS, ends the streams that are over.
  void poll_rr_export(RrExport& e);
  void start_rr_import(const Announcement& a);
  void stop_rr_import(const std::string& service);
  /// Makes the import's local server once both its topics matched a remote gateway's.
  void ensure_rr_server(RrImport& i);
  /// Forwards the local requests of one import, cancels and ends what is over.
  void poll_rr_import(RrImport& i);
  /// Gateway `gateway` no longer serves the import of `service` (withdrawn, lost, or announcing
  /// other types): the requests it was serving end, and the import goes once nobody serves it.
  void drop_rr_gateway(const std::string& service, std::uint64_t gateway);
  /// Takes what the responses topic brought for one import and sends it to the local clients.
  void on_rr_responses(RrImport& i);
  /// Ends, cancels or flushes the forwarded requests of one import.
  void tend_forwarded(RrImport& i);
  /// Attaches the poll interval while something needs polling, detaches it otherwise.
  void update_rr_polling();
  /// Writes one request-response message, retried as a Block export's samples are; false
  /// (counted, logged once) when it could not be written.
  bool write_rr(RrWriter& writer, const RrMessageView& message, const std::string& service);
  /// stderr, prefixed "axon-gateway: ", when verbose (or always for `error`).
  void log(const std::string& line, bool error = false) const;
  /// Logs `line` once per `key` (a service that keeps failing the same way says so once).
  void log_once(const std::string& key, const std::string& line);

  GatewayConfig m_config;
  std::uint64_t m_id;
  GatewayStats m_stats;
  Node m_node;
  Participant m_participant;
  AnnouncementWriter m_announcements_out;
  AnnouncementReader m_announcements_in;
  EventWriter m_events_out;
  EventReader m_events_in;
  WaitSet m_waitset;
  std::optional<WaitSetGuard> m_announcement_guard;
  std::optional<WaitSetGuard> m_events_guard;
  std::optional<WaitSetGuard> m_discovery_guard;
  std::map<std::string, std::unique_ptr<Export>> m_exports;
  std::map<std::string, std::unique_ptr<Import>> m_imports;
  std::map<std::string, std::unique_ptr<EventExport>> m_event_exports;
  std::map<std::string, std::unique_ptr<EventImport>> m_event_imports;
  std::map<std::string, std::unique_ptr<RrExport>> m_rr_exports;
  std::map<std::string, std::unique_ptr<RrImport>> m_rr_imports;
  std::optional<WaitSetGuard> m_rr_poll_guard;  ///< the poll interval, while attached
  std::uint64_t m_next_token = 0;                ///< the last request token given out
  std::unordered_map<AttachmentId, std::pair<Bridge, std::string>> m_attachments;
  std::set<std::string> m_logged;
  std::uint64_t m_discoveries = 0;
};

}  // namespace axon::gateway
