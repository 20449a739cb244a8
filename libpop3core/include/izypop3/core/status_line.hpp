#pragma once
// Parsing a server's status line: "+OK ...", "-ERR [CODE] ...", or a SASL "+ base64".

#include <izypop3/core/errc.hpp>

#include <boost/system/result.hpp>

#include <string>
#include <string_view>

namespace izypop3::core {

enum class status_kind { ok, err, continuation };

struct status_line {
    status_kind kind{};
    /// RFC 2449 response code without brackets ("IN-USE", "SYS/TEMP", "AUTH"), or empty.
    std::string_view code;
    /// The human text after the status and code (for a continuation: the base64 payload).
    std::string_view text;
};

/// Parses a status line without its CRLF. "+OK" and "-ERR" are matched case-insensitively
/// and must be followed by a space or the end of the line; "+" followed by a space or end is a
/// continuation (RFC 5034 allows "+" alone for an empty challenge). Anything else is
/// errc::malformed_status.
boost::system::result<status_line> parse_status_line(std::string_view line) noexcept;

/// Server text made safe to show or log: control octets and non-ASCII become "\xNN", and the
/// result is cut to `max` octets with "..." appended (SECURITY C06, C20).
std::string printable(std::string_view text, std::size_t max = 200);

}  // namespace izypop3::core
