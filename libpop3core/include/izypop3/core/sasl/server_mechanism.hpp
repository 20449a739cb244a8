#pragma once
// Server side of a SASL mechanism (RFC 4422 framing as POP3 carries it, RFC 5034).

#include <izypop3/core/random_source.hpp>
#include <izypop3/core/sasl/credentials.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace izypop3::core::sasl {

/// What a mechanism needs from the server after a step.
namespace step {
/// Send "+ base64(data)" and wait for the client's next line.
struct challenge {
    std::string data;
};
/// The client sent a cleartext password: ask the credential source to verify it.
struct verify_password {
    std::string authcid;
    std::string authzid;
    std::string password;
};
/// Ask the credential source for the user's stored secret, then call resume().
struct need_secret {
    std::string authcid;
    std::string authzid;
};
/// Derive the SCRAM keys of `password` (PBKDF2: sasl::derive_scram_secret), then call
/// resume_derived(). Expensive on purpose, so it is the environment's to run off the I/O
/// threads and to bound per client.
struct derive_secret {
    std::string hash_name;  ///< "SHA-1" or "SHA-256"
    std::string password;
    std::string salt;
    std::uint32_t iterations = 0;
};
/// The client presented an OAuth 2.0 bearer token (XOAUTH2, OAUTHBEARER): ask the
/// environment whose token it is, then call resume_token(). `user` is the login name the
/// client asked for, empty when it named none (OAUTHBEARER without an authzid).
struct verify_token {
    std::string user;
    std::string token;
};
/// Send "+ base64(data)" as a failure report (RFC 7628 section 3.2.2): whatever the client
/// answers, even "*", ends the exchange as a failed login for `reason`.
struct error_challenge {
    std::string data;
    std::string reason;
};
/// Authentication succeeded for this user (authzid when given and allowed, else authcid).
struct success {
    std::string user;
};
/// Authentication failed. `reason` is for the log only; the client sees a generic -ERR
/// (RFC 1939 section 13: do not tell which part was wrong).
struct failure {
    std::string reason;
    bool malformed = false;
};
}  // namespace step

using step_result =
    std::variant<step::challenge, step::verify_password, step::need_secret, step::derive_secret,
                 step::verify_token, step::error_challenge, step::success, step::failure>;

/// Facts a mechanism may use.
struct server_context {
    std::string host_name = "localhost";  ///< for CRAM-MD5's <...@host> challenge
    random_source random;
};

class server_mechanism {
  public:
    virtual ~server_mechanism() = default;

    /// The first step. `initial` is the decoded initial response (RFC 5034), nullopt when
    /// the client sent none. For a mechanism with raw_arguments() it is the raw argument text.
    virtual step_result start(std::optional<std::string_view> initial) = 0;
    /// A decoded client continuation line.
    virtual step_result next(std::string_view response) = 0;
    /// Resumes after step::need_secret; nullopt when the user is unknown or has no usable
    /// secret (the mechanism then fails exactly as with a wrong password).
    virtual step_result resume(const std::optional<stored_secret>& secret);
    /// Resumes after step::derive_secret with the derived keys.
    virtual step_result resume_derived(const scram_secret& derived);
    /// Resumes after step::verify_token with the user the token belongs to; nullopt when the
    /// token is not valid (unknown, expired, revoked).
    virtual step_result resume_token(const std::optional<std::string>& owner);
};

/// How a mechanism is offered.
struct mechanism_traits {
    std::string name;            ///< upper case, e.g. "SCRAM-SHA-256"
    bool cleartext = false;      ///< the password crosses the wire (PLAIN, LOGIN): needs TLS
                                 ///< unless cleartext is allowed on this connection
    secret_forms needs{};        ///< forms of stored secret required (any one is enough
                                 ///< when several are set); none = verify_password only
    bool raw_arguments = false;  ///< the AUTH line's text after the name is passed as is
                                 ///< instead of a base64 initial response (N3's FOOBAR)
    bool bearer_token = false;   ///< authenticates with an OAuth 2.0 bearer token: offered
                                 ///< only where the environment validates tokens
};

using mechanism_factory = std::function<std::unique_ptr<server_mechanism>(const server_context&)>;

/// The set of server mechanisms; a program registers its own beside the built-in ones.
class server_registry {
  public:
    /// SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, PLAIN, LOGIN, OAUTHBEARER, XOAUTH2.
    static server_registry with_builtins();

    /// Adds or replaces a mechanism. Names are case-insensitive.
    void add(mechanism_traits traits, mechanism_factory factory);
    void remove(std::string_view name);
    const mechanism_traits* find(std::string_view name) const;
    std::unique_ptr<server_mechanism> create(std::string_view name,
                                             const server_context& ctx) const;
    /// All registered mechanisms in preference order (strongest first).
    std::vector<const mechanism_traits*> all() const;

  private:
    struct entry {
        mechanism_traits traits;
        mechanism_factory factory;
    };
    std::vector<entry> entries_;
};

}  // namespace izypop3::core::sasl
