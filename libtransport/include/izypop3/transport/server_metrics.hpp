#pragma once
// The POP3 server's counters for /metrics. Every count is a relaxed atomic bumped on the
// connection's own I/O thread; a scrape reads them without a lock, so scraping never makes
// a session wait. Label values come from fixed tables (a client's unknown verb counts as
// "other"), so a client cannot grow the exposition.

#include <izypop3/core/server_session.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace izypop3::transport {

/// A store operation the server times.
enum class store_operation : std::uint8_t { open_maildrop, open_message, commit_deletions };

/// Why the server turned a connection away before a session.
enum class refusal : std::uint8_t { max_connections, per_address };

class server_metrics {
  public:
    /// Upper bounds of the latency histogram's buckets, in seconds (+Inf follows).
    static constexpr std::array<double, 12> latency_buckets{
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5, 10};
    /// Commands counted by name; anything else counts as "other".
    static constexpr std::array<std::string_view, 17> verbs{
        "USER", "PASS", "APOP", "AUTH", "STLS", "CAPA", "STAT", "LIST", "UIDL",
        "RETR", "TOP",  "DELE", "RSET", "NOOP", "QUIT", "UTF8", "LANG"};
    /// Login mechanisms counted by name (USER = USER/PASS); any other counts as "other".
    static constexpr std::array<std::string_view, 9> mechanisms{
        "USER",        "APOP",          "PLAIN",       "LOGIN",  "CRAM-MD5",
        "SCRAM-SHA-1", "SCRAM-SHA-256", "OAUTHBEARER", "XOAUTH2"};

    void connection_accepted() noexcept { bump(accepted_); }
    void connection_refused(refusal why) noexcept;
    void session_opened() noexcept { bump(sessions_open_); }
    void session_ended(core::close_reason why) noexcept;
    /// A command's outcome (the session's on_command event); logins are counted from it.
    void command(const core::command_event& e) noexcept;
    void failure_delay_applied() noexcept { bump(failure_delays_); }
    /// `version` as SSL_get_version names it ("TLSv1.3"); empty for a failed handshake.
    void tls_handshake(bool ok, std::string_view version) noexcept;
    void messages_retrieved(std::uint64_t n) noexcept { bump(retrieved_, n); }
    void messages_deleted(std::uint64_t n) noexcept { bump(deleted_, n); }
    void octets_sent(std::uint64_t n) noexcept { bump(sent_, n); }
    void octets_received(std::uint64_t n) noexcept { bump(received_, n); }
    void store_call(store_operation op, bool ok, std::chrono::nanoseconds took) noexcept;

    /// The server's metrics in the Prometheus text format (version 0.0.4), the store's
    /// operations labelled store="<store_kind>". Appends to `out`.
    void write_prometheus(std::string& out, std::string_view store_kind) const;

  private:
    using counter = std::atomic<std::uint64_t>;
    static void bump(counter& c, std::uint64_t n = 1) noexcept {
        c.fetch_add(n, std::memory_order_relaxed);
    }
    static constexpr std::size_t end_reasons = 5;   // quit timeout eof error shutdown
    static constexpr std::size_t tls_versions = 4;  // TLSv1.2 TLSv1.3 other failed
    static constexpr std::size_t store_ops = 3;
    static constexpr std::size_t login_kinds = 10;  // mechanisms[] and "other"
    struct histogram {
        std::array<counter, latency_buckets.size() + 1> buckets{};  // not cumulative
        counter sum_ns{0};
        counter errors{0};
    };
    void write_histograms(std::string& out, std::string_view store_kind) const;

    counter accepted_{0};
    std::array<counter, 2> refused_{};
    counter sessions_open_{0};  // opened; ended ones are subtracted on scrape
    std::array<counter, end_reasons> ended_{};
    std::array<std::array<counter, 2>, login_kinds> logins_{};  // [kind][ok]
    counter failure_delays_{0};
    std::array<counter, tls_versions> tls_{};
    std::array<counter, verbs.size() + 1> commands_{};
    counter retrieved_{0};
    counter deleted_{0};
    counter sent_{0};
    counter received_{0};
    std::array<histogram, store_ops> store_{};
};

/// A label value in the exposition format: backslash, double quote and line feed escaped.
std::string escape_label_value(std::string_view v);

}  // namespace izypop3::transport
