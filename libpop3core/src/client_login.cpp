// The login part of client_session: greeting, CAPA, STLS (RFC 2595), mechanism choice and
// the SASL exchange (RFC 5034).

#include <izypop3/core/base64.hpp>
#include <izypop3/core/client_session.hpp>
#include <izypop3/core/errc.hpp>
#include <izypop3/core/sasl/apop.hpp>
#include <izypop3/core/status_line.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>

namespace izypop3::core {
namespace {

std::string lower(std::string_view s) {
    std::string r(s);
    for (auto& ch : r) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return r;
}

std::string upper(std::string_view s) {
    std::string r(s);
    for (auto& ch : r) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return r;
}

// Strongest first; APOP and the cleartext ones only under the conditions in
// choose_mechanism().
constexpr std::array<std::string_view, 7> auto_order{
    "scram-sha-256", "scram-sha-1", "cram-md5", "apop", "plain", "login", "user"};

constexpr std::size_t rfc5034_max_line = 255;  // octets including CRLF

// Mechanisms that put the password, or a bearer token that is as good as one, on the wire
// as it is: without TLS anyone on the path can read it.
bool reveals_secret(std::string_view m) noexcept {
    return m == "user" || m == "plain" || m == "login" || m == "xoauth2" || m == "oauthbearer";
}

constexpr std::string_view cleartext_hint =
    "use TLS (tls true on port 995, or starttls true), or send it in clear anyway with "
    "allowplaintext true (or starttls false)";

// A CR, LF or NUL in text that goes into a command line would end the line early and let
// the rest be read as a second command (a password "x\r\nDELE 1" would delete mail).
bool safe_in_command(std::string_view s) noexcept {
    return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// RFC 2449 section 8.1.1 ([IN-USE], [LOGIN-DELAY]) and RFC 3206 ([SYS/TEMP]): the login
// failed for a reason that passes; the password is not what is wrong.
bool temporary_refusal(std::string_view code) noexcept {
    const std::string c = upper(code);
    return c == "IN-USE" || c == "LOGIN-DELAY" || c == "SYS/TEMP";
}

boost::system::error_code refusal_error(std::string_view code) noexcept {
    return make_error_code(temporary_refusal(code) ? errc::login_deferred
                                                   : errc::authentication_failed);
}

}  // namespace

bool client_session::cleartext_ok() const noexcept {
    return config_.tls_active || config_.allow_plaintext || config_.tls_declined;
}

void client_session::on_greeting(std::string_view l) {
    auto st = parse_status_line(l);
    if (!st || st->kind == status_kind::continuation) {
        fail(make_error_code(errc::malformed_status),
             "the server's greeting is not a POP3 greeting: " + printable(l, 120));
        return;
    }
    if (st->kind == status_kind::err) {
        fail(make_error_code(errc::protocol_violation),
             "the server refused the connection: " + printable(l, 200));
        return;
    }
    // Everything after "+OK ", response code included: the caller decides what to show,
    // and must pass it through printable() first (SECURITY C06).
    greeting_ = l.size() > 4 ? std::string(l.substr(4)) : std::string();
    // The APOP timestamp is the last <...> in the greeting (RFC 1939 section 7).
    const auto open = greeting_.rfind('<');
    const auto close = greeting_.find('>', open == std::string::npos ? 0 : open);
    if (open != std::string::npos && close != std::string::npos) {
        std::string_view ts = std::string_view(greeting_).substr(open, close - open + 1);
        if (sasl::valid_apop_timestamp(ts)) apop_timestamp_ = std::string(ts);
    }
    if (!reader_.unread().empty()) {
        // Nothing may follow the greeting before we speak (SECURITY C07).
        fail(make_error_code(errc::unexpected_data),
             "the server sent data after its greeting before any command: " +
                 printable(reader_.unread(), 80));
        return;
    }
    write_command("CAPA");
    phase_ = phase::capa;
}

void client_session::on_capa_status(std::string_view l) {
    auto st = parse_status_line(l);
    if (!st || st->kind == status_kind::continuation) {
        fail(make_error_code(errc::malformed_status),
             "malformed reply to CAPA: " + printable(l, 120));
        return;
    }
    caps_.clear();
    if (st->kind == status_kind::ok) {
        capa_ok_ = true;
        mode_ = mode::capa_lines;
        return;
    }
    capa_ok_ = false;  // an RFC 1939-only server
    on_capa_done();
}

void client_session::on_capa_done() {
    if (!config_.tls_active && !stls_done_ && config_.starttls != starttls_policy::never) {
        if (has_capability("STLS")) {
            write_command("STLS");
            phase_ = phase::stls;
            return;
        }
        if (config_.starttls == starttls_policy::required) {
            fail(make_error_code(errc::tls_required),
                 "STLS is required but the server does not offer it; no credentials were sent");
            return;
        }
    }
    choose_and_start_auth();
}

void client_session::on_stls_reply(std::string_view l) {
    auto st = parse_status_line(l);
    if (!st || st->kind == status_kind::continuation) {
        fail(make_error_code(errc::malformed_status),
             "malformed reply to STLS: " + printable(l, 120));
        return;
    }
    if (st->kind == status_kind::ok) {
        if (!reader_.unread().empty()) {
            // Bytes after "+OK" but before the handshake were injected by someone in the
            // middle (SECURITY C01, CVE-2021-22947 class): never read them as replies.
            fail(make_error_code(errc::unexpected_data),
                 "the server sent data after accepting STLS and before TLS started; aborting");
            return;
        }
        tls_pending_ = true;
        return;
    }
    if (config_.starttls == starttls_policy::required) {
        fail(make_error_code(errc::tls_required), "STLS is required but the server refused it (" +
                                                      printable(l, 120) +
                                                      "); no credentials were sent");
        return;
    }
    stls_done_ = true;
    choose_and_start_auth();
}

void client_session::complete_tls(bool ok) {
    if (!tls_pending_) throw std::logic_error("client_session::complete_tls() without start_tls");
    tls_pending_ = false;
    // Bytes a transport fed between start_tls and the handshake are plaintext from before
    // TLS; none of it may be read as a reply (RFC 2595 section 4).
    reader_.clear();
    if (!ok) {
        fail(make_error_code(errc::tls_required), "the TLS handshake after STLS failed");
        return;
    }
    config_.tls_active = true;
    stls_done_ = true;
    // RFC 2595 section 4: what the server said before TLS may have been forged, the greeting
    // and its APOP timestamp included (a timestamp chosen by a man in the middle makes APOP
    // an offline dictionary attack, CVE-2007-1558).
    caps_.clear();
    capa_ok_ = false;
    greeting_.clear();
    apop_timestamp_.clear();
    write_command("CAPA");
    phase_ = phase::capa;
}

std::string client_session::choose_mechanism(boost::system::error_code& ec,
                                             std::string& why_not) const {
    std::vector<std::string> sasl;
    for (const auto& c : caps_) {
        if (upper(std::string_view(c).substr(0, 5)) != "SASL ") continue;
        std::string_view rest = std::string_view(c).substr(5);
        while (!rest.empty()) {
            const auto sp = rest.find(' ');
            if (sp != 0) sasl.push_back(lower(rest.substr(0, sp)));
            if (sp == std::string_view::npos) break;
            rest.remove_prefix(sp + 1);
        }
    }
    auto offered = [&](std::string_view m) {
        if (m == "user") return !capa_ok_ || has_capability("USER");
        if (m == "apop") return !apop_timestamp_.empty();
        for (const auto& s : sasl)
            if (s == m) return true;
        return false;
    };
    ec = make_error_code(errc::mechanism_unavailable);
    const std::string wanted = lower(config_.mechanism);
    if (wanted != "auto") {
        if (reveals_secret(wanted) && !cleartext_ok()) {
            // Naming a mechanism is no consent to send the password in clear (issue 12).
            ec = make_error_code(errc::cleartext_refused);
            why_not = "not sending the password in clear: " + upper(wanted) +
                      " on a connection without TLS; " + std::string(cleartext_hint);
            return {};
        }
        if (wanted == "apop" && apop_timestamp_.empty()) {
            why_not = stls_done_ && config_.tls_active
                          ? "APOP was asked for, but after STLS there is no greeting to take its "
                            "timestamp from (the one before TLS is not trusted)"
                          : "APOP was asked for but the server's greeting has no APOP timestamp";
            return {};
        }
        if (wanted != "user" && wanted != "apop" && capa_ok_ && !offered(wanted)) {
            std::string list;
            for (const auto& s : sasl) {
                if (!list.empty()) list += ' ';
                list += upper(s);
            }
            why_not = "the server does not offer " + upper(wanted) +
                      " (it offers: " + (list.empty() ? "no SASL mechanisms" : list) + ")";
            return {};
        }
        return wanted;
    }
    std::string held_back;  // cleartext mechanisms offered but not allowed here
    auto skipped = [&](std::string_view m) {
        for (const auto& s : config_.skip_mechanisms)
            if (lower(s) == m) return true;
        return false;
    };
    for (auto m : auto_order) {
        if (!offered(m) || skipped(m)) continue;
        if (reveals_secret(m) && !cleartext_ok()) {
            if (!held_back.empty()) held_back += ' ';
            held_back += upper(m);
            continue;
        }
        // APOP is MD5 over a timestamp a man in the middle can choose (CVE-2007-1558): only
        // inside TLS.
        if (m == "apop" && !config_.tls_active) continue;
        return std::string(m);
    }
    if (!held_back.empty()) {
        ec = make_error_code(errc::cleartext_refused);
        why_not = "not sending the password in clear: the server offers only " + held_back +
                  " and this connection has no TLS; " + std::string(cleartext_hint);
        return {};
    }
    why_not = "the server offers no login mechanism this client supports";
    return {};
}

void client_session::choose_and_start_auth() {
    std::string why_not;
    boost::system::error_code why_ec;
    mechanism_name_ = choose_mechanism(why_ec, why_not);
    if (mechanism_name_.empty()) {
        fail(why_ec, why_not);
        return;
    }
    const bool user_in_line = mechanism_name_ == "user" || mechanism_name_ == "apop";
    if ((user_in_line && !safe_in_command(config_.user)) ||
        (mechanism_name_ == "user" && !safe_in_command(config_.secret))) {
        fail(make_error_code(errc::authentication_failed),
             "the user name or password contains a line break or NUL and cannot be sent "
             "with " +
                 upper(mechanism_name_));
        return;
    }
    if (utf8_needed()) {
        utf8_sent_ = true;
        write_command("UTF8");
        phase_ = phase::utf8;
        return;
    }
    mechanism_tried_ = mechanism_name_;
    if (mechanism_name_ == "user") {
        write_command("USER " + config_.user);
        phase_ = phase::auth_user;
    } else if (mechanism_name_ == "apop") {
        write_command("APOP " + config_.user + ' ' +
                      sasl::apop_digest(apop_timestamp_, config_.secret));
        phase_ = phase::auth_apop;
    } else {
        start_sasl(mechanism_name_);
    }
}

// RFC 6856 section 2: a UTF-8 user name or password goes in USER, PASS or APOP only after
// UTF8, and only to a server that says "UTF8 USER". SASL carries UTF-8 by itself.
bool client_session::utf8_needed() const {
    if (utf8_sent_ || (mechanism_name_ != "user" && mechanism_name_ != "apop")) return false;
    auto ascii = [](std::string_view s) {
        return std::all_of(s.begin(), s.end(),
                           [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    };
    if (ascii(config_.user) && (mechanism_name_ == "apop" || ascii(config_.secret))) return false;
    for (const auto& c : caps_)
        if (upper(c) == "UTF8 USER") return true;
    return false;
}

void client_session::start_sasl(std::string_view name) {
    sasl::client_credentials creds{config_.user, config_.authzid, config_.secret, config_.host,
                                   config_.port};
    mechanism_ = sasl::make_client_mechanism(name, creds, config_.random, config_.xoauth2_two_step);
    if (!mechanism_) {
        fail(make_error_code(errc::mechanism_unavailable),
             "unknown authentication mechanism '" + std::string(name) + "'");
        return;
    }
    std::string cmd = "AUTH " + upper(name);
    // RFC 1734 servers (no CAPA) know no initial response.
    auto ir = capa_ok_ ? mechanism_->initial_response() : std::nullopt;
    if (!capa_ok_) pending_ir_ = mechanism_->initial_response();
    if (ir) {
        const std::string enc = ir->empty() ? std::string("=") : base64_encode(*ir);
        if (cmd.size() + 1 + enc.size() + 2 <= rfc5034_max_line) {
            cmd += ' ';
            cmd += enc;
            ir_on_auth_line_ = true;
        } else {
            pending_ir_ = std::move(*ir);  // sent after the server's empty challenge
        }
    }
    write_command(cmd, true);
    phase_ = phase::auth_sasl;
}

void client_session::on_login_reply(std::string_view l) {
    auto st = parse_status_line(l);
    if (!st || st->kind == status_kind::continuation) {
        fail(make_error_code(errc::malformed_status),
             "malformed reply during login: " + printable(l, 120));
        return;
    }
    if (st->kind == status_kind::err) {
        // -ERR to USER is a refusal too; a code there ([SYS/TEMP]) counts like one to PASS.
        fail(refusal_error(st->code), printable(l, 300));
        return;
    }
    if (phase_ == phase::auth_user) {
        write_command("PASS " + config_.secret, true);
        phase_ = phase::auth_pass;
        return;
    }
    phase_ = phase::ready;
}

void client_session::on_sasl_reply(std::string_view l) {
    auto st = parse_status_line(l);
    if (!st) {
        fail(make_error_code(errc::malformed_status),
             "malformed reply during AUTH: " + printable(l, 120));
        return;
    }
    if (sasl_cancelled_) {
        // Whatever answers our "*" ends the login with the reason cancel() recorded; even
        // "+OK" must not log us in (RFC 5034 section 4: "*" cancels the exchange), or a
        // server that failed SCRAM's mutual authentication could still get our session.
        phase_ = phase::failed;
        return;
    }
    const bool first_reply = !sasl_answered_;
    sasl_answered_ = true;
    if (st->kind == status_kind::err) {
        ir_refused_ = first_reply && ir_on_auth_line_ && st->code.empty();
        fail(refusal_error(st->code), printable(l, 300));
        return;
    }
    if (st->kind == status_kind::ok) {
        if (auto ec = mechanism_->on_success()) {
            fail(ec,
                 "the server accepted the login but did not prove it knows the password "
                 "(SCRAM server signature missing or wrong); aborting");
            return;
        }
        phase_ = phase::ready;
        return;
    }
    auto cancel = [&](boost::system::error_code ec, std::string why) {
        write_command("*");
        sasl_cancelled_ = true;
        fail_ec_ = ec;
        failure_detail_ = std::move(why);
    };
    std::string challenge;
    if (!st->text.empty()) {
        auto d = base64_decode(st->text);
        if (!d) {
            cancel(
                make_error_code(errc::bad_base64),
                "the server sent a SASL challenge that is not base64: " + printable(st->text, 80));
            return;
        }
        challenge = std::move(*d);
    }
    if (pending_ir_) {
        write_command(pending_ir_->empty() ? std::string() : base64_encode(*pending_ir_), true);
        pending_ir_.reset();
        return;
    }
    auto r = mechanism_->respond(challenge);
    if (!r) {
        cancel(r.error(), "the server's SASL challenge was not acceptable: " + r.error().message());
        return;
    }
    write_command(r->empty() ? std::string() : base64_encode(*r), true);
}

}  // namespace izypop3::core
