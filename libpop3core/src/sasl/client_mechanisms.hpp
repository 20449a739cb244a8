#pragma once
// Private factory of the SCRAM client with a given nonce: make_client_mechanism() draws the
// nonce from the random source (base64 of 24 octets), which cannot produce the nonces of
// the RFC 5802 and RFC 7677 examples; tests use this to check those exchanges exactly.

#include <izypop3/core/crypto.hpp>
#include <izypop3/core/sasl/client_mechanism.hpp>

#include <memory>
#include <string>

namespace izypop3::core::sasl::detail {

/// RFC 5802 section 5.1: the iteration count a server may ask for is bounded below by the
/// RFC's minimum and above by us, so that a hostile server cannot make us spin for minutes.
inline constexpr std::uint32_t scram_client_max_iterations = 10'000'000;

/// `alg` is sha1 or sha256; `nonce` must be printable ASCII without ",".
std::unique_ptr<client_mechanism> make_scram_client(hash_algorithm alg, client_credentials creds,
                                                    std::string nonce, bool two_step);

}  // namespace izypop3::core::sasl::detail
