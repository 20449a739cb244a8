#pragma once
// `method test testtype load`: many POP3 sessions against any server (ours or Dovecot), to
// compare servers with one tool. Sessions run as coroutines on a client_pool; each finished
// session starts the next until the session count or the duration is used up.

#include <izypop3/core/client_session.hpp>
#include <izypop3/transport/client_stream.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace izypop3::app {

enum class load_mode {
    login,    ///< connect, log in, STAT, QUIT
    retrall,  ///< log in, STAT, RETR every message, QUIT
    idle,     ///< log in and hold the connection until the duration ends
};

/// "login", "retrall" or "idle", as the `mode` key says it.
std::string_view load_mode_name(load_mode m);

struct load_settings {
    transport::client_stream_options stream;
    /// The login; "%n" in session.user becomes the client's slot number (1..clients), so
    /// that concurrent sessions use different maildrops (a maildrop admits one session).
    core::client_config session;
    /// The password is the user name after "%n" is replaced (our in-process server's rule).
    bool password_is_user = false;
    load_mode mode = load_mode::login;
    unsigned clients = 10;              ///< sessions open at once
    std::uint64_t sessions = 100;       ///< sessions in all; 0 = until the duration ends
    std::chrono::seconds duration{10};  ///< the run stops by itself after this
    unsigned threads = 1;               ///< I/O threads of the client pool
};

/// How the sessions connect: "plain", "STLS when offered", "STLS" or "implicit TLS".
std::string_view connection_name(const load_settings& s);

/// One second of a run, counted from its start: what ended in it and what arrived in it.
struct load_second {
    std::uint64_t completed = 0;
    std::uint64_t failed = 0;
    std::uint64_t octets = 0;
};

/// The q-quantile (0..1) of sorted values, nearest rank; 0 when there are none.
double nearest_rank(const std::vector<double>& sorted, double q);

struct load_report {
    std::uint64_t completed = 0;  ///< sessions that ended with the server's QUIT reply
    std::map<std::string, std::uint64_t> errors;  ///< by kind: "connect_failed", ...
    std::string first_error;                      ///< one example line, for the user
    std::uint64_t cut_short = 0;                  ///< sessions the end of the duration interrupted
    std::uint64_t held_peak = 0;       ///< idle: logged-in connections open at once, at most
    /// idle: seconds from the start until all `clients` were logged in at once; nullopt
    /// when that never happened.
    std::optional<double> all_held_seconds;
    std::uint64_t octets = 0;          ///< message octets received
    std::vector<double> latencies_ms;  ///< of completed sessions, sorted
    /// From the connection's start to the server's reply accepting the login, sorted.
    std::vector<double> login_ms;
    /// Second by second from the start: every whole second of the run, and the part second
    /// at its end when something happened in it.
    std::vector<load_second> timeline;
    std::chrono::duration<double> elapsed{};
    std::chrono::system_clock::time_point started_at{};  ///< wall clock, for the reader
    /// CPU (user + system) the generator's own threads used: next to the server's, it
    /// shows whether the generator or the server was the limit.
    std::chrono::duration<double> generator_cpu{};
    unsigned generator_threads = 1;

    std::uint64_t error_count() const;
    /// The q-quantile (0..1) of the latencies, nearest rank; 0 when there are none.
    double latency_quantile(double q) const;
    /// Milliseconds of generator CPU per session that ended (completed or failed).
    double generator_ms_per_session() const;
    /// The generator's CPU as a share of what its threads could have used, in percent.
    double generator_busy_percent() const;
};

/// Runs the load; returns when it is over (count reached, duration over, or Ctrl-C).
load_report run_load(const load_settings& settings);

/// Memory and CPU of a server process, from /proc (Linux).
struct process_usage {
    double rss_mb = 0;
    double peak_rss_mb = 0;
    double cpu_seconds = 0;
};
std::optional<process_usage> read_process_usage(long pid);

}  // namespace izypop3::app
