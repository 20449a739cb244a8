#include "cli/option_types.hpp"

#include "cli/suggest.hpp"

#include <izypop3/transport/logger.hpp>

#include <fmt/format.h>

#include <span>

namespace izypop3::app {

namespace {

bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (x != b[i]) return false;
    }
    return true;
}

/// The user's text, quoted for an error message: control octets escaped, length bounded.
std::string quoted(std::string_view text) {
    // Appended piece by piece: g++ 12 reports a false -Wrestrict for "'" + string + "'".
    std::string out(1, '\'');
    out += transport::sanitize_for_log(text, 80);
    out += '\'';
    return out;
}

template <class Port>
Port parse_port(const std::vector<std::string>& values, std::uint64_t min) {
    const std::string& text = values.at(0);
    std::uint64_t n = 0;
    try {
        n = parse_whole_number(text, min, 65535);
    } catch (const bad_value&) {
        throw bad_value(fmt::format("a port number from {} to 65535, got {}", min, quoted(text)));
    }
    return Port{static_cast<std::uint16_t>(n)};
}

}  // namespace

bool parse_flag(std::string_view text, bool& out) noexcept {
    for (std::string_view yes : {"true", "yes", "on", "1"}) {
        if (equals_ignoring_case(text, yes)) {
            out = true;
            return true;
        }
    }
    for (std::string_view no : {"false", "no", "off", "0"}) {
        if (equals_ignoring_case(text, no)) {
            out = false;
            return true;
        }
    }
    return false;
}

std::uint64_t parse_whole_number(std::string_view text, std::uint64_t min, std::uint64_t max) {
    const auto fail = [&] {
        return bad_value(fmt::format("a whole number from {} to {}, got {}", min, max,
                                     quoted(text)));
    };
    if (text.empty() || text.size() > 20) throw fail();
    std::uint64_t n = 0;
    for (char c : text) {
        if (c < '0' || c > '9') throw fail();
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (n > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) throw fail();
        n = n * 10 + digit;
    }
    if (n < min || n > max) throw fail();
    return n;
}

std::string join_names(const std::string_view* names, std::size_t count) {
    std::string out;
    for (std::size_t i = 0; i < count; ++i) {
        if (i != 0) out += '|';
        out += names[i];
    }
    return out;
}

void throw_bad_choice(std::string_view text, const std::string_view* names, std::size_t count) {
    std::string message =
        fmt::format("one of {}, got {}", join_names(names, count), quoted(text));
    if (auto near = suggest(text, std::span<const std::string_view>(names, count))) {
        message += fmt::format(" (did you mean '{}'?)", *near);
    }
    throw bad_value(message);
}

void validate(boost::any& v, const std::vector<std::string>& values, port_number*, int) {
    v = parse_port<port_number>(values, 1);
}

void validate(boost::any& v, const std::vector<std::string>& values, port_or_zero*, int) {
    v = parse_port<port_or_zero>(values, 0);
}

void validate(boost::any& v, const std::vector<std::string>& values, flag*, int) {
    bool b = false;
    if (!parse_flag(values.at(0), b)) {
        throw bad_value(fmt::format("true or false (also yes/no, on/off, 1/0), got {}",
                                    quoted(values.at(0))));
    }
    v = flag{b};
}

std::ostream& operator<<(std::ostream& os, port_number p) { return os << p.value; }
std::ostream& operator<<(std::ostream& os, port_or_zero p) { return os << p.value; }
std::ostream& operator<<(std::ostream& os, flag f) { return os << (f.value ? "true" : "false"); }

}  // namespace izypop3::app
