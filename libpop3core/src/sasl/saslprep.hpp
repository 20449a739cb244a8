#pragma once
// SASLprep (RFC 4013), the part of it this project can do without Unicode tables.
//
// Done: strict UTF-8 decoding; the RFC 4013 section 2.1 mappings (non-ASCII space
// characters, RFC 3454 C.1.2, become U+0020; the "commonly mapped to nothing" set, B.1, is
// removed); the section 2.3 prohibitions (C.1.2, C.2.1, C.2.2, C.3, C.4, C.5, C.6, C.7, C.8,
// C.9). Unassigned code points are allowed ("query" semantics, RFC 5802 section 2.2).
//
// Not done: NFKC normalisation (section 2.2) and the bidirectional check (section 2.5): both
// need the Unicode character database. A non-ASCII password is therefore used as its UTF-8
// octets after the mappings above, so a client that sends a decomposed form of a composed
// character stored on the server (or the reverse) will not match. ASCII passwords, by far
// the common case, are exactly as RFC 4013 wants them: printable ASCII passes unchanged.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace izypop3::core::sasl::detail {

namespace saslprep_impl {

// Decodes one UTF-8 sequence at s[i]; returns false on any malformation (overlong forms,
// surrogates, values above U+10FFFF, truncation).
inline bool next_code_point(std::string_view s, std::size_t& i, char32_t& cp) noexcept {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    char32_t min = 0;
    if (b0 < 0x80) {
        cp = b0;
        ++i;
        return true;
    } else if ((b0 & 0xe0) == 0xc0) {
        len = 2;
        cp = b0 & 0x1f;
        min = 0x80;
    } else if ((b0 & 0xf0) == 0xe0) {
        len = 3;
        cp = b0 & 0x0f;
        min = 0x800;
    } else if ((b0 & 0xf8) == 0xf0) {
        len = 4;
        cp = b0 & 0x07;
        min = 0x10000;
    } else {
        return false;
    }
    if (s.size() - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xc0) != 0x80) return false;
        cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
    return true;
}

inline void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
}

/// RFC 3454 C.1.2.
inline bool non_ascii_space(char32_t c) noexcept {
    return c == 0x00a0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200b) || c == 0x202f ||
           c == 0x205f || c == 0x3000;
}

/// RFC 3454 B.1.
inline bool mapped_to_nothing(char32_t c) noexcept {
    return c == 0x00ad || c == 0x034f || c == 0x1806 || (c >= 0x180b && c <= 0x180d) ||
           (c >= 0x200b && c <= 0x200d) || c == 0x2060 || (c >= 0xfe00 && c <= 0xfe0f) ||
           c == 0xfeff;
}

/// RFC 4013 section 2.3 (C.1.2 cannot remain after mapping; C.5 surrogates never decode).
inline bool prohibited(char32_t c) noexcept {
    if (c < 0x20 || c == 0x7f) return true;   // C.2.1
    if (c >= 0x80 && c <= 0x9f) return true;  // C.2.2
    if (c == 0x06dd || c == 0x070f || c == 0x180e || c == 0x200c || c == 0x200d || c == 0x2028 ||
        c == 0x2029 || (c >= 0x2060 && c <= 0x2063) || c == 0xfeff ||
        (c >= 0xfff9 && c <= 0xfffc) || (c >= 0x1d173 && c <= 0x1d17a))
        return true;  // C.2.2
    if ((c >= 0xe000 && c <= 0xf8ff) || (c >= 0xf0000 && c <= 0xffffd) ||
        (c >= 0x100000 && c <= 0x10fffd))
        return true;                                                          // C.3
    if ((c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe) return true;  // C.4
    if (c >= 0xfff9 && c <= 0xfffd) return true;                              // C.6
    if (c >= 0x2ff0 && c <= 0x2ffb) return true;                              // C.7
    if (c == 0x0340 || c == 0x0341 || c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e) ||
        (c >= 0x206a && c <= 0x206f))
        return true;                                                  // C.8
    if (c == 0xe0001 || (c >= 0xe0020 && c <= 0xe007f)) return true;  // C.9
    return false;
}

}  // namespace saslprep_impl

/// The prepared string, or nullopt when `in` is not UTF-8 or holds a prohibited character.
inline std::optional<std::string> saslprep(std::string_view in) {
    using namespace saslprep_impl;
    std::string out;
    out.reserve(in.size());
    std::size_t i = 0;
    while (i < in.size()) {
        const auto b = static_cast<unsigned char>(in[i]);
        if (b >= 0x20 && b < 0x7f) {  // the common case: printable ASCII passes through
            out += static_cast<char>(b);
            ++i;
            continue;
        }
        char32_t cp = 0;
        if (!next_code_point(in, i, cp)) return std::nullopt;
        if (non_ascii_space(cp)) {
            out += ' ';
            continue;
        }
        if (mapped_to_nothing(cp)) continue;
        if (prohibited(cp)) return std::nullopt;
        append_utf8(out, cp);
    }
    return out;
}

}  // namespace izypop3::core::sasl::detail
