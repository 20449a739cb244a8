#pragma once
// What the server holds, asked at the start of a session: STAT, then LIST and UIDL, checked
// against each other before anything is retrieved or deleted (core::maildrop_listing);
// without UIDL, fingerprints of the header sections stand in for it.

#include "clientpop3/pop3_link.hpp"

#include <izypop3/core/maildrop_listing.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace izypop3::app {

/// The messages by number, or nullopt: then either the server's answers were refused and
/// `problem` says why in one printable line, or (problem empty) the link failed. With
/// `with_uids` on a server without UIDL (not in CAPA, or -ERR to it), each message's id is
/// the fingerprint of its header section (TOP n 0), and `without_uidl` (when given) gets one
/// printable line saying so.
std::optional<std::vector<core::listed_message>> list_server_messages(
    pop3_link& link, std::size_t max_messages, bool with_uids, std::string& problem,
    std::string* without_uidl = nullptr);

}  // namespace izypop3::app
