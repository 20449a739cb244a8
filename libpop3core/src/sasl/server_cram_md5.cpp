// CRAM-MD5 (RFC 2195): the server sends a unique msg-id style challenge; the client answers
// "user SP hex(HMAC-MD5(secret, challenge))". Needs the plaintext secret on the server.

#include "sasl/server_mechanisms.hpp"

#include <izypop3/core/random_source.hpp>

namespace izypop3::core::sasl::detail {
namespace {

constexpr std::size_t digest_hex_size = 32;

bool lower_hex(std::string_view s) noexcept {
    for (const char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

class cram_md5_server final : public server_mechanism {
  public:
    cram_md5_server(const server_context& ctx, std::optional<std::string> fixed_challenge)
        : host_(ctx.host_name),
          random_(ctx.random ? ctx.random : system_random()),
          fixed_challenge_(std::move(fixed_challenge)) {}

    step_result start(std::optional<std::string_view> initial) override {
        if (state_ != state::fresh) return fail("start called twice", false);
        // RFC 4422 section 5: a server-first mechanism must fail on an initial response.
        if (initial) return fail("CRAM-MD5 does not take an initial response", true);
        if (fixed_challenge_) {
            challenge_ = std::move(*fixed_challenge_);
        } else {
            // RFC 2195 section 2: "presumptively arbitrary string of random digits, a
            // timestamp, and the fully-qualified primary host name". We have no clock
            // (sans-I/O), so both parts are random; uniqueness is what matters.
            std::string r = random_(12);
            r.resize(12, '\0');  // a short test source must not make substr() throw
            challenge_ = "<" + to_hex(std::string_view(r).substr(0, 8)) + "." +
                         to_hex(std::string_view(r).substr(8)) + "@" + host_ + ">";
        }
        state_ = state::awaiting_response;
        return step::challenge{challenge_};
    }

    step_result next(std::string_view response) override {
        if (state_ != state::awaiting_response) return fail("unexpected response", true);
        // The user name may itself contain spaces; the digest is the last word.
        const std::size_t sp = response.rfind(' ');
        if (sp == std::string_view::npos) return fail("CRAM-MD5 response without a space", true);
        const std::string_view user = response.substr(0, sp);
        const std::string_view hex = response.substr(sp + 1);
        if (user.empty()) return fail("CRAM-MD5 response with an empty user name", true);
        if (user.find('\0') != std::string_view::npos)
            return fail("CRAM-MD5 user name with a NUL", true);
        if (hex.size() != digest_hex_size || !lower_hex(hex))
            return fail("CRAM-MD5 digest is not 32 lower-case hex digits", true);
        user_ = std::string(user);
        digest_ = std::string(hex);
        state_ = state::awaiting_secret;
        return step::need_secret{user_, std::string()};
    }

    step_result resume(const std::optional<stored_secret>& secret) override {
        if (state_ != state::awaiting_secret) return fail("unexpected resume", false);
        state_ = state::done;
        const bool known = secret && secret->plaintext;
        // An unknown user costs the same HMAC as a known one (RFC 1939 section 13 spirit:
        // the answer must not tell which part was wrong, not even by its timing).
        const std::string expected = to_hex(hmac(
            hash_algorithm::md5, known ? std::string_view(*secret->plaintext) : "", challenge_));
        const bool match = equal_constant_time(expected, digest_);
        if (!known) return fail("unknown user or no plaintext secret", false);
        if (!match) return fail("wrong CRAM-MD5 digest", false);
        return step::success{std::move(user_)};
    }

  private:
    enum class state { fresh, awaiting_response, awaiting_secret, done };

    step_result fail(std::string reason, bool malformed) {
        state_ = state::done;
        return step::failure{std::move(reason), malformed};
    }

    std::string host_;
    random_source random_;
    std::optional<std::string> fixed_challenge_;
    state state_ = state::fresh;
    std::string challenge_;
    std::string user_;
    std::string digest_;
};

}  // namespace

std::unique_ptr<server_mechanism> make_cram_md5_server(const server_context& ctx,
                                                       std::optional<std::string> fixed_challenge) {
    return std::make_unique<cram_md5_server>(ctx, std::move(fixed_challenge));
}

}  // namespace izypop3::core::sasl::detail
