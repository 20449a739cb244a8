// The blocking pump between a client_stream and a client_session.

#include "clientpop3/pop3_link.hpp"

#include <izypop3/core/errc.hpp>
#include <izypop3/core/status_line.hpp>

#include <array>
#include <cctype>
#include <variant>

namespace izypop3::app {

namespace ca = core::client_action;

namespace {

// A refused login is the user's to fix (exit 4); anything else before login is the
// connection's (exit 3), e.g. STLS required but not offered.
link_failure classify(boost::system::error_code ec, bool logged_in) {
    if (logged_in) return link_failure::protocol;
    using core::errc;
    if (ec == errc::cleartext_refused) return link_failure::cleartext_refused;
    if (ec == errc::login_deferred) return link_failure::login_deferred;
    for (errc e : {errc::authentication_failed, errc::sasl_bad_message, errc::sasl_cancelled,
                   errc::sasl_server_not_verified, errc::mechanism_unavailable}) {
        if (ec == e) return link_failure::authentication;
    }
    return link_failure::connection;
}

// "-ERR [AUTH] ..." (RFC 3206): the server says the credentials are wrong, so the same
// ones with another mechanism fail too, and each try counts against the account (lockouts,
// growing delays). Without the code the mechanism itself may be what failed.
bool credentials_refused(std::string_view text) {
    const auto st = core::parse_status_line(text);
    if (!st || st->kind != core::status_kind::err || st->code.size() != 4) return false;
    std::string code(st->code);
    for (auto& ch : code) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return code == "AUTH";
}

std::string upper_ascii(std::string_view s) {
    std::string r(s);
    for (auto& ch : r) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return r;
}

}  // namespace

pop3_link::pop3_link(transport::client_stream_options stream, core::client_config session)
    : stream_options_(std::move(stream)),
      session_config_(std::move(session)),
      stream_(std::make_unique<transport::client_stream>(stream_options_)),
      session_(std::make_unique<core::client_session>(session_config_)) {}

bool pop3_link::fail(link_failure why, std::string text) {
    if (failure_ == link_failure::none) {
        failure_ = why;
        error_ = std::move(text);
    }
    stream_->close();
    return false;
}

void pop3_link::interrupt() noexcept {
    interrupted_.store(true);
    std::lock_guard lock(stream_mu_);
    stream_->interrupt();
}

bool pop3_link::connect_and_login() {
    if (auto ec = stream_->connect()) {
        return fail(ec == transport::client_errc::interrupted ? link_failure::interrupted
                                                              : link_failure::connection,
                    stream_->error_text());
    }
    log_.connected();
    return pump([](const core::client_action_t&) {});
}

bool pop3_link::open() {
    while (!connect_and_login()) {
        if (!try_login_differently()) return false;
        reset_connection();
    }
    note_login_result();
    return true;
}

// A login that failed may work another way, on a new connection (the failed one may have
// been closed by the server, and a SASL exchange cannot be restarted on it).
bool pop3_link::try_login_differently() {
    if (logged_in_ || interrupted_.load() || failure_ == link_failure::interrupted) return false;
    const auto& s = *session_;
    if (fallbacks_.next_mechanism && s.mechanism_tried().empty() && !last_refusal_.empty() &&
        (failure_ == link_failure::authentication || failure_ == link_failure::cleartext_refused)) {
        // Nothing left to try after earlier mechanisms failed: the user hears what the
        // server said last, not only that nothing else is usable.
        notes_.push_back("no other mechanism is usable here: " + error_);
        failure_ = link_failure::authentication;
        error_ = last_refusal_;
        return false;
    }
    const bool refused =
        failure_ == link_failure::authentication || failure_ == link_failure::connection;
    if (refused && fallbacks_.xoauth2_two_step && !session_config_.xoauth2_two_step &&
        s.mechanism_tried() == "xoauth2" && s.initial_response_refused()) {
        session_config_.xoauth2_two_step = true;
        fell_back_ = true;
        notes_.push_back("XOAUTH2 with the token on the AUTH line was refused (" + error_ +
                         "); trying the two-step form (the token after \"+ \") on a new "
                         "connection");
        return true;
    }
    // A server that could not prove it knows the password (SCRAM) may be an impostor: it
    // gets no weaker mechanism.
    if (!fallbacks_.next_mechanism || !refused || s.mechanism_tried().empty() ||
        credentials_refused(error_) || session_failure_ == core::errc::sasl_server_not_verified)
        return false;
    session_config_.skip_mechanisms.push_back(s.mechanism_tried());
    last_refusal_ = error_;
    fell_back_ = true;
    notes_.push_back(upper_ascii(s.mechanism_tried()) + " failed (" + error_ +
                     "); trying the next mechanism the server offers on a new connection");
    return true;
}

void pop3_link::note_login_result() {
    if (!fell_back_) return;
    fell_back_ = false;
    const bool two_step = mechanism_ == "xoauth2" && session_config_.xoauth2_two_step;
    notes_.push_back("logged in with " + upper_ascii(mechanism_) +
                     (two_step ? " in the two-step form; set oauth2.twostep true to use it "
                                 "from the start"
                               : ""));
}

void pop3_link::reset_connection() {
    {
        std::lock_guard lock(stream_mu_);
        stream_->close();
        stream_ = std::make_unique<transport::client_stream>(stream_options_);
        if (interrupted_.load()) stream_->interrupt();
    }
    session_ = std::make_unique<core::client_session>(session_config_);
    logged_in_ = false;
    closed_ = false;
    failure_ = link_failure::none;
    session_failure_ = {};
    error_.clear();
    quit_refusal_.clear();
}

bool pop3_link::reconnect() {
    if (failure_ == link_failure::interrupted || interrupted_.load()) return false;
    reset_connection();
    return open();
}

// Handles the I/O actions; false when the connection failed. `done` is set when the session
// waits for input although nothing is outstanding.
bool pop3_link::step_io(const core::client_action_t& a, bool& done) {
    auto io_failure = [this](boost::system::error_code ec) {
        return fail(ec == transport::client_errc::interrupted ? link_failure::interrupted
                                                              : link_failure::connection,
                    stream_->error_text());
    };
    if (const auto* s = std::get_if<ca::send>(&a)) {
        log_.sent(s->bytes, logged_in_);
        if (auto ec = stream_->write_all(s->bytes)) return io_failure(ec);
        return true;
    }
    if (std::holds_alternative<ca::start_tls>(a)) {
        const auto ec = stream_->start_tls();
        session_->complete_tls(!ec);
        if (ec) return io_failure(ec);
        return true;
    }
    // need_input
    if (logged_in_ && session_->outstanding() == 0) {
        done = true;
        return true;
    }
    auto n = stream_->read_some(read_buf_.get(), read_size);
    if (!n) {
        if (n.error() == transport::client_errc::connection_closed) {
            session_->feed_eof();
            return true;
        }
        return io_failure(n.error());
    }
    const std::string_view got(read_buf_.get(), *n);
    // After login the session's events tell what arrived, bodies apart from lines.
    if (!logged_in_) log_.received_before_login(got);
    session_->feed(got);
    return true;
}

bool pop3_link::pump(const event_sink& sink) {
    if (failure_ != link_failure::none) return false;
    for (;;) {
        auto a = session_->next();
        if (std::holds_alternative<ca::send>(a) || std::holds_alternative<ca::need_input>(a) ||
            std::holds_alternative<ca::start_tls>(a)) {
            bool done = false;
            if (!step_io(a, done)) return false;
            if (done) return true;
            continue;
        }
        if (const auto* li = std::get_if<ca::logged_in>(&a)) {
            logged_in_ = true;
            mechanism_ = std::string(li->mechanism);
            if (session_->outstanding() == 0) return true;
            continue;
        }
        if (const auto* f = std::get_if<ca::failed>(&a)) {
            const std::string detail(f->detail);
            session_failure_ = f->ec;
            return fail(classify(f->ec, logged_in_), detail.empty() ? f->ec.message() : detail);
        }
        if (std::holds_alternative<ca::closed>(a)) {
            closed_ = true;
            stream_->close();
            return true;
        }
        log_.event(a);
        sink(a);
    }
}

bool pop3_link::quit() {
    if (failure_ != link_failure::none) return false;
    core::request q;
    q.kind = core::request_kind::quit;
    session_->submit(q);
    // The session fails on a close before the answer, so a pump that returns true saw one.
    bool accepted = false;
    const bool ok = pump([&](const core::client_action_t& a) {
        const auto* r = std::get_if<ca::response>(&a);
        if (r == nullptr || r->kind != core::request_kind::quit) return;
        accepted = r->ok;
        if (!r->ok)
            quit_refusal_ =
                (r->code.empty() ? "" : "[" + std::string(r->code) + "] ") + std::string(r->text);
    });
    return ok && closed_ && accepted;
}

}  // namespace izypop3::app
