// SCRAM-SHA-1 (RFC 5802) and SCRAM-SHA-256 (RFC 7677), server side, without channel
// binding (we offer no -PLUS variant).
//
//   C: client-first   n,,n=user,r=cnonce
//   S: server-first   r=cnonce+snonce,s=salt,i=iterations     (after need_secret/resume and
//                                                              derive_secret/resume_derived)
//   C: client-final   c=biws,r=cnonce+snonce,p=proof
//   S: server-final   v=signature                              (as a "+ " challenge)
//   C: (empty)                                                 -> success
//
// POP3 has no "success with additional data" (RFC 5034 section 4), hence the empty round.

#include "sasl/saslprep.hpp"
#include "sasl/scram_common.hpp"
#include "sasl/server_mechanisms.hpp"

#include <izypop3/core/base64.hpp>
#include <izypop3/core/random_source.hpp>

namespace izypop3::core::sasl::detail {

std::string scram_fallback_salt(std::string_view user) {
    // Deterministic, so repeated attempts for one user see the same salt whether the user
    // exists or not (a fresh random salt each time would reveal an unknown user).
    return hmac(hash_algorithm::sha256, "izypop3 SCRAM fallback salt v1", user).substr(0, 16);
}

namespace {

constexpr std::size_t server_nonce_octets = 18;

class scram_server final : public server_mechanism {
  public:
    scram_server(hash_algorithm alg, const server_context& ctx, std::optional<std::string> fixed)
        : variant_(alg == hash_algorithm::sha1 ? scram_sha1 : scram_sha256),
          random_(ctx.random ? ctx.random : system_random()),
          fixed_nonce_(std::move(fixed)) {}

    step_result start(std::optional<std::string_view> initial) override {
        if (state_ != state::fresh) return fail("start called twice", false);
        if (!initial) {
            state_ = state::awaiting_client_first;
            return step::challenge{};
        }
        return client_first(*initial);
    }

    step_result next(std::string_view response) override {
        switch (state_) {
            case state::awaiting_client_first:
                return client_first(response);
            case state::awaiting_client_final:
                return client_final(response);
            case state::awaiting_ack:
                state_ = state::done;
                if (!response.empty()) return fail("non-empty response after server-final", true);
                return step::success{std::move(user_)};
            default:
                return fail("unexpected response", true);
        }
    }

    // Every user costs one PBKDF2 run of the iteration count server-first announces: the
    // keys of a plaintext password, a name-only decoy for an unknown user, and a dummy run
    // beside stored keys, so the time to server-first tells none of them apart (RFC 1939
    // section 13, RFC 5802 section 9). The run itself is the environment's.
    step_result resume(const std::optional<stored_secret>& secret) override {
        if (state_ != state::awaiting_secret) return fail("unexpected resume", false);
        const std::optional<scram_secret>* stored = nullptr;
        if (secret)
            stored =
                variant_.alg == hash_algorithm::sha1 ? &secret->scram_sha1 : &secret->scram_sha256;
        step::derive_secret d{std::string(variant_.hash_name), "", scram_fallback_salt(user_),
                              scram_min_iterations};
        use_stored_ = stored && *stored;
        known_ = use_stored_ || (secret && secret->plaintext);
        if (use_stored_) {
            secret_ = **stored;
            d.salt = secret_.salt;
            d.iterations = secret_.iterations;
        } else if (secret && secret->plaintext) {
            d.password = *secret->plaintext;
        }
        state_ = state::awaiting_derivation;
        return d;
    }

    step_result resume_derived(const scram_secret& derived) override {
        if (state_ != state::awaiting_derivation) return fail("unexpected derived keys", false);
        if (!use_stored_) secret_ = derived;
        std::string snonce;
        if (fixed_nonce_) {
            snonce = std::move(*fixed_nonce_);
        } else {
            std::string r = random_(server_nonce_octets);
            r.resize(server_nonce_octets, '\0');
            snonce = base64_encode(r);  // base64 never contains ','
        }
        nonce_ = client_nonce_ + snonce;
        server_first_ = "r=" + nonce_ + ",s=" + base64_encode(secret_.salt) +
                        ",i=" + std::to_string(secret_.iterations);
        state_ = state::awaiting_client_final;
        return step::challenge{server_first_};
    }

  private:
    enum class state {
        fresh,
        awaiting_client_first,
        awaiting_secret,
        awaiting_derivation,
        awaiting_client_final,
        awaiting_ack,
        done
    };

    step_result fail(std::string reason, bool malformed) {
        state_ = state::done;
        return step::failure{std::move(reason), malformed};
    }

    // RFC 5802 section 7:
    //   client-first-message = gs2-header client-first-message-bare
    //   gs2-header = gs2-cbind-flag "," [ authzid ] ","
    //   client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions]
    step_result client_first(std::string_view msg) {
        if (msg.starts_with("p="))
            return fail("client requires channel binding; -PLUS is not offered", false);
        // "y": the client could bind but thinks we cannot. True, we offer no -PLUS, so no
        // downgrade happened (section 6) and "y" is as good as "n".
        if (!msg.starts_with("n,") && !msg.starts_with("y,"))
            return fail("bad gs2-cbind-flag", true);
        std::size_t pos = 2;
        std::optional<std::string> authzid;
        if (msg.substr(pos).starts_with("a=")) {
            const std::size_t comma = msg.find(',', pos);
            if (comma == std::string_view::npos) return fail("unterminated authzid", true);
            authzid = scram_unescape_name(msg.substr(pos + 2, comma - pos - 2));
            if (!authzid) return fail("bad authzid", true);
            pos = comma;
        }
        if (pos >= msg.size() || msg[pos] != ',') return fail("bad gs2-header", true);
        ++pos;
        gs2_header_ = std::string(msg.substr(0, pos));
        client_first_bare_ = std::string(msg.substr(pos));
        const auto attrs = parse_scram_attributes(client_first_bare_);
        if (!attrs || attrs->size() < 2) return fail("bad client-first-message", true);
        if ((*attrs)[0].name == 'm') return fail("unsupported mandatory extension", true);
        if ((*attrs)[0].name != 'n' || (*attrs)[1].name != 'r')
            return fail("client-first-message lacks n= or r=", true);
        auto user = scram_unescape_name((*attrs)[0].value);
        if (!user) return fail("bad user name", true);
        // The name is looked up as sent; only characters SASLprep prohibits are refused.
        if (!saslprep(*user)) return fail("user name with prohibited characters", true);
        if (!valid_scram_nonce((*attrs)[1].value)) return fail("bad client nonce", true);
        if (authzid && *authzid != *user)
            return fail("authorization identity differs from the authentication identity", false);
        user_ = std::move(*user);
        client_nonce_ = std::string((*attrs)[1].value);
        state_ = state::awaiting_secret;
        return step::need_secret{user_, authzid ? *authzid : std::string()};
    }

    // client-final-message = channel-binding "," nonce ["," extensions] "," proof
    step_result client_final(std::string_view msg) {
        const auto attrs = parse_scram_attributes(msg);
        if (!attrs || attrs->size() < 3) return fail("bad client-final-message", true);
        const auto& a = *attrs;
        if (a[0].name != 'c' || a[1].name != 'r' || a.back().name != 'p')
            return fail("client-final-message lacks c=, r= or p=", true);
        const auto cbind = base64_decode(a[0].value);
        if (!cbind) return fail("channel-binding is not base64", true);
        const auto proof = base64_decode(a.back().value);
        if (!proof) return fail("proof is not base64", true);
        if (proof->size() != hash_size(variant_.alg)) return fail("proof has the wrong size", true);
        // Without channel binding, c= carries exactly the gs2-header (section 7, cbind-input).
        if (*cbind != gs2_header_) return fail("channel-binding does not match", false);
        if (a[1].value != nonce_) return fail("nonce does not match", false);

        const std::string_view without_proof =
            msg.substr(0, msg.size() - a.back().value.size() - 3);
        const std::string auth_message =
            client_first_bare_ + "," + server_first_ + "," + std::string(without_proof);
        const std::string client_signature = hmac(variant_.alg, secret_.stored_key, auth_message);
        const std::string client_key = xor_octets(*proof, client_signature);
        const bool proof_ok =
            equal_constant_time(digest(variant_.alg, client_key), secret_.stored_key);
        if (!proof_ok || !known_) return fail("wrong password or unknown user", false);
        state_ = state::awaiting_ack;
        return step::challenge{"v=" + base64_encode(scram_server_signature(
                                          variant_.alg, secret_.server_key, auth_message))};
    }

    scram_variant variant_;
    random_source random_;
    std::optional<std::string> fixed_nonce_;
    state state_ = state::fresh;
    std::string gs2_header_;
    std::string client_first_bare_;
    std::string user_;
    std::string client_nonce_;
    std::string nonce_;
    std::string server_first_;
    scram_secret secret_;
    bool known_ = false;
    bool use_stored_ = false;
};

}  // namespace

std::unique_ptr<server_mechanism> make_scram_server(hash_algorithm alg, const server_context& ctx,
                                                    std::optional<std::string> fixed_nonce) {
    return std::make_unique<scram_server>(alg, ctx, std::move(fixed_nonce));
}

}  // namespace izypop3::core::sasl::detail
