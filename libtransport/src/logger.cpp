#include <izypop3/transport/logger.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace izypop3::transport {

std::string_view to_string(log_level level) noexcept {
    switch (level) {
    case log_level::error: return "error";
    case log_level::warn: return "warn";
    case log_level::info: return "info";
    case log_level::debug: return "debug";
    case log_level::trace: return "trace";
    }
    return "?";
}

std::optional<log_level> parse_log_level(std::string_view text) noexcept {
    for (auto level : {log_level::error, log_level::warn, log_level::info, log_level::debug,
                       log_level::trace}) {
        if (to_string(level) == text) return level;
    }
    return std::nullopt;
}

namespace {

std::string utc_timestamp() {
    const auto now = std::chrono::system_clock::now();
    const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(
                            now.time_since_epoch()).count() % 1000;
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900,
                       utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                       millis);
}

}  // namespace

log_sink stderr_sink() {
    // One mutex for every stderr sink: they all write to the same stream.
    static std::mutex stderr_mutex;
    return [](log_level level, std::string_view line) {
        const std::string text =
            fmt::format("{} {:<5} {}\n", utc_timestamp(), to_string(level), line);
        const std::lock_guard lock(stderr_mutex);
        std::fwrite(text.data(), 1, text.size(), stderr);
    };
}

std::string sanitize_for_log(std::string_view text, std::size_t cap) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size() < cap ? text.size() : cap);
    std::size_t used = 0;
    for (; used < text.size(); ++used) {
        const auto octet = static_cast<unsigned char>(text[used]);
        char escape[4];
        std::size_t length = 0;
        switch (octet) {
        case '\r': escape[0] = '\\'; escape[1] = 'r'; length = 2; break;
        case '\n': escape[0] = '\\'; escape[1] = 'n'; length = 2; break;
        case '\t': escape[0] = '\\'; escape[1] = 't'; length = 2; break;
        case '\\': escape[0] = '\\'; escape[1] = '\\'; length = 2; break;
        default:
            if (octet >= 0x20 && octet <= 0x7E) {
                escape[0] = static_cast<char>(octet);
                length = 1;
            } else {
                escape[0] = '\\';
                escape[1] = 'x';
                escape[2] = hex[octet >> 4];
                escape[3] = hex[octet & 0x0F];
                length = 4;
            }
        }
        if (out.size() + length > cap) break;
        out.append(escape, length);
    }
    if (used < text.size()) {
        out += fmt::format(" [... {} more octets dropped]", text.size() - used);
    }
    return out;
}

logger::logger() : logger(log_level::info, stderr_sink()) {}

logger::logger(log_level level, log_sink sink)
    : level_(level), sink_(std::make_shared<const log_sink>(std::move(sink))) {}

logger logger::with_prefix(std::string prefix) const {
    logger child = *this;
    child.prefix_ = prefix_.empty() ? std::move(prefix) : prefix_ + " " + prefix;
    return child;
}

void logger::write(log_level level, std::string_view message) const {
    if (!enabled(level) || !sink_ || !*sink_) return;
    if (prefix_.empty()) {
        (*sink_)(level, message);
        return;
    }
    std::string line;
    line.reserve(prefix_.size() + 1 + message.size());
    line.append(prefix_).append(1, ' ').append(message);
    (*sink_)(level, line);
}

void logger::server_transcript(char direction, std::string_view line) const {
    if (transcript_server_) transcript("[SERVER]", direction, line);
}

void logger::client_transcript(char direction, std::string_view line) const {
    if (transcript_client_) transcript("[CLIENT]", direction, line);
}

void logger::transcript(std::string_view side, char direction, std::string_view line) const {
    if (!enabled(log_level::info)) return;
    if (line.ends_with('\n')) line.remove_suffix(1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    // Only the two documented marks reach the log; anything else is a caller bug, shown as '?'.
    const char mark = (direction == '<' || direction == '>') ? direction : '?';
    write(log_level::info, fmt::format("{} {} {}", side, mark, sanitize_for_log(line)));
}

void logger::server_wait(std::string_view what, std::chrono::steady_clock::duration took) const {
    if (wait_time_) wait("[SERVER]", what, took);
}

void logger::client_wait(std::string_view what, std::chrono::steady_clock::duration took) const {
    if (wait_time_) wait("[CLIENT]", what, took);
}

void logger::wait(std::string_view side, std::string_view what,
                  std::chrono::steady_clock::duration took) const {
    if (!enabled(log_level::info)) return;
    const double ms = std::chrono::duration<double, std::milli>(took).count();
    write(log_level::info, fmt::format("{} waited {:.1f} ms for {}", side, ms, what));
}

}  // namespace izypop3::transport
