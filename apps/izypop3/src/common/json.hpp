#pragma once
// The one JSON helper the CLI needs: a string literal (RFC 8259 section 7).

#include <string>
#include <string_view>
#include <vector>

namespace izypop3::app {

/// `text` as a quoted JSON string. Quotes, backslashes and control characters are escaped
/// (\n, \t ... or \u00XX); valid UTF-8 passes through; each octet that is not part of a
/// valid UTF-8 sequence becomes U+FFFD, since JSON text must be UTF-8 (RFC 8259 section 8.1).
std::string json_quote(std::string_view text);

/// `values` as a JSON array of strings.
std::string json_string_array(const std::vector<std::string>& values);

}  // namespace izypop3::app
