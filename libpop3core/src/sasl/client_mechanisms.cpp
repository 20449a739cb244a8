// Client sides of PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1/-256, XOAUTH2 and OAUTHBEARER.

#include "sasl/client_mechanisms.hpp"
#include "sasl/saslprep.hpp"
#include "sasl/scram_common.hpp"

#include <izypop3/core/base64.hpp>
#include <izypop3/core/errc.hpp>

#include <algorithm>
#include <charconv>

namespace izypop3::core::sasl {
namespace {

using boost::system::result;

char ascii_lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return ascii_lower(x) == ascii_lower(y);
           });
}

bool icontains(std::string_view hay, std::string_view needle) noexcept {
    if (needle.size() > hay.size()) return false;
    for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i)
        if (iequals(hay.substr(i, needle.size()), needle)) return true;
    return false;
}

result<std::string> bad_message() {
    return errc::sasl_bad_message;
}

// A mechanism whose whole work is one client message (PLAIN, XOAUTH2, OAUTHBEARER): sent as
// the initial response, or, in the two-step form, as the answer to the server's empty first
// challenge (RFC 4422 section 5). `error_reply` answers the single error challenge a server
// may send after the message (RFC 7628 section 3.2.3; Google's XOAUTH2 does the same): the
// reply makes the server finish with -ERR. nullopt: no such challenge is expected.
class single_message_client final : public client_mechanism {
  public:
    single_message_client(std::string_view name, std::string message, bool two_step,
                          std::optional<std::string> error_reply)
        : name_(name),
          message_(std::move(message)),
          two_step_(two_step),
          error_reply_(std::move(error_reply)) {}

    std::string_view name() const noexcept override { return name_; }

    std::optional<std::string> initial_response() override {
        if (two_step_) return std::nullopt;
        sent_ = true;
        return message_;
    }

    result<std::string> respond(std::string_view challenge) override {
        if (!sent_) {
            if (!challenge.empty()) return bad_message();
            sent_ = true;
            return message_;
        }
        if (!error_reply_ || error_answered_) return bad_message();
        error_answered_ = true;
        return *error_reply_;
    }

  private:
    std::string_view name_;
    std::string message_;
    bool two_step_;
    std::optional<std::string> error_reply_;
    bool sent_ = false;
    bool error_answered_ = false;
};

// LOGIN: no initial response; the server prompts for the user name and the password. The
// prompts are informal ("Username:", "User Name", "Password:"), so we look for "user" or
// "pass" in them and fall back to the usual order.
class login_client final : public client_mechanism {
  public:
    explicit login_client(client_credentials creds) : creds_(std::move(creds)) {}

    std::string_view name() const noexcept override { return "LOGIN"; }
    std::optional<std::string> initial_response() override { return std::nullopt; }

    result<std::string> respond(std::string_view challenge) override {
        if (answered_ >= 2) return bad_message();
        const bool wants_password =
            icontains(challenge, "pass") || (!icontains(challenge, "user") && answered_ == 1);
        ++answered_;
        return wants_password ? creds_.secret : creds_.user;
    }

  private:
    client_credentials creds_;
    int answered_ = 0;
};

// CRAM-MD5 (RFC 2195 section 2): "user SP hex(HMAC-MD5(secret, challenge))".
class cram_md5_client final : public client_mechanism {
  public:
    explicit cram_md5_client(client_credentials creds) : creds_(std::move(creds)) {}

    std::string_view name() const noexcept override { return "CRAM-MD5"; }
    std::optional<std::string> initial_response() override { return std::nullopt; }

    result<std::string> respond(std::string_view challenge) override {
        if (answered_ || challenge.empty()) return bad_message();
        answered_ = true;
        return creds_.user + " " + to_hex(hmac(hash_algorithm::md5, creds_.secret, challenge));
    }

  private:
    client_credentials creds_;
    bool answered_ = false;
};

// SCRAM (RFC 5802, RFC 7677) without channel binding: gs2-cbind-flag "n".
class scram_client final : public client_mechanism {
  public:
    scram_client(hash_algorithm alg, client_credentials creds, std::string nonce, bool two_step)
        : variant_(alg == hash_algorithm::sha1 ? detail::scram_sha1 : detail::scram_sha256),
          creds_(std::move(creds)),
          nonce_(std::move(nonce)),
          two_step_(two_step) {
        gs2_header_ = "n,";
        if (!creds_.authzid.empty())
            gs2_header_ += "a=" + detail::scram_escape_name(creds_.authzid);
        gs2_header_ += ',';
        client_first_bare_ = "n=" + detail::scram_escape_name(creds_.user) + ",r=" + nonce_;
    }

    std::string_view name() const noexcept override { return variant_.mechanism; }

    std::optional<std::string> initial_response() override {
        if (two_step_) return std::nullopt;
        state_ = state::awaiting_server_first;
        return gs2_header_ + client_first_bare_;
    }

    result<std::string> respond(std::string_view challenge) override {
        switch (state_) {
            case state::initial:
                if (!challenge.empty()) return fail(errc::sasl_bad_message);
                state_ = state::awaiting_server_first;
                return gs2_header_ + client_first_bare_;
            case state::awaiting_server_first:
                return server_first(challenge);
            case state::awaiting_server_final:
                return server_final(challenge);
            case state::done:
                break;
        }
        return fail(errc::sasl_bad_message);
    }

    boost::system::error_code on_success() override {
        // A +OK without a verified v= could come from anyone who merely relayed our proof:
        // RFC 5802 section 9 makes the server signature the proof of the server's identity.
        if (!verified_) return errc::sasl_server_not_verified;
        return {};
    }

  private:
    enum class state { initial, awaiting_server_first, awaiting_server_final, done };

    result<std::string> fail(errc e) {
        state_ = state::done;
        return e;
    }

    // server-first-message = [reserved-mext ","] nonce "," salt "," iteration-count
    //                        ["," extensions]
    result<std::string> server_first(std::string_view msg) {
        const auto attrs = detail::parse_scram_attributes(msg);
        if (!attrs || attrs->size() < 3) return fail(errc::sasl_bad_message);
        const auto& a = *attrs;
        if (a[0].name != 'r' || a[1].name != 's' || a[2].name != 'i')
            return fail(errc::sasl_bad_message);  // includes m= (mandatory extension)
        const std::string_view nonce = a[0].value;
        // The server must extend our nonce, never replace it (section 5.1).
        if (!detail::valid_scram_nonce(nonce) || nonce.size() <= nonce_.size() ||
            !nonce.starts_with(nonce_))
            return fail(errc::sasl_bad_message);
        const auto salt = base64_decode(a[1].value);
        if (!salt || salt->empty()) return fail(errc::sasl_bad_message);
        std::uint32_t iterations = 0;
        const std::string_view it = a[2].value;
        if (it.empty() || it.size() > 10 || it.front() == '0' ||
            !std::all_of(it.begin(), it.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return fail(errc::sasl_bad_message);
        const auto [end, ec] = std::from_chars(it.data(), it.data() + it.size(), iterations);
        if (ec != std::errc() || end != it.data() + it.size() ||
            iterations < detail::scram_min_iterations ||
            iterations > detail::scram_client_max_iterations)
            return fail(errc::sasl_bad_message);
        // RFC 5802 section 2.2 Normalize(): a password SASLprep prohibits cannot be sent.
        const auto password = detail::saslprep(creds_.secret);
        if (!password) return fail(errc::authentication_failed);

        const std::string salted = pbkdf2(variant_.alg, *password, *salt, iterations);
        std::string without_proof = "c=" + base64_encode(gs2_header_) + ",r=" + std::string(nonce);
        const std::string auth_message =
            client_first_bare_ + "," + std::string(msg) + "," + without_proof;
        const std::string proof = detail::scram_client_proof(variant_.alg, salted, auth_message);
        const std::string server_key = hmac(variant_.alg, salted, "Server Key");
        expected_signature_ =
            detail::scram_server_signature(variant_.alg, server_key, auth_message);
        state_ = state::awaiting_server_final;
        return without_proof + ",p=" + base64_encode(proof);
    }

    // server-final-message = (server-error / verifier) ["," extensions]
    result<std::string> server_final(std::string_view msg) {
        const auto attrs = detail::parse_scram_attributes(msg);
        if (!attrs) return fail(errc::sasl_bad_message);
        const auto& first = attrs->front();
        if (first.name == 'e') return fail(errc::authentication_failed);
        if (first.name != 'v') return fail(errc::sasl_bad_message);
        const auto signature = base64_decode(first.value);
        if (!signature || !equal_constant_time(*signature, expected_signature_))
            return fail(errc::sasl_server_not_verified);
        verified_ = true;
        state_ = state::done;
        return std::string();
    }

    detail::scram_variant variant_;
    client_credentials creds_;
    std::string nonce_;
    bool two_step_;
    state state_ = state::initial;
    std::string gs2_header_;
    std::string client_first_bare_;
    std::string expected_signature_;
    bool verified_ = false;
};

std::string xoauth2_message(const client_credentials& c) {
    // Google's and Microsoft's XOAUTH2: user=U ^A auth=Bearer T ^A ^A.
    return "user=" + c.user + "\x01" + "auth=Bearer " + c.secret + "\x01\x01";
}

std::string oauthbearer_message(const client_credentials& c) {
    // RFC 7628 section 3.1: gs2-header kvsep *(key=value kvsep) kvsep.
    std::string m = "n,";
    if (!c.user.empty()) m += "a=" + detail::scram_escape_name(c.user);
    m += ",\x01";
    if (!c.host.empty()) m += "host=" + c.host + "\x01";
    if (c.port != 0) m += "port=" + std::to_string(c.port) + "\x01";
    m += "auth=Bearer " + c.secret + "\x01\x01";
    return m;
}

}  // namespace

namespace detail {

std::unique_ptr<client_mechanism> make_scram_client(hash_algorithm alg, client_credentials creds,
                                                    std::string nonce, bool two_step) {
    return std::make_unique<scram_client>(alg, std::move(creds), std::move(nonce), two_step);
}

}  // namespace detail

std::unique_ptr<client_mechanism> make_client_mechanism(std::string_view name,
                                                        client_credentials creds,
                                                        random_source random, bool two_step) {
    if (iequals(name, "PLAIN")) {
        std::string msg = creds.authzid + '\0' + creds.user + '\0' + creds.secret;
        return std::make_unique<single_message_client>("PLAIN", std::move(msg), two_step,
                                                       std::nullopt);
    }
    if (iequals(name, "LOGIN")) return std::make_unique<login_client>(std::move(creds));
    if (iequals(name, "CRAM-MD5")) return std::make_unique<cram_md5_client>(std::move(creds));
    const bool sha1 = iequals(name, "SCRAM-SHA-1");
    if (sha1 || iequals(name, "SCRAM-SHA-256")) {
        if (!random) random = system_random();
        // 24 random octets = 192 bits, as base64 (RFC 5802 section 5.1 asks for a nonce
        // that is unique and hard to guess; base64 has no ",").
        constexpr std::size_t nonce_octets = 24;
        std::string r = random(nonce_octets);
        r.resize(nonce_octets, '\0');
        return detail::make_scram_client(sha1 ? hash_algorithm::sha1 : hash_algorithm::sha256,
                                         std::move(creds), base64_encode(r), two_step);
    }
    if (iequals(name, "XOAUTH2"))
        return std::make_unique<single_message_client>("XOAUTH2", xoauth2_message(creds), two_step,
                                                       std::string());
    if (iequals(name, "OAUTHBEARER"))
        return std::make_unique<single_message_client>("OAUTHBEARER", oauthbearer_message(creds),
                                                       two_step, std::string("\x01"));
    return nullptr;
}

}  // namespace izypop3::core::sasl
