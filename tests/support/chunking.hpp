#pragma once
// Ways of cutting a fixture into chunks, so that every streaming codec test runs with the
// input whole, byte by byte, split in two at every offset (Beast's "parsegrind") and in
// random pieces. A codec whose state is lost at a chunk boundary fails one of these.

#include <cstddef>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace izypop3::test {

/// One way of cutting an input; the pieces are views into the input.
struct chunking {
    std::string name;  ///< for failure messages: "whole", "bytewise", "split at 7"
    std::vector<std::string_view> pieces;
};

/// Byte by byte, one piece per octet.
inline std::vector<std::string_view> bytewise(std::string_view s) {
    std::vector<std::string_view> out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) out.push_back(s.substr(i, 1));
    return out;
}

/// Pieces of `size` octets (the last one shorter).
inline std::vector<std::string_view> fixed_pieces(std::string_view s, std::size_t size) {
    std::vector<std::string_view> out;
    for (std::size_t i = 0; i < s.size(); i += size) out.push_back(s.substr(i, size));
    return out;
}

/// Pieces of random sizes in [0, max_piece], empty pieces included (a codec must accept an
/// empty chunk anywhere).
template <class Rng>
std::vector<std::string_view> random_pieces(std::string_view s, Rng& rng,
                                            std::size_t max_piece = 8) {
    std::uniform_int_distribution<std::size_t> size(0, max_piece);
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < s.size()) {
        const std::size_t n = size(rng);
        out.push_back(s.substr(i, n));
        i += n;
    }
    return out;
}

/// Whole, byte by byte, and two pieces at every offset from 0 to size (so an empty first or
/// last piece is tried too).
inline std::vector<chunking> all_chunkings(std::string_view s) {
    std::vector<chunking> out;
    out.push_back({"whole", {s}});
    out.push_back({"bytewise", bytewise(s)});
    for (std::size_t k = 0; k <= s.size(); ++k)
        out.push_back({"split at " + std::to_string(k), {s.substr(0, k), s.substr(k)}});
    return out;
}

/// Escapes CR, LF and other control octets, so a failing fixture is readable in a message.
inline std::string visible(std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '\r') {
            out += "\\r";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\\') {
            out += "\\\\";
        } else if (u < 0x20 || u >= 0x7f) {
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 15];
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace izypop3::test
