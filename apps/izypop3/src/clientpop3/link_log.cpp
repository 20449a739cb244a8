#include "clientpop3/link_log.hpp"

#include <izypop3/core/client_redaction.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <variant>

namespace izypop3::app {

namespace ca = core::client_action;

namespace {

constexpr std::size_t max_logged_line = 1000;

std::string_view verb_of(std::string_view line) {
    return line.substr(0, line.find(' '));
}

// RETR, TOP, CAPA, and LIST or UIDL without a message number answer with more lines.
bool multiline_reply(std::string_view command) {
    const std::string_view verb = verb_of(command);
    if (verb == "RETR" || verb == "TOP" || verb == "CAPA") return true;
    return (verb == "LIST" || verb == "UIDL") && verb.size() == command.size();
}

// The status line as the server sent it, rebuilt from the parsed reply.
std::string status_line(const ca::response& r) {
    std::string line = r.ok ? "+OK" : "-ERR";
    if (!r.code.empty()) line += fmt::format(" [{}]", r.code);
    if (!r.text.empty()) line += fmt::format(" {}", r.text);
    return line;
}

}  // namespace

link_log::link_log(transport::logger log)
    : log_(std::move(log)), transcript_(log_.transcript_client()), waits_(log_.wait_time()) {}

void link_log::connected() {
    if (!active()) return;
    // A new connection (also after reconnect): nothing of the old one is awaited any more.
    pending_.clear();
    partial_.clear();
    in_multiline_ = false;
    login_awaited_ = "the greeting";
    login_since_ = now();
}

void link_log::sent(std::string_view bytes, bool logged_in) {
    if (!active()) return;
    const auto at = now();
    while (!bytes.empty()) {
        const auto lf = bytes.find('\n');
        std::string_view line = bytes.substr(0, lf);
        if (line.ends_with('\r')) line.remove_suffix(1);
        if (logged_in) {
            if (transcript_) log_.client_transcript('>', line);
            pending_.push_back({std::string(line), at});
        } else {
            const std::string shown = core::redact_client_login_line(line);
            if (transcript_) log_.client_transcript('>', shown);
            // "<redacted>" is a SASL response: the server's answer is still the reply to AUTH.
            login_awaited_ = shown == "<redacted>" ? "the reply to a SASL response"
                                                   : fmt::format("the reply to {}", verb_of(shown));
            login_since_ = at;
        }
        if (lf == std::string_view::npos) break;
        bytes.remove_prefix(lf + 1);
    }
}

void link_log::received_before_login(std::string_view bytes) {
    if (!active()) return;
    while (!bytes.empty()) {
        const auto lf = bytes.find('\n');
        if (partial_.size() < max_logged_line)
            partial_.append(bytes.substr(0, std::min(lf, max_logged_line - partial_.size())));
        if (lf == std::string_view::npos) break;
        if (partial_.ends_with('\r')) partial_.pop_back();
        line_received(partial_);
        partial_.clear();
        bytes.remove_prefix(lf + 1);
    }
}

void link_log::line_received(std::string_view line) {
    if (transcript_) log_.client_transcript('<', line);
    if (!login_awaited_.empty()) {
        wait_ended(login_awaited_, login_since_);
        login_awaited_.clear();
        // Login replies come one at a time: the first reply after login starts from here.
        last_done_ = now();
    }
}

void link_log::wait_ended(const std::string& what, clock::time_point since) {
    if (waits_) log_.client_wait(what, clock::now() - since);
}

void link_log::reply_arrived(const ca::response& r) {
    if (transcript_) log_.client_transcript('<', status_line(r));
    if (pending_.empty()) return;  // a reply to nothing: the session fails on it
    const awaited& cmd = pending_.front();
    wait_ended(fmt::format("the reply to {}", cmd.command), std::max(cmd.sent, last_done_));
    if (r.ok && multiline_reply(cmd.command)) {
        in_multiline_ = true;
        multiline_since_ = now();
        body_octets_ = 0;
        return;
    }
    pending_.pop_front();
    last_done_ = now();
}

void link_log::event(const core::client_action_t& a) {
    if (!active()) return;
    if (const auto* r = std::get_if<ca::response>(&a)) {
        reply_arrived(*r);
    } else if (const auto* e = std::get_if<ca::listing_entry>(&a)) {
        if (transcript_) {
            log_.client_transcript('<', e->uid.empty() ? fmt::format("{} {}", e->number, e->size)
                                                       : fmt::format("{} {}", e->number, e->uid));
        }
    } else if (const auto* b = std::get_if<ca::body>(&a)) {
        body_octets_ += b->data.size();
    } else if (std::holds_alternative<ca::listing_end>(a) ||
               std::holds_alternative<ca::body_end>(a)) {
        const auto* end = std::get_if<ca::body_end>(&a);
        if (transcript_) {
            if (end != nullptr) {
                log_.client_transcript(
                    '<', fmt::format("({} octets of message body{})", body_octets_,
                                     end->ec ? ", the rest dropped past the size limit" : ""));
            }
            log_.client_transcript('<', ".");
        }
        if (!pending_.empty() && in_multiline_) {
            wait_ended(fmt::format("the {} of {}", end != nullptr ? "body" : "listing",
                                   pending_.front().command),
                       multiline_since_);
            pending_.pop_front();
        }
        in_multiline_ = false;
        last_done_ = now();
    }
}

}  // namespace izypop3::app
