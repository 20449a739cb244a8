#include <izypop3/core/sasl/credentials.hpp>

#include "sasl/saslprep.hpp"
#include "sasl/scram_common.hpp"

#include <stdexcept>

namespace izypop3::core::sasl {

scram_secret derive_scram_secret(std::string_view hash, std::string_view password,
                                 std::string_view salt, std::uint32_t iterations) {
    hash_algorithm alg{};
    if (hash == detail::scram_sha1.hash_name)
        alg = hash_algorithm::sha1;
    else if (hash == detail::scram_sha256.hash_name)
        alg = hash_algorithm::sha256;
    else
        throw std::invalid_argument("derive_scram_secret: unknown hash '" + std::string(hash) +
                                    "'");
    // RFC 5802 section 3: SaltedPassword = Hi(Normalize(password), salt, i). A password
    // that SASLprep prohibits (control characters, invalid UTF-8) is hashed as its raw
    // octets: a conforming client refuses such a password anyway, and there is no error
    // channel here for what is the operator's data, not a peer's.
    const auto prepared = detail::saslprep(password);
    const std::string salted =
        pbkdf2(alg, prepared ? std::string_view(*prepared) : password, salt, iterations);
    return detail::scram_secret_from_salted(alg, salted, std::string(salt), iterations);
}

}  // namespace izypop3::core::sasl
