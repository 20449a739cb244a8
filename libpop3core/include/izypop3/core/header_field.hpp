#pragma once
// Finding one field in a message's header section (RFC 5322 section 2.2), for listings that
// show From, Subject and Date. Works on the octets of the header only; reading them is the
// caller's job.

#include <optional>
#include <string>
#include <string_view>

namespace izypop3::core {

/// The header section of `message`: everything before the first empty line (CRLF CRLF or
/// LF LF), or all of it when there is no body.
std::string_view header_section(std::string_view message) noexcept;

/// The value of the first field called `name` (ASCII case-insensitive) in `header`, unfolded
/// (RFC 5322 section 2.2.3: CRLF followed by white space becomes that white space) and with
/// leading and trailing white space removed. Nothing when the field is absent.
std::optional<std::string> find_header_field(std::string_view header, std::string_view name);

}  // namespace izypop3::core
