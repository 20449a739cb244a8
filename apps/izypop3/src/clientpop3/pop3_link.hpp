#pragma once
// One blocking POP3 client connection: a transport::client_stream carrying a
// core::client_session. The caller submits requests and pumps; every event other than the
// I/O ones (send, need_input, start_tls) goes to the caller's callback. A link can be opened
// again on a new connection (reconnect) after the old one can no longer be trusted.

#include "clientpop3/link_log.hpp"

#include <izypop3/core/client_session.hpp>
#include <izypop3/transport/client_stream.hpp>
#include <izypop3/transport/logger.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace izypop3::app {

/// Why a link stopped working.
enum class link_failure {
    none,
    connection,         ///< resolve, connect, TLS, timeout, closed by the server
    authentication,     ///< the server refused the login
    login_deferred,     ///< the server refused the login for now ([IN-USE] ...)
    cleartext_refused,  ///< the login would have sent a password in clear; nothing was sent
    protocol,           ///< the session failed after login
    interrupted,        ///< Ctrl-C
};

/// What open() may try on a new connection when a login fails (issue 18).
struct login_fallbacks {
    /// XOAUTH2's one-line form refused the way Exchange Online does: once more in two steps.
    bool xoauth2_two_step = false;
    /// auth auto: a mechanism that failed gives way to the next strongest one offered.
    bool next_mechanism = false;
};

class pop3_link {
  public:
    using event_sink = std::function<void(const core::client_action_t&)>;

    pop3_link(transport::client_stream_options stream, core::client_config session);

    /// Where the conversation is logged (verbose.clientLog, verbose.waitTime); set before
    /// open(). Without it nothing is logged.
    void set_log(transport::logger log) { log_ = link_log(std::move(log)); }
    /// What open() may try after a failed login; set before open().
    void set_fallbacks(login_fallbacks f) { fallbacks_ = f; }
    /// Connects and logs in, on new connections as the fallbacks allow. On failure,
    /// failure() and error_text() say why (with every mechanism failed: the last refusal).
    bool open();
    /// Drops the connection without QUIT (the server deletes nothing of that session) and
    /// opens a new one with the same settings.
    bool reconnect();
    /// Runs the session until every submitted request is answered (true) or it fails.
    bool pump(const event_sink& sink);
    /// Sends QUIT and waits for the answer: only now does the server apply DELEs. False
    /// when the link fails or the server answers -ERR (quit_refusal() has its text): then
    /// the server deleted nothing (RFC 1939 section 6).
    bool quit();
    const std::string& quit_refusal() const noexcept { return quit_refusal_; }
    /// Ends the operation in progress and every later one with `interrupted`, also on a
    /// connection opened later. Thread-safe (the Ctrl-C watcher calls it).
    void interrupt() noexcept;

    core::client_session& session() noexcept { return *session_; }
    const core::client_session& session() const noexcept { return *session_; }
    /// What the current connection is (address, TLS, certificate), once open.
    const transport::connection_info& connection() const noexcept { return stream_->info(); }
    link_failure failure() const noexcept { return failure_; }
    const std::string& error_text() const noexcept { return error_; }
    const std::string& mechanism() const noexcept { return mechanism_; }
    /// One printable line per fallback open() took, and how the login went after it.
    const std::vector<std::string>& login_notes() const noexcept { return notes_; }

  private:
    bool connect_and_login();
    void reset_connection();
    bool try_login_differently();
    void note_login_result();
    bool step_io(const core::client_action_t& a, bool& done);
    bool fail(link_failure why, std::string text);

    transport::client_stream_options stream_options_;
    core::client_config session_config_;
    std::mutex stream_mu_;  // guards stream_ against interrupt() while it is replaced
    std::unique_ptr<transport::client_stream> stream_;
    std::unique_ptr<core::client_session> session_;
    // Bulk transfer: one read takes what the kernel has (several TLS records, many small
    // messages), so the session sees large pieces. Not zeroed: only what was read is used.
    static constexpr std::size_t read_size = 256 * 1024;
    std::unique_ptr<char[]> read_buf_ = std::make_unique_for_overwrite<char[]>(read_size);
    std::atomic<bool> interrupted_{false};
    link_log log_;
    bool logged_in_ = false;
    bool closed_ = false;
    link_failure failure_ = link_failure::none;
    std::string error_;
    std::string mechanism_;
    std::string quit_refusal_;
    login_fallbacks fallbacks_;
    std::vector<std::string> notes_;
    boost::system::error_code session_failure_;  // why the session failed, if it did
    std::string last_refusal_;  // the server's text when a mechanism failed in auto
    bool fell_back_ = false;
};

}  // namespace izypop3::app
