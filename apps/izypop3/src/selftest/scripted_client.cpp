#include "selftest/scripted_client.hpp"

#include <array>

namespace izypop3::app {

scripted_client::scripted_client(transport::client_stream_options options, transport::logger log)
    : stream_(std::move(options)), log_(std::move(log)) {}

boost::system::error_code scripted_client::fill() {
    std::array<char, 16384> buf{};
    auto n = stream_.read_some(buf.data(), buf.size());
    if (!n) {
        failure_ = stream_.error_text();
        return n.error();
    }
    lines_.append(std::string_view(buf.data(), *n));
    return {};
}

boost::system::result<std::string> scripted_client::next_line(
    std::string_view what, std::chrono::steady_clock::time_point since) {
    for (;;) {
        if (auto l = lines_.next()) {
            if (l->overlong) {
                failure_ = "the server sent a line longer than 64 KiB";
                return boost::system::errc::make_error_code(boost::system::errc::message_size);
            }
            if (!what.empty()) log_.client_wait(what, std::chrono::steady_clock::now() - since);
            std::string text(l->text);
            log_.client_transcript('<', text);
            return text;
        }
        if (auto ec = fill()) return ec;
    }
}

boost::system::result<std::string> scripted_client::connect() {
    if (auto ec = stream_.connect()) {
        failure_ = stream_.error_text();
        return ec;
    }
    return next_line("the greeting", std::chrono::steady_clock::now());
}

boost::system::result<std::string> scripted_client::command(std::string_view command,
                                                            std::string_view shown) {
    log_.client_transcript('>', shown.empty() ? command : shown);
    std::string line(command);
    line += "\r\n";
    const auto sent = std::chrono::steady_clock::now();
    if (auto ec = stream_.write_all(line)) {
        failure_ = stream_.error_text();
        return ec;
    }
    const std::string_view verb = command.substr(0, command.find(' '));
    // PASS and the like show only their verb, as in the transcript.
    return next_line("the reply to " + std::string(shown.empty() ? command : verb), sent);
}

boost::system::result<std::string> scripted_client::body() {
    core::dot_unstuffer decoder;
    std::string out;
    const auto since = std::chrono::steady_clock::now();
    for (;;) {
        const auto progress = decoder.decode(lines_.unread(), out);
        lines_.consume(progress.consumed);
        if (progress.done) {
            log_.client_wait("the rest of a multi-line reply",
                             std::chrono::steady_clock::now() - since);
            log_.client_transcript('<', "(" + std::to_string(out.size()) + " octets of body)");
            return out;
        }
        if (auto ec = fill()) return ec;
    }
}

boost::system::error_code scripted_client::start_tls() {
    lines_.clear();  // nothing the server sent before the handshake may count (RFC 2595)
    if (auto ec = stream_.start_tls()) {
        failure_ = stream_.error_text();
        return ec;
    }
    return {};
}

void scripted_client::drop() noexcept { stream_.close(); }

std::string scripted_client::error_text() const { return failure_; }

}  // namespace izypop3::app
