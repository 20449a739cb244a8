#pragma once
// RFC 2047 encoded-words in header text ("=?utf-8?Q?caf=C3=A9?="), decoded to UTF-8 for
// display. Header text comes from whoever sent the mail, so the decoder accepts anything and
// never fails: what it cannot decode is kept as it was written.

#include <string>
#include <string_view>

namespace izypop3::core {

/// Decodes every well-formed encoded-word of `text` whose charset is UTF-8, US-ASCII,
/// ISO-8859-1 or Windows-1252 (RFC 2231 language suffixes such as "utf-8*en" are ignored);
/// white space between two adjacent encoded-words is dropped (RFC 2047 section 6.2). Other
/// charsets and malformed words are left untouched. The result is not sanitised: control
/// characters a sender encoded stay in it, so displays must still escape them.
std::string decode_encoded_words(std::string_view text);

}  // namespace izypop3::core
