#pragma once
// Strict base64 (RFC 4648, standard alphabet, padding required) for SASL.
//
// Ours rather than OpenSSL's on purpose: the core links libcrypto for digests only and stays
// free of OpenSSL's BIO layer, and EVP_DecodeBlock is too lenient for peer input (it skips
// whitespace, does not insist on padding, and counts the padding as zero octets), whereas a
// SASL exchange must reject anything but canonical base64.

#include <boost/system/result.hpp>

#include <string>
#include <string_view>

namespace izypop3::core {

std::string base64_encode(std::string_view octets);
/// Rejects anything but the standard alphabet with correct padding (no whitespace, no
/// missing '=') with errc::bad_base64. "=" alone is not base64: callers handle RFC 5034's
/// "=" (empty initial response) before decoding.
boost::system::result<std::string> base64_decode(std::string_view text);

}  // namespace izypop3::core
