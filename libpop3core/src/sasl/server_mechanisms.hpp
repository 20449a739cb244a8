#pragma once
// Factories of the built-in server mechanisms. The optional fixed values exist for tests
// that must reproduce RFC example exchanges byte for byte (RFC 2195 section 2, RFC 5802
// section 5, RFC 7677 section 3); production code always leaves them empty.

#include <izypop3/core/crypto.hpp>
#include <izypop3/core/sasl/server_mechanism.hpp>

#include <memory>
#include <optional>
#include <string>

namespace izypop3::core::sasl::detail {

std::unique_ptr<server_mechanism> make_plain_server();
std::unique_ptr<server_mechanism> make_login_server();
/// RFC 7628 OAUTHBEARER and Google's/Microsoft's XOAUTH2 (server_oauth.cpp).
std::unique_ptr<server_mechanism> make_oauthbearer_server();
std::unique_ptr<server_mechanism> make_xoauth2_server();
/// `fixed_challenge` replaces the generated "<hex.hex@host>" challenge.
std::unique_ptr<server_mechanism> make_cram_md5_server(
    const server_context& ctx, std::optional<std::string> fixed_challenge = std::nullopt);
/// `alg` is sha1 or sha256. `fixed_nonce` replaces the random server part of the nonce.
std::unique_ptr<server_mechanism> make_scram_server(
    hash_algorithm alg, const server_context& ctx,
    std::optional<std::string> fixed_nonce = std::nullopt);

/// The salt used for users whose SCRAM secret must be derived from a plaintext password,
/// and for unknown users, so that the two look alike on the wire.
std::string scram_fallback_salt(std::string_view user);

}  // namespace izypop3::core::sasl::detail
