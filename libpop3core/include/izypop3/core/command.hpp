#pragma once
// Parsing a POP3 command line (RFC 1939, 2449, 2595, 5034, 6856) into a typed command.

#include <izypop3/core/errc.hpp>

#include <boost/system/result.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace izypop3::core {

enum class verb {
    user, pass, apop, auth, stls, capa, stat, list, uidl, retr, top, dele, noop, rset, quit,
    utf8, lang,
};

/// The canonical upper-case name of a verb ("RETR").
std::string_view verb_name(verb v) noexcept;

/// A syntactically valid command. Views point into the parsed line.
struct command {
    verb v{};
    /// Up to two space-separated arguments; for PASS the whole rest of the line is args[0]
    /// (RFC 1939 allows spaces in a password) and for AUTH args[1] is the initial response.
    std::array<std::string_view, 2> args{};
    std::size_t arg_count = 0;
    /// Message number (LIST n, UIDL n, RETR n, DELE n, TOP n m), strictly parsed.
    std::optional<std::uint32_t> number;
    /// TOP's line count.
    std::optional<std::uint64_t> lines;
};

/// The failure of parse_command: the code and, when the verb was recognised, the verb, so a
/// server can phrase its -ERR ("RETR: invalid message number").
struct command_error {
    errc code{};
    std::optional<verb> v;
};

/// Parses one command line (without CRLF). Verbs are case-insensitive; arguments are
/// separated by single spaces; trailing garbage, missing or extra arguments, NUL octets,
/// signs, leading '+' and numbers that do not fit are all rejected.
boost::system::result<command, command_error> parse_command(std::string_view line) noexcept;

/// Strict decimal: digits only, no sign, no leading '+', fits in 32 bits, > 0.
std::optional<std::uint32_t> parse_message_number(std::string_view s) noexcept;
/// Strict decimal >= 0 that fits in 64 bits.
std::optional<std::uint64_t> parse_decimal(std::string_view s) noexcept;

}  // namespace izypop3::core
