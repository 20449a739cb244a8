#pragma once
// What a credential source can tell the server about a user's secret.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace izypop3::core::sasl {

/// RFC 5802 stored credential: enough to verify a SCRAM client without the password.
struct scram_secret {
    std::string salt;        ///< raw octets
    std::uint32_t iterations = 4096;
    std::string stored_key;  ///< H(ClientKey), raw octets
    std::string server_key;  ///< HMAC(SaltedPassword, "Server Key"), raw octets
};

/// A user's secret as the credential source holds it. A field is empty when the source
/// cannot give that form (a SHA512-CRYPT hash has none of them: only password checks work).
struct stored_secret {
    std::optional<std::string> plaintext;  ///< needed by APOP and CRAM-MD5
    std::optional<scram_secret> scram_sha1;
    std::optional<scram_secret> scram_sha256;
};

/// Which secret forms a credential source can produce at all; decides which mechanisms are
/// offered (RFC 2195 and RFC 1939 APOP need a plaintext-equivalent secret).
struct secret_forms {
    bool plaintext = false;
    bool scram_sha1 = false;
    bool scram_sha256 = false;
};

/// Derives the SCRAM secret of `password` (for `password` demo mode and {PLAIN} entries).
/// `hash` is "SHA-1" or "SHA-256".
scram_secret derive_scram_secret(std::string_view hash, std::string_view password,
                                 std::string_view salt, std::uint32_t iterations);

}  // namespace izypop3::core::sasl
