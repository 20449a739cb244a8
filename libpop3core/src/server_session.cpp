// Dispatch, replies and the TRANSACTION state of server_session. Authorization lives in
// server_auth.cpp, CAPA/LANG in server_capabilities.cpp.

#include <izypop3/core/crypto.hpp>
#include <izypop3/core/sasl/apop.hpp>
#include <izypop3/core/server_session.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <stdexcept>

namespace izypop3::core {
namespace {

std::string decimal(std::uint64_t n) {
    std::array<char, 24> buf{};
    auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), n);
    (void)ec;
    return std::string(buf.data(), end);
}

std::string_view parse_error_text(errc e) noexcept {
    switch (e) {
        case errc::empty_command:
            return "Empty command";
        case errc::unknown_command:
            return "Unknown command";
        case errc::missing_argument:
            return "Missing argument";
        case errc::too_many_arguments:
            return "Too many arguments";
        case errc::bad_message_number:
            return "Invalid message number";
        case errc::bad_line_count:
            return "Invalid line count";
        case errc::argument_too_long:
            return "Argument too long";
        case errc::nul_in_line:
            return "NUL octet in command";
        default:
            return "Invalid command";
    }
}

}  // namespace

std::string_view to_string(close_reason r) noexcept {
    switch (r) {
        case close_reason::quit:
            return "quit";
        case close_reason::peer_closed:
            return "peer closed";
        case close_reason::timeout:
            return "idle timeout";
        case close_reason::too_many_bad_commands:
            return "too many bad commands";
        case close_reason::too_many_auth_failures:
            return "too many failed logins";
        case close_reason::login_timeout:
            return "login timeout";
        case close_reason::tls_failed:
            return "TLS handshake failed";
        case close_reason::shutdown:
            return "server shutdown";
        case close_reason::stream_failed:
            return "message read failed";
    }
    return "unknown";
}

server_session::server_session(server_config config)
    : config_(std::move(config)), reader_(config_.max_command_line) {
    if (!config_.random) config_.random = system_random();
    policy_ = config_.policy;
    std::string greeting = config_.greeting;
    // The timestamp doubles as the APOP challenge, so it only appears when APOP can be
    // served (RFC 1939 section 7): a plaintext-equivalent secret, and TLS or a connection
    // where cleartext logins are allowed (S25; CVE-2007-1558).
    if (config_.apop && config_.secret_forms.plaintext && cleartext_allowed()) {
        apop_timestamp_ = sasl::make_apop_timestamp(to_hex(config_.random(10)), config_.host_name);
        greeting += ' ';
        greeting += apop_timestamp_;
    }
    reply_ok(greeting);
}

server_session::~server_session() = default;

void server_session::feed(std::string_view bytes) {
    reader_.append(bytes);
}

void server_session::feed_eof() {
    eof_ = true;
}

void server_session::on_timeout() {
    reply_err("Autologout; idle for too long");
    close_after_flush(close_reason::timeout);
}

void server_session::on_login_timeout() {
    if (in_sasl_) end_sasl();
    reply_err("Login took too long; closing the connection");
    close_after_flush(close_reason::login_timeout);
}

void server_session::on_shutdown() {
    reply_err_code("SYS/TEMP", "Server is shutting down; nothing was deleted, try again later");
    close_after_flush(close_reason::shutdown);
}

server_action_t server_session::flush() {
    out_sent_ = true;
    return server_action::send{out_};
}

server_action_t server_session::next() {
    if (out_sent_) {
        out_.clear();
        out_sent_ = false;
    }
    if (request_) {
        if (!out_.empty()) return flush();  // earlier replies go out before the request
        auto r = *request_;
        request_.reset();
        return r;
    }
    if (pending_ == pending::delay) {
        pending_ = pending::none;
        finish_auth_failure();
    } else if (pending_ == pending::delay_challenge) {
        pending_ = pending::none;
        send_line(failure_reply_);
    } else if (pending_ != pending::none) {
        throw std::logic_error("server_session::next() called before complete_*()");
    }
    for (;;) {
        if (closing_) {
            if (!out_.empty() && *closing_ != close_reason::peer_closed &&
                *closing_ != close_reason::stream_failed && *closing_ != close_reason::tls_failed)
                return flush();
            out_.clear();
            state_ = session_state::closed;
            return server_action::close{*closing_};
        }
        if (out_.size() >= config_.output_high_water) return flush();
        if (listing_) {
            continue_listing();
            continue;
        }
        auto l = reader_.next();
        if (!l) {
            if (!out_.empty()) return flush();
            if (eof_) {
                closing_ = close_reason::peer_closed;
                continue;
            }
            return server_action::need_input{};
        }
        handle_line(*l);
        if (request_) {
            if (!out_.empty()) return flush();
            auto r = *request_;
            request_.reset();
            return r;
        }
    }
}

void server_session::send_line(std::string_view l) {
    if (config_.transcript) config_.transcript('>', l);
    if (command_event_ && (l.starts_with("+OK") || l.starts_with("-ERR"))) {
        command_event_->ok = l.starts_with("+OK");
        auto event = std::move(*command_event_);
        command_event_.reset();
        config_.on_command(event);
    }
    out_.append(l);
    out_.append("\r\n");
}

void server_session::reply_ok(std::string_view text) {
    std::string l = "+OK";
    if (!text.empty()) {
        l += ' ';
        l += text;
    }
    send_line(l);
}

void server_session::reply_err(std::string_view text) {
    std::string l = "-ERR ";
    l += text;
    send_line(l);
}

void server_session::reply_err_code(std::string_view code, std::string_view text) {
    std::string l = "-ERR [";
    l += code;
    l += "] ";
    l += text;
    send_line(l);
}

void server_session::close_after_flush(close_reason r) {
    if (!closing_) closing_ = r;
}

void server_session::bad_command(std::string_view text) {
    reply_err(text);
    ++stats_.bad_commands;
    const unsigned limit = state_ == session_state::authorization
                               ? config_.max_bad_commands_before_login
                               : config_.max_bad_commands;
    if (stats_.bad_commands >= limit) {
        reply_err("Too many bad commands; closing the connection");
        close_after_flush(close_reason::too_many_bad_commands);
    }
}

// The event is filled from the redacted line, so it never holds more than a log would.
void server_session::begin_command_event(std::string_view l) {
    if (!config_.on_command) return;
    const std::string redacted = redact_command_line(l, false);
    const auto sp = redacted.find(' ');
    command_event ev;
    ev.verb = redacted.substr(0, sp);
    for (auto& ch : ev.verb) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (sp != std::string::npos) ev.arguments = redacted.substr(sp + 1);
    command_event_ = std::move(ev);
}

void server_session::handle_line(const line& l) {
    if (l.overlong) {
        // After an error challenge any answer ends the exchange as the failed login it is.
        if (sasl_error_) {
            sasl_line({});
            return;
        }
        if (in_sasl_) end_sasl();
        bad_command("Line too long");
        return;
    }
    if (config_.transcript) config_.transcript('<', redact_command_line(l.text, in_sasl_));
    if (in_sasl_) {
        sasl_line(l.text);
        return;
    }
    begin_command_event(l.text);
    auto parsed = parse_command(l.text);
    if (!parsed) {
        const auto& e = parsed.error();
        std::string text;
        if (e.v) {
            text = verb_name(*e.v);
            text += ": ";
        }
        text += parse_error_text(e.code);
        bad_command(text);
        return;
    }
    handle_command(*parsed);
}

namespace {

struct verb_rule {
    verb v;
    bool before_login;
    bool after_login;
};

// RFC 1939 section 3 and RFC 2449: which state each command belongs to. CAPA, QUIT and
// LANG work in both.
constexpr std::array<verb_rule, 17> verb_rules{{
    {verb::user, true, false},
    {verb::pass, true, false},
    {verb::apop, true, false},
    {verb::auth, true, false},
    {verb::stls, true, false},
    {verb::utf8, true, false},
    {verb::capa, true, true},
    {verb::quit, true, true},
    {verb::lang, true, true},
    {verb::stat, false, true},
    {verb::list, false, true},
    {verb::uidl, false, true},
    {verb::retr, false, true},
    {verb::top, false, true},
    {verb::dele, false, true},
    {verb::noop, false, true},
    {verb::rset, false, true},
}};

}  // namespace

void server_session::handle_command(const command& c) {
    const bool logged_in = state_ == session_state::transaction;
    for (const auto& rule : verb_rules) {
        if (rule.v != c.v) continue;
        if (logged_in ? !rule.after_login : !rule.before_login) {
            std::string text(verb_name(c.v));
            text += logged_in ? ": not allowed after login" : ": log in first";
            bad_command(text);
            return;
        }
        break;
    }
    using handler = void (server_session::*)(const command&);
    struct entry {
        verb v;
        handler h;
    };
    static constexpr std::array<entry, 17> handlers{{
        {verb::user, &server_session::cmd_user},
        {verb::pass, &server_session::cmd_pass},
        {verb::apop, &server_session::cmd_apop},
        {verb::auth, &server_session::cmd_auth},
        {verb::stls, &server_session::cmd_stls},
        {verb::utf8, &server_session::cmd_utf8},
        {verb::capa, &server_session::cmd_capa},
        {verb::quit, &server_session::cmd_quit},
        {verb::lang, &server_session::cmd_lang},
        {verb::stat, &server_session::cmd_stat},
        {verb::list, &server_session::cmd_list},
        {verb::uidl, &server_session::cmd_list},
        {verb::retr, &server_session::cmd_retr},
        {verb::top, &server_session::cmd_retr},
        {verb::dele, &server_session::cmd_dele},
        {verb::noop, &server_session::cmd_noop},
        {verb::rset, &server_session::cmd_rset},
    }};
    for (const auto& e : handlers) {
        if (e.v == c.v) {
            (this->*e.h)(c);
            return;
        }
    }
}

bool server_session::message_ref(const command& c, std::size_t& index) {
    // The parser guarantees a number >= 1 for these verbs; a 0 here would index before the
    // first message, so it is refused rather than trusted.
    const std::uint32_t n = c.number.value_or(0);
    if (n == 0 || n > messages_.size()) {
        reply_err("No such message");
        return false;
    }
    index = n - 1;
    if (deleted_[index]) {
        reply_err("Message " + decimal(n) + " already deleted");
        return false;
    }
    return true;
}

std::pair<std::size_t, std::uint64_t> server_session::live_totals() const noexcept {
    std::size_t count = 0;
    std::uint64_t octets = 0;
    for (std::size_t i = 0; i < messages_.size(); ++i) {
        if (deleted_[i]) continue;
        ++count;
        octets += messages_[i].size;
    }
    return {count, octets};
}

void server_session::cmd_stat(const command&) {
    auto [count, octets] = live_totals();
    reply_ok(decimal(count) + ' ' + decimal(octets));
}

void server_session::cmd_list(const command& c) {
    const bool uidl = c.v == verb::uidl;
    if (uidl && !stable_uids_) {
        reply_err("UIDL is not available: this mailbox cannot keep message ids stable");
        return;
    }
    if (c.number) {
        std::size_t i = 0;
        if (!message_ref(c, i)) return;
        reply_ok(decimal(i + 1) + ' ' + (uidl ? messages_[i].uid : decimal(messages_[i].size)));
        return;
    }
    if (uidl) {
        reply_ok("Unique-ID listing follows");
    } else {
        auto [count, octets] = live_totals();
        reply_ok(decimal(count) + " messages (" + decimal(octets) + " octets)");
    }
    listing_ = listing_cursor{uidl, 0};
}

// Listings are produced in slices so a maildrop of a million messages never sits in
// memory as one reply.
void server_session::continue_listing() {
    auto& cur = *listing_;
    while (cur.next < messages_.size() && out_.size() < config_.output_high_water) {
        const std::size_t i = cur.next++;
        if (deleted_[i]) continue;
        out_ += decimal(i + 1);
        out_ += ' ';
        out_ += cur.uidl ? messages_[i].uid : decimal(messages_[i].size);
        out_ += "\r\n";
    }
    if (cur.next >= messages_.size()) {
        out_ += ".\r\n";
        listing_.reset();
    }
}

void server_session::cmd_retr(const command& c) {
    std::size_t i = 0;
    if (!message_ref(c, i)) return;
    current_message_ = i;
    current_body_lines_ = c.v == verb::top ? c.lines : std::nullopt;
    pending_ = pending::message_open;
    request_ = server_action::open_message{i};
}

void server_session::complete_open_message(bool ok) {
    if (!ok) {
        complete_open_message(message_open_failure::gone);
        return;
    }
    expect(pending::message_open);
    if (current_body_lines_) {
        reply_ok("Top of message follows");
    } else {
        reply_ok(decimal(messages_[current_message_].size) + " octets");
    }
    pending_ = pending::message_stream;
    request_ = server_action::stream_message{current_message_, current_body_lines_};
}

void server_session::complete_open_message(message_open_failure failure) {
    expect(pending::message_open);
    if (failure == message_open_failure::gone) {
        reply_err("Message " + decimal(current_message_ + 1) +
                  " is no longer in the mailbox; it was removed by someone else");
    } else {
        reply_err("[SYS/TEMP] Message " + decimal(current_message_ + 1) +
                  " could not be read from the store; try again later");
    }
}

void server_session::complete_message(bool ok, std::uint64_t octets_sent) {
    expect(pending::message_stream);
    if (!ok) {
        // Part of the body is on the wire already; no reply can repair that, so the only
        // honest thing left is to drop the connection (the client sees no terminator).
        closing_ = close_reason::stream_failed;
        return;
    }
    if (current_body_lines_) {
        ++stats_.top;
    } else {
        ++stats_.retrieved;
        stats_.retrieved_octets += octets_sent;
        retrieved_[current_message_] = 1;
    }
}

void server_session::cmd_dele(const command& c) {
    std::size_t i = 0;
    if (!message_ref(c, i)) return;
    deleted_[i] = 1;
    reply_ok("Message " + decimal(i + 1) + " deleted");
}

void server_session::cmd_noop(const command&) {
    reply_ok({});
}

void server_session::cmd_rset(const command&) {
    std::fill(deleted_.begin(), deleted_.end(), std::uint8_t{0});
    auto [count, octets] = live_totals();
    reply_ok("Maildrop has " + decimal(count) + " messages (" + decimal(octets) + " octets)");
}

void server_session::cmd_quit(const command&) {
    if (state_ != session_state::transaction) {
        reply_ok(config_.implementation + " signing off");
        close_after_flush(close_reason::quit);
        return;
    }
    state_ = session_state::update;
    to_delete_.clear();
    // RFC 2449 section 6.7: with EXPIRE 0 nothing a client retrieved stays on the server.
    const bool expire_now = policy_.expire_days == 0u;
    for (std::size_t i = 0; i < messages_.size(); ++i)
        if (deleted_[i] || (expire_now && retrieved_[i])) to_delete_.push_back(i);
    to_record_.clear();
    if (policy_.expire_days.value_or(0) > 0) {
        for (std::size_t i = 0; i < messages_.size(); ++i)
            if (retrieved_[i] && !deleted_[i]) to_record_.push_back(i);
    }
    if (to_delete_.empty() && to_record_.empty()) {
        update_finished_ = true;
        reply_ok(config_.implementation + " signing off (nothing deleted)");
        close_after_flush(close_reason::quit);
        return;
    }
    pending_ = pending::commit;
    request_ = server_action::commit_deletions{to_delete_, to_record_};
}

void server_session::complete_commit(bool ok) {
    expect(pending::commit);
    update_finished_ = true;
    if (ok && to_delete_.empty()) {
        reply_ok(config_.implementation + " signing off (nothing deleted)");
    } else if (ok) {
        stats_.deleted = static_cast<std::uint32_t>(to_delete_.size());
        reply_ok(config_.implementation + " signing off (" + decimal(to_delete_.size()) +
                 " messages deleted)");
    } else {
        // RFC 1939 section 6: report the failure; the store guarantees that messages not
        // marked are untouched.
        reply_err_code("SYS/TEMP",
                       "Some messages marked as deleted could not be removed; they will be "
                       "listed again next time");
    }
    close_after_flush(close_reason::quit);
}

void server_session::expect(pending p) {
    if (pending_ != p) throw std::logic_error("server_session: complete_*() without its request");
    pending_ = pending::none;
}

std::string redact_command_line(std::string_view line, bool in_sasl_exchange) {
    if (in_sasl_exchange) return line == "*" ? std::string(line) : std::string("<redacted>");
    // The verb is found as leniently as a careless client might write it (leading blanks,
    // tabs or NULs as separators): such a PASS line is rejected by the parser, but the
    // password in it must stay out of the log all the same.
    constexpr std::string_view blanks(" \t\0", 3);
    const auto begin = line.find_first_not_of(blanks);
    if (begin == std::string_view::npos) return std::string(line);
    const auto sp = line.find_first_of(blanks, begin);
    if (sp == std::string_view::npos) return std::string(line);
    std::string v(line.substr(begin, sp - begin));
    for (auto& ch : v) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (v == "PASS") return std::string(line.substr(0, sp)) + " <redacted>";
    if (v == "APOP" || v == "AUTH") {
        // Keep the user name (APOP) or mechanism (AUTH); the rest is secret.
        const auto arg = line.find_first_not_of(blanks, sp);
        if (arg == std::string_view::npos) return std::string(line);
        const auto sp2 = line.find_first_of(blanks, arg);
        if (sp2 == std::string_view::npos) return std::string(line);
        return std::string(line.substr(0, sp2)) + " <redacted>";
    }
    return std::string(line);
}

}  // namespace izypop3::core
