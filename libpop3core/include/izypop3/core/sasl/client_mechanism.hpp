#pragma once
// Client side of a SASL mechanism.

#include <izypop3/core/random_source.hpp>

#include <boost/system/result.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace izypop3::core::sasl {

struct client_credentials {
    std::string user;       ///< authcid
    std::string authzid;    ///< usually empty
    std::string secret;     ///< password, or the OAuth2 access token for XOAUTH2/OAUTHBEARER
    std::string host;       ///< server host name (OAUTHBEARER's host=)
    std::uint16_t port = 0; ///< server port (OAUTHBEARER's port=)
};

class client_mechanism {
public:
    virtual ~client_mechanism() = default;

    virtual std::string_view name() const noexcept = 0;
    /// The initial response (raw octets, before base64), or nullopt when the mechanism has
    /// none or is in a two-step form (XOAUTH2 for Office 365).
    virtual std::optional<std::string> initial_response() = 0;
    /// Answers a decoded server challenge. An error (errc::sasl_bad_message,
    /// errc::sasl_server_not_verified) means: cancel with "*" and fail.
    virtual boost::system::result<std::string> respond(std::string_view challenge) = 0;
    /// Called when the server says +OK. SCRAM returns errc::sasl_server_not_verified unless
    /// the server's signature was checked; others return success.
    virtual boost::system::error_code on_success() { return {}; }
};

/// Names: PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1, SCRAM-SHA-256, XOAUTH2, OAUTHBEARER
/// (case-insensitive). `two_step` leaves out the initial response where the mechanism has
/// one (Office 365 rejects XOAUTH2 with an initial response). nullptr for an unknown name.
std::unique_ptr<client_mechanism> make_client_mechanism(std::string_view name,
                                                        client_credentials creds,
                                                        random_source random,
                                                        bool two_step = false);

}  // namespace izypop3::core::sasl
