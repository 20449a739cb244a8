#pragma once
// Process exit codes of izypop3, documented in docs/cli.md (from cli/help.cpp) and docs/client.md.

namespace izypop3::app::exit_code {

inline constexpr int ok = 0;
/// The method ran and failed (a store that cannot be opened, a server that refused ...).
inline constexpr int failure = 1;
/// The command line is wrong: unknown method or key, missing or malformed value.
inline constexpr int usage = 2;
/// The command line is right but asks for something this build does not have yet.
inline constexpr int not_built = 3;
/// clientpop3: connect, TLS or certificate failure (no credential was sent after it).
inline constexpr int connection = 3;
/// clientpop3: the server refused the login.
inline constexpr int authentication = 4;
/// clientpop3: the server refused the login for now ([IN-USE], [LOGIN-DELAY], [SYS/TEMP]);
/// the same command can work later.
inline constexpr int try_later = 5;

}  // namespace izypop3::app::exit_code
