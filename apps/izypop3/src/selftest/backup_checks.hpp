#pragma once
// The self-test's backup part: `method clientpop3` run in this process against the server
// under test, into fresh localfs stores, over plain, STLS and implicit TLS and with each
// login mechanism; every stored message compared byte for byte with the source; then an
// incremental run that must fetch nothing, and a run with `delete true` after which the
// maildrop must be empty.

#include "selftest/check_list.hpp"
#include "selftest/maildrop_reference.hpp"

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace izypop3::app {

struct backup_target {
    std::uint16_t port = 0;      ///< plain POP3 with STLS on 127.0.0.1
    std::uint16_t tls_port = 0;  ///< implicit TLS on 127.0.0.1
    std::string fingerprint;     ///< the server certificate's SHA-256, pinned by the client
    const maildrop_reference* ref = nullptr;
    /// Whether the delete check may empty the source maildrop (only a throw-away store).
    bool may_delete = false;
    /// After the delete run: a new session's verdict on the maildrop being empty.
    std::function<verdict()> maildrop_empty;
    /// The logging keys every backup run gets, e.g. {"verbose.clientLog", "true"}: the
    /// self-test's own, so that its log shows the backups' conversations too.
    std::vector<std::string> log_keys;
    /// Where the client's own diagnostics go when it logs (any of log_keys).
    std::ostream* client_log = nullptr;
};

void run_backup_checks(const backup_target& target, check_list& checks);

}  // namespace izypop3::app
