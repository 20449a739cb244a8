// The TRANSACTION part of client_session: request queue, pipelining window, reply
// matching, listings and streamed bodies. Login is in client_login.cpp.

#include <izypop3/core/client_session.hpp>
#include <izypop3/core/command.hpp>
#include <izypop3/core/errc.hpp>
#include <izypop3/core/maildrop_listing.hpp>
#include <izypop3/core/status_line.hpp>

#include <algorithm>
#include <cctype>
#include <limits>
#include <stdexcept>

namespace izypop3::core {
namespace {

std::string_view request_verb(request_kind k) noexcept {
    switch (k) {
        case request_kind::capa:
            return "CAPA";
        case request_kind::stat:
            return "STAT";
        case request_kind::list:
            return "LIST";
        case request_kind::uidl:
            return "UIDL";
        case request_kind::top:
            return "TOP";
        case request_kind::retr:
            return "RETR";
        case request_kind::dele:
            return "DELE";
        case request_kind::noop:
            return "NOOP";
        case request_kind::rset:
            return "RSET";
        case request_kind::quit:
            return "QUIT";
    }
    return "NOOP";
}

constexpr std::size_t max_capability_lines = 1000;

bool multi_line(const request& r) noexcept {
    switch (r.kind) {
        case request_kind::capa:
        case request_kind::retr:
        case request_kind::top:
            return true;
        case request_kind::list:
        case request_kind::uidl:
            return r.number == 0;
        default:
            return false;
    }
}

std::string upper_name(std::string_view s) {
    std::string r(s);
    for (auto& ch : r) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return r;
}

bool blank(char ch) noexcept {
    return ch == ' ' || ch == '\t';
}

// The fields of "n value [more]" (a listing line, or the text of a one-line reply). Fields
// are separated by runs of spaces or tabs and blanks at the end are ignored, as some servers
// send them; the line must start with its first field. `more` is whatever follows the second
// field, trimmed.
struct entry_fields {
    std::string_view first, second, more;
};

std::optional<entry_fields> split_fields(std::string_view l) noexcept {
    while (!l.empty() && blank(l.back())) l.remove_suffix(1);
    if (l.empty() || blank(l.front())) return std::nullopt;
    auto take = [&l]() {
        std::size_t end = 0;
        while (end < l.size() && !blank(l[end])) ++end;
        std::string_view field = l.substr(0, end);
        while (end < l.size() && blank(l[end])) ++end;
        l.remove_prefix(end);
        return field;
    };
    entry_fields f;
    f.first = take();
    f.second = take();
    f.more = l;
    return f;
}

// "n value": strict decimal n and a value; what follows the value is returned in `more`
// (RFC 1939 allows more after a LIST size, never after a UID).
bool split_entry(std::string_view l, std::uint32_t& n, std::string_view& value,
                 std::string_view& more) noexcept {
    auto f = split_fields(l);
    if (!f || f->second.empty()) return false;
    auto num = parse_message_number(f->first);
    if (!num) return false;
    n = *num;
    value = f->second;
    more = f->more;
    return true;
}

}  // namespace

client_session::client_session(client_config config)
    : config_(std::move(config)), reader_(config_.max_status_line) {
    if (!config_.random) config_.random = system_random();
}

client_session::~client_session() = default;

void client_session::feed(std::string_view bytes) {
    // After the end nothing more is read: a server that keeps talking (or an endless line
    // that made us fail) must not grow the buffer (SECURITY C08).
    if (phase_ == phase::failed || phase_ == phase::closed) return;
    reader_.append(bytes);
}
void client_session::feed_eof() {
    eof_ = true;
}

bool client_session::has_capability(std::string_view name) const noexcept {
    for (const auto& c : caps_) {
        std::string_view first = std::string_view(c).substr(0, c.find(' '));
        if (first.size() != name.size()) continue;
        bool same = true;
        for (std::size_t i = 0; i < name.size() && same; ++i)
            same = std::toupper(static_cast<unsigned char>(first[i])) ==
                   std::toupper(static_cast<unsigned char>(name[i]));
        if (same) return true;
    }
    return false;
}

bool client_session::pipelining_active() const noexcept {
    return config_.pipelining && (config_.force_pipelining || has_capability("PIPELINING"));
}

std::uint64_t client_session::submit(const request& r) {
    if (phase_ != phase::ready) throw std::logic_error("client_session::submit before logged_in");
    queued_.push_back({next_id_, r});
    return next_id_++;
}

void client_session::write_command(std::string_view l, bool) {
    out_.append(l);
    out_.append("\r\n");
}

void client_session::pop_inflight() {
    inflight_octets_ -= inflight_.front().req.max_octets;
    inflight_.pop_front();
}

void client_session::fill_pipeline() {
    const bool pipelining = pipelining_active();
    const std::size_t window = pipelining ? std::max<std::size_t>(1, config_.pipeline_window) : 1;
    // QUIT ends the conversation: nothing may follow it on the wire.
    if (!inflight_.empty() && inflight_.back().req.kind == request_kind::quit) return;
    while (!queued_.empty() && inflight_.size() < window) {
        // Enough octets asked for keep the link busy; more would only fill buffers.
        const std::uint64_t octets = queued_.front().req.max_octets;
        if (pipelining && octets != 0 && !inflight_.empty() &&
            inflight_octets_ + octets > config_.pipeline_octets)
            break;
        auto item = queued_.front();
        queued_.pop_front();
        std::string cmd(request_verb(item.req.kind));
        const auto& r = item.req;
        if (r.number != 0) {
            cmd += ' ';
            cmd += std::to_string(r.number);
        }
        if (r.kind == request_kind::top) {
            cmd += ' ';
            cmd += std::to_string(r.lines);
        }
        write_command(cmd);
        inflight_octets_ += item.req.max_octets;
        inflight_.push_back(item);
        if (r.kind == request_kind::quit) break;
    }
}

client_action_t client_session::fail(boost::system::error_code ec, std::string detail) {
    phase_ = phase::failed;
    fail_ec_ = ec;
    failure_detail_ = std::move(detail);
    out_.clear();
    return client_action::failed{ec, failure_detail_};
}

client_action_t client_session::next() {
    if (out_sent_) {
        out_.clear();
        out_sent_ = false;
    }
    if (event_) {
        auto e = std::move(*event_);
        event_.reset();
        return e;
    }
    if (tls_pending_) throw std::logic_error("client_session::next() before complete_tls()");
    for (;;) {
        if (phase_ == phase::failed) return client_action::failed{fail_ec_, failure_detail_};
        if (phase_ == phase::closed) return client_action::closed{};
        if (phase_ == phase::ready && inflight_.empty() && mode_ == mode::status &&
            !reader_.unread().empty()) {
            // Every reply is complete and nothing is asked: these bytes are unsolicited.
            // Checked before the next command goes out, or they would be taken as its reply.
            return fail(
                make_error_code(errc::unexpected_data),
                "the server sent data nobody asked for: " + printable(reader_.unread(), 80));
        }
        if (phase_ == phase::ready) fill_pipeline();
        // Commands first, so the server has work while we parse (pipelining).
        if (!out_.empty()) {
            out_sent_ = true;
            return client_action::send{out_};
        }
        if (auto e = step()) {
            if (!out_.empty() && !std::holds_alternative<client_action::failed>(*e)) {
                // A reply produced both an event and a command to send (login steps):
                // send first, report after.
                event_ = std::move(*e);
                out_sent_ = true;
                return client_action::send{out_};
            }
            return std::move(*e);
        }
        if (!out_.empty()) continue;
        if (tls_pending_) return client_action::start_tls{};
        if (eof_) {
            if (mode_ == mode::message)
                return fail(make_error_code(errc::body_incomplete),
                            "the server closed the connection in the middle of a message");
            if (phase_ == phase::ready && inflight_.empty() && queued_.empty()) {
                phase_ = phase::closed;
                return client_action::closed{};
            }
            if (phase_ == phase::auth_sasl && ir_on_auth_line_ && !sasl_answered_) {
                ir_refused_ = true;
                return fail(make_error_code(errc::authentication_failed),
                            "the server closed the connection after AUTH " +
                                upper_name(mechanism_name_) + " with an initial response");
            }
            return fail(make_error_code(errc::body_incomplete),
                        "the server closed the connection before answering");
        }
        return client_action::need_input{};
    }
}

// Progress on received input up to the next event: a status line, a listing line or a
// body slice. Lines that produce no event (CAPA lines, login replies that only queue a
// command) do not end the loop unless there is something to send; otherwise buffered
// replies would sit unread while the caller waits for input that never comes.
// nullopt when nothing more can be done without input (or after queuing commands).
std::optional<client_action_t> client_session::step() {
    for (;;) {
        if (mode_ == mode::message) return body_step();
        if (reader_.unread().empty()) return std::nullopt;
        const bool awaiting = phase_ != phase::ready || !inflight_.empty();
        if (!awaiting)
            return fail(
                make_error_code(errc::unexpected_data),
                "the server sent data nobody asked for: " + printable(reader_.unread(), 80));
        auto l = reader_.next();
        if (!l) return std::nullopt;
        if (l->overlong)
            return fail(make_error_code(errc::line_too_long),
                        "the server sent a line longer than " + std::to_string(reader_.max_line()) +
                            " octets");
        status_copy_.assign(l->text);
        const std::string_view text = status_copy_;
        const bool in_login = phase_ != phase::ready;
        std::optional<client_action_t> e;
        if (mode_ == mode::capa_lines || mode_ == mode::listing) {
            e = on_listing_line(text);
        } else {
            switch (phase_) {
                case phase::greeting:
                    on_greeting(text);
                    break;
                case phase::capa:
                    on_capa_status(text);
                    break;
                case phase::stls:
                    on_stls_reply(text);
                    break;
                case phase::utf8:
                    // Either way the login goes on: a server that refuses UTF8 gets the
                    // name as typed and says itself whether it knows it.
                    choose_and_start_auth();
                    break;
                case phase::auth_user:
                case phase::auth_pass:
                case phase::auth_apop:
                    on_login_reply(text);
                    break;
                case phase::auth_sasl:
                    on_sasl_reply(text);
                    break;
                case phase::ready:
                    return on_status(text);
                default:
                    break;
            }
        }
        if (e) return e;
        if (phase_ == phase::failed) return client_action::failed{fail_ec_, failure_detail_};
        if (in_login && mode_ == mode::status && (!out_.empty() || phase_ == phase::ready) &&
            !reader_.unread().empty()) {
            // During login the client never pipelines: a complete reply is followed by our
            // next command, never by more server bytes. Anything already buffered was
            // injected (SECURITY C07) and would be read as the answer to what we send next.
            return fail(make_error_code(errc::unexpected_data),
                        "the server sent more than one reply during login: " +
                            printable(reader_.unread(), 80));
        }
        if (phase_ == phase::ready && !logged_in_reported_) {
            logged_in_reported_ = true;
            return client_action::logged_in{mechanism_name_};
        }
        if (!out_.empty() || tls_pending_) return std::nullopt;
    }
}

std::optional<client_action_t> client_session::on_status(std::string_view l) {
    auto st = parse_status_line(l);
    if (!st || st->kind == status_kind::continuation)
        return fail(make_error_code(errc::malformed_status),
                    "malformed reply to " + std::string(request_verb(inflight_.front().req.kind)) +
                        ": " + printable(l, 120));
    const inflight cur = inflight_.front();
    client_action::response r;
    r.id = cur.id;
    r.kind = cur.req.kind;
    r.ok = st->kind == status_kind::ok;
    r.code = st->code;
    r.text = st->text;
    if (!r.ok) {
        pop_inflight();
        if (cur.req.kind == request_kind::quit) phase_ = phase::closed;
        return r;
    }
    const auto& q = cur.req;
    if (q.kind == request_kind::stat ||
        (q.number != 0 && (q.kind == request_kind::list || q.kind == request_kind::uidl))) {
        // "count size", "n size", "n uid": the first field after +OK is a strict decimal.
        std::string_view text = st->text;  // "+OK  3 460": the separator may be a run too
        while (!text.empty() && blank(text.front())) text.remove_prefix(1);
        auto f = split_fields(text);
        auto first = f ? parse_decimal(f->first) : std::nullopt;
        // STAT's count and a message number both fit in 32 bits; LIST n / UIDL n must
        // answer for the message asked about.
        const bool bad_first = !first || (q.kind == request_kind::stat
                                              ? *first > std::numeric_limits<std::uint32_t>::max()
                                              : *first != q.number);
        const std::string_view rest = f ? f->second : std::string_view{};
        const bool uid_reply = q.kind == request_kind::uidl;
        auto second = uid_reply ? std::optional<std::uint64_t>(0) : parse_decimal(rest);
        if (uid_reply && !bad_first && (!is_rfc1939_uid(rest) || !f->more.empty()))
            return fail(make_error_code(errc::bad_uid),
                        "invalid unique-id in UIDL reply: " + printable(l, 120));
        if (bad_first || !second || (!uid_reply && *second > (std::uint64_t{1} << 62)))
            return fail(make_error_code(errc::malformed_listing),
                        "malformed reply to " + std::string(request_verb(q.kind)) + ": " +
                            printable(l, 120));
        r.a = *first;
        r.b = *second;
        if (uid_reply) r.uid = rest;
    }
    if (multi_line(q)) {
        if (q.kind == request_kind::retr || q.kind == request_kind::top) {
            mode_ = mode::message;
            unstuffer_.reset();
            body_octets_ = 0;
        } else {
            mode_ = q.kind == request_kind::capa ? mode::capa_lines : mode::listing;
            if (q.kind == request_kind::capa) caps_.clear();
            listing_entries_ = 0;
        }
    } else {
        pop_inflight();
        if (q.kind == request_kind::quit) phase_ = phase::closed;
    }
    return r;
}

std::optional<client_action_t> client_session::on_listing_line(std::string_view l) {
    if (l == ".") {
        mode_ = mode::status;
        if (phase_ != phase::ready) {  // CAPA during login
            on_capa_done();
            return std::nullopt;
        }
        const auto id = inflight_.front().id;
        pop_inflight();
        return client_action::listing_end{id};
    }
    if (!l.empty() && l.front() == '.') l.remove_prefix(1);  // dot-stuffed line
    if (mode_ == mode::capa_lines) {
        // Capability lines are kept, so their number is bounded like their length.
        if (caps_.size() >= max_capability_lines)
            return fail(make_error_code(errc::protocol_violation),
                        "the server sent more than " + std::to_string(max_capability_lines) +
                            " capability lines");
        caps_.emplace_back(l);
        return std::nullopt;
    }
    const auto& cur = inflight_.front();
    const bool uidl = cur.req.kind == request_kind::uidl;
    // The caller keeps what a listing says; its length is bounded like a line's (C12).
    if (++listing_entries_ > config_.max_listing_entries)
        return fail(make_error_code(errc::listing_rejected),
                    "the server's " + std::string(uidl ? "UIDL" : "LIST") +
                        " listing has more than " + std::to_string(config_.max_listing_entries) +
                        " entries");
    std::uint32_t n = 0;
    std::string_view value, more;
    if (!split_entry(l, n, value, more))
        return fail(
            make_error_code(errc::malformed_listing),
            "malformed " + std::string(uidl ? "UIDL" : "LIST") + " line: " + printable(l, 120));
    client_action::listing_entry e;
    e.id = cur.id;
    e.number = n;
    if (uidl) {
        // RFC 1939 section 7 (SECURITY C11): a UID is safe to log and to use as a key, and
        // never has a second word.
        if (!is_rfc1939_uid(value) || !more.empty())
            return fail(make_error_code(errc::bad_uid),
                        "invalid unique-id in UIDL line: " + printable(l, 120));
        e.uid = value;
    } else {
        auto size = parse_decimal(value);
        if (!size || *size > (std::uint64_t{1} << 62))
            return fail(make_error_code(errc::malformed_listing),
                        "invalid size in LIST line: " + printable(l, 120));
        e.size = *size;
    }
    return e;
}

std::optional<client_action_t> client_session::body_step() {
    for (;;) {
        const auto& cur = inflight_.front();
        if (unstuffer_.done()) {
            mode_ = mode::status;
            client_action::body_end end;
            end.id = cur.id;
            end.octets = body_octets_;
            pop_inflight();
            return end;
        }
        auto wire = reader_.unread();
        if (wire.empty()) return std::nullopt;
        wire = wire.substr(0, std::max<std::size_t>(1, config_.body_chunk));
        body_buf_.clear();
        auto p = unstuffer_.decode(wire, body_buf_);
        reader_.consume(p.consumed);
        if (body_buf_.empty()) continue;
        const std::uint64_t limit = cur.req.max_octets;
        if (limit != 0 && body_buf_.size() > limit - body_octets_) return body_over_cap(limit);
        body_octets_ += body_buf_.size();
        return client_action::body{cur.id, body_buf_};
    }
}

// More octets than the cap: the server lied about the size or sends without end. The
// message is given up, and so is the connection, since whatever follows cannot be told
// apart from the rest of that body (SECURITY C10; issue 12). Nothing more is read or sent.
client_action_t client_session::body_over_cap(std::uint64_t limit) {
    const inflight cur = inflight_.front();
    inflight_.clear();
    inflight_octets_ = 0;
    queued_.clear();
    mode_ = mode::status;
    client_action::body_end end;
    end.id = cur.id;
    end.octets = body_octets_;
    end.ec = make_error_code(errc::body_too_large);
    fail(end.ec, "the server sent more than " + std::to_string(limit) + " octets for " +
                     std::string(request_verb(cur.req.kind)) + " " +
                     std::to_string(cur.req.number) +
                     ", more than it announced; the connection is no longer trusted");
    reader_.clear();
    return end;
}

}  // namespace izypop3::core
