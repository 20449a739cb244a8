#pragma once
// The client side of the transport: a TCP connection to a POP3 server with implicit TLS or an
// in-place STLS upgrade, certificate checks (RFC 7817: system CAs or a CA file, host name,
// or a pinned SHA-256 fingerprint), TLS 1.2 at least, and a no-progress timeout on every
// wait. Two ways to use it:
//
// - client_pool + session_handler (primary): many connections on a few threads, each a
//   coroutine that drives a core::client_session and hands its events to a handler. The
//   backup client and the load generator run on this.
// - client_stream: one blocking connection (connect, read, write, start_tls) for tools and
//   tests that script a conversation by hand.
//
// No Asio in this header; the coroutines live in libtransport/src/client_*.cpp.

#include <izypop3/core/client_session.hpp>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace izypop3::transport {

/// How the server's certificate is checked.
struct tls_client_options {
    /// Check the chain against trusted CAs and the name against `server_name` (RFC 7817).
    /// Off = any certificate is accepted (self-signed test servers); say so to the user.
    bool verify = true;
    /// PEM file of trusted CAs instead of the system store; empty = the system store.
    std::string ca_file;
    /// SHA-256 fingerprint of the one certificate to accept ("AB:CD:..." or 64 hex digits,
    /// any case). When set, only this certificate is accepted, whoever signed it, and
    /// `verify`/`ca_file` are not consulted.
    std::string fingerprint;
    /// Name sent in SNI and checked against the certificate; empty = the host connected to.
    /// An IP address is checked against the certificate's IP entries and sent without SNI.
    std::string server_name;
};

struct client_stream_options {
    std::string host;          ///< a DNS name, an IPv4 or an IPv6 address
    std::uint16_t port = 110;
    bool implicit_tls = false; ///< TLS from the first byte (RFC 8314, port 995)
    tls_client_options tls;
    /// Resolution plus TCP connect, per address tried.
    std::chrono::milliseconds connect_timeout{std::chrono::seconds(30)};
    /// The TLS handshake (implicit or after STLS) must finish within this.
    std::chrono::milliseconds handshake_timeout{std::chrono::seconds(30)};
    /// A read or write that makes no progress for this long fails with timed_out.
    std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
};

/// Errors of the client transport (category "izypop3.transport.client"). Socket errors keep
/// their system codes; these name what only this layer knows.
enum class client_errc {
    resolve_failed = 1,       ///< the host name has no address
    connect_failed,           ///< every address refused or was unreachable
    timed_out,                ///< no progress within the configured timeout
    tls_setup_failed,         ///< the CA file could not be read, or OpenSSL refused the setup
    tls_handshake_failed,     ///< the handshake failed for a reason other than the certificate
    certificate_rejected,     ///< chain or name check failed (RFC 7817)
    fingerprint_mismatch,     ///< a pinned fingerprint did not match
    connection_closed,        ///< the server closed the connection
    interrupted,              ///< stop() or a signal ended the operation
    bad_fingerprint_option,   ///< tls.fingerprint is not 64 hex digits
};

const boost::system::error_category& client_category() noexcept;
inline boost::system::error_code make_error_code(client_errc e) noexcept {
    return {static_cast<int>(e), client_category()};
}

/// The fingerprint in canonical form ("AB:CD:...", 32 pairs), or nullopt when `text` is not
/// 64 hex digits (colons, spaces and a "sha256:" prefix are allowed).
std::optional<std::string> normalize_fingerprint(std::string_view text);

/// What a connection is, once it is up: for logs and the user's summary.
struct connection_info {
    std::string remote_address;  ///< "192.0.2.1:995", "[2001:db8::1]:110"
    bool tls = false;
    std::string tls_version;     ///< "TLSv1.3"
    std::string cipher;
    std::string peer_fingerprint;  ///< SHA-256 of the server certificate, "AB:CD:..."
    std::string peer_subject;      ///< the certificate's subject, one line
    bool verified = false;       ///< chain+name checked, or the pin matched
};

// ---- One blocking connection ---------------------------------------------------------------

/// A blocking connection running its own event loop in the calling thread. Every call waits
/// at most the configured timeout without progress. After an error the stream is closed;
/// error_text() says what failed and what the user can do. Not thread-safe, except
/// interrupt().
class client_stream {
public:
    explicit client_stream(client_stream_options options);
    ~client_stream();
    client_stream(const client_stream&) = delete;
    client_stream& operator=(const client_stream&) = delete;

    /// Resolves the host, connects (each address in turn, IPv6 and IPv4), and with
    /// implicit_tls runs the handshake and the certificate checks.
    boost::system::error_code connect();
    /// Upgrades the open connection to TLS in place (after the server's "+OK" to STLS).
    boost::system::error_code start_tls();
    /// Writes all of `bytes`.
    boost::system::error_code write_all(std::string_view bytes);
    /// Reads what is available (at least one octet). EOF is client_errc::connection_closed.
    boost::system::result<std::size_t> read_some(char* data, std::size_t size);
    /// Closes the socket (no TLS close_notify wait).
    void close() noexcept;
    /// Ends the current or next operation with client_errc::interrupted. Thread-safe.
    void interrupt() noexcept;

    /// One line describing the last error, e.g. "cannot connect to pop.example.com:995
    /// (192.0.2.1): Connection refused".
    const std::string& error_text() const noexcept;
    const connection_info& info() const noexcept;

    struct impl;

private:
    std::unique_ptr<impl> impl_;
};

// ---- Many sessions: a core::client_session per connection, driven by a coroutine ----------

/// How a session run ended.
struct session_outcome {
    enum class kind {
        closed,          ///< the server answered QUIT
        session_failed,  ///< the protocol session failed (ec/text from client_action::failed)
        connect_failed,  ///< resolution, TCP connect, or the implicit TLS handshake
        tls_failed,      ///< the STLS handshake or its certificate check
        timed_out,       ///< no progress for idle_timeout
        connection_lost, ///< the server closed the connection or the network failed
        interrupted,     ///< client_pool::stop() or a signal
    };
    kind how = kind::closed;
    boost::system::error_code ec;
    std::string text;  ///< one line for the user; server text already made printable
};

/// Receives one session's events. All calls for one session come from one thread, in order.
/// Handlers run on an I/O thread: work done here (a store write) delays that thread's other
/// connections, which is fine for one connection per thread.
class session_handler {
public:
    virtual ~session_handler() = default;
    /// TCP (and implicit TLS) is up; nothing has been read yet.
    virtual void on_connected(const connection_info& /*info*/) {}
    /// STLS finished: the connection is now encrypted and the server's identity checked.
    virtual void on_tls_started(const connection_info& /*info*/) {}
    /// Every event of the session other than send/need_input/start_tls: logged_in,
    /// response, listing_entry, listing_end, body, body_end, failed, closed. The handler may
    /// call `session.submit()`. Views inside `event` are valid during the call only.
    virtual void on_event(core::client_session& session,
                          const core::client_action_t& event) = 0;
    /// The run is over (called exactly once, also after connect failures).
    virtual void on_finished(const session_outcome& /*outcome*/) {}
    /// Lines as they go over the wire for verbose.clientLog / verbose.serverLog: '>' sent,
    /// '<' received. Secrets are already replaced by "<redacted>"; server text is raw
    /// (sanitize before logging). Only login-phase server lines are reported line by line.
    virtual void on_wire_line(char /*direction*/, std::string_view /*line*/) {}
};

struct client_pool_options {
    unsigned threads = 1;  ///< 1: run() does all the work in the calling thread
    /// SIGINT and SIGTERM call stop() while run() runs (the CLI's Ctrl-C).
    bool handle_signals = false;
    /// Read buffer per connection; bodies arrive in pieces of at most this.
    std::size_t read_buffer = 64 * 1024;
};

/// A set of I/O threads running client sessions as coroutines.
class client_pool {
public:
    explicit client_pool(client_pool_options options = {});
    ~client_pool();
    client_pool(const client_pool&) = delete;
    client_pool& operator=(const client_pool&) = delete;

    /// Starts a connection that logs in with `session` settings and reports to `handler`.
    /// Callable before run() and from handlers while it runs. The pool keeps `handler` alive
    /// until on_finished has returned.
    void spawn(client_stream_options stream, core::client_config session,
               std::shared_ptr<session_handler> handler);
    /// Runs until every spawned session has finished (or stop()).
    void run();
    /// Ends every session now: no QUIT, so the server deletes nothing (RFC 1939 section 6).
    /// Thread-safe and safe to call from a handler.
    void stop() noexcept;
    /// True once stop() was called (by the caller or a signal).
    bool stopped() const noexcept;
    /// The signal that stopped the pool, or 0.
    int stop_signal() const noexcept;
    /// CPU time (user + system) that the pool's threads spent in the last run(), the
    /// calling thread's share included: what the client side itself cost.
    std::chrono::duration<double> cpu_used() const noexcept;

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

}  // namespace izypop3::transport

template <>
struct boost::system::is_error_code_enum<izypop3::transport::client_errc> : std::true_type {};
