#include <izypop3/core/command.hpp>

#include <boost/assert/source_location.hpp>
#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

#include <array>
#include <cstring>
#include <limits>

namespace izypop3::core {

namespace {

// RFC 1939 section 3 limits arguments to 40 octets, but user names and SASL mechanism names
// longer than that exist; RFC 2449 section 4 bounds the whole command at 255 octets, so no
// single argument may exceed that either. AUTH's initial response is the exception: RFC 5034
// section 4 lets it fill the line, which line_reader already bounds.
constexpr std::size_t max_argument = 255;

// Zero padding is tolerated ("RETR 0001") but not without end: past this many digits the
// text is rejected without looking further.
constexpr std::size_t max_digits = 20;

// How the text after the keyword is split and checked.
enum class arg_kind {
    none,     // CAPA, STAT, ...: nothing may follow the keyword
    token,    // USER name, APOP name digest, LANG tag: space-free arguments
    number,   // LIST [n], UIDL [n], RETR n, DELE n
    top,      // TOP n m
    rest,     // PASS: everything after the first space is one argument
    sasl,     // AUTH [mechanism [initial-response]]
};

struct verb_spec {
    std::string_view name;
    verb v;
    unsigned char min_args;
    unsigned char max_args;
    arg_kind kind;
};

// One row per keyword (RFC 1939 sections 4-7, RFC 2449 section 5, RFC 2595 section 4,
// RFC 5034 section 4, RFC 6856 sections 2-3). Ordered like enum verb so verb_name can index it.
constexpr std::array<verb_spec, 17> verb_table{{
    {"USER", verb::user, 1, 1, arg_kind::token},
    {"PASS", verb::pass, 1, 1, arg_kind::rest},
    {"APOP", verb::apop, 2, 2, arg_kind::token},
    // A bare "AUTH" asks for the mechanism list (a convention older than RFC 5034 that some
    // clients still follow), so the mechanism is optional here. The initial response is the
    // whole rest of the line: base64 has no spaces, and a mechanism registered with
    // raw_arguments gets its argument text as sent.
    {"AUTH", verb::auth, 0, 2, arg_kind::sasl},
    {"STLS", verb::stls, 0, 0, arg_kind::none},
    {"CAPA", verb::capa, 0, 0, arg_kind::none},
    {"STAT", verb::stat, 0, 0, arg_kind::none},
    {"LIST", verb::list, 0, 1, arg_kind::number},
    {"UIDL", verb::uidl, 0, 1, arg_kind::number},
    {"RETR", verb::retr, 1, 1, arg_kind::number},
    {"TOP", verb::top, 2, 2, arg_kind::top},
    {"DELE", verb::dele, 1, 1, arg_kind::number},
    {"NOOP", verb::noop, 0, 0, arg_kind::none},
    {"RSET", verb::rset, 0, 0, arg_kind::none},
    {"QUIT", verb::quit, 0, 0, arg_kind::none},
    {"UTF8", verb::utf8, 0, 0, arg_kind::none},
    {"LANG", verb::lang, 0, 1, arg_kind::token},
}};

constexpr bool table_matches_enum() {
    for (std::size_t i = 0; i < verb_table.size(); ++i)
        if (static_cast<std::size_t>(verb_table[i].v) != i) return false;
    return true;
}
static_assert(table_matches_enum(), "verb_table must follow the order of enum verb");

constexpr char ascii_upper(char c) noexcept {
    return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

const verb_spec* find_verb(std::string_view keyword) noexcept {
    for (const auto& spec : verb_table) {
        if (spec.name.size() != keyword.size()) continue;
        bool same = true;
        for (std::size_t i = 0; i < keyword.size() && same; ++i)
            same = ascii_upper(keyword[i]) == spec.name[i];
        if (same) return &spec;
    }
    return nullptr;
}

template <class Int>
std::optional<Int> parse_digits(std::string_view s) noexcept {
    if (s.empty() || s.size() > max_digits) return std::nullopt;
    Int value = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        const auto d = static_cast<Int>(c - '0');
        if (value > (std::numeric_limits<Int>::max() - d) / 10) return std::nullopt;
        value = static_cast<Int>(value * 10 + d);
    }
    return value;
}

using parse_result = boost::system::result<command, command_error>;

command_error fail(errc code, std::optional<verb> v = std::nullopt) noexcept {
    return command_error{code, v};
}

// Splits `rest` at single spaces into at most `limit` tokens and reports how many there
// were. Consecutive, leading or trailing spaces produce empty tokens, which the callers
// reject: RFC 1939 section 3 separates arguments by exactly one space, and accepting sloppy
// spacing would make "PASS" and "AUTH" lines ambiguous.
std::size_t split(std::string_view rest, std::array<std::string_view, 3>& tokens) noexcept {
    std::size_t count = 0;
    for (;;) {
        const std::size_t sp = rest.find(' ');
        if (count == tokens.size()) return count + 1;  // more than any verb accepts
        tokens[count++] = rest.substr(0, sp);
        if (sp == std::string_view::npos) return count;
        rest.remove_prefix(sp + 1);
    }
}

}  // namespace

std::string_view verb_name(verb v) noexcept {
    const auto i = static_cast<std::size_t>(v);
    return i < verb_table.size() ? verb_table[i].name : std::string_view("?");
}

std::optional<std::uint32_t> parse_message_number(std::string_view s) noexcept {
    auto n = parse_digits<std::uint32_t>(s);
    if (!n || *n == 0) return std::nullopt;  // RFC 1939: messages are numbered from 1
    return n;
}

std::optional<std::uint64_t> parse_decimal(std::string_view s) noexcept {
    return parse_digits<std::uint64_t>(s);
}

parse_result parse_command(std::string_view line) noexcept {
    if (line.empty()) return fail(errc::empty_command);
    const std::size_t sp = line.find(' ');
    const std::string_view keyword = line.substr(0, sp);
    const verb_spec* spec = find_verb(keyword);
    // A NUL must never shorten a command (CVE-2019-11500 class), so it is refused before any
    // argument is looked at. The verb is still reported when it was readable.
    if (std::memchr(line.data(), '\0', line.size()) != nullptr)
        return fail(errc::nul_in_line, spec ? std::optional<verb>(spec->v) : std::nullopt);
    if (!spec) return fail(errc::unknown_command);
    const verb v = spec->v;

    command c;
    c.v = v;
    if (sp == std::string_view::npos) {
        if (spec->min_args > 0) return fail(errc::missing_argument, v);
        return c;
    }
    const std::string_view rest = line.substr(sp + 1);

    switch (spec->kind) {
        case arg_kind::none:
            return fail(errc::too_many_arguments, v);

        case arg_kind::rest:
            // RFC 1939 section 7: the password may contain spaces, so the whole rest of the
            // line is the argument, trailing spaces included.
            if (rest.empty()) return fail(errc::missing_argument, v);
            if (rest.size() > max_argument) return fail(errc::argument_too_long, v);
            c.args[0] = rest;
            c.arg_count = 1;
            return c;

        case arg_kind::sasl: {
            const std::size_t sp2 = rest.find(' ');
            const std::string_view mechanism = rest.substr(0, sp2);
            if (mechanism.empty()) return fail(errc::missing_argument, v);
            if (mechanism.size() > max_argument) return fail(errc::argument_too_long, v);
            c.args[0] = mechanism;
            c.arg_count = 1;
            if (sp2 == std::string_view::npos) return c;
            // An empty initial response is sent as "=" (RFC 5034 section 4), never as nothing.
            const std::string_view initial = rest.substr(sp2 + 1);
            if (initial.empty()) return fail(errc::missing_argument, v);
            c.args[1] = initial;
            c.arg_count = 2;
            return c;
        }

        case arg_kind::token:
        case arg_kind::number:
        case arg_kind::top:
            break;
    }

    std::array<std::string_view, 3> tokens{};
    const std::size_t count = split(rest, tokens);
    if (count > spec->max_args) return fail(errc::too_many_arguments, v);
    if (count < spec->min_args) return fail(errc::missing_argument, v);
    for (std::size_t i = 0; i < count; ++i) {
        if (tokens[i].size() > max_argument) return fail(errc::argument_too_long, v);
        c.args[i] = tokens[i];
    }
    c.arg_count = count;

    switch (spec->kind) {
        case arg_kind::token:
            for (std::size_t i = 0; i < count; ++i)
                if (tokens[i].empty()) return fail(errc::missing_argument, v);
            return c;
        case arg_kind::number:
            // "LIST " is not "LIST": an empty token is an invalid number, not no number.
            c.number = parse_message_number(tokens[0]);
            if (!c.number) return fail(errc::bad_message_number, v);
            return c;
        case arg_kind::top:
            c.number = parse_message_number(tokens[0]);
            if (!c.number) return fail(errc::bad_message_number, v);
            c.lines = parse_decimal(tokens[1]);
            if (!c.lines) return fail(errc::bad_line_count, v);
            return c;
        default:
            return c;  // handled above
    }
}

void throw_exception_from_error(command_error const& e, boost::source_location const& loc) {
    std::string what = "parse_command";
    if (e.v) {
        what += ": ";
        what += verb_name(*e.v);
    }
    boost::throw_exception(boost::system::system_error(make_error_code(e.code), what), loc);
}

}  // namespace izypop3::core
