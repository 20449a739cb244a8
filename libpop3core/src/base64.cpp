#include <izypop3/core/base64.hpp>

#include <izypop3/core/errc.hpp>

#include <array>
#include <cstdint>

namespace izypop3::core {
namespace {

constexpr std::string_view alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> make_decode_table() {
    std::array<std::int8_t, 256> t{};
    for (auto& v : t) v = -1;
    for (std::size_t i = 0; i < alphabet.size(); ++i)
        t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    return t;
}

constexpr auto decode_table = make_decode_table();

int value_of(char c) noexcept {
    return decode_table[static_cast<unsigned char>(c)];
}

}  // namespace

std::string base64_encode(std::string_view octets) {
    std::string out;
    out.reserve((octets.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= octets.size(); i += 3) {
        const std::uint32_t v = (std::uint32_t{static_cast<unsigned char>(octets[i])} << 16) |
                                (std::uint32_t{static_cast<unsigned char>(octets[i + 1])} << 8) |
                                std::uint32_t{static_cast<unsigned char>(octets[i + 2])};
        out += alphabet[(v >> 18) & 0x3f];
        out += alphabet[(v >> 12) & 0x3f];
        out += alphabet[(v >> 6) & 0x3f];
        out += alphabet[v & 0x3f];
    }
    const std::size_t rest = octets.size() - i;
    if (rest == 1) {
        const std::uint32_t v = std::uint32_t{static_cast<unsigned char>(octets[i])} << 16;
        out += alphabet[(v >> 18) & 0x3f];
        out += alphabet[(v >> 12) & 0x3f];
        out += "==";
    } else if (rest == 2) {
        const std::uint32_t v = (std::uint32_t{static_cast<unsigned char>(octets[i])} << 16) |
                                (std::uint32_t{static_cast<unsigned char>(octets[i + 1])} << 8);
        out += alphabet[(v >> 18) & 0x3f];
        out += alphabet[(v >> 12) & 0x3f];
        out += alphabet[(v >> 6) & 0x3f];
        out += '=';
    }
    return out;
}

boost::system::result<std::string> base64_decode(std::string_view text) {
    // RFC 4648 section 3: encoded data is a whole number of 4-character quanta; padding
    // appears only in the last one. Section 3.5: we also reject non-zero pad bits, so each
    // octet string has exactly one accepted encoding (no covert or ambiguous forms).
    if (text.size() % 4 != 0) return errc::bad_base64;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        int pad = 0;
        if (last && text[i + 3] == '=') pad = text[i + 2] == '=' ? 2 : 1;
        int v[4] = {0, 0, 0, 0};
        for (int k = 0; k < 4 - pad; ++k) {
            v[k] = value_of(text[i + static_cast<std::size_t>(k)]);
            if (v[k] < 0) return errc::bad_base64;  // also catches '=' in the wrong place
        }
        const std::uint32_t bits =
            (static_cast<std::uint32_t>(v[0]) << 18) | (static_cast<std::uint32_t>(v[1]) << 12) |
            (static_cast<std::uint32_t>(v[2]) << 6) | static_cast<std::uint32_t>(v[3]);
        out += static_cast<char>((bits >> 16) & 0xff);
        if (pad == 2) {
            if ((bits & 0xffff) != 0) return errc::bad_base64;
            break;
        }
        out += static_cast<char>((bits >> 8) & 0xff);
        if (pad == 1) {
            if ((bits & 0xff) != 0) return errc::bad_base64;
            break;
        }
        out += static_cast<char>(bits & 0xff);
    }
    return out;
}

}  // namespace izypop3::core
