#pragma once
// The client side of a POP3 connection as a sans-I/O state machine. It logs in (CAPA, STLS,
// mechanism choice, SASL), then sends the caller's requests — pipelined when the server
// advertises PIPELINING (RFC 2449) — and hands back replies, listing entries and message
// bodies as events. Bytes in through feed(); next() says what to send or what happened.

#include <izypop3/core/dot_unstuffer.hpp>
#include <izypop3/core/line_reader.hpp>
#include <izypop3/core/random_source.hpp>
#include <izypop3/core/sasl/client_mechanism.hpp>

#include <boost/system/error_code.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace izypop3::core {

enum class starttls_policy {
    never,       ///< do not upgrade (implicit TLS, or the user said no)
    if_offered,  ///< upgrade when CAPA lists STLS
    required,    ///< upgrade or fail before any credential is sent (RFC 8314, SECURITY C02)
};

struct client_config {
    std::string user;
    std::string secret;  ///< password or OAuth2 access token
    std::string authzid;
    /// auto, user, apop, plain, login, cram-md5, scram-sha-1, scram-sha-256, xoauth2,
    /// oauthbearer (case-insensitive).
    std::string mechanism = "auto";
    /// XOAUTH2 without an initial response: "AUTH XOAUTH2", then the token after "+ "
    /// (Exchange Online refuses the one-line form).
    bool xoauth2_two_step = false;
    /// With mechanism auto: mechanisms that failed on an earlier connection of the same run,
    /// lower case; they are not chosen again, the next strongest one offered is.
    std::vector<std::string> skip_mechanisms;
    std::string host;  ///< for OAUTHBEARER
    std::uint16_t port = 0;
    bool tls_active = false;  ///< implicit TLS (port 995)
    starttls_policy starttls = starttls_policy::if_offered;
    // A password in clear (USER/PASS, PLAIN, LOGIN, XOAUTH2, OAUTHBEARER) on a connection
    // without TLS needs one of these two facts, which only the caller knows; the session
    // decides with them and refuses (errc::cleartext_refused) before any secret is written.
    // Naming a mechanism is no consent, and a loopback server is no exception.
    bool allow_plaintext = false;  ///< the user allowed it (allowplaintext true)
    bool tls_declined = false;     ///< the user turned TLS off on purpose (starttls false
                                   ///< or tls false given, not defaulted)
    bool pipelining = true;        ///< use PIPELINING when advertised
    /// Pipeline even when CAPA does not list PIPELINING (the user's pipelining on); needs
    /// `pipelining` too.
    bool force_pipelining = false;
    /// Commands in flight at most. Commands are a dozen octets, so even this many stay far
    /// below any TCP window (RFC 2449 section 6.6 asks the client to stay below it).
    std::size_t pipeline_window = 512;
    /// RETR/TOP octets in flight at most (the sum of their max_octets; one request is always
    /// let out): twice the bandwidth-delay product of a fast long link (1 Gbit/s, 30 ms),
    /// so the server never waits for a command, without asking for a huge mailbox at once.
    std::uint64_t pipeline_octets = 8 * 1024 * 1024;
    std::size_t max_status_line = 4096;  ///< RFC 2449 says 512; real greetings can be longer
    std::size_t body_chunk = 64 * 1024;  ///< largest body event
    /// Entries one LIST or UIDL listing may have; more fail the session
    /// (errc::listing_rejected), so that a server cannot make the caller keep an endless one.
    std::size_t max_listing_entries = 1'000'000;
    random_source random;
};

enum class request_kind { capa, stat, list, uidl, top, retr, dele, noop, rset, quit };

struct request {
    request_kind kind = request_kind::noop;
    std::uint32_t number = 0;  ///< message number for LIST/UIDL n, TOP, RETR, DELE; 0 = all
    std::uint64_t lines = 0;   ///< TOP's line count
    /// RETR/TOP: the most body octets accepted (0 = no limit; retr_cap() in
    /// maildrop_listing.hpp computes it). Past it the message and the session are given up.
    std::uint64_t max_octets = 0;
};

namespace client_action {
/// Write these bytes, then call next(). The view is valid until then.
struct send {
    std::string_view bytes;
};
/// Read from the server and call feed() or feed_eof().
struct need_input {};
/// Run the TLS handshake now and call complete_tls().
struct start_tls {};
/// Login finished; requests may be submitted.
struct logged_in {
    std::string_view mechanism;
};
/// The status reply to request `id`. For STAT: a=count, b=octets. For LIST n: a=n, b=size.
/// For UIDL n: a=n, uid set. Multi-line replies follow with entries or body events.
struct response {
    std::uint64_t id = 0;
    request_kind kind{};
    bool ok = false;
    std::string_view code;  ///< RFC 2449 response code, e.g. "SYS/TEMP"
    std::string_view text;
    std::uint64_t a = 0, b = 0;
    std::string_view uid;
};
/// One line of a LIST or UIDL listing.
struct listing_entry {
    std::uint64_t id = 0;
    std::uint32_t number = 0;
    std::uint64_t size = 0;  ///< LIST
    std::string_view uid;    ///< UIDL
};
struct listing_end {
    std::uint64_t id = 0;
};
/// Message octets of a RETR/TOP body, dot-unstuffed, CRLF line ends.
struct body {
    std::uint64_t id = 0;
    std::string_view data;
};
/// The body ended. `ec` is errc::body_too_large when the server sent more than max_octets:
/// the body is incomplete (octets counts what was delivered, at most max_octets) and a
/// `failed` with the same code follows, since the connection cannot be trusted any more.
struct body_end {
    std::uint64_t id = 0;
    std::uint64_t octets = 0;
    boost::system::error_code ec;
};
/// Fatal: the session cannot go on. `detail` is printable server text or a local reason.
struct failed {
    boost::system::error_code ec;
    std::string_view detail;
};
/// The server answered QUIT and the session is over.
struct closed {};
}  // namespace client_action

using client_action_t =
    std::variant<client_action::send, client_action::need_input, client_action::start_tls,
                 client_action::logged_in, client_action::response, client_action::listing_entry,
                 client_action::listing_end, client_action::body, client_action::body_end,
                 client_action::failed, client_action::closed>;

class client_session {
  public:
    explicit client_session(client_config config);
    ~client_session();
    client_session(const client_session&) = delete;
    client_session& operator=(const client_session&) = delete;

    void feed(std::string_view bytes);
    void feed_eof();
    void complete_tls(bool ok);

    /// Queues a request and returns its id. Only after logged_in.
    std::uint64_t submit(const request& r);
    client_action_t next();

    /// The greeting's APOP timestamp, empty when none or after STLS (what came before TLS is
    /// forgotten then, the greeting too).
    const std::string& apop_timestamp() const noexcept { return apop_timestamp_; }
    const std::string& greeting() const noexcept { return greeting_; }
    /// The capability lines of the last CAPA (empty if the server has no CAPA).
    const std::vector<std::string>& capabilities() const noexcept { return caps_; }
    /// The mechanism whose login exchange was started (lower case), also after it failed;
    /// empty when the session failed before sending any login command.
    const std::string& mechanism_tried() const noexcept { return mechanism_tried_; }
    /// True when the server refused an AUTH line that carried an initial response before
    /// any challenge, with -ERR without a response code or by closing the connection: a
    /// server that takes the same exchange in two steps (Exchange Online's XOAUTH2) does so.
    bool initial_response_refused() const noexcept { return ir_refused_; }
    bool has_capability(std::string_view name) const noexcept;
    bool capa_supported() const noexcept { return capa_ok_; }
    bool pipelining_active() const noexcept;
    bool tls_active() const noexcept { return config_.tls_active; }
    /// Requests submitted and not yet answered.
    std::size_t outstanding() const noexcept { return queued_.size() + inflight_.size(); }

  private:
    enum class phase {
        greeting,
        capa,
        stls,
        utf8,
        auth_user,
        auth_pass,
        auth_apop,
        auth_sasl,
        ready,
        failed,
        closed
    };
    enum class mode { status, capa_lines, listing, message };
    struct inflight {
        std::uint64_t id;
        request req;
    };
    /// Takes the oldest request in flight off the pipeline, keeping inflight_octets_.
    void pop_inflight();

    // Login (client_login.cpp)
    void on_greeting(std::string_view l);
    void on_capa_status(std::string_view l);
    void on_capa_done();
    void on_stls_reply(std::string_view l);
    void choose_and_start_auth();
    bool utf8_needed() const;
    std::string choose_mechanism(boost::system::error_code& ec, std::string& why_not) const;
    void start_sasl(std::string_view name);
    void on_login_reply(std::string_view l);
    void start_user_login();
    void on_sasl_reply(std::string_view l);
    bool cleartext_ok() const noexcept;
    // Transaction (client_session.cpp)
    std::optional<client_action_t> step();
    std::optional<client_action_t> on_status(std::string_view l);
    std::optional<client_action_t> on_listing_line(std::string_view l);
    std::optional<client_action_t> body_step();
    client_action_t body_over_cap(std::uint64_t limit);
    void fill_pipeline();
    void write_command(std::string_view l, bool secret = false);
    client_action_t fail(boost::system::error_code ec, std::string detail);

    client_config config_;
    line_reader reader_;
    std::string out_;
    bool out_sent_ = false;
    phase phase_ = phase::greeting;
    mode mode_ = mode::status;
    bool eof_ = false;
    bool tls_pending_ = false;
    bool stls_done_ = false;
    bool utf8_sent_ = false;                // RFC 6856 UTF8, before a non-ASCII USER/PASS/APOP
    std::optional<client_action_t> event_;  // one event waiting behind a send

    std::string greeting_;
    std::string apop_timestamp_;
    std::vector<std::string> caps_;
    bool capa_ok_ = false;
    std::string mechanism_name_;
    std::unique_ptr<sasl::client_mechanism> mechanism_;
    std::optional<std::string> pending_ir_;  // initial response left out of a long AUTH line
    std::string mechanism_tried_;
    bool ir_on_auth_line_ = false;  // the AUTH line carried the initial response
    bool sasl_answered_ = false;    // the server answered the AUTH line
    bool ir_refused_ = false;
    bool sasl_cancelled_ = false;
    boost::system::error_code fail_ec_;
    bool logged_in_reported_ = false;

    std::uint64_t next_id_ = 1;
    std::deque<inflight> queued_;
    std::deque<inflight> inflight_;
    std::uint64_t inflight_octets_ = 0;  // the max_octets of the RETR/TOP in inflight_
    dot_unstuffer unstuffer_;
    std::string body_buf_;
    std::uint64_t body_octets_ = 0;
    std::size_t listing_entries_ = 0;
    std::string failure_detail_;
    std::string status_copy_;  // keeps a status line alive behind an event
};

}  // namespace izypop3::core
