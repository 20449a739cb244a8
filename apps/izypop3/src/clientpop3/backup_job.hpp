#pragma once
// A backup run on a logged-in link: STAT, LIST and UIDL checked against each other, the
// messages chosen, RETR of each one streaming into the store under a cap derived from its
// LIST size, DELE only for what the store verifiably holds, then QUIT. A message that cannot
// be fetched is recorded in the store as pop3failed; when its failure also ends the
// connection (a body larger than announced, the connection lost mid-body), the run
// reconnects and goes on with the other messages.

#include "clientpop3/message_selection.hpp"
#include "clientpop3/pop3_link.hpp"

#include <izypop3/store/store.hpp>

#include <cstdint>
#include <iosfwd>
#include <string>

namespace izypop3::app {

struct backup_settings {
    message_selection selection;
    std::uint64_t limit = 0;               ///< 0 = no limit
    std::uint64_t max_size = 0;            ///< 0 = no limit; also caps every body
    std::size_t max_messages = 1'000'000;  ///< a longer listing is refused
    bool delete_stored = false;
    std::string source_id;              ///< "user@host"
    std::string mailbox;                ///< the POP3 user
    bool progress_on_terminal = false;  ///< redraw one progress line instead of logging lines
    /// New connections after a message failure ended one; more failures end the run.
    unsigned max_reconnects = 3;
};

struct backup_summary {
    std::uint64_t fetched = 0;         ///< stored as new items
    std::uint64_t already_stored = 0;  ///< skipped by `new`, or same octets in the store
    std::uint64_t duplicates = 0;      ///< same UIDL, other octets: stored tagged dup
    std::uint64_t deleted = 0;
    std::uint64_t failed = 0;
    std::uint64_t skipped_large = 0;
    std::uint64_t bytes = 0;
    unsigned reconnects = 0;
    bool quit_ok = false;
    /// Set when the run did nothing because the server's listing or the store could not be
    /// believed; one line.
    std::string refused;
};

/// Runs the backup; progress goes to `progress` (stderr). Failures of single messages are
/// counted; a broken link ends the run early (link.failure() says why).
backup_summary run_backup(pop3_link& link, store::mime_store& store,
                          const backup_settings& settings, std::ostream& progress);

}  // namespace izypop3::app
