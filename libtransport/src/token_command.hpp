#pragma once
// oauth2.command: a local program that knows whose token a token is. It gets the token and a
// line end on stdin and answers with its exit status and, when valid, the user name on the
// first line of stdout. Blocking: the server runs it on a worker thread, never on an I/O one.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace izypop3::transport::detail {

struct command_verdict {
    enum class kind { valid, invalid, temporary } outcome = kind::temporary;
    std::string user;    ///< for valid
    std::string detail;  ///< for the log: how the command ended
};

/// Runs `command` with /bin/sh -c. Exit 0 with a non-empty first line = valid; exit 75
/// (EX_TEMPFAIL), a command that cannot start (or the shell's 126/127), dies of a signal or
/// outlives `timeout` (it is killed) = temporary; any other exit, or exit 0 with nothing
/// printed = invalid.
command_verdict run_token_command(const std::string& command, std::string_view token,
                                  std::chrono::milliseconds timeout);

}  // namespace izypop3::transport::detail
