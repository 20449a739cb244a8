#pragma once
// A small logger for the transport and the app: a level, a sink and a prefix, no globals.
// The protocol core has no logger of its own; what it hands over (transcript lines) is
// already redacted, and anything a peer wrote passes through sanitize_for_log() here, so a
// hostile server cannot forge log lines or flood the log (SECURITY.md C20, CVE-2021-36386).
//
// No Asio in this header: it is included by code that must stay cheap to compile.

#include <fmt/format.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace izypop3::transport {

enum class log_level { error, warn, info, debug, trace };

/// "error", "warn", "info", "debug", "trace".
[[nodiscard]] std::string_view to_string(log_level level) noexcept;

/// The inverse of to_string(); nullopt for any other text (case-sensitive).
[[nodiscard]] std::optional<log_level> parse_log_level(std::string_view text) noexcept;

/// Receives one complete line (prefix included, no trailing newline). It may be called from
/// several threads at once; the sink is responsible for not interleaving lines.
using log_sink = std::function<void(log_level, std::string_view)>;

/// The default sink: writes `2024-05-01T12:00:00.123Z info  <line>\n` to stderr with one
/// fwrite per line under a mutex, so lines from different threads never interleave.
[[nodiscard]] log_sink stderr_sink();

/// The octet cap of sanitize_for_log(): the escaped text never exceeds it.
inline constexpr std::size_t log_text_cap = 1000;

/// Makes untrusted text safe for one log line: every octet outside printable ASCII
/// (0x20-0x7E) becomes an escape (`\r`, `\n`, `\t`, `\xHH`), a backslash becomes `\\`, so
/// the result is one line that cannot carry terminal control sequences. The escaped text
/// is capped at `cap` octets (an escape is never cut in half); when input is dropped,
/// ` [... N more octets dropped]` is appended, N counting input octets.
[[nodiscard]] std::string sanitize_for_log(std::string_view text,
                                           std::size_t cap = log_text_cap);

/// A cheap-to-copy logger. Copies share the sink; each copy has its own level, prefix and
/// transcript flags, so a session can derive a child with with_prefix() without affecting
/// its parent.
class logger {
public:
    /// Level info, writing to stderr_sink().
    logger();
    logger(log_level level, log_sink sink);

    [[nodiscard]] log_level level() const noexcept { return level_; }
    void set_level(log_level level) noexcept { level_ = level; }
    /// True when a message at `level` would reach the sink.
    [[nodiscard]] bool enabled(log_level level) const noexcept { return level <= level_; }

    [[nodiscard]] const std::string& prefix() const noexcept { return prefix_; }
    /// A child that writes `<parent prefix> <prefix> message`, e.g. with_prefix("[S12
    /// 1.2.3.4:5678]") for one session. Level, sink and transcript flags are copied.
    [[nodiscard]] logger with_prefix(std::string prefix) const;

    /// verbose.serverLog: the server's side of a POP3 conversation is logged.
    void set_transcript_server(bool on) noexcept { transcript_server_ = on; }
    [[nodiscard]] bool transcript_server() const noexcept { return transcript_server_; }
    /// verbose.clientLog: the client's side of a POP3 conversation is logged.
    void set_transcript_client(bool on) noexcept { transcript_client_ = on; }
    [[nodiscard]] bool transcript_client() const noexcept { return transcript_client_; }

    /// verbose.waitTime: how long each wait for the peer took is logged.
    void set_wait_time(bool on) noexcept { wait_time_ = on; }
    [[nodiscard]] bool wait_time() const noexcept { return wait_time_; }

    /// One protocol line as seen by a server session: direction '<' for a line received,
    /// '>' for a line sent. When transcript_server() is on (and info is enabled) it writes
    /// `[SERVER] < USER bob` at info level. A trailing CRLF (or LF) is removed and the rest
    /// goes through sanitize_for_log(). Secrets must be redacted by the caller.
    void server_transcript(char direction, std::string_view line) const;
    /// The same for a client session: `[CLIENT] > RETR 1`, when transcript_client() is on.
    void client_transcript(char direction, std::string_view line) const;

    /// One wait for the peer, when wait_time() is on (and info is enabled):
    /// `[SERVER] waited 12.3 ms for a command` or `[CLIENT] waited 0.8 ms for the reply to
    /// STAT`. `what` is our own text, never a peer's.
    void server_wait(std::string_view what, std::chrono::steady_clock::duration took) const;
    void client_wait(std::string_view what, std::chrono::steady_clock::duration took) const;

    /// Writes `message` (after the prefix) at `level` if enabled. The message is written
    /// as is: text from a peer must go through sanitize_for_log() first.
    void write(log_level level, std::string_view message) const;

    template <class... Args>
    void error(fmt::format_string<Args...> format, Args&&... args) const {
        emit(log_level::error, format, std::forward<Args>(args)...);
    }
    template <class... Args>
    void warn(fmt::format_string<Args...> format, Args&&... args) const {
        emit(log_level::warn, format, std::forward<Args>(args)...);
    }
    template <class... Args>
    void info(fmt::format_string<Args...> format, Args&&... args) const {
        emit(log_level::info, format, std::forward<Args>(args)...);
    }
    template <class... Args>
    void debug(fmt::format_string<Args...> format, Args&&... args) const {
        emit(log_level::debug, format, std::forward<Args>(args)...);
    }
    template <class... Args>
    void trace(fmt::format_string<Args...> format, Args&&... args) const {
        emit(log_level::trace, format, std::forward<Args>(args)...);
    }

private:
    template <class... Args>
    void emit(log_level level, fmt::format_string<Args...> format, Args&&... args) const {
        // Formatting costs more than the check: skip it for disabled levels.
        if (enabled(level)) write(level, fmt::format(format, std::forward<Args>(args)...));
    }
    void transcript(std::string_view side, char direction, std::string_view line) const;
    void wait(std::string_view side, std::string_view what,
              std::chrono::steady_clock::duration took) const;

    log_level level_ = log_level::info;
    std::shared_ptr<const log_sink> sink_;
    std::string prefix_;
    bool transcript_server_ = false;
    bool transcript_client_ = false;
    bool wait_time_ = false;
};

}  // namespace izypop3::transport
