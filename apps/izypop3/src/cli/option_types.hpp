#pragma once
// Value types for the method option tables. Each type brings its own Boost.Program_options
// validate() overload, so "port abc", "port 70000", "tls maybe" or "format xml" are
// rejected by the table that declares the key, with a message saying what was expected.

#include <boost/any.hpp>

#include <array>
#include <cstdint>
#include <limits>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace izypop3::app {

/// Thrown by the validate() overloads below; what() completes "key 'port' wants ...".
/// The parser catches it per key, so it knows which key was wrong.
class bad_value : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// A TCP port, 1..65535.
struct port_number {
    std::uint16_t value = 0;
};
/// A TCP port or 0, where 0 has a documented meaning (off, or "pick a free port").
struct port_or_zero {
    std::uint16_t value = 0;
};
/// A boolean written as true/false, yes/no, on/off or 1/0 (any case).
struct flag {
    bool value = false;
};

/// A whole number in [Min, Max], written in decimal digits only (no sign, no spaces).
template <std::uint64_t Min, std::uint64_t Max>
struct whole_number {
    static constexpr std::uint64_t min = Min;
    static constexpr std::uint64_t max = Max;
    std::uint64_t value = Min;
};
/// Counts and limits that fit 32 bits.
using count_value = whole_number<0, std::numeric_limits<std::uint32_t>::max()>;
/// Octet sizes.
using size_value = whole_number<0, std::numeric_limits<std::uint64_t>::max()>;
/// Durations in whole seconds, at least one, at most a week.
using seconds_value = whole_number<1, 7 * 24 * 3600>;

/// One of a fixed set of words; `Names` provides `static constexpr std::array names`.
template <class Names>
struct choice {
    std::string value;
};

struct loglevel_names {
    static constexpr std::array<std::string_view, 4> names{"error", "warn", "info", "debug"};
};
struct starttls_names {
    static constexpr std::array<std::string_view, 3> names{"auto", "true", "false"};
};
struct auth_names {
    static constexpr std::array<std::string_view, 10> names{
        "auto",     "user",        "apop",          "plain",   "login",
        "cram-md5", "scram-sha-1", "scram-sha-256", "xoauth2", "oauthbearer"};
};
struct twostep_names {
    static constexpr std::array<std::string_view, 3> names{"auto", "true", "false"};
};
struct cmd_names {
    static constexpr std::array<std::string_view, 7> names{"capa", "stat", "list", "uidl",
                                                           "top",  "retr", "dele"};
};
struct pipelining_names {
    static constexpr std::array<std::string_view, 3> names{"auto", "on", "off"};
};
struct format_names {
    static constexpr std::array<std::string_view, 2> names{"text", "json"};
};
struct testtype_names {
    static constexpr std::array<std::string_view, 3> names{"mimestore", "fullclientserver", "load"};
};
struct order_names {
    static constexpr std::array<std::string_view, 2> names{"asc", "desc"};
};
struct load_mode_names {
    static constexpr std::array<std::string_view, 3> names{"login", "retrall", "idle"};
};

/// Parses the words accepted by `flag`; false when `text` is none of them.
bool parse_flag(std::string_view text, bool& out) noexcept;
/// Parses decimal digits into [min, max]; throws bad_value describing the range.
std::uint64_t parse_whole_number(std::string_view text, std::uint64_t min, std::uint64_t max);
/// "a|b|c".
std::string join_names(const std::string_view* names, std::size_t count);
/// Throws bad_value listing the allowed words (with a suggestion when one is close).
[[noreturn]] void throw_bad_choice(std::string_view text, const std::string_view* names,
                                   std::size_t count);

// Boost.Program_options finds these by argument-dependent lookup.
void validate(boost::any& v, const std::vector<std::string>& values, port_number*, int);
void validate(boost::any& v, const std::vector<std::string>& values, port_or_zero*, int);
void validate(boost::any& v, const std::vector<std::string>& values, flag*, int);

template <std::uint64_t Min, std::uint64_t Max>
void validate(boost::any& v, const std::vector<std::string>& values, whole_number<Min, Max>*, int) {
    // Program_options hands over exactly one token for a non-multitoken value.
    v = whole_number<Min, Max>{parse_whole_number(values.at(0), Min, Max)};
}

template <class Names>
void validate(boost::any& v, const std::vector<std::string>& values, choice<Names>*, int) {
    const std::string& text = values.at(0);
    for (std::string_view name : Names::names) {
        if (name == text) {
            v = choice<Names>{text};
            return;
        }
    }
    throw_bad_choice(text, Names::names.data(), Names::names.size());
}

// Program_options prints defaults through operator<<.
std::ostream& operator<<(std::ostream& os, port_number p);
std::ostream& operator<<(std::ostream& os, port_or_zero p);
std::ostream& operator<<(std::ostream& os, flag f);
template <std::uint64_t Min, std::uint64_t Max>
std::ostream& operator<<(std::ostream& os, whole_number<Min, Max> n) {
    return os << n.value;
}
template <class Names>
std::ostream& operator<<(std::ostream& os, const choice<Names>& c) {
    return os << c.value;
}

}  // namespace izypop3::app
