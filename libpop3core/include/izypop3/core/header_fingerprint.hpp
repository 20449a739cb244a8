#pragma once
// Ids for the messages of a server without UIDL (issue 18): a fingerprint of each message's
// header section, as TOP n 0 returns it. Message-ID alone is not enough (different messages
// share one, some have none); the whole header section, Received lines and Date included,
// tells messages apart and stays the same from one session to the next.

#include <string>
#include <string_view>
#include <vector>

namespace izypop3::core {

/// "hdr-" and the SHA-256 of header_section(message) (header_field.hpp: everything before
/// the first empty line, so TOP n 0 and RETR n give the same) in lower-case hex: 68
/// printable octets, a valid RFC 1939 unique-id.
std::string header_fingerprint(std::string_view message);

/// Makes the ids unique in the order given (server order): the second and later copies of
/// one id get "-2", "-3", ... appended, so identical headers still name distinct messages.
void number_repeated_ids(std::vector<std::string>& ids);

}  // namespace izypop3::core
