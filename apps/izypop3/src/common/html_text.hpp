#pragma once
// Text from a peer or a user placed in an HTML page: it must stay text. Markup characters
// are escaped, and octets that are not UTF-8 or are controls are shown as `\xHH`, so what
// a hostile server says can neither open an element nor break the page's encoding.

#include <string>
#include <string_view>

namespace izypop3::app {

/// `text` safe as element content and as a quoted attribute value.
std::string html_text(std::string_view text);

}  // namespace izypop3::app
