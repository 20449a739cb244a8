#pragma once
// Text from mail (a Subject, a From) shown on a terminal: readable UTF-8 stays, anything that
// could move the cursor or change colours is escaped.

#include <cstddef>
#include <string>
#include <string_view>

namespace izypop3::app {

/// Valid UTF-8 characters pass through except controls (C0, DEL, C1), which become `\xHH`
/// per octet, as does every octet that is not part of valid UTF-8. With `max_chars` set, the
/// result holds at most that many characters (an escape counts as its length), cut on a
/// character boundary and ending in "..." when something was cut.
std::string terminal_safe(std::string_view text, std::size_t max_chars = std::string::npos);

}  // namespace izypop3::app
