#pragma once
// What one clientpop3 connection writes to the log: with verbose.clientLog every line the
// client sends and receives, secrets redacted and message bodies reduced to their size; with
// verbose.waitTime how long each wait for the server took (the greeting, each reply, each
// body or listing). pop3_link reports its I/O and the session's events here.
//
// A reply's wait runs from the moment the client could expect it (its command was sent, and
// the reply before it was complete) to its status line; a body's or listing's wait from the
// status line to the terminating ".". With pipelining the waits therefore never overlap, and
// their sum is the time the client spent waiting for the server.

#include <izypop3/core/client_session.hpp>
#include <izypop3/transport/logger.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

namespace izypop3::app {

class link_log {
  public:
    using clock = std::chrono::steady_clock;

    link_log() = default;
    explicit link_log(transport::logger log);

    /// False when neither verbose.clientLog nor verbose.waitTime is on: nothing to do.
    bool active() const noexcept { return transcript_ || waits_; }

    /// A connection is up (TLS included), the first or a new one after reconnect: the wait
    /// for the greeting starts.
    void connected();
    /// Bytes the client wrote; `logged_in` says whether the login had succeeded.
    void sent(std::string_view bytes, bool logged_in);
    /// Bytes the client read before the login succeeded (afterwards event() reports them).
    void received_before_login(std::string_view bytes);
    /// An event of the session after login: replies, listing lines, bodies.
    void event(const core::client_action_t& a);

  private:
    struct awaited {
        std::string command;  ///< as sent, e.g. "RETR 3"
        clock::time_point sent;
    };
    void line_received(std::string_view line);
    void reply_arrived(const core::client_action::response& r);
    void wait_ended(const std::string& what, clock::time_point since);
    clock::time_point now() const { return waits_ ? clock::now() : clock::time_point{}; }

    transport::logger log_;
    bool transcript_ = false;
    bool waits_ = false;

    // Before login: the reply the client waits for, and the line being assembled.
    std::string login_awaited_;
    clock::time_point login_since_{};
    std::string partial_;

    // After login: commands sent and not yet answered, oldest first.
    std::deque<awaited> pending_;
    clock::time_point last_done_{};
    bool in_multiline_ = false;  // the front command's listing or body is arriving
    clock::time_point multiline_since_{};
    std::uint64_t body_octets_ = 0;
};

}  // namespace izypop3::app
