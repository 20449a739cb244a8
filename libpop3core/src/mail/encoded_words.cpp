#include <izypop3/core/encoded_words.hpp>

#include <array>
#include <cstdint>
#include <optional>

namespace izypop3::core {
namespace {

// RFC 2047 caps a word at 75 octets; real mail breaks that, so allow more but stay bounded.
constexpr std::size_t max_word = 1024;
constexpr std::size_t max_charset = 64;

enum class charset { utf8, latin1, cp1252 };

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::optional<charset> charset_named(std::string_view name) {
    // RFC 2231 section 5: "charset*language".
    name = name.substr(0, name.find('*'));
    std::string n;
    for (char c : name) n += lower(c);
    struct entry {
        std::string_view name;
        charset cs;
    };
    static constexpr std::array<entry, 8> names{{
        {"utf-8", charset::utf8},
        {"utf8", charset::utf8},
        {"us-ascii", charset::utf8},
        {"iso-8859-1", charset::latin1},
        {"iso8859-1", charset::latin1},
        {"latin1", charset::latin1},
        {"windows-1252", charset::cp1252},
        {"cp1252", charset::cp1252},
    }};
    for (const auto& e : names)
        if (e.name == n) return e.cs;
    return std::nullopt;
}

// Windows-1252 0x80-0x9F; 0 marks the five unassigned positions.
constexpr std::array<std::uint16_t, 32> cp1252_high{
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

std::string to_utf8(std::string_view octets, charset cs) {
    if (cs == charset::utf8) return std::string(octets);
    std::string out;
    out.reserve(octets.size() * 2);
    for (char ch : octets) {
        const auto b = static_cast<unsigned char>(ch);
        std::uint32_t cp = b;
        if (cs == charset::cp1252 && b >= 0x80 && b < 0xA0)
            cp = cp1252_high[b - 0x80] ? cp1252_high[b - 0x80] : 0xFFFD;
        append_utf8(out, cp);
    }
    return out;
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

std::optional<std::string> decode_q(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '_') {
            out += ' ';
        } else if (text[i] == '=') {
            if (i + 2 >= text.size()) return std::nullopt;
            const int hi = hex_value(text[i + 1]);
            const int lo = hex_value(text[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

int base64_value(char c) noexcept {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

// Senders often drop the padding, so it is optional here (unlike SASL's strict base64).
std::optional<std::string> decode_b(std::string_view text) {
    while (!text.empty() && text.back() == '=') text.remove_suffix(1);
    if (text.size() % 4 == 1) return std::nullopt;
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        const int v = base64_value(c);
        if (v < 0) return std::nullopt;
        // Only the bits not yet output matter (fewer than 8 before these 6): the rest is
        // dropped rather than shifted out, so the accumulator never wraps.
        acc = ((acc & 0xFFu) << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xFF);
        }
    }
    return out;
}

struct word {
    std::string decoded;
    std::size_t end;  // index just past "?="
};

// Parses "=?charset?X?text?=" starting at `at`.
std::optional<word> parse_word(std::string_view s, std::size_t at) {
    const std::size_t cs_begin = at + 2;
    const std::size_t q1 = s.find('?', cs_begin);
    if (q1 == std::string_view::npos || q1 == cs_begin || q1 - cs_begin > max_charset)
        return std::nullopt;
    if (q1 + 2 >= s.size() || s[q1 + 2] != '?') return std::nullopt;
    const char encoding = lower(s[q1 + 1]);
    const std::size_t text_begin = q1 + 3;
    const std::size_t q2 = s.find('?', text_begin);
    if (q2 == std::string_view::npos || q2 + 1 >= s.size() || s[q2 + 1] != '=') return std::nullopt;
    if (q2 + 2 - at > max_word) return std::nullopt;
    const std::string_view name = s.substr(cs_begin, q1 - cs_begin);
    const std::string_view text = s.substr(text_begin, q2 - text_begin);
    for (char c : name)
        if (is_space(c)) return std::nullopt;
    for (char c : text)
        if (is_space(c)) return std::nullopt;
    const auto cs = charset_named(name);
    if (!cs) return std::nullopt;
    std::optional<std::string> octets;
    if (encoding == 'q') octets = decode_q(text);
    else if (encoding == 'b') octets = decode_b(text);
    if (!octets) return std::nullopt;
    return word{to_utf8(*octets, *cs), q2 + 2};
}

}  // namespace

std::string decode_encoded_words(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::string_view pending_space;  // white space seen right after an encoded-word
    bool after_word = false;
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] == '=' && i + 1 < text.size() && text[i + 1] == '?') {
            if (auto w = parse_word(text, i)) {
                if (!after_word) out.append(pending_space);
                pending_space = {};
                out += w->decoded;
                i = w->end;
                after_word = true;
                continue;
            }
        }
        if (is_space(text[i])) {
            std::size_t j = i;
            while (j < text.size() && is_space(text[j])) ++j;
            if (after_word) pending_space = text.substr(i, j - i);
            else out.append(text.substr(i, j - i));
            i = j;
            continue;
        }
        out.append(pending_space);
        pending_space = {};
        out += text[i++];
        after_word = false;
    }
    out.append(pending_space);
    return out;
}

}  // namespace izypop3::core
