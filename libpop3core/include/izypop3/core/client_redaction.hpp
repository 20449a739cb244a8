#pragma once
// What a client transcript may show of a line the client sends before it is logged in. Until
// the server accepts the login, every line is a step of authentication: commands that carry
// no secret pass (CAPA, STLS, QUIT, USER with its name, the "*" that cancels SASL), the rest
// keep only their verb: PASS, the APOP digest, the AUTH initial response and every SASL
// continuation line become "<redacted>". After login no command carries a secret.

#include <string>
#include <string_view>

namespace izypop3::core {

/// `line` without its CRLF, as the transcript may show it before login.
[[nodiscard]] std::string redact_client_login_line(std::string_view line);

}  // namespace izypop3::core
