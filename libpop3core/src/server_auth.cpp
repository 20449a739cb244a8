// The AUTHORIZATION state of server_session: USER/PASS, APOP, AUTH (RFC 5034), STLS
// (RFC 2595) and UTF8 (RFC 6856).

#include <izypop3/core/base64.hpp>
#include <izypop3/core/crypto.hpp>
#include <izypop3/core/sasl/apop.hpp>
#include <izypop3/core/server_session.hpp>

#include "sasl/saslprep.hpp"

#include <algorithm>
#include <cctype>

namespace izypop3::core {
namespace {

constexpr std::string_view invalid_login = "-ERR [AUTH] Invalid login";
constexpr std::string_view cleartext_refused =
    "Cleartext login refused on an unencrypted connection; use STLS or the TLS port first";
constexpr std::string_view cleartext_mechanism_refused =
    "Cleartext mechanism refused on an unencrypted connection; use STLS or the TLS port first";
constexpr std::string_view unsupported_mechanism = "Unsupported authentication mechanism";

std::string lower(std::string_view s) {
    std::string r(s);
    for (auto& ch : r) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return r;
}

// Overwrites a secret before its memory is released or reused.
void wipe(std::string& s) noexcept {
    std::fill(s.begin(), s.end(), '\0');
    s.clear();
}

}  // namespace

const sasl::server_registry& server_session::registry() const noexcept {
    if (config_.mechanisms) return *config_.mechanisms;
    static const sasl::server_registry builtins = sasl::server_registry::with_builtins();
    return builtins;
}

bool server_session::cleartext_allowed() const noexcept {
    return config_.tls_active || config_.cleartext_without_tls;
}

bool server_session::mechanism_offered(const sasl::mechanism_traits& t) const noexcept {
    if (t.cleartext && !cleartext_allowed()) return false;
    if (t.bearer_token) return config_.validate_tokens;
    const auto& need = t.needs;
    if (!need.plaintext && !need.scram_sha1 && !need.scram_sha256) return config_.verify_passwords;
    const auto& have = config_.secret_forms;
    return (need.plaintext && have.plaintext) || (need.scram_sha1 && have.scram_sha1) ||
           (need.scram_sha256 && have.scram_sha256);
}

// RFC 6856 section 2: UTF-8 in USER, PASS and APOP only after UTF8, and then SASLprep'd
// (RFC 4013) so that the same name typed with a different space or soft hyphen is the same
// name. Refused otherwise, with the reason: a non-ASCII name that silently matched nothing
// would look like a wrong password. False after the refusal was sent.
bool server_session::prepare_credential(std::string& text, std::string_view what) {
    const bool ascii = std::all_of(text.begin(), text.end(),
                                   [](char ch) { return static_cast<unsigned char>(ch) < 0x80; });
    if (ascii) return true;
    if (!utf8_) {
        wipe(text);
        auth_refused({}, std::string(what) +
                             " is not ASCII; send UTF8 first to use a UTF-8 user name or password "
                             "(RFC 6856)");
        return false;
    }
    auto prepared = sasl::detail::saslprep(text);
    wipe(text);
    if (!prepared || prepared->empty()) {
        auth_refused({}, std::string(what) +
                             " is not valid UTF-8 or holds a character SASLprep (RFC 4013) "
                             "prohibits");
        return false;
    }
    text = std::move(*prepared);
    return true;
}

void server_session::cmd_user(const command& c) {
    if (!cleartext_allowed()) {
        auth_refused("AUTH", cleartext_refused);
        return;
    }
    std::string name(c.args[0]);
    if (!prepare_credential(name, "The user name")) return;
    user_arg_ = std::move(name);
    reply_ok("User accepted");
}

void server_session::cmd_pass(const command& c) {
    if (!cleartext_allowed()) {
        auth_refused("AUTH", cleartext_refused);
        return;
    }
    if (user_arg_.empty()) {
        bad_command("PASS: send USER first");
        return;
    }
    if (!config_.verify_passwords) {
        user_arg_.clear();
        auth_refused("AUTH", "Password login is not available; use AUTH");
        return;
    }
    password_ = c.args[0];
    if (!prepare_credential(password_, "The password")) {
        user_arg_.clear();
        return;
    }
    pending_ = pending::verify;
    request_ = server_action::verify_password{user_arg_, password_};
}

void server_session::complete_verify(auth_outcome outcome) {
    expect(pending::verify);
    wipe(password_);
    std::string who = std::move(user_arg_);
    user_arg_.clear();
    switch (outcome) {
        case auth_outcome::accepted:
            login_succeeded(std::move(who));
            return;
        case auth_outcome::rejected:
            auth_failed("wrong password or unknown user");
            return;
        case auth_outcome::temporary_failure:
            reply_err_code("SYS/TEMP",
                           "Authentication is temporarily unavailable; try again later");
            return;
    }
}

void server_session::cmd_apop(const command& c) {
    // APOP's digest can be attacked offline by whoever sees it, and a man in the middle
    // picks the timestamp (CVE-2007-1558): it follows the cleartext rule.
    if (!config_.apop) {
        auth_refused({}, "APOP is turned off on this server; use USER/PASS or AUTH");
        return;
    }
    if (!cleartext_allowed()) {
        auth_refused("AUTH",
                     "APOP refused on an unencrypted connection; use STLS and USER/PASS or "
                     "AUTH, or the TLS port");
        return;
    }
    if (apop_timestamp_.empty()) {
        auth_refused({}, "APOP is not available on this server");
        return;
    }
    std::string name(c.args[0]);
    if (!prepare_credential(name, "The user name")) return;
    user_arg_ = std::move(name);
    apop_digest_ = lower(c.args[1]);
    pending_ = pending::lookup_apop;
    request_ = server_action::lookup_secret{user_arg_};
}

void server_session::complete_lookup(std::optional<sasl::stored_secret> secret,
                                     bool temporary_failure) {
    if (pending_ == pending::lookup_sasl) {
        pending_ = pending::none;
        if (temporary_failure) {
            end_sasl();
            reply_err_code("SYS/TEMP",
                           "Authentication is temporarily unavailable; try again later");
            return;
        }
        sasl_step(mechanism_->resume(secret));
        return;
    }
    expect(pending::lookup_apop);
    if (temporary_failure) {
        user_arg_.clear();
        reply_err_code("SYS/TEMP", "Authentication is temporarily unavailable; try again later");
        return;
    }
    // An unknown user and a wrong digest take the same path and the same reply
    // (RFC 1939 section 13).
    const std::string expected = secret && secret->plaintext
                                     ? sasl::apop_digest(apop_timestamp_, *secret->plaintext)
                                     : std::string(32, '\0');
    const bool ok = secret && secret->plaintext && equal_constant_time(expected, apop_digest_);
    std::string who = std::move(user_arg_);
    user_arg_.clear();
    if (ok) {
        login_succeeded(std::move(who));
    } else {
        auth_failed("APOP digest mismatch or unknown user");
    }
}

void server_session::complete_derive(const sasl::scram_secret& derived) {
    expect(pending::derive);
    wipe(derive_.password);
    sasl_step(mechanism_->resume_derived(derived));
}

void server_session::complete_validate_token(std::optional<std::string> owner,
                                             bool temporary_failure) {
    expect(pending::validate_token);
    wipe(token_);
    sasl_user_.clear();
    if (temporary_failure) {
        end_sasl();
        reply_err_code("SYS/TEMP", "Authentication is temporarily unavailable; try again later");
        return;
    }
    sasl_step(mechanism_->resume_token(owner));
}

void server_session::list_mechanisms() {
    reply_ok("Supported mechanisms follow");
    for (const auto* t : registry().all())
        if (mechanism_offered(*t)) send_line(t->name);
    send_line(".");
}

void server_session::cmd_auth(const command& c) {
    if (c.arg_count == 0) {
        list_mechanisms();
        return;
    }
    const auto* traits = registry().find(c.args[0]);
    if (!traits) {
        auth_refused({}, unsupported_mechanism);
        return;
    }
    if (traits->cleartext && !cleartext_allowed()) {
        auth_refused("AUTH", cleartext_mechanism_refused);
        return;
    }
    if (!mechanism_offered(*traits)) {
        auth_refused({}, unsupported_mechanism);
        return;
    }
    std::optional<std::string> initial;
    if (c.arg_count > 1) {
        if (traits->raw_arguments) {
            initial = std::string(c.args[1]);
        } else if (c.args[1] == "=") {
            initial = std::string();  // RFC 5034: "=" is an empty initial response
        } else {
            auto decoded = base64_decode(c.args[1]);
            if (!decoded) {
                auth_refused({}, "Invalid base64 in the initial response");
                return;
            }
            initial = std::move(*decoded);
        }
    }
    mechanism_ =
        registry().create(traits->name, sasl::server_context{config_.host_name, config_.random});
    if (!mechanism_) {
        // A registered factory that returns nothing: treat as not offered.
        auth_refused({}, unsupported_mechanism);
        return;
    }
    in_sasl_ = true;
    reader_.set_max_line(config_.max_sasl_line);
    sasl_step(
        mechanism_->start(initial ? std::optional<std::string_view>(*initial) : std::nullopt));
}

void server_session::sasl_line(std::string_view l) {
    if (sasl_error_) {
        // RFC 7628 section 3.2.3: the client's answer to an error challenge (a lone ^A, or
        // anything else, "*" included) only ends the exchange. The failure was counted, and
        // its delay served, before the challenge went out.
        end_sasl();
        failure_reply_ = invalid_login;
        finish_auth_failure();
        return;
    }
    if (l == "*") {
        end_sasl();
        auth_refused({}, "Authentication cancelled");
        return;
    }
    std::string decoded;
    if (!l.empty()) {
        auto r = base64_decode(l);
        if (!r) {
            end_sasl();
            auth_refused({}, "Invalid base64 in the SASL response");
            return;
        }
        decoded = std::move(*r);
    }
    sasl_step(mechanism_->next(decoded));
}

void server_session::end_sasl() {
    in_sasl_ = false;
    sasl_error_.reset();
    mechanism_.reset();
    reader_.set_max_line(config_.max_command_line);
}

void server_session::sasl_step(sasl::step_result r) {
    struct visitor {
        server_session& s;
        void operator()(sasl::step::challenge& ch) const {
            s.send_line("+ " + base64_encode(ch.data));
        }
        void operator()(sasl::step::verify_password& v) const {
            s.end_sasl();
            // The credential source checks authcid's password only; acting for another
            // user (RFC 4616 authzid) would need an authorization policy we do not have,
            // so a differing authzid fails like a wrong password.
            if (!v.authzid.empty() && v.authzid != v.authcid) {
                wipe(v.password);
                s.auth_failed("authzid differs from authcid");
                return;
            }
            s.user_arg_ = std::move(v.authcid);
            s.password_ = std::move(v.password);
            wipe(v.password);
            s.pending_ = pending::verify;
            s.request_ = server_action::verify_password{s.user_arg_, s.password_};
        }
        void operator()(sasl::step::need_secret& n) const {
            s.sasl_user_ = std::move(n.authcid);
            s.pending_ = pending::lookup_sasl;
            s.request_ = server_action::lookup_secret{s.sasl_user_};
        }
        void operator()(sasl::step::derive_secret& d) const {
            s.derive_ = std::move(d);
            wipe(d.password);
            s.pending_ = pending::derive;
            s.request_ = server_action::derive_secret{s.derive_.hash_name, s.derive_.password,
                                                      s.derive_.salt, s.derive_.iterations};
        }
        void operator()(sasl::step::verify_token& v) const {
            s.sasl_user_ = std::move(v.user);
            s.token_ = std::move(v.token);
            wipe(v.token);
            s.pending_ = pending::validate_token;
            s.request_ = server_action::validate_token{s.sasl_user_, s.token_};
        }
        void operator()(sasl::step::error_challenge& e) const {
            s.sasl_error_ = std::move(e.reason);
            s.error_challenge(base64_encode(e.data));
        }
        void operator()(sasl::step::success& ok) const {
            s.end_sasl();
            s.login_succeeded(std::move(ok.user));
        }
        void operator()(sasl::step::failure& f) const {
            s.end_sasl();
            s.auth_failed(f.reason);
        }
    };
    std::visit(visitor{*this}, r);
}

// A refused bearer token: counted and delayed like a wrong password, but before the error
// challenge rather than before the final -ERR, so a client that hangs up on the challenge
// has still paid for the attempt (the transport's per-address penalty grows at the delay).
void server_session::error_challenge(std::string encoded) {
    ++stats_.auth_failures;
    failure_reply_ = "+ " + std::move(encoded);
    if (config_.auth_failure_delay_ms > 0) {
        pending_ = pending::delay_challenge;
        request_ = server_action::delay{config_.auth_failure_delay_ms};
        return;
    }
    send_line(failure_reply_);
}

void server_session::auth_failed(std::string_view) {
    ++stats_.auth_failures;
    user_arg_.clear();
    failure_reply_ = invalid_login;
    if (config_.auth_failure_delay_ms > 0) {
        // The reply waits for the delay so that guessing costs time (Dovecot's
        // auth_failure_delay); a pipelining client cannot get ahead of it either.
        pending_ = pending::delay;
        request_ = server_action::delay{config_.auth_failure_delay_ms};
        return;
    }
    finish_auth_failure();
}

// A step refused before any credential was checked counts like a wrong password, so a
// client cannot probe or spin for free: the refusal goes out at once until the last
// allowed one, which waits for the failure delay and closes the connection.
void server_session::auth_refused(std::string_view code, std::string_view text) {
    ++stats_.auth_failures;
    failure_reply_ = "-ERR ";
    if (!code.empty()) {
        failure_reply_ += '[';
        failure_reply_ += code;
        failure_reply_ += "] ";
    }
    failure_reply_ += text;
    if (stats_.auth_failures >= config_.max_auth_failures && config_.auth_failure_delay_ms > 0) {
        pending_ = pending::delay;
        request_ = server_action::delay{config_.auth_failure_delay_ms};
        return;
    }
    finish_auth_failure();
}

void server_session::finish_auth_failure() {
    send_line(failure_reply_);
    if (stats_.auth_failures >= config_.max_auth_failures) {
        reply_err("Too many failed logins; closing the connection");
        close_after_flush(close_reason::too_many_auth_failures);
    }
}

void server_session::login_succeeded(std::string user) {
    user_ = std::move(user);
    pending_ = pending::maildrop;
    request_ = server_action::open_maildrop{user_};
}

void server_session::complete_open_maildrop(std::span<const message_info> messages,
                                            bool stable_uids, std::optional<mail_policy> policy) {
    expect(pending::maildrop);
    messages_ = messages;
    stable_uids_ = stable_uids;
    policy_ = policy.value_or(config_.policy);
    deleted_.assign(messages_.size(), 0);
    retrieved_.assign(messages_.size(), 0);
    state_ = session_state::transaction;
    stats_.bad_commands = 0;
    reply_ok("You are now logged in");
}

void server_session::complete_open_maildrop(maildrop_failure failure) {
    expect(pending::maildrop);
    user_.clear();
    switch (failure) {
        case maildrop_failure::in_use:
            reply_err_code("IN-USE", "Mailbox is locked by another session; try again later");
            return;
        case maildrop_failure::temporary:
            reply_err_code("SYS/TEMP", "Mailbox is temporarily unavailable; try again later");
            return;
        case maildrop_failure::permanent:
            reply_err_code("SYS/PERM", "Mailbox cannot be opened; contact the administrator");
            return;
    }
}

// Sent only after the credentials were accepted (as GNU pop3d does), so the reply tells
// nothing about which user names exist.
void server_session::complete_login_delayed(std::uint32_t delay_seconds,
                                            std::uint32_t seconds_left) {
    expect(pending::maildrop);
    user_.clear();
    reply_err_code("LOGIN-DELAY", "Logged in too recently; the server allows one login every " +
                                      std::to_string(delay_seconds) + " seconds, try again in " +
                                      std::to_string(seconds_left) + " seconds");
}

void server_session::cmd_stls(const command&) {
    if (config_.tls_active) {
        reply_err("TLS is already active");
        return;
    }
    if (!config_.tls_available) {
        reply_err("STLS is not available on this server");
        return;
    }
    reply_ok("Begin TLS negotiation");
    // RFC 2595 section 4 / CVE-2011-0411: anything the client sent after STLS arrived
    // before TLS and must not be acted on; and a USER given in cleartext is forgotten.
    reader_.clear();
    user_arg_.clear();
    pending_ = pending::tls;
    request_ = server_action::start_tls{};
}

void server_session::complete_tls(bool ok) {
    expect(pending::tls);
    if (!ok) {
        closing_ = close_reason::tls_failed;
        return;
    }
    config_.tls_active = true;
    config_.tls_available = false;
}

void server_session::cmd_utf8(const command&) {
    utf8_ = true;
    reply_ok("UTF8 enabled");
}

}  // namespace izypop3::core
