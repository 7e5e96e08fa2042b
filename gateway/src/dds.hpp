// The gateway's DDS transport: a small RAII layer over Cyclone DDS's C API (0.10). It owns every
// DDS entity it creates (dds_delete on destruction), reports errors as values (DdsError, never an
// exception or an abort) and hides Cyclone's types: the generated IDL types
// (gateway/idl/axon_gateway.idl) appear here only as plain C++ structs and views.
//
// Topics and QoS (the gateway's side of issue 18's "semantics stated and kept"):
// - publish-subscribe: one topic per axon service (sample_topic_name), one DDS instance per origin
//   publisher; RELIABLE, KEEP_ALL bounded to `depth` samples per instance (the service's history
//   or buffer size), VOLATILE. DDS delivers the samples of one writer in order.
// - "axon_gateway_announcements": one instance per (gateway, service); RELIABLE,
//   TRANSIENT_LOCAL, KEEP_LAST(1), AUTOMATIC liveliness with a kAnnouncementLease lease, so a
//   gateway that dies (SIGKILL, link lost) has its announcements reported Lost by every reader.
// - "axon_gateway_events": one instance per origin gateway; RELIABLE, KEEP_ALL, VOLATILE.
// - request-response: two topics per axon service (rr_topic_name), requests and responses, one
//   DDS instance per request; RELIABLE, KEEP_ALL bounded to `depth` messages per request,
//   VOLATILE.
//
// Waking: every reader owns an eventfd (fd()) that a Cyclone listener thread makes readable when
// data or an instance state change arrives; attach it to an axon WaitSet and call take() when it
// fires. take() drains the eventfd before it takes, so a sample that arrives during a take makes
// the fd readable again (no lost wake-up); when take() stops at its `max` it leaves the fd
// readable, so the rest is taken on the next wake.
//
// Thread-safety: an object is used by one thread at a time (the gateway's main loop); different
// objects may be used from different threads. Only the listener callbacks run on Cyclone's
// threads, and they touch nothing but the reader's eventfd.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

namespace axon::gateway {

/// What failed; `DdsError::code` says more for some kinds.
enum class DdsErrorKind : std::uint8_t {
  /// A DdsSettings value Cyclone cannot use (domain id above 232, an interface name that is not
  /// a Linux interface name).
  InvalidSettings,
  /// The network interface named in DdsSettings does not exist on this machine.
  NoSuchInterface,
  /// This process already has a Participant on the domain with another network interface: one
  /// process holds one Cyclone domain instance per domain id, with one configuration.
  DomainConfigurationConflict,
  /// A service name that cannot be an axon service name (empty or longer than 255 bytes, or not
  /// printable ASCII), or a topic name that is not one this layer made.
  InvalidServiceName,
  /// A payload longer than a DDS sequence can carry (4 GiB - 1).
  PayloadTooLarge,
  /// A reliable write waited kMaxBlockingTime for the readers to acknowledge earlier samples and
  /// gave up; the sample was not sent. Retrying later is fine.
  Timeout,
  /// The reader's eventfd could not be created or read; `code` is the errno.
  EventFd,
  /// A Cyclone DDS call failed; `code` is its dds_return_t.
  Cyclone,
};

struct DdsError {
  DdsErrorKind kind = DdsErrorKind::Cyclone;
  /// The call or step that failed, e.g. "dds_create_writer" or "network interface eth7".
  std::string operation;
  /// dds_return_t for Cyclone, errno for EventFd, 0 otherwise.
  std::int32_t code = 0;
};

std::string to_string(DdsErrorKind kind);
/// One line: what failed, and why in Cyclone's or the OS's words.
std::string to_string(const DdsError& error);

/// Where the gateway talks DDS.
struct DdsSettings {
  /// The DDS domain id, 0..232 (DDSI derives UDP ports from it).
  std::uint32_t domain_id = 0;
  /// The one network interface to use (e.g. "eth0", "veth1", "lo"); it needs an IPv4 address.
  /// Empty lets Cyclone choose: a non-loopback interface before loopback (in a namespace with
  /// one veth and lo it takes the veth, and multicast discovery works there), or what
  /// CYCLONEDDS_URI names. Loopback gets multicast forced on (Linux's lo lacks the flag).
  std::string network_interface;
};

/// How long a reliable write waits for acknowledgements before it fails with Timeout. Cyclone
/// blocks a writer whose unacknowledged bytes pass its high-water mark (Internal/Watermarks:
/// adaptive from 30 kB up to 500 kB) until they fall to the low mark (1 kB), so a 4 MiB sample
/// waits until the previous one is acknowledged. Cyclone's default (100 ms) never ran out over
/// loopback here, but a loaded machine or a lossy link takes longer for 4 MiB; a longer wait
/// stalls the caller's loop, hence a second, not more.
inline constexpr std::chrono::milliseconds kMaxBlockingTime{1000};
/// Lease of the announcement writers' AUTOMATIC liveliness: a reader reports a dead gateway's
/// announcements Lost about this long after it stopped.
inline constexpr std::chrono::milliseconds kAnnouncementLease{1500};

/// The DDS topic name that carries publish-subscribe service `service`: "axon_ps_" + the
/// service name with every byte but [A-Za-z0-9/] escaped ('_' as "__", others as "_XX" with
/// two upper-case hex digits). Cyclone accepts only [A-Za-z0-9_/] in topic names.
tl::expected<std::string, DdsError> sample_topic_name(std::string_view service);
/// The service name that `topic` encodes (the inverse of sample_topic_name).
tl::expected<std::string, DdsError> service_of_sample_topic(std::string_view topic);
/// The encoding itself, for other topic families: `prefix` + escaped `service`.
tl::expected<std::string, DdsError> encode_topic_name(std::string_view prefix,
                                                      std::string_view service);
tl::expected<std::string, DdsError> decode_topic_name(std::string_view prefix,
                                                      std::string_view topic);

namespace detail {
/// One DDS entity handle, deleted (with its children) when this dies.
class Entity {
 public:
  Entity() = default;
  explicit Entity(std::int32_t handle) : m_handle(handle) {}
  Entity(Entity&& other) noexcept;
  Entity& operator=(Entity&& other) noexcept;
  Entity(const Entity&) = delete;
  Entity& operator=(const Entity&) = delete;
  ~Entity();
  std::int32_t get() const { return m_handle; }
  void reset();

 private:
  std::int32_t m_handle = 0;  // 0 is never a valid dds_entity_t
};

/// An eventfd (non-blocking, CLOEXEC) that a Cyclone listener makes readable.
class WakeFd {
 public:
  static tl::expected<WakeFd, DdsError> create();
  WakeFd(WakeFd&& other) noexcept;
  WakeFd& operator=(WakeFd&& other) noexcept;
  WakeFd(const WakeFd&) = delete;
  WakeFd& operator=(const WakeFd&) = delete;
  ~WakeFd();
  int get() const { return m_fd; }
  /// Empties the counter (the fd stops being readable).
  tl::expected<void, DdsError> drain() const;
  /// Makes the fd readable (async-signal and thread safe: one write).
  void signal() const;

 private:
  explicit WakeFd(int fd) : m_fd(fd) {}
  int m_fd = -1;
};

struct DomainInstance;  // a Cyclone domain shared by the Participants of one process

/// What every reader owns: its wake fd, topic and reader, torn down in that order's reverse. A
/// hand-written move assignment deletes the old reader (and so waits for its listener) before
/// the old eventfd closes: a listener must never write to an fd number that was reused.
struct ReaderCore {
  ReaderCore(WakeFd wake_fd, Entity topic_entity, Entity reader_entity)
      : wake(std::move(wake_fd)),
        topic(std::move(topic_entity)),
        reader(std::move(reader_entity)) {}
  ReaderCore(ReaderCore&&) noexcept = default;
  ReaderCore& operator=(ReaderCore&& other) noexcept;
  ~ReaderCore() = default;  // members die in reverse order: reader, topic, then wake
  WakeFd wake;
  Entity topic;
  Entity reader;
};

/// A writer and its topic; the writer goes first (Cyclone keeps a topic that is in use).
struct WriterCore {
  WriterCore(Entity topic_entity, Entity writer_entity)
      : topic(std::move(topic_entity)), writer(std::move(writer_entity)) {}
  WriterCore(WriterCore&&) noexcept = default;
  WriterCore& operator=(WriterCore&& other) noexcept;
  ~WriterCore() = default;
  Entity topic;
  Entity writer;
};
}  // namespace detail

/// One DDS domain participant. Readers and writers keep their own handles: destroy them before
/// their Participant (a loan from SampleReader::take must also die before its reader).
class Participant {
 public:
  /// Creates the participant on `settings.domain_id`, restricted to
  /// `settings.network_interface` when it is not empty. Cyclone's configuration is the
  /// CYCLONEDDS_URI's (when set) followed by this layer's XML, which wins where both speak.
  static tl::expected<Participant, DdsError> create(const DdsSettings& settings);

  Participant(Participant&&) noexcept = default;
  Participant& operator=(Participant&& other) noexcept;
  ~Participant();

  std::int32_t handle() const { return m_participant.get(); }
  const DdsSettings& settings() const { return m_settings; }

 private:
  Participant(DdsSettings settings, std::shared_ptr<detail::DomainInstance> domain,
              detail::Entity participant);
  DdsSettings m_settings;
  std::shared_ptr<detail::DomainInstance> m_domain;
  detail::Entity m_participant;
};

/// One sample's fields, as views: of a sample to send (OutgoingSample: nothing is copied before
/// Cyclone serialises it), or of a received one (pointing into a ReceivedSamples loan).
struct SampleView {
  std::uint64_t origin_gateway = 0;
  std::uint64_t origin_publisher = 0;
  std::uint64_t sequence = 0;
  std::string_view type_name;
  std::uint64_t type_size = 0;
  std::uint64_t type_alignment = 0;
  bool is_slice = false;
  std::span<const std::byte> payload;
  /// The service's user header type (an empty name and 0: none) and the sample's header bytes.
  /// Received, they are the remote gateway's word: nothing says the bytes are
  /// `user_header_size` long until the caller checks.
  std::string_view user_header_name;
  std::uint64_t user_header_size = 0;
  std::uint64_t user_header_alignment = 0;
  std::span<const std::byte> user_header;
};
using OutgoingSample = SampleView;

/// Writes the samples of one axon service.
class SampleWriter {
 public:
  /// `depth` (at least 1): unacknowledged samples kept per origin publisher; a write that finds
  /// `depth` of them waits (kMaxBlockingTime) for the readers, never replaces one.
  static tl::expected<SampleWriter, DdsError> create(const Participant& participant,
                                                     std::string_view service, std::uint32_t depth);
  /// Sends `sample`; Timeout when the readers did not acknowledge earlier samples within
  /// kMaxBlockingTime (the sample is then not sent). PayloadTooLarge for a payload or user
  /// header longer than a DDS sequence can carry.
  tl::expected<void, DdsError> write(const OutgoingSample& sample);
  /// Tells the readers that this origin publisher is gone (disposes and unregisters its
  /// instance, freeing its history on both sides). Call when the axon publisher goes away.
  tl::expected<void, DdsError> forget_publisher(std::uint64_t origin_gateway,
                                                std::uint64_t origin_publisher);
  /// How many readers (of any gateway, this process's too) match this writer now. A VOLATILE
  /// sample written before a reader matched never reaches it.
  tl::expected<std::uint32_t, DdsError> matched_readers() const;
  const std::string& service() const { return m_service; }

 private:
  SampleWriter(std::string service, detail::WriterCore core)
      : m_service(std::move(service)), m_core(std::move(core)) {}
  std::string m_service;
  // NUL-terminated copies of the last type names (the C struct needs them).
  std::string m_type_name;
  std::string m_user_header_name;
  detail::WriterCore m_core;
};

/// Samples taken from a reader (SampleReader, RrReader), loaned by Cyclone, and views into them
/// (`View`: SampleView or RrMessageView). In Cyclone 0.10 a loan is the reader's cached array of
/// sample structs into which dds_take deserialised the samples: each payload was copied once out
/// of the received data into a buffer Cyclone allocated, and is freed when the loan goes back.
/// This layer copies nothing more. The loan goes back (dds_return_loan) when this object dies; it
/// must die before its reader.
template <typename View>
class ReceivedLoan {
 public:
  ReceivedLoan(ReceivedLoan&& other) noexcept;
  ReceivedLoan& operator=(ReceivedLoan&& other) noexcept;
  ReceivedLoan(const ReceivedLoan&) = delete;
  ReceivedLoan& operator=(const ReceivedLoan&) = delete;
  ~ReceivedLoan();

  /// The valid samples, in the order Cyclone gave them (per instance: the order written).
  std::span<const View> samples() const { return m_views; }
  std::size_t size() const { return m_views.size(); }
  bool empty() const { return m_views.empty(); }
  auto begin() const { return m_views.begin(); }
  auto end() const { return m_views.end(); }
  const View& operator[](std::size_t i) const { return m_views[i]; }

 private:
  friend class SampleReader;
  friend class RrReader;
  ReceivedLoan() = default;
  void give_back();
  std::int32_t m_reader = 0;
  std::vector<void*> m_loan;  // Cyclone's sample pointers; m_loan[0] identifies the loan
  std::int32_t m_loaned = 0;  // how many of them dds_take filled
  std::vector<View> m_views;
};
extern template class ReceivedLoan<SampleView>;  // instantiated in dds.cpp
using ReceivedSamples = ReceivedLoan<SampleView>;

/// Reads the samples of one axon service from every gateway that writes them.
class SampleReader {
 public:
  static constexpr std::uint32_t kDefaultMaxTake = 16;

  /// `depth` (at least 1): samples held per origin publisher; a reader that falls `depth` behind
  /// refuses more until it takes some, and the writer sends them again (nothing is replaced).
  static tl::expected<SampleReader, DdsError> create(const Participant& participant,
                                                     std::string_view service, std::uint32_t depth);
  /// Readable when samples (or instance state changes, which take() skips) have arrived.
  int fd() const { return m_core.wake.get(); }
  /// Takes up to `max` samples (at least 1). Empty when nothing valid was waiting.
  tl::expected<ReceivedSamples, DdsError> take(std::uint32_t max = kDefaultMaxTake);
  /// How many writers match this reader now.
  tl::expected<std::uint32_t, DdsError> matched_writers() const;
  const std::string& service() const { return m_service; }

 private:
  SampleReader(std::string service, detail::ReaderCore core)
      : m_service(std::move(service)), m_core(std::move(core)) {}
  std::string m_service;
  detail::ReaderCore m_core;
};

/// The messaging pattern of an announced service (the IDL's `octet pattern`).
enum class AnnouncedPattern : std::uint8_t { PublishSubscribe = 0, Event = 1, RequestResponse = 2 };

/// What a gateway exports: enough for the far side to recreate the service.
struct Announcement {
  std::uint64_t gateway = 0;
  std::string service;
  AnnouncedPattern pattern = AnnouncedPattern::PublishSubscribe;
  /// Publish-subscribe: the payload type; request-response: the request type.
  std::string type_name;
  std::uint64_t type_size = 0;
  std::uint64_t type_alignment = 0;
  bool is_slice = false;
  std::uint32_t history_size = 0;
  std::uint32_t buffer_size = 0;
  /// Publish-subscribe only: the user header type of every sample (an empty name: none).
  std::string user_header_name;
  std::uint64_t user_header_size = 0;
  std::uint64_t user_header_alignment = 0;
  // Request-response only: the response type and the settings of the service.
  std::string response_type_name;
  std::uint64_t response_type_size = 0;
  std::uint64_t response_type_alignment = 0;
  bool response_is_slice = false;
  std::uint32_t max_clients = 0;
  std::uint32_t max_active_requests = 0;
  std::uint32_t response_buffer_size = 0;
  bool fire_and_forget = false;
  std::uint8_t overflow = 0;  ///< axon's OverflowPolicy as a number (not trusted: check it)
};

class AnnouncementWriter {
 public:
  static tl::expected<AnnouncementWriter, DdsError> create(const Participant& participant);
  /// Announces (or updates) `announcement`; late readers get it too (TRANSIENT_LOCAL).
  tl::expected<void, DdsError> write(const Announcement& announcement);
  /// Takes back the announcement of (gateway, service): readers see it Withdrawn. Deleting the
  /// writer without withdrawing makes readers see its announcements Lost.
  tl::expected<void, DdsError> withdraw(std::uint64_t gateway, std::string_view service);

 private:
  explicit AnnouncementWriter(detail::WriterCore core) : m_core(std::move(core)) {}
  detail::WriterCore m_core;
};

struct AnnouncementChange {
  enum class Kind : std::uint8_t {
    /// New or updated: every field of `announcement` is valid.
    Announced,
    /// Its gateway withdrew it (AnnouncementWriter::withdraw): only `gateway` and `service` are
    /// meaningful.
    Withdrawn,
    /// No live writer is left for it: its gateway deleted the writer without withdrawing
    /// (a clean exit), died (SIGKILL: about kAnnouncementLease later), or its link has been down
    /// for longer than kAnnouncementLease. Only `gateway` and `service` are meaningful. If the
    /// gateway comes back, its announcement arrives again as Announced.
    Lost,
  };
  Kind kind = Kind::Announced;
  Announcement announcement;
};

std::string to_string(AnnouncementChange::Kind kind);

class AnnouncementReader {
 public:
  static tl::expected<AnnouncementReader, DdsError> create(const Participant& participant);
  int fd() const { return m_core.wake.get(); }
  /// Every change since the last take, oldest first.
  tl::expected<std::vector<AnnouncementChange>, DdsError> take();

 private:
  explicit AnnouncementReader(detail::ReaderCore core) : m_core(std::move(core)) {}
  detail::ReaderCore m_core;
};

/// An axon event notification crossing machines.
struct EventNotification {
  std::uint64_t origin_gateway = 0;
  std::string service;
  std::uint64_t event_id = 0;
  std::uint64_t count = 0;
};

class EventWriter {
 public:
  static tl::expected<EventWriter, DdsError> create(const Participant& participant);
  tl::expected<void, DdsError> write(std::uint64_t origin_gateway, std::string_view service,
                                     std::uint64_t event_id, std::uint64_t count);
  tl::expected<std::uint32_t, DdsError> matched_readers() const;

 private:
  explicit EventWriter(detail::WriterCore core) : m_core(std::move(core)) {}
  std::string m_service;  // NUL-terminated copy for the C struct
  detail::WriterCore m_core;
};

class EventReader {
 public:
  static constexpr std::uint32_t kDefaultMaxTake = 256;
  static tl::expected<EventReader, DdsError> create(const Participant& participant);
  int fd() const { return m_core.wake.get(); }
  /// Up to `max` notifications, in the order each origin gateway wrote them.
  tl::expected<std::vector<EventNotification>, DdsError> take(std::uint32_t max = kDefaultMaxTake);

 private:
  explicit EventReader(detail::ReaderCore core) : m_core(std::move(core)) {}
  detail::ReaderCore m_core;
};

// ---- request-response

/// The two topics of one request-response service: requests go from the importing gateway (the
/// client's) to the exporting one (the server's), responses and end markers come back.
enum class RrTopic : std::uint8_t { Requests, Responses };

/// "axon_rq_" (requests) or "axon_rs_" (responses) + the service name, escaped as
/// sample_topic_name does.
tl::expected<std::string, DdsError> rr_topic_name(RrTopic topic, std::string_view service);

/// What a message on the requests topic is (the IDL's `kind`).
enum class RrRequestKind : std::uint8_t { Request = 0, Cancel = 1 };
/// What a message on the responses topic is (the IDL's `kind`).
enum class RrResponseKind : std::uint8_t {
  Response = 0,    ///< one response of the stream, `sequence` 0, 1, 2...
  Accepted = 1,    ///< the request was sent to the local servers
  End = 2,         ///< every server ended its stream: nothing more comes
  ServerGone = 3,  ///< the stream is over because a server was gone (it died or left)
  Refused = 4,     ///< the request was not sent (no room, an invalid payload): nothing comes
};

/// One request-response message (IDL RrMessage), as views: of one to send (nothing copied
/// before Cyclone serialises it), or of a received one (pointing into a ReceivedRrMessages
/// loan). `kind` stays a number: a received one is untrusted.
struct RrMessageView {
  std::uint64_t client_gateway = 0;
  std::uint64_t token = 0;
  /// False for what RrReader::take reports of a request's instance that is over on the
  /// writer's side (finished, or the writer gone: its gateway died or was cut off): only
  /// `client_gateway` and `token` are meaningful then.
  bool alive = true;
  std::uint64_t server_gateway = 0;
  std::uint8_t kind = 0;
  std::uint64_t sequence = 0;
  std::span<const std::byte> payload;
};
extern template class ReceivedLoan<RrMessageView>;  // instantiated in dds.cpp
using ReceivedRrMessages = ReceivedLoan<RrMessageView>;

/// Writes one topic of one request-response service. One instance per request (client gateway,
/// token): RELIABLE, KEEP_ALL bounded to `depth` messages per request, VOLATILE.
class RrWriter {
 public:
  static tl::expected<RrWriter, DdsError> create(const Participant& participant, RrTopic topic,
                                                 std::string_view service, std::uint32_t depth);
  /// Sends `message`; Timeout when the readers did not acknowledge `depth` earlier messages of
  /// the same request within kMaxBlockingTime (the message is then not sent).
  tl::expected<void, DdsError> write(const RrMessageView& message);
  /// The request is over on this side: its instance is unregistered (and so disposed), freeing
  /// its history here and, once its messages are delivered, at the readers.
  tl::expected<void, DdsError> finish(std::uint64_t client_gateway, std::uint64_t token);
  tl::expected<std::uint32_t, DdsError> matched_readers() const;
  /// Waits until every matched reader acknowledged every message written (it is in their
  /// histories, not necessarily taken); Timeout after `timeout`.
  tl::expected<void, DdsError> wait_for_acknowledgements(std::chrono::milliseconds timeout) const;

 private:
  RrWriter(std::string service, detail::WriterCore core)
      : m_service(std::move(service)), m_core(std::move(core)) {}
  std::string m_service;
  detail::WriterCore m_core;
};

/// Reads one topic of one request-response service, every gateway's messages on it.
class RrReader {
 public:
  static constexpr std::uint32_t kDefaultMaxTake = 16;
  static tl::expected<RrReader, DdsError> create(const Participant& participant, RrTopic topic,
                                                 std::string_view service, std::uint32_t depth);
  /// Readable when messages (or instance state changes, which take() skips) have arrived.
  int fd() const { return m_core.wake.get(); }
  /// Takes up to `max` messages (at least 1); per request in the order written. A request whose
  /// instance the writer finished, or whose writer is gone, comes once more with `alive` false,
  /// after its last message (in the take that holds that message, full or not).
  tl::expected<ReceivedRrMessages, DdsError> take(std::uint32_t max = kDefaultMaxTake);
  tl::expected<std::uint32_t, DdsError> matched_writers() const;

 private:
  RrReader(std::string service, detail::ReaderCore core)
      : m_service(std::move(service)), m_core(std::move(core)) {}
  std::string m_service;
  detail::ReaderCore m_core;
};

}  // namespace axon::gateway
