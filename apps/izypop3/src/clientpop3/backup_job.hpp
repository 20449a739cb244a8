#pragma once
// A backup run on a logged-in link: UIDL + LIST, choose the messages, RETR each one
// streaming into the store, DELE only what the store committed, then QUIT.

#include "clientpop3/message_selection.hpp"
#include "clientpop3/pop3_link.hpp"

#include <izypop3/store/store.hpp>

#include <atomic>
#include <cstdint>
#include <iosfwd>
#include <string>

namespace izypop3::app {

struct backup_settings {
    message_selection selection;
    std::uint64_t limit = 0;     ///< 0 = no limit
    std::uint64_t max_size = 0;  ///< 0 = no limit
    bool delete_stored = false;
    std::string source_id;       ///< "user@host"
    std::string mailbox;         ///< the POP3 user
    bool progress_on_terminal = false;  ///< redraw one progress line instead of logging lines
};

struct backup_summary {
    std::uint64_t fetched = 0;          ///< stored as new items
    std::uint64_t already_stored = 0;   ///< skipped by `new`, or same octets in the store
    std::uint64_t duplicates = 0;       ///< same UIDL, other octets: stored tagged dup
    std::uint64_t deleted = 0;
    std::uint64_t failed = 0;
    std::uint64_t skipped_large = 0;
    std::uint64_t bytes = 0;
    bool quit_ok = false;
};

/// Runs the backup; progress goes to `progress` (stderr). Failures of single messages are
/// counted; a broken link ends the run early (link.failure() says why).
backup_summary run_backup(pop3_link& link, store::mime_store& store,
                          const backup_settings& settings, std::ostream& progress);

}  // namespace izypop3::app
