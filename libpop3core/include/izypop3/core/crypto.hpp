#pragma once
// The few hash functions SASL and APOP need, on OpenSSL's libcrypto. Outputs are raw octets.

#include <cstdint>
#include <string>
#include <string_view>

namespace izypop3::core {

enum class hash_algorithm { md5, sha1, sha256, sha512 };

std::string digest(hash_algorithm alg, std::string_view data);
std::string hmac(hash_algorithm alg, std::string_view key, std::string_view data);
/// PBKDF2 with HMAC of `alg` (SCRAM's Hi()), output length = the hash length.
std::string pbkdf2(hash_algorithm alg, std::string_view password, std::string_view salt,
                   std::uint32_t iterations);
std::string to_hex(std::string_view octets);
/// Comparison whose time does not depend on where the inputs differ.
bool equal_constant_time(std::string_view a, std::string_view b) noexcept;

}  // namespace izypop3::core
