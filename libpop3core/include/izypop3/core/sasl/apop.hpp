#pragma once
// APOP (RFC 1939 section 7): MD5 of the greeting's timestamp followed by the secret.

#include <string>
#include <string_view>

namespace izypop3::core::sasl {

/// Lower-case hex MD5(timestamp + secret); timestamp includes its angle brackets.
std::string apop_digest(std::string_view timestamp, std::string_view secret);
/// A timestamp as RFC 1939 wants it: "<" unique-part "@" host ">"; the unique part comes
/// from `random_hex` (already random hex text).
std::string make_apop_timestamp(std::string_view random_hex, std::string_view host);
/// True if `ts` is a well-formed msg-id style timestamp "<...@...>" of printable ASCII
/// without spaces or nested brackets (mpop's strictness against CVE-2007-1558 games).
bool valid_apop_timestamp(std::string_view ts) noexcept;

}  // namespace izypop3::core::sasl
