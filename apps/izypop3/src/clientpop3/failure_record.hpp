#pragma once
// The record a backup leaves in the store for a message it could not fetch: an item tagged
// pop3failed under the message's UID whose payload is a short notice saying why, never any
// of the message. `querystore query.tags pop3failed` lists them; the next run retries the
// message, and the store replaces the record with the message once it arrives.

#include <izypop3/store/store.hpp>

#include <string>

namespace izypop3::app {

struct failed_fetch {
    std::string uid;
    std::string source_id;  ///< "user@host"
    std::string mailbox;
    std::uint32_t number = 0;
    std::string reason;  ///< one line, for the notice's Subject
};

/// The notice's octets (RFC 5322, CRLF line ends, printable ASCII only).
std::string failure_notice(const failed_fetch& f);

/// Adds the record; an error when the store could not take it.
boost::system::error_code record_failed_fetch(store::mime_store& store, const failed_fetch& f);

}  // namespace izypop3::app
