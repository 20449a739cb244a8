#pragma once
// What the server holds, asked at the start of a session: STAT, then LIST and UIDL, checked
// against each other before anything is retrieved or deleted (core::maildrop_listing).

#include "clientpop3/pop3_link.hpp"

#include <izypop3/core/maildrop_listing.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace izypop3::app {

/// The messages by number, or nullopt: then either the server's answers were refused and
/// `problem` says why in one printable line, or (problem empty) the link failed.
std::optional<std::vector<core::listed_message>> list_server_messages(pop3_link& link,
                                                                      std::size_t max_messages,
                                                                      bool with_uids,
                                                                      std::string& problem);

}  // namespace izypop3::app
